//! Converts a faster-whisper / CTranslate2 Whisper model directory (`model.bin`, `config.json`
//! and a vocabulary) into whisper.cpp's single-file ggml model, so people who already have
//! faster-whisper models can use them without downloading anything.
//!
//! Trade-offs:
//! - **Lossless for float16 models**, which is what faster-whisper models are: f16 weights are
//!   copied bit for bit, and where whisper.cpp wants f32 (biases, norms, positional
//!   embeddings) widening is exact. Other sources (float32, bfloat16, int8/int16-quantized)
//!   are written as f16 too, because that is the only matrix type whisper.cpp runs for every
//!   model (it aborts on all-f32 files); [`ConvertReport`] says what that cost.
//! - **Or 8-bit, on request** ([`convert_with`], [`Matrices::Q8_0`]): the weight matrices in
//!   ggml's Q8_0, which whisper.cpp runs faster on CPUs with integer dot products (Sotto's
//!   own imports use it; the README has the measurements).
//! - **Everything is checked before the first byte is written.** Every length in `model.bin`
//!   is bounded by the file size before it is trusted, every tensor whisper.cpp needs is
//!   located and its shape checked, and the special tokens are checked against the ids
//!   whisper.cpp derives from the vocabulary size. Broken input is an error, never a panic.
//! - **The output appears whole or not at all**: bytes go to a temporary file beside it,
//!   which is synced and renamed over the destination.
//! - **One source tensor in memory at a time**: the converter streams, so a large-v3 model
//!   (3 GB) does not need 6 GB of RAM.
//!
//! ```no_run
//! use std::path::Path;
//! let report = sotto_ct2::convert(
//!     Path::new("faster-whisper-base"),
//!     Path::new("ggml-base.bin"),
//! )?;
//! println!("{} tensors, exact: {}", report.tensors, report.is_exact());
//! # Ok::<(), sotto_ct2::ConvertError>(())
//! ```

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

mod ct2;
mod error;
mod ggml;
mod mel;
mod vocab;
mod whisper;

pub use error::ConvertError;

// Tensor data goes between the file and memory as raw bytes; ggml files are little-endian.
#[cfg(target_endian = "big")]
compile_error!("sotto-ct2 writes ggml files by copying memory, which assumes a little-endian host");

use ct2::{Ct2Model, DType, Tensor};
use ggml::GgmlWriter;
use vocab::{SpecialIds, Vocabulary};

/// Whisper's hyperparameters as whisper.cpp's file header stores them (and named as it and
/// OpenAI's checkpoints name them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

/// What a successful conversion wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConvertReport {
    pub hparams: Hparams,
    /// Multilingual (vs English-only), as whisper.cpp decides it: `n_vocab >= 51865`.
    pub multilingual: bool,
    /// Tensors written (always the number whisper.cpp requires for these hyperparameters).
    pub tensors: usize,
    /// Ordinary tokens written; whisper.cpp names the special tokens itself.
    pub vocab_tokens: usize,
    /// Source variables that were int8/int16-quantized and had to be dequantized.
    pub dequantized_tensors: usize,
    /// Values that the output types could not represent exactly and were rounded (0 for
    /// float16 sources written as f16; every matrix value when they are Q8_0).
    pub rounded_values: u64,
    /// Size of the output file.
    pub bytes: u64,
}

impl ConvertReport {
    /// Whether every weight in the output equals the source's exactly.
    pub fn is_exact(&self) -> bool {
        self.dequantized_tensors == 0 && self.rounded_values == 0
    }
}

/// How the weight matrices are stored in the converted model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Matrices {
    /// f16, like whisper.cpp's published models: lossless for faster-whisper's float16 files.
    #[default]
    F16,
    /// ggml's Q8_0 (8-bit values with an f16 scale per 32): about half the size, and faster
    /// on CPUs with integer dot-product instructions. Lossy.
    Q8_0,
}

/// Converts the CTranslate2 Whisper model in `ct2_dir` into a whisper.cpp model at `out`
/// with f16 matrices, replacing `out` atomically if it exists. `out`'s directory must exist.
pub fn convert(ct2_dir: &Path, out: &Path) -> Result<ConvertReport, ConvertError> {
    convert_with(ct2_dir, out, Matrices::F16)
}

/// [`convert`], storing the weight matrices as `matrices`.
pub fn convert_with(
    ct2_dir: &Path,
    out: &Path,
    matrices: Matrices,
) -> Result<ConvertReport, ConvertError> {
    let matrix_elem = match matrices {
        Matrices::F16 => ggml::Elem::F16,
        Matrices::Q8_0 => ggml::Elem::Q8_0,
    };
    if !ct2_dir.exists() {
        return Err(ConvertError::io(
            "open",
            ct2_dir,
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    let model_path = require_file(ct2_dir, "model.bin")?;
    let config_path = require_file(ct2_dir, "config.json")?;
    if let (Ok(a), Ok(b)) = (fs::canonicalize(out), fs::canonicalize(&model_path)) {
        if a == b {
            return Err(ConvertError::io(
                "write",
                out,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "that would replace the model being converted",
                ),
            ));
        }
    }

    let mut model = Ct2Model::open(&model_path)?;
    let hparams = whisper::hparams(&mut model)?;
    let items = whisper::plan(&hparams);
    debug_assert_eq!(items.len(), whisper::expected_tensor_count(&hparams));
    whisper::check_sources(&model, &items)?;
    check_projection(&mut model)?;
    let ids = SpecialIds::for_vocab_size(hparams.n_vocab)?;
    check_config(ct2_dir, &config_path, &hparams, &ids)?;
    let tokens = Vocabulary::load(ct2_dir)?.whisper_tokens(&ids)?;

    let mut report = ConvertReport {
        hparams,
        multilingual: ids.multilingual,
        tensors: items.len(),
        vocab_tokens: tokens.len(),
        dequantized_tensors: 0,
        rounded_values: 0,
        bytes: 0,
    };
    write_atomically(out, |w| {
        let io = |e| ConvertError::io("write", out, e);
        w.header(&hparams, matrix_elem).map_err(io)?;
        let filters = mel::mel_filters(hparams.n_mels);
        w.mel_filters(hparams.n_mels, mel::N_BINS, &filters)
            .map_err(io)?;
        w.vocab(&tokens).map_err(io)?;

        // Fused q/k/v weights feed three items and their biases two, alternating, so the
        // last two sources are kept.
        let mut cache: Vec<(String, Tensor)> = Vec::with_capacity(2);
        let mut dequantized = HashSet::new();
        for item in &items {
            let source = model.resolve(&item.source).to_owned();
            let tensor = match cache.iter().position(|(name, _)| *name == source) {
                Some(i) => &cache[i].1,
                None => {
                    let tensor = model.floats(&source)?;
                    if matches!(tensor.source, DType::I8 | DType::I16) {
                        dequantized.insert(source.clone());
                    }
                    if cache.len() == 2 {
                        cache.remove(0);
                    }
                    cache.push((source, tensor));
                    &cache[cache.len() - 1].1
                }
            };
            // check_sources guaranteed the shape, so the rows are in range.
            let row_len = tensor.values.len() / item.source_shape[0];
            let values = tensor
                .values
                .slice(item.rows.0 * row_len, item.rows.1 * row_len);
            report.rounded_values += w
                .tensor(&item.name, &item.shape, values, item.elem(matrix_elem))
                .map_err(io)?;
        }
        report.dequantized_tensors = dequantized.len();
        Ok(())
    })
    .map(|bytes| {
        report.bytes = bytes;
        report
    })
}

fn require_file(dir: &Path, name: &'static str) -> Result<PathBuf, ConvertError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(ConvertError::NotAModel {
            dir: dir.to_owned(),
            file: name,
        })
    }
}

/// Config files are small; one far larger than this is not a config file.
const MAX_CONFIG_FILE: u64 = 16 << 20;

fn read_json(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, ConvertError> {
    let error = |reason: String| ConvertError::Config {
        path: path.to_owned(),
        reason,
    };
    let len = fs::metadata(path)
        .map_err(|e| ConvertError::io("read", path, e))?
        .len();
    if len > MAX_CONFIG_FILE {
        return Err(error(format!(
            "{len} bytes is too large for a model configuration"
        )));
    }
    let text = fs::read(path).map_err(|e| ConvertError::io("read", path, e))?;
    match serde_json::from_slice(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(error("not a JSON object".to_owned())),
        Err(e) => Err(error(format!("not valid JSON: {e}"))),
    }
}

/// `config.json` must be a JSON object (CTranslate2 writes one for every Whisper model). Where
/// it or `preprocessor_config.json` states something whisper.cpp derives on its own (the
/// number of languages, from the vocabulary size; the mel bins, from the first convolution),
/// the two must agree, or the converted model would misbehave without an error.
fn check_config(
    dir: &Path,
    config_path: &Path,
    h: &Hparams,
    ids: &SpecialIds,
) -> Result<(), ConvertError> {
    let config = read_json(config_path)?;
    // English-only conversions list the multilingual language ids too, so only a
    // multilingual model's list says something.
    if let (true, Some(langs)) = (
        ids.multilingual,
        config.get("lang_ids").and_then(|v| v.as_array()),
    ) {
        if langs.len() != ids.n_languages {
            return Err(ConvertError::Config {
                path: config_path.to_owned(),
                reason: format!(
                    "lang_ids lists {} languages, but whisper.cpp derives {} from the vocabulary size {}",
                    langs.len(),
                    ids.n_languages,
                    h.n_vocab
                ),
            });
        }
    }
    let pre_path = dir.join("preprocessor_config.json");
    if pre_path.is_file() {
        let pre = read_json(&pre_path)?;
        if let Some(bins) = pre.get("feature_size").and_then(|v| v.as_u64()) {
            if bins != h.n_mels as u64 {
                return Err(ConvertError::Config {
                    path: pre_path,
                    reason: format!(
                        "feature_size is {bins} but the first convolution takes {} mel bins",
                        h.n_mels
                    ),
                });
            }
        }
    }
    Ok(())
}

/// whisper.cpp computes logits with the token embedding (tied weights, no bias), as Whisper
/// does. CTranslate2 stores the projection as an alias of the embedding then; a model with a
/// separate projection that differs, or a non-zero bias, cannot be represented.
fn check_projection(model: &mut Ct2Model) -> Result<(), ConvertError> {
    let projection = "decoder/projection/weight";
    if model.contains(projection) && model.resolve(projection) != "decoder/embeddings/weight" {
        let embedding = model.floats("decoder/embeddings/weight")?;
        if model.floats(projection)?.values != embedding.values {
            return Err(ConvertError::Unsupported(
                "the output projection is not the token embedding (whisper.cpp ties them)".into(),
            ));
        }
    }
    let bias = "decoder/projection/bias";
    if model.contains(bias) {
        let nonzero = match model.floats(bias)?.values {
            // Ignore the sign bit: -0.0 is zero too.
            ct2::Values::F16(b) => b.chunks_exact(2).any(|h| h[0] != 0 || h[1] & 0x7f != 0),
            ct2::Values::F32(v) => v.iter().any(|&f| f != 0.0),
        };
        if nonzero {
            return Err(ConvertError::Unsupported(
                "the output projection has a bias, which whisper.cpp does not apply".into(),
            ));
        }
    }
    Ok(())
}

type Writer = GgmlWriter<BufWriter<File>>;

/// Writes `out` through a temporary file in the same directory, renamed into place only after
/// `write` succeeded and the bytes are on disk. Returns the file size.
fn write_atomically(
    out: &Path,
    write: impl FnOnce(&mut Writer) -> Result<(), ConvertError>,
) -> Result<u64, ConvertError> {
    // Unique per process and call, so concurrent conversions never share a temporary file.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = out.file_name().unwrap_or_default().to_string_lossy();
    let mut temp = TempFile {
        path: dir.join(format!(
            ".{file_name}.{}-{}.part",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )),
        renamed: false,
    };
    // A plain create (not a library temp file) so the result gets the usual permissions.
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp.path)
        .map_err(|e| ConvertError::io("create", &temp.path, e))?;
    let mut w = GgmlWriter::new(BufWriter::with_capacity(1 << 20, file));
    write(&mut w)?;
    let written = w.written;
    let file = w
        .into_inner()
        .into_inner()
        .map_err(|e| ConvertError::io("write", &temp.path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| ConvertError::io("sync", &temp.path, e))?;
    drop(file);
    fs::rename(&temp.path, out).map_err(|e| ConvertError::io("rename into", out, e))?;
    temp.renamed = true;
    // The rename is durable only once the directory is synced; directories cannot be opened
    // for syncing on every platform, and the file is complete either way.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(written)
}

/// A temporary file, deleted when dropped unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    renamed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.path);
        }
    }
}
