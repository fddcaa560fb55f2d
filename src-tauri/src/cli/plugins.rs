//! `sotto plugins install|list|enable|disable|update|remove`: WASM plugins' lifecycle.
//!
//! Installing copies the component into Sotto's data folder and pins its SHA-256; Sotto
//! loads only that copy and only while the hash matches. What a plugin's tools may do is
//! shown before anything is written, and the user says yes at the terminal (or with `--yes`
//! after reading it); the capabilities are then granted to its tools, in the same
//! transaction that records the plugin. An update of a changed file asks again, marking
//! what is new.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use sotto_plugins::{Plugin, PluginHost};
use sotto_store::{NewPlugin, PluginRecord, Store};
use sotto_tools::{Capability, DirScope, InteractiveConfirmer, ToolManifest};

use crate::app::App;
use crate::plugins::{self, installed_file, sha256_hex, short};

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Install a plugin from a .wasm component (or a folder holding one, or a plugin crate
    /// built for wasm32-wasip2): shows what its tools may do and asks.
    Install(InstallArgs),
    /// The installed plugins, their tools and whether they are enabled.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Let an installed plugin's tools be planned and called again.
    Enable { id: String },
    /// Keep a plugin installed (and its permissions) but leave its tools out.
    Disable { id: String },
    /// Install a new version from where the plugin came from (or --from); a changed file
    /// shows what changed and asks again.
    Update(UpdateArgs),
    /// Uninstall a plugin and forget its tools' permissions. Its data folders are kept.
    Remove { id: String },
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A .wasm component, or a folder with exactly one (also looked for in
    /// target/wasm32-wasip2/release).
    pub path: PathBuf,
    /// Install without asking, having read the capabilities shown.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// A folder of yours the plugin's tools may see (for tools that use folders you choose).
    #[arg(long = "folder", value_name = "DIR")]
    pub folders: Vec<PathBuf>,
    /// Its tools that change files may also change them in the folders given.
    #[arg(long, requires = "folders")]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    /// Take the new version from here instead of where it was installed from.
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    /// Update without asking, having read what changed.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub async fn run(app: &App, command: PluginsCommand) -> Result<ExitCode> {
    let store = app.store().await?;
    match command {
        PluginsCommand::Install(args) => install(app, store, args).await,
        PluginsCommand::List { json } => list(app, store, json).await,
        PluginsCommand::Enable { id } => set_enabled(store, &id, true).await,
        PluginsCommand::Disable { id } => set_enabled(store, &id, false).await,
        PluginsCommand::Update(args) => update(app, store, args).await,
        PluginsCommand::Remove { id } => remove(app, store, &id).await,
    }
}

/// The component file `path` names: the file itself, or the one .wasm in the folder.
fn component_file(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if !path.is_dir() {
        bail!("{} does not exist", path.display());
    }
    for dir in [
        path.to_path_buf(),
        path.join("target/wasm32-wasip2/release"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
            .collect();
        found.sort();
        match found.len() {
            0 => continue,
            1 => return Ok(found.remove(0)),
            _ => bail!(
                "{} holds several components ({}); name the one to install",
                dir.display(),
                found
                    .iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    if path.join("Cargo.toml").is_file() {
        bail!(
            "{} is a plugin crate that is not built yet: run `cargo build --release --target \
             wasm32-wasip2` there first",
            path.display()
        );
    }
    bail!("no .wasm component in {}", path.display())
}

struct Candidate {
    file: PathBuf,
    bytes: Vec<u8>,
    sha256: String,
    plugin: Plugin,
}

/// The component `path` names, canonical, and its bytes.
async fn read_component(path: &Path) -> Result<(PathBuf, Vec<u8>)> {
    let file = component_file(path)?;
    let file = file.canonicalize().unwrap_or(file);
    let bytes = tokio::fs::read(&file)
        .await
        .with_context(|| format!("cannot read {}", file.display()))?;
    Ok((file, bytes))
}

/// Loads (and so checks) a component already read; compiling runs off the async threads.
async fn load_candidate(
    host: &Arc<PluginHost>,
    file: PathBuf,
    bytes: Vec<u8>,
) -> Result<Candidate> {
    let sha256 = sha256_hex(&bytes);
    let plugin = {
        let (host, path, bytes) = (host.clone(), file.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || host.load_bytes(&path, &bytes))
            .await?
            .with_context(|| format!("{} cannot be installed", file.display()))?
    };
    Ok(Candidate {
        file,
        bytes,
        sha256,
        plugin,
    })
}

fn uses_user_folders(manifest: &ToolManifest) -> bool {
    manifest.capabilities.iter().any(|c| {
        matches!(
            c,
            Capability::ReadDir(DirScope::UserFolders)
                | Capability::WriteDir(DirScope::UserFolders)
        )
    })
}

/// What the user is asked about: the plugin, each tool with its risk and what it may do.
/// Capabilities in `known` (already granted to that tool) are not marked new.
fn describe(candidate: &Candidate, known: &BTreeSet<(String, String)>, marking: bool) -> String {
    let meta = candidate.plugin.meta();
    let mut text = format!(
        "Plugin {} ({}) version {}, plugin API {}\n  file {}\n  sha256 {}\n",
        meta.name,
        meta.id,
        meta.version,
        meta.api_version,
        candidate.file.display(),
        meta.sha256
    );
    for manifest in candidate.plugin.manifests() {
        text.push_str(&format!(
            "\n  tool {}: {}\n    it {}\n",
            manifest.name,
            manifest.description,
            manifest.risk.describe()
        ));
        if manifest.capabilities.is_empty() {
            text.push_str("    needs nothing beyond its arguments\n");
        }
        for capability in &manifest.capabilities {
            let new = marking && !known.contains(&(manifest.name.clone(), capability.key()));
            text.push_str(&format!(
                "    may {capability}{}\n",
                if new { "   (new)" } else { "" }
            ));
        }
    }
    if !meta.http_hosts.is_empty() {
        text.push_str(&format!(
            "\n  network access only to: {}\n",
            meta.http_hosts.join(", ")
        ));
    }
    text
}

/// `--yes`, or a "yes" typed at the terminal. Never standard input: it may be a pipe.
fn consent(yes: bool, question: &str) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    match InteractiveConfirmer::terminal() {
        Ok(mut terminal) => Ok(terminal.ask(question)?),
        Err(e) => bail!(
            "{question} needs your answer at a terminal ({e}); or pass --yes after reading \
             the above"
        ),
    }
}

/// Writes the component into the plugins folder whole or not at all.
fn write_installed(app: &App, id: &str, bytes: &[u8]) -> Result<PathBuf> {
    let dir = plugins::plugins_dir(app);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = installed_file(app, id);
    let mut temp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|_| temp.as_file().sync_all())
        .with_context(|| {
            format!(
                "cannot write the plugin into {} (is the disk full?)",
                dir.display()
            )
        })?;
    temp.persist(&target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(target)
}

/// Tool names already taken by built-ins or other plugins.
async fn taken_names(store: &Store, except: &str) -> Result<BTreeSet<String>> {
    let mut taken: BTreeSet<String> = sotto_builtins::all()
        .iter()
        .map(|t| t.manifest().name.clone())
        .collect();
    for other in store
        .plugins()
        .await?
        .into_iter()
        .filter(|p| p.id != except)
    {
        taken.extend(other.tools);
    }
    Ok(taken)
}

fn new_plugin(candidate: &Candidate, folders: Vec<(String, String, bool)>) -> NewPlugin {
    let meta = candidate.plugin.meta();
    let mut tools: Vec<String> = candidate
        .plugin
        .manifests()
        .map(|m| m.name.clone())
        .collect();
    tools.sort();
    NewPlugin {
        id: meta.id.clone(),
        name: meta.name.clone(),
        version: meta.version.clone(),
        api_version: meta.api_version.clone(),
        source: candidate.file.display().to_string(),
        sha256: candidate.sha256.clone(),
        tools,
        capabilities: candidate
            .plugin
            .manifests()
            .flat_map(|m| m.capabilities.iter().map(|c| (m.name.clone(), c.key())))
            .collect(),
        folders,
    }
}

async fn install(app: &App, store: &Store, args: InstallArgs) -> Result<ExitCode> {
    let host = Arc::new(plugins::host(app)?);
    let (file, bytes) = read_component(&args.path).await?;
    let candidate = load_candidate(&host, file, bytes).await?;
    let id = candidate.plugin.meta().id.clone();
    if store.plugin(&id).await?.is_some() {
        bail!("a plugin `{id}` is already installed; `sotto plugins update {id} --from {}` installs this version", args.path.display());
    }
    let taken = taken_names(store, &id).await?;
    if let Some(clash) = candidate
        .plugin
        .manifests()
        .find(|m| taken.contains(&m.name))
    {
        bail!(
            "plugin `{id}` cannot be installed: its tool `{}` has the name of a tool Sotto already has",
            clash.name
        );
    }
    let (mut folders, mut shown) = (Vec::new(), Vec::new());
    for folder in &args.folders {
        let canonical = folder
            .canonicalize()
            .with_context(|| format!("the folder {} does not exist", folder.display()))?;
        if !canonical.is_dir() {
            bail!("{} is not a folder", folder.display());
        }
        shown.push(canonical.clone());
        for manifest in candidate
            .plugin
            .manifests()
            .filter(|m| uses_user_folders(m))
        {
            let writes = manifest
                .capabilities
                .contains(&Capability::WriteDir(DirScope::UserFolders));
            folders.push((
                manifest.name.clone(),
                canonical.display().to_string(),
                args.write && writes,
            ));
        }
    }
    print!("{}", describe(&candidate, &BTreeSet::new(), false));
    let needs_folders = candidate.plugin.manifests().any(uses_user_folders);
    if needs_folders && folders.is_empty() {
        println!(
            "\n  Its tools work in folders you choose, and you named none: they will say so \
             until you grant one (`sotto tools grant TOOL --folder DIR`)."
        );
    }
    if needs_folders {
        for path in &shown {
            println!(
                "\n  Its tools will {} {}",
                if args.write {
                    "read and change files in"
                } else {
                    "read files in"
                },
                path.display()
            );
        }
    }
    println!();
    std::io::stdout().flush()?;
    if !consent(
        args.yes,
        &format!("Install plugin `{id}` with these permissions?"),
    )? {
        println!("Not installed.");
        return Ok(ExitCode::from(1));
    }
    let record = new_plugin(&candidate, folders);
    let target = write_installed(app, &id, &candidate.bytes)?;
    if let Err(e) = store.save_plugin(&record).await {
        let _ = std::fs::remove_file(&target);
        return Err(e).context("the plugin was not installed");
    }
    println!(
        "Installed {} {}: {}.",
        id,
        record.version,
        record.tools.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

async fn find(store: &Store, id: &str) -> Result<PluginRecord> {
    if let Some(record) = store.plugin(id).await? {
        return Ok(record);
    }
    let installed: Vec<String> = store.plugins().await?.into_iter().map(|p| p.id).collect();
    if installed.is_empty() {
        bail!("no plugin `{id}`: no plugins are installed (`sotto plugins install FILE`)");
    }
    bail!(
        "no plugin `{id}`; installed: {} (`sotto plugins list`)",
        installed.join(", ")
    )
}

async fn update(app: &App, store: &Store, args: UpdateArgs) -> Result<ExitCode> {
    let record = find(store, &args.id).await?;
    let source = args
        .from
        .clone()
        .unwrap_or_else(|| PathBuf::from(&record.source));
    let (file, bytes) = read_component(&source)
        .await
        .with_context(|| format!("cannot update `{}` from {}", record.id, source.display()))?;
    let installed = installed_file(app, &record.id);
    if sha256_hex(&bytes) == record.sha256 {
        // The version the user approved: restoring a changed or missing copy needs no new yes.
        let current = std::fs::read(&installed).map(|b| sha256_hex(&b)).ok();
        if current.as_deref() == Some(record.sha256.as_str()) {
            println!("{} {} is up to date.", record.id, record.version);
        } else {
            write_installed(app, &record.id, &bytes)?;
            println!(
                "Restored {} {} (its installed copy had changed).",
                record.id, record.version
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let host = Arc::new(plugins::host(app)?);
    let candidate = load_candidate(&host, file, bytes).await?;
    if candidate.plugin.meta().id != record.id {
        bail!(
            "{} is plugin `{}`, not `{}`",
            candidate.file.display(),
            candidate.plugin.meta().id,
            record.id
        );
    }
    let taken = taken_names(store, &record.id).await?;
    if let Some(clash) = candidate
        .plugin
        .manifests()
        .find(|m| taken.contains(&m.name))
    {
        bail!(
            "its new tool `{}` has the name of a tool Sotto already has",
            clash.name
        );
    }
    let mut known = BTreeSet::new();
    for tool in &record.tools {
        for key in store.tool_grants(tool).await?.capabilities {
            known.insert((tool.clone(), key));
        }
    }
    println!(
        "The file changed since {} {} was installed (sha256 {} -> {}).\n",
        record.id,
        record.version,
        short(&record.sha256),
        short(&candidate.sha256)
    );
    print!("{}", describe(&candidate, &known, true));
    let new_tools: BTreeSet<String> = candidate
        .plugin
        .manifests()
        .map(|m| m.name.clone())
        .collect();
    for gone in record.tools.iter().filter(|t| !new_tools.contains(*t)) {
        println!("\n  tool {gone} is gone (its permissions are forgotten)");
    }
    println!();
    std::io::stdout().flush()?;
    if !consent(
        args.yes,
        &format!("Update plugin `{}` with these permissions?", record.id),
    )? {
        println!("Not updated: {} {} stays.", record.id, record.version);
        return Ok(ExitCode::from(1));
    }
    let new = new_plugin(&candidate, Vec::new());
    // The old copy stays until the new row is written: a failure leaves the old version whole.
    let staged = write_installed(app, &format!("{}.new", record.id), &candidate.bytes)?;
    if let Err(e) = store.save_plugin(&new).await {
        let _ = std::fs::remove_file(&staged);
        return Err(e).context("the plugin was not updated");
    }
    std::fs::rename(&staged, &installed)
        .with_context(|| format!("cannot replace {}", installed.display()))?;
    println!("Updated {} to {}.", record.id, new.version);
    Ok(ExitCode::SUCCESS)
}

async fn set_enabled(store: &Store, id: &str, enabled: bool) -> Result<ExitCode> {
    find(store, id).await?;
    store.set_plugin_enabled(id, enabled).await?;
    println!(
        "{id} is {}.",
        if enabled {
            "enabled"
        } else {
            "disabled: its tools are left out until you enable it"
        }
    );
    Ok(ExitCode::SUCCESS)
}

async fn remove(app: &App, store: &Store, id: &str) -> Result<ExitCode> {
    find(store, id).await?;
    store.remove_plugin(id).await?;
    let file = installed_file(app, id);
    if let Err(e) = std::fs::remove_file(&file) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot delete {}: {e}", file.display());
        }
    }
    println!("Removed {id}.");
    let data = plugins::data_folders(app, id);
    if !data.is_empty() {
        println!(
            "Its data is kept: {} (delete it yourself if you no longer need it).",
            data.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(app: &App, store: &Store, json: bool) -> Result<ExitCode> {
    let installed = store.plugins().await?;
    let status = |record: &PluginRecord| -> &'static str {
        let current = std::fs::read(installed_file(app, &record.id)).map(|b| sha256_hex(&b));
        match current {
            Err(_) => "missing",
            Ok(sha) if sha != record.sha256 => "changed",
            Ok(_) if record.enabled => "enabled",
            Ok(_) => "disabled",
        }
    };
    if json {
        let rows: Vec<_> = installed
            .iter()
            .map(|p| {
                json!({
                    "id": p.id, "name": p.name, "version": p.version,
                    "api_version": p.api_version, "enabled": p.enabled,
                    "status": status(p), "sha256": p.sha256, "source": p.source,
                    "tools": p.tools, "installed_at": p.installed_at, "updated_at": p.updated_at,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if installed.is_empty() {
        println!("No plugins installed. `sotto plugins install FILE.wasm` adds one.");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &installed {
        println!(
            "{:<16} {:<9} {:<9} {}  sha256 {}",
            p.id,
            p.version,
            status(p),
            p.tools.join(", "),
            short(&p.sha256)
        );
    }
    Ok(ExitCode::SUCCESS)
}
