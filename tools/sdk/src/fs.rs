//! Files, through the folders Sotto preopened for this call: the user's granted folders at
//! `/folders/N` and the plugin's own data folders at `/data/<name>`. Nothing else exists
//! for a plugin. These helpers turn a missing grant into [`Error::CapabilityDenied`] naming
//! it, instead of a bare "not found" or "permission denied".

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::tool::plugin_id;
use crate::Error;

/// The folders the user granted this tool, in the order they were granted. Empty means none
/// was granted; [`user_folder`] turns that into an error.
pub fn user_folders() -> Vec<PathBuf> {
    (0..)
        .map(|i| PathBuf::from(format!("/folders/{i}")))
        .take_while(|p| p.is_dir())
        .collect()
}

/// The first folder the user granted.
pub fn user_folder() -> Result<PathBuf, Error> {
    user_folders()
        .into_iter()
        .next()
        .ok_or_else(|| Error::CapabilityDenied("read:user-folders".into()))
}

/// The first granted folder, for a tool that declared `Capability::Write(UserFolders)`: a
/// missing grant is named as the write capability.
pub fn writable_user_folder() -> Result<PathBuf, Error> {
    user_folder().map_err(|_| Error::CapabilityDenied("write:user-folders".into()))
}

/// The plugin's own data folder `name` (declared as `Folder::Data(name)`).
pub fn data_dir(name: &str) -> Result<PathBuf, Error> {
    let path = PathBuf::from(format!("/data/{name}"));
    if path.is_dir() {
        Ok(path)
    } else {
        Err(Error::CapabilityDenied(format!(
            "read:sotto/plugin-{}-{name}",
            plugin_id()
        )))
    }
}

/// The plugin's own data folder `name` for a tool that declared `Capability::Write`: the
/// same folder, with a missing grant named as the write capability.
pub fn writable_data_dir(name: &str) -> Result<PathBuf, Error> {
    data_dir(name)
        .map_err(|_| Error::CapabilityDenied(format!("write:sotto/plugin-{}-{name}", plugin_id())))
}

/// The capability key that writing under `path` needs.
fn write_key(path: &Path) -> String {
    let mut parts = path.components().skip(1);
    match (
        parts.next().and_then(|c| c.as_os_str().to_str()),
        parts.next().and_then(|c| c.as_os_str().to_str()),
    ) {
        (Some("data"), Some(name)) => format!("write:sotto/plugin-{}-{name}", plugin_id()),
        _ => "write:user-folders".into(),
    }
}

/// Reads a whole file as text; a missing file is `Ok(None)`.
pub fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Failed(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Replaces a file's contents: written beside it, then renamed over it, so a reader never
/// sees half a file. A read-only grant is [`Error::CapabilityDenied`] for the write key.
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), Error> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Failed(format!("{} is not a file path", path.display())))?;
    let temp = path.with_file_name(format!(".{name}.tmp"));
    let denied = |e: &std::io::Error| {
        matches!(
            e.kind(),
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
        )
    };
    std::fs::write(&temp, contents)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            if denied(&e) {
                Error::CapabilityDenied(write_key(path))
            } else {
                Error::Failed(format!("cannot write {}: {e}", path.display()))
            }
        })
}

/// Appends text to a file, creating it.
pub fn append(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) {
                Error::CapabilityDenied(write_key(path))
            } else {
                Error::Failed(format!("cannot write {}: {e}", path.display()))
            }
        })
}
