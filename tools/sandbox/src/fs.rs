//! Folders a tool may use, as `cap-std` directory handles: nothing outside the root is
//! reachable through them, whatever path a tool (or a model) makes up.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

use crate::SandboxError;

/// Whether a tool may change what is under a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
}

/// A directory handle on a root the user granted (or Sotto's own data folder).
#[derive(Debug)]
pub struct ScopedDir {
    dir: Dir,
    root: PathBuf,
    access: Access,
}

/// What [`ScopedDir::list`] and [`ScopedDir::walk`] report about one entry. Symlinks are
/// reported as such and never followed by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntryInfo {
    /// Relative to the root, `/`-separated.
    pub path: String,
    pub is_dir: bool,
    pub is_file: bool,
    pub is_symlink: bool,
    pub len: u64,
    pub modified: Option<SystemTime>,
}

/// Bounds for [`ScopedDir::walk`], so one request cannot scan a whole disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkLimits {
    pub max_depth: usize,
    pub max_entries: usize,
    pub include_hidden: bool,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_depth: 12,
            max_entries: 50_000,
            include_hidden: false,
        }
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ScopedDir {
    /// Opens an existing folder. The root is canonicalised first, so the handle and the
    /// path shown to the user name the same real folder even if `root` went through symlinks.
    pub fn open(root: &Path, access: Access) -> Result<ScopedDir, SandboxError> {
        let open_err = |source| SandboxError::OpenRoot {
            root: root.to_path_buf(),
            source,
        };
        let canonical = std::fs::canonicalize(root).map_err(open_err)?;
        let dir = Dir::open_ambient_dir(&canonical, ambient_authority()).map_err(open_err)?;
        Ok(ScopedDir {
            dir,
            root: canonical,
            access,
        })
    }

    /// Creates the folder (and its parents) if needed, then opens it read-write. For Sotto's
    /// own folders (notes, timers), never for user-granted ones.
    pub fn create(root: &Path) -> Result<ScopedDir, SandboxError> {
        std::fs::create_dir_all(root).map_err(|source| SandboxError::OpenRoot {
            root: root.to_path_buf(),
            source,
        })?;
        ScopedDir::open(root, Access::ReadWrite)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The path a user would recognise, for messages and for handing to another program.
    pub fn display_path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// A second handle on the same root, for moving work onto a blocking thread.
    pub fn try_clone(&self) -> Result<ScopedDir, SandboxError> {
        let dir = self
            .dir
            .try_clone()
            .map_err(|source| SandboxError::OpenRoot {
                root: self.root.clone(),
                source,
            })?;
        Ok(ScopedDir {
            dir,
            root: self.root.clone(),
            access: self.access,
        })
    }

    /// The raw `cap-std` handle. Even through it nothing outside the root is reachable; the
    /// security tests use it to show that `cap-std` itself refuses escapes.
    pub fn cap_dir(&self) -> &Dir {
        &self.dir
    }

    /// Checks a relative path lexically: not empty, not absolute, no `..`, no NUL. `cap-std`
    /// would refuse escapes anyway; this gives a clearer message and refuses even harmless
    /// `a/../b`, which a model has no reason to write.
    pub fn check<'p>(&self, relative: &'p str) -> Result<&'p Path, SandboxError> {
        let bad = |reason| SandboxError::BadPath {
            path: relative.to_string(),
            reason,
        };
        if relative.is_empty() {
            return Err(bad("it is empty"));
        }
        if relative.contains('\0') {
            return Err(bad("it contains NUL"));
        }
        let path = Path::new(relative);
        for component in path.components() {
            match component {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir => {
                    return Err(SandboxError::OutsideRoot {
                        root: self.root.clone(),
                        path: relative.to_string(),
                    })
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(SandboxError::OutsideRoot {
                        root: self.root.clone(),
                        path: relative.to_string(),
                    })
                }
            }
        }
        Ok(path)
    }

    fn writable(&self, relative: &str) -> Result<(), SandboxError> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::Read => Err(SandboxError::ReadOnly {
                root: self.root.clone(),
                path: relative.to_string(),
            }),
        }
    }

    fn io_error(&self, action: &'static str, relative: &str, e: std::io::Error) -> SandboxError {
        let path = relative.to_string();
        let root = self.root.clone();
        if is_escape(&e) {
            return SandboxError::OutsideRoot { root, path };
        }
        match e.kind() {
            std::io::ErrorKind::NotFound => SandboxError::NotFound { root, path },
            std::io::ErrorKind::AlreadyExists => SandboxError::AlreadyExists { root, path },
            _ => SandboxError::Io {
                action,
                root,
                path,
                source: e,
            },
        }
    }

    pub fn exists(&self, relative: &str) -> Result<bool, SandboxError> {
        let path = self.check(relative)?;
        match self.dir.metadata(path) {
            Ok(_) => Ok(true),
            Err(e) => match self.io_error("cannot look at", relative, e) {
                SandboxError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    pub fn read_to_string(&self, relative: &str) -> Result<String, SandboxError> {
        let path = self.check(relative)?;
        self.dir
            .read_to_string(path)
            .map_err(|e| self.io_error("cannot read", relative, e))
    }

    /// Reads at most `limit` bytes; the flag says whether the file was longer.
    pub fn read_prefix(&self, relative: &str, limit: u64) -> Result<(Vec<u8>, bool), SandboxError> {
        let path = self.check(relative)?;
        let file = self
            .dir
            .open(path)
            .map_err(|e| self.io_error("cannot open", relative, e))?;
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io_error("cannot read", relative, e))?;
        let longer = bytes.len() as u64 > limit;
        bytes.truncate(limit as usize);
        Ok((bytes, longer))
    }

    /// Replaces (or creates) a file so that readers see the old or the new content, never a
    /// mix: write a temporary file beside it, fsync, rename over.
    pub fn write_atomic(&self, relative: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        self.writable(relative)?;
        let path = self.check(relative)?;
        let temp = self.write_temp(path, relative, bytes)?;
        self.dir.rename(&temp, &self.dir, path).map_err(|e| {
            let _ = self.dir.remove_file(&temp);
            self.io_error("cannot replace", relative, e)
        })?;
        self.sync_parent(path, relative)
    }

    /// Creates a file that must not exist yet, whole or not at all (a hard link of a finished
    /// temporary file fails if the name is taken, unlike a rename).
    pub fn create_new(&self, relative: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        self.writable(relative)?;
        let path = self.check(relative)?;
        let temp = self.write_temp(path, relative, bytes)?;
        let linked = self.dir.hard_link(&temp, &self.dir, path);
        let _ = self.dir.remove_file(&temp);
        linked.map_err(|e| self.io_error("cannot create", relative, e))?;
        self.sync_parent(path, relative)
    }

    /// Appends to an existing file, fsyncing before returning.
    pub fn append(&self, relative: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        self.writable(relative)?;
        let path = self.check(relative)?;
        let mut file = self
            .dir
            .open_with(path, OpenOptions::new().append(true))
            .map_err(|e| self.io_error("cannot open", relative, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| self.io_error("cannot append to", relative, e))
    }

    pub fn remove_file(&self, relative: &str) -> Result<(), SandboxError> {
        self.writable(relative)?;
        let path = self.check(relative)?;
        self.dir
            .remove_file(path)
            .map_err(|e| self.io_error("cannot remove", relative, e))
    }

    pub fn create_dir_all(&self, relative: &str) -> Result<(), SandboxError> {
        self.writable(relative)?;
        let path = self.check(relative)?;
        self.dir
            .create_dir_all(path)
            .map_err(|e| self.io_error("cannot create the folder", relative, e))
    }

    /// The entries of one folder (`"."` for the root), sorted by name.
    pub fn list(&self, relative: &str) -> Result<Vec<DirEntryInfo>, SandboxError> {
        let path = self.check(relative)?;
        let prefix = if path == Path::new(".") {
            String::new()
        } else {
            format!("{}/", relative.trim_end_matches('/'))
        };
        let entries = self
            .dir
            .read_dir(path)
            .map_err(|e| self.io_error("cannot list", relative, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io_error("cannot list", relative, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let file_type = entry
                .file_type()
                .map_err(|e| self.io_error("cannot list", relative, e))?;
            // Metadata of the entry itself, not of a symlink's target.
            let meta = entry.metadata().ok();
            out.push(DirEntryInfo {
                path: format!("{prefix}{name}"),
                is_dir: file_type.is_dir(),
                is_file: file_type.is_file(),
                is_symlink: file_type.is_symlink(),
                len: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()).map(|t| t.into_std()),
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Every entry under the root, breadth-first, never following symlinks, within `limits`.
    /// The flag says whether the limits cut the walk short. Unreadable folders are skipped.
    pub fn walk(&self, limits: WalkLimits) -> (Vec<DirEntryInfo>, bool) {
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([(String::from("."), 0usize)]);
        while let Some((folder, depth)) = queue.pop_front() {
            let Ok(entries) = self.list(&folder) else {
                continue;
            };
            for entry in entries {
                let name = entry.path.rsplit('/').next().unwrap_or_default();
                if !limits.include_hidden && name.starts_with('.') {
                    continue;
                }
                if out.len() >= limits.max_entries {
                    return (out, true);
                }
                if entry.is_dir && !entry.is_symlink {
                    if depth + 1 < limits.max_depth {
                        queue.push_back((entry.path.clone(), depth + 1));
                    } else {
                        out.push(entry);
                        return (out, true);
                    }
                }
                out.push(entry);
            }
        }
        (out, false)
    }

    fn write_temp(
        &self,
        path: &Path,
        relative: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, SandboxError> {
        let name = path
            .file_name()
            .ok_or_else(|| SandboxError::BadPath {
                path: relative.to_string(),
                reason: "it names no file",
            })?
            .to_string_lossy();
        let temp = path.with_file_name(format!(
            ".{name}.{}-{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = self
            .dir
            .open_with(&temp, OpenOptions::new().write(true).create_new(true))
            .map_err(|e| self.io_error("cannot create", relative, e))?;
        if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
            let _ = self.dir.remove_file(&temp);
            return Err(self.io_error("cannot write", relative, e));
        }
        Ok(temp)
    }

    /// Makes a new or renamed name durable: fsync of the folder that holds it.
    fn sync_parent(&self, path: &Path, relative: &str) -> Result<(), SandboxError> {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        self.dir
            .open_dir(parent)
            .and_then(|d| d.open(".")?.sync_all())
            .map_err(|e| self.io_error("cannot sync the folder of", relative, e))
    }
}

/// `cap-std` reports an attempt to leave the root as `PermissionDenied` with this message.
fn is_escape(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
        && e.to_string().contains("outside of the filesystem")
}
