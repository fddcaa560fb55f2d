//! The wire between Sotto and its engine workers.
//!
//! whisper.cpp and llama.cpp each vendor their own ggml and cannot live in one binary, and a
//! corrupt model can crash the process that loads it; so each engine is a separate
//! executable that speaks this protocol over stdin/stdout. Only this crate is serialized on
//! the wire: the app and the workers convert to and from these types at their edges.
//!
//! Framing: one JSON object per line (serde_json never writes a raw newline inside a value),
//! at most [`MAX_FRAME`] bytes. The worker speaks first with a [`Hello`] carrying
//! [`PROTOCOL_VERSION`]; the client refuses a worker of another version before sending
//! anything. Each message type says in its docs which version added it. stderr is free-form
//! logging, kept by the client so that a crash can be explained.

use serde::{Deserialize, Serialize};

pub mod asr;
pub mod client;
pub mod frame;
pub mod lm;

/// Bumped when messages are added or change. Version 1: `Hello`, the ASR messages (`asr`).
/// Version 2: the LM messages (`lm`). Version 3: `LmRequest::Prime` and `LmResponse::Primed`
/// (the LM worker's prompt prefix, kept in a file between processes). Version 4: an
/// interruptible `Prime`, stopped by `Cancel` (`Primed.cancelled`). The client refuses a
/// worker of any other version, so an app and its workers always come from the same build.
pub const PROTOCOL_VERSION: u32 = 4;

/// The largest frame either side accepts (a transcription request carrying 30 s of 16 kHz
/// PCM as base64 is about 1.3 MB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The first line a worker writes. Since version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    /// `sotto-asr` or `sotto-lm`.
    pub worker: String,
    pub worker_version: String,
    pub pid: u32,
}

/// Why a request failed, as the worker classifies it. Since version 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was malformed or not understood.
    BadRequest,
    /// A model file could not be loaded (missing, corrupt, wrong format).
    Model,
    /// The audio could not be read or is not usable.
    Audio,
    /// The engine failed while working.
    Engine,
    /// A request that needs a loaded model came before `Load`.
    NotLoaded,
}

/// A worker's answer that something went wrong. Since version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerFailure {
    pub kind: ErrorKind,
    pub message: String,
}
