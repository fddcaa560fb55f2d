//! A throwaway desktop for the built-in tools' tests: a private HOME with XDG folders, a
//! `bin` folder first on PATH (for a stand-in `xdg-open` that records what it was asked to
//! open), Sotto's data folder, and the call path the executor will use (registry ->
//! context -> policy -> authorize -> run).

#![allow(dead_code)]

pub mod dbus;
pub mod pulse;
pub mod xvfb;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{decide, Decision, FolderGrant, Input, Origin, ToolGrants, ToolSetting};
use sotto_tools::{authorize, Host, Registry, ToolContext, ToolError, ToolOutput};

pub struct World {
    pub base: tempfile::TempDir,
    pub registry: Registry,
}

impl World {
    pub fn new() -> World {
        let base = tempfile::tempdir().unwrap();
        for dir in [
            "home/bin",
            "home/.local/share/applications",
            "data",
            "outside",
        ] {
            std::fs::create_dir_all(base.path().join(dir)).unwrap();
        }
        let mut registry = Registry::new();
        sotto_builtins::register_all(&mut registry).unwrap();
        World { base, registry }
    }

    pub fn home(&self) -> PathBuf {
        self.base.path().join("home")
    }

    pub fn data(&self) -> PathBuf {
        self.base.path().join("data")
    }

    pub fn outside(&self) -> PathBuf {
        self.base.path().join("outside")
    }

    pub fn host(&self) -> Host {
        let home = self.home();
        let path = format!("{}:/usr/bin:/bin", home.join("bin").display());
        let data_home = home.join(".local/share");
        // No XDG_DATA_DIRS entry that exists: only the private applications folder is seen.
        let data_dirs = self.base.path().join("no-system-data");
        Host::new(
            self.data(),
            HostEnv::from_lookup(move |key| match key {
                "HOME" => Some(home.clone().into()),
                "PATH" => Some(path.clone().into()),
                "XDG_DATA_HOME" => Some(data_home.clone().into()),
                "XDG_DATA_DIRS" => Some(data_dirs.clone().into()),
                "LANG" => Some("C.UTF-8".into()),
                _ => None,
            }),
        )
    }

    /// Writes an executable script into `home/bin`.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.home().join("bin").join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// A stand-in `xdg-open` that appends each argument it receives, one per line, to
    /// `home/opened.txt`.
    pub fn fake_opener(&self) {
        self.script(
            "xdg-open",
            r#"for a in "$@"; do printf '%s\n' "$a" >> "$HOME/opened.txt"; done"#,
        );
    }

    pub fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.home().join("opened.txt"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// Grants that let the tool run without asking, with `folders` granted (read-only).
    pub fn allowed(&self, folders: &[&Path]) -> ToolGrants {
        ToolGrants {
            setting: Some(ToolSetting::Allow),
            folders: folders
                .iter()
                .map(|p| FolderGrant {
                    path: p.to_path_buf(),
                    write: false,
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Validates, decides, authorises and runs one call, like the executor will. A decision
    /// to ask is returned as an error here: tests that need a confirmation use a terminal.
    pub async fn call_with(
        &self,
        tool: &str,
        args: Value,
        grants: &ToolGrants,
    ) -> Result<ToolOutput, ToolError> {
        self.call_in(&self.host(), tool, args, grants).await
    }

    /// [`World::call_with`] on another host, such as one whose environment names a private
    /// display or session bus.
    pub async fn call_in(
        &self,
        host: &Host,
        tool: &str,
        args: Value,
        grants: &ToolGrants,
    ) -> Result<ToolOutput, ToolError> {
        let call = self.registry.validate(tool, args)?;
        let decision = decide(call.manifest(), grants, Origin::user(Input::Typed));
        if let Decision::Ask(reason) = decision {
            return Err(ToolError::Refused(format!(
                "would ask: {}",
                reason.as_str()
            )));
        }
        let context = ToolContext::build(call.manifest(), host, grants)?;
        let manifest = call.manifest().clone();
        let authorized = authorize(call, &decision, None)
            .map_err(|refusal| ToolError::Refused(refusal.to_string()))?;
        let output = authorized.run(&context).await?;
        check_result_schema(&manifest.result_schema, &output.value, tool);
        Ok(output)
    }

    pub async fn call(&self, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
        self.call_with(tool, args, &self.allowed(&[])).await
    }
}

/// Every result must match the result schema its manifest promises.
fn check_result_schema(schema: &Value, value: &Value, tool: &str) {
    let validator = jsonschema::validator_for(schema).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        problems.is_empty(),
        "{tool}: result does not match its schema: {problems:?}\n{value}"
    );
}

/// Waits up to 10 s for `path` to exist (for programs that start detached).
pub fn wait_for(path: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the writer finish its line.
    std::thread::sleep(Duration::from_millis(50));
    true
}
