//! The crate's one error type. Each variant says what is wrong with the input (or the disk) in
//! words a user can act on, and carries the path or variable name it is about.

use std::io;
use std::path::PathBuf;

/// Why a conversion failed. Nothing is written to the output path when any of these is
/// returned (the output only appears, whole, on success).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The path is not a directory, or lacks a file every CTranslate2 Whisper model has.
    #[error("{dir} is not a CTranslate2 Whisper model directory: {file} is missing")]
    NotAModel { dir: PathBuf, file: &'static str },

    /// None of the vocabulary files CTranslate2 or Hugging Face write is present.
    #[error("{dir} has no vocabulary: expected vocabulary.json, vocabulary.txt or tokenizer.json")]
    MissingVocabulary { dir: PathBuf },

    /// `model.bin` is not in CTranslate2's format at all (e.g. a ggml or GGUF file).
    #[error("{path} is not a CTranslate2 model file: {reason}")]
    NotCt2 { path: PathBuf, reason: String },

    /// A CTranslate2 binary version this converter does not read.
    #[error(
        "{path}: CTranslate2 binary version {found} is not supported (this converter reads \
         version {supported}, which every CTranslate2 Whisper model has used so far)"
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// A CTranslate2 model, but not of Whisper.
    #[error("{path} holds a CTranslate2 {spec} model, not a Whisper model (WhisperSpec)")]
    NotWhisper { path: PathBuf, spec: String },

    /// A Whisper spec revision newer than the ones whose layout this converter knows.
    #[error(
        "{path}: WhisperSpec revision {found} is newer than this converter knows (up to {supported})"
    )]
    UnsupportedRevision {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The file ends before a structure it announces.
    #[error(
        "{path} is truncated: {what} at byte {offset} needs {needed} bytes, but the file ends at byte {len}"
    )]
    Truncated {
        path: PathBuf,
        what: String,
        offset: u64,
        needed: u64,
        len: u64,
    },

    /// A structure in the file is self-contradictory or absurd.
    #[error("{path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },

    /// A variable whisper.cpp needs is not in `model.bin`.
    #[error("model.bin has no variable named {name}")]
    MissingTensor { name: String },

    /// A variable does not have the shape the rest of the model implies.
    #[error("variable {name} has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },

    /// A variable's element type cannot be turned into floats (e.g. a quantized weight
    /// without its scale).
    #[error("variable {name} has type {dtype}: {reason}")]
    UnsupportedDtype {
        name: String,
        dtype: &'static str,
        reason: &'static str,
    },

    /// A well-formed Whisper model that whisper.cpp cannot represent.
    #[error("this model cannot be converted for whisper.cpp: {0}")]
    Unsupported(String),

    /// `config.json` (or `preprocessor_config.json`) is unreadable or contradicts the weights.
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },

    /// The vocabulary file is unreadable or does not match what whisper.cpp expects.
    #[error("{path}: {reason}")]
    Vocabulary { path: PathBuf, reason: String },

    /// Reading the input or writing the output failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ConvertError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ConvertError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
