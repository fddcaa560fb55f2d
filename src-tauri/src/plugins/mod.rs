//! Installed plugins as the rest of the app sees them: where their component files live, and
//! the toolbox (built-ins plus every enabled plugin's tools) that planning and `sotto do`
//! use. A plugin is loaded only if its file still has the SHA-256 pinned at install; a
//! plugin that fails to load is reported and left out, never a reason for Sotto to fail.

pub mod services;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use sotto_plugins::{HostConfig, Limits, Plugin, PluginHost};
use sotto_store::PluginRecord;
use sotto_tools::{Registry, ToolManifest};

use crate::app::App;
use services::DesktopServices;

/// Every tool Sotto can call right now, and what went wrong loading the rest.
#[derive(Debug)]
pub struct Toolbox {
    pub registry: Registry,
    /// One sentence per plugin left out, saying what to do.
    pub problems: Vec<String>,
}

impl Toolbox {
    /// Every manifest, sorted by name.
    pub fn manifests(&self) -> Vec<ToolManifest> {
        let mut all: Vec<ToolManifest> = self.registry.manifests().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

/// The folder holding installed components, one `<id>.wasm` each.
pub fn plugins_dir(app: &App) -> PathBuf {
    app.settings.dirs.data.join("plugins")
}

pub fn installed_file(app: &App, id: &str) -> PathBuf {
    plugins_dir(app).join(format!("{id}.wasm"))
}

/// The wasmtime host with the desktop services, compiled code cached in the cache folder.
/// Call inside the runtime that will run the plugins' calls.
pub fn host(app: &App) -> Result<PluginHost> {
    let services = DesktopServices::new(sotto_sandbox::HostEnv::from_process())
        .context("cannot set up the plugins' desktop services")?;
    Ok(PluginHost::new(HostConfig {
        cache_dir: Some(app.settings.dirs.cache.join("plugins")),
        limits: Limits::default(),
        services: Arc::new(services),
    })?)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The built-in tools plus the enabled plugins' tools.
pub async fn toolbox(app: &App) -> Result<Toolbox> {
    let mut registry = Registry::new();
    sotto_builtins::register_all(&mut registry).context("the built-in tools do not register")?;
    let mut problems = Vec::new();
    let installed = app.store().await?.plugins().await?;
    let enabled: Vec<&PluginRecord> = installed.iter().filter(|p| p.enabled).collect();
    if enabled.is_empty() {
        return Ok(Toolbox { registry, problems });
    }
    let host = Arc::new(host(app)?);
    for record in enabled {
        match load_installed(app, &host, record).await {
            Ok(plugin) => {
                // Registering is all or nothing per plugin: a clash leaves the whole plugin out.
                let mut trial = Registry::new();
                let clash = plugin.tools().into_iter().find_map(|tool| {
                    let name = tool.manifest().name.clone();
                    if registry.get(&name).is_some() {
                        return Some(format!("its tool `{name}` is also another tool's name"));
                    }
                    trial.register(tool).err().map(|e| e.to_string())
                });
                match clash {
                    None => {
                        for tool in plugin.tools() {
                            registry.register(tool)?;
                        }
                    }
                    Some(why) => {
                        problems.push(format!("plugin `{}` is left out: {why}", record.id))
                    }
                }
            }
            Err(e) => problems.push(format!("plugin `{}` is left out: {e:#}", record.id)),
        }
    }
    for problem in &problems {
        tracing::warn!("{problem}");
    }
    Ok(Toolbox { registry, problems })
}

/// Loads an installed plugin after checking its file against the pinned hash.
async fn load_installed(
    app: &App,
    host: &Arc<PluginHost>,
    record: &PluginRecord,
) -> Result<Plugin> {
    let file = installed_file(app, &record.id);
    let bytes = tokio::fs::read(&file).await.with_context(|| {
        format!(
            "cannot read {} (reinstall it with `sotto plugins install {}`)",
            file.display(),
            record.source
        )
    })?;
    let found = sha256_hex(&bytes);
    if found != record.sha256 {
        anyhow::bail!(
            "its file {} changed since it was installed (pinned sha256 {}, found {}); \
             review it with `sotto plugins update {}`",
            file.display(),
            short(&record.sha256),
            short(&found),
            record.id
        );
    }
    let (host, path) = (host.clone(), file.clone());
    let plugin = tokio::task::spawn_blocking(move || host.load_bytes(&path, &bytes)).await??;
    let mut names: Vec<String> = plugin.manifests().map(|m| m.name.clone()).collect();
    names.sort();
    if plugin.meta().id != record.id || names != record.tools {
        anyhow::bail!(
            "its file no longer matches what was installed; reinstall it with \
             `sotto plugins remove {0}` and `sotto plugins install`",
            record.id
        );
    }
    Ok(plugin)
}

/// The first 12 hex digits: enough to tell two versions apart in a message.
pub fn short(sha256: &str) -> &str {
    &sha256[..sha256.len().min(12)]
}

/// The data folders plugin `id` has in Sotto's data folder (see `sotto_plugins::data_folder`).
pub fn data_folders(app: &App, id: &str) -> Vec<PathBuf> {
    let prefix = sotto_plugins::data_folder(id, "");
    let Ok(entries) = std::fs::read_dir(&app.settings.dirs.data) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}
