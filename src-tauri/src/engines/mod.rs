//! The app's side of the engine workers: finding their executables, preparing their models,
//! and keeping them supervised. Only this module knows the workers are separate processes.

pub mod asr;
pub mod lm;
pub mod text;

use std::path::PathBuf;

/// The executable for worker `name`: `$SOTTO_<NAME>_WORKER` if set (tests, packaging), else
/// the file next to the running `sotto` (how cargo builds them and how packages install them).
pub fn worker_program(name: &str) -> PathBuf {
    let variable = format!(
        "SOTTO_{}_WORKER",
        name.trim_start_matches("sotto-").to_uppercase()
    );
    if let Some(path) = std::env::var_os(&variable).filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().ok();
    let beside = exe
        .as_deref()
        .and_then(|e| e.parent())
        .map(|dir| dir.join(name));
    beside.unwrap_or_else(|| PathBuf::from(name))
}
