//! The sandbox Sotto's built-in tools run in: the only way they reach files and programs.
//!
//! Design choices, and why:
//! - **Folders are capabilities, not paths.** A tool gets a [`ScopedDir`]: a `cap-std` directory
//!   handle opened on a root the user granted (canonicalised when opened). Every path a tool
//!   names is relative to it; `cap-std` resolves it with `openat2`-style rules, so absolute
//!   paths, `..` above the root and symlinks that leave it are refused by the kernel-facing
//!   layer, not by string checks that a clever path could slip past. We still refuse `..` and
//!   absolute paths lexically first, because the error message is clearer.
//! - **Programs start without a shell.** [`Launcher`] builds a `std::process::Command` from a
//!   program resolved on `PATH` and typed arguments ([`Arg`]): a URL whose scheme is on an
//!   allow-list, a path, or text that cannot start with `-` (no option injection). Shell
//!   metacharacters are just characters.
//! - **The environment is scrubbed.** [`HostEnv`] keeps only an allow-list of variables
//!   (display, session bus, locale, XDG base directories); a child never sees `LD_PRELOAD`,
//!   tokens or Sotto's own settings.
//!
//! ```
//! use sotto_sandbox::{Access, ScopedDir};
//! let root = tempfile::tempdir().unwrap();
//! let notes = ScopedDir::open(root.path(), Access::ReadWrite).unwrap();
//! notes.write_atomic("hello.md", b"hi").unwrap();
//! assert!(notes.read_to_string("../etc/passwd").is_err());
//! ```

mod arg;
mod env;
mod fs;
mod spawn;

pub use arg::{Arg, SafePath, SafeText, SafeUrl, UrlScheme};
pub use env::{HostEnv, ALLOWED_ENV};
pub use fs::{Access, DirEntryInfo, ScopedDir, WalkLimits};
pub use spawn::{Launcher, ProgramRule, RunOutput};

use std::path::PathBuf;

/// What went wrong inside the sandbox. Each variant names the path, program or argument.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    #[error("`{path}` is outside the allowed folder {root}")]
    OutsideRoot { root: PathBuf, path: String },
    #[error("`{path}` is not a usable relative path: {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error("{root} is open read-only; cannot change `{path}`")]
    ReadOnly { root: PathBuf, path: String },
    #[error("`{path}` does not exist in {root}")]
    NotFound { root: PathBuf, path: String },
    #[error("`{path}` already exists in {root}")]
    AlreadyExists { root: PathBuf, path: String },
    #[error("cannot open the folder {root}: {source}")]
    OpenRoot {
        root: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{action} `{path}` in {root}: {source}")]
    Io {
        action: &'static str,
        root: PathBuf,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("argument refused: {reason}: `{value}`")]
    BadArgument { value: String, reason: String },
    #[error("`{program}` is not allowed for this tool")]
    ProgramNotAllowed { program: String },
    #[error("cannot find the program `{program}` on PATH")]
    ProgramNotFound { program: String },
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` did not finish within {seconds} s")]
    Timeout { program: String, seconds: u64 },
}
