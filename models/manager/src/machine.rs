//! What this machine offers: memory, cores, free disk.

use std::path::Path;

/// The facts `recommend` decides by. A plain struct so tests can describe any machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub total_ram_mb: u64,
    pub available_ram_mb: u64,
    pub cores: usize,
}

impl Machine {
    /// Reads this machine's memory and core count.
    pub fn detect() -> Machine {
        let mut system = sysinfo::System::new();
        system.refresh_memory();
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Machine {
            total_ram_mb: system.total_memory() / (1024 * 1024),
            available_ram_mb: system.available_memory() / (1024 * 1024),
            cores,
        }
    }
}

/// Free bytes on the filesystem that holds `path` (or would hold it: the nearest existing
/// ancestor is asked, since the directory may not exist yet).
pub fn available_space(path: &Path) -> std::io::Result<u64> {
    let mut probe = path;
    loop {
        if probe.exists() {
            return fs4::available_space(probe);
        }
        match probe.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => probe = parent,
            _ => return fs4::available_space("."),
        }
    }
}

/// The device of the filesystem holding `path` (or its nearest existing ancestor).
#[cfg(unix)]
pub(crate) fn device_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    path.ancestors()
        .find_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.dev())
}

/// Elsewhere, assume one filesystem: the space check then asks for both amounts at once,
/// which errs on the safe side.
#[cfg(not(unix))]
pub(crate) fn device_of(_path: &Path) -> Option<u64> {
    None
}
