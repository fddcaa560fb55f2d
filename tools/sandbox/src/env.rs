//! The environment a spawned program may see: an allow-list, captured once.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The variables a child process may inherit. The first seven are what a desktop program
/// needs to find its display, session bus, home and language; `XDG_CURRENT_DESKTOP` makes
/// `xdg-open` pick the desktop's own opener; the XDG base directories make a launched program
/// see the same configuration and data folders as the user. Nothing else passes:
/// `LD_PRELOAD`, credentials, proxies and Sotto's own variables stay behind.
pub const ALLOWED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "LANG",
    "XDG_CURRENT_DESKTOP",
    "XDG_DATA_HOME",
    "XDG_DATA_DIRS",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
];

/// The allow-listed part of an environment. Built from a lookup function so tests describe a
/// private world without touching the process's own environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostEnv {
    vars: BTreeMap<&'static str, OsString>,
}

impl HostEnv {
    pub fn from_process() -> HostEnv {
        HostEnv::from_lookup(|key| std::env::var_os(key))
    }

    /// Keeps only [`ALLOWED_ENV`] variables that `lookup` knows and that are not empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> HostEnv {
        let vars = ALLOWED_ENV
            .iter()
            .filter_map(|&key| lookup(key).filter(|v| !v.is_empty()).map(|v| (key, v)))
            .collect();
        HostEnv { vars }
    }

    /// The same environment with `key` set to `value`, if `key` is on the allow-list
    /// (otherwise unchanged: nothing outside the list can be smuggled in).
    pub fn with_var(mut self, key: &str, value: &str) -> HostEnv {
        if let Some(&allowed) = ALLOWED_ENV.iter().find(|&&k| k == key) {
            self.vars.insert(allowed, OsString::from(value));
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&OsStr> {
        self.vars.get(key).map(OsString::as_os_str)
    }

    pub fn vars(&self) -> impl Iterator<Item = (&'static str, &OsStr)> {
        self.vars.iter().map(|(k, v)| (*k, v.as_os_str()))
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// `$XDG_DATA_HOME`, or `$HOME/.local/share` as the XDG spec says.
    pub fn data_home(&self) -> Option<PathBuf> {
        absolute(self.get("XDG_DATA_HOME")).or_else(|| self.home().map(|h| h.join(".local/share")))
    }

    /// `$XDG_DATA_DIRS` split on `:`, or the spec's default.
    pub fn data_dirs(&self) -> Vec<PathBuf> {
        let dirs: Vec<PathBuf> = self
            .get("XDG_DATA_DIRS")
            .map(|v| {
                std::env::split_paths(v)
                    .filter(|p| p.is_absolute())
                    .collect()
            })
            .unwrap_or_default();
        if dirs.is_empty() {
            vec![
                PathBuf::from("/usr/local/share"),
                PathBuf::from("/usr/share"),
            ]
        } else {
            dirs
        }
    }

    /// The directories of `PATH`, in order; relative entries are ignored because they would
    /// depend on the current directory.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        self.get("PATH")
            .map(|v| {
                std::env::split_paths(v)
                    .filter(|p| p.is_absolute())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn absolute(value: Option<&OsStr>) -> Option<PathBuf> {
    value.map(PathBuf::from).filter(|p| p.is_absolute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_variables_are_kept() {
        let env = HostEnv::from_lookup(|key| match key {
            "PATH" => Some("/bin:relative:/usr/bin".into()),
            "HOME" => Some("/home/u".into()),
            "LD_PRELOAD" | "AWS_SECRET_ACCESS_KEY" => Some("x".into()),
            "DISPLAY" => Some("".into()),
            _ => None,
        });
        let keys: Vec<_> = env.vars().map(|(k, _)| k).collect();
        assert_eq!(keys, ["HOME", "PATH"]);
        assert_eq!(
            env.path_dirs(),
            [PathBuf::from("/bin"), PathBuf::from("/usr/bin")]
        );
        assert_eq!(env.data_home(), Some(PathBuf::from("/home/u/.local/share")));
        assert_eq!(env.data_dirs()[1], PathBuf::from("/usr/share"));
        let env = env.with_var("LANG", "C").with_var("LD_PRELOAD", "/evil.so");
        assert_eq!(env.get("LANG"), Some(OsStr::new("C")));
        assert_eq!(env.get("LD_PRELOAD"), None);
    }
}
