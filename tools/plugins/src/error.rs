//! The host's error types: why a plugin could not be loaded, and why one call failed.

use std::path::PathBuf;
use std::time::Duration;

/// Why a plugin could not be loaded. Nothing of a plugin that fails to load is registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("cannot read the plugin {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a WebAssembly component: {message}")]
    NotAComponent { path: PathBuf, message: String },
    #[error("{path} does not export Sotto's plugin interface (`sotto:plugin/plugin`)")]
    NotAPlugin { path: PathBuf },
    #[error("{path} was built for plugin API {found}; this Sotto supports {supported}")]
    UnsupportedApi {
        path: PathBuf,
        found: String,
        supported: &'static str,
    },
    #[error("{path} needs something this Sotto does not offer: {message}")]
    Link { path: PathBuf, message: String },
    #[error("{path}: reading its tools failed: {failure}")]
    Describe { path: PathBuf, failure: CallFailure },
    #[error("{path}: {message}")]
    BadManifest { path: PathBuf, message: String },
    #[error("cannot set up the plugin engine: {0}")]
    Engine(String),
}

/// Why one call into a plugin produced no result. The host and the plugin's other tools keep
/// working after each of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallFailure {
    #[error("it ran longer than its {0:?} limit and was stopped")]
    Timeout(Duration),
    #[error("it tried to use more than its {0} bytes of memory and was stopped")]
    MemoryLimit(u64),
    #[error("it crashed: {message}")]
    Trap { message: String },
    #[error("its output was {size} bytes, over the {limit}-byte limit")]
    OutputTooLarge { size: usize, limit: usize },
    #[error("its output is malformed: {0}")]
    MalformedOutput(String),
    #[error("the host could not run it: {0}")]
    Host(String),
}

impl CallFailure {
    /// A short stable name for logs and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            CallFailure::Timeout(_) => "timeout",
            CallFailure::MemoryLimit(_) => "memory-limit",
            CallFailure::Trap { .. } => "trap",
            CallFailure::OutputTooLarge { .. } => "output-too-large",
            CallFailure::MalformedOutput(_) => "malformed-output",
            CallFailure::Host(_) => "host",
        }
    }
}
