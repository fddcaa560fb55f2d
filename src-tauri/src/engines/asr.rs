//! Speech recognition for the app: the model the user gets by default (fetched and, for
//! faster-whisper models, imported into whisper.cpp format on first use) and a supervised
//! `sotto-asr` worker that has it loaded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sotto_models::{InstallState, Task};
use sotto_protocol::asr::{AsrRequest, AsrResponse, DecodeOptions, Pcm, Transcript};
use sotto_protocol::client::{Supervisor, WorkerSpec};

use crate::app::App;

/// The whisper.cpp file made from a faster-whisper model, kept beside its source files.
pub const IMPORTED_FILE: &str = "ggml-model.bin";

/// Which ASR model to use: the one asked for, else the configured one, else the recommended.
pub async fn choose_model(app: &App, requested: Option<&str>) -> Result<String> {
    if let Some(id) =
        requested.or(Some(app.settings.config.models.asr.as_str()).filter(|s| !s.is_empty()))
    {
        let model = app.models.model(id)?;
        if model.task != Task::Asr {
            bail!(
                "{id} is a {} model, not a speech recognition model",
                model.task
            );
        }
        return Ok(id.to_string());
    }
    let recommendations = crate::cli::models::recommended_choices(app).await;
    recommendations
        .into_iter()
        .find(|r| r.task == Task::Asr)
        .and_then(|r| r.chosen)
        .context("no speech recognition model suits this machine (see `sotto models recommend`)")
}

/// The whisper.cpp file for catalog model `id`, fetching and importing it if needed.
pub async fn model_file(app: &App, id: &str) -> Result<PathBuf> {
    let model = app.models.model(id)?;
    if app.models.state(model) != InstallState::Installed {
        eprintln!("fetching the speech model {id} (first use)");
        crate::cli::models::fetch(app, &[id.to_string()], false).await?;
    }
    let installed = app.models.installed_path(id)?;
    match model.format.as_str() {
        "ggml-whisper" => Ok(installed),
        "ct2-whisper" => {
            let target = installed.join(IMPORTED_FILE);
            if !target.is_file() {
                eprintln!("importing {id} into whisper.cpp format (once)");
                import(&installed, &target)?;
            }
            Ok(target)
        }
        other => bail!("{id} has format {other}, which the speech worker cannot load"),
    }
}

/// Converts a faster-whisper (CTranslate2) model directory into a whisper.cpp file.
pub fn import(ct2_dir: &Path, target: &Path) -> Result<()> {
    sotto_ct2::convert(ct2_dir, target)
        .with_context(|| format!("cannot import {} as a Whisper model", ct2_dir.display()))?;
    Ok(())
}

/// The installed VAD model, if any.
pub fn vad_file(app: &App) -> Option<PathBuf> {
    let id = Some(app.settings.config.models.vad.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("silero-vad-v6.2.0");
    app.models.installed_path(id).ok()
}

/// A supervised `sotto-asr` with one model loaded.
#[derive(Debug)]
pub struct AsrEngine {
    supervisor: Supervisor<AsrRequest, AsrResponse>,
    next_id: u64,
}

impl AsrEngine {
    pub fn new(model: PathBuf, vad_model: Option<PathBuf>, idle_timeout: Duration) -> AsrEngine {
        let spec = WorkerSpec {
            name: "sotto-asr".into(),
            program: super::worker_program("sotto-asr"),
            args: Vec::new(),
            hello_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
        };
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2)
            .min(8);
        let mut supervisor = Supervisor::new(spec, idle_timeout);
        supervisor.set_setup(vec![AsrRequest::Load {
            model,
            vad_model,
            threads,
        }]);
        AsrEngine {
            supervisor,
            next_id: 1,
        }
    }

    pub async fn transcribe(
        &mut self,
        samples: Vec<i16>,
        options: DecodeOptions,
    ) -> Result<Transcript> {
        let id = self.next_id;
        self.next_id += 1;
        let request = AsrRequest::Transcribe {
            id,
            audio: Pcm {
                sample_rate: 16_000,
                samples,
            },
            options,
        };
        let loaded = |r: &AsrResponse| match r {
            AsrResponse::Loaded { .. } => Ok(()),
            AsrResponse::Failed { failure, .. } => Err(anyhow::anyhow!("{}", failure.message)),
            other => Err(anyhow::anyhow!("unexpected answer to Load: {other:?}")),
        };
        match self.supervisor.call(&request, loaded).await?? {
            AsrResponse::Transcript(t) => Ok(t),
            AsrResponse::Failed { failure, .. } => bail!("{}", failure.message),
            other => bail!("unexpected answer from the speech worker: {other:?}"),
        }
    }

    /// The worker's process id while it runs (for memory measurements).
    pub fn pid(&self) -> Option<u32> {
        self.supervisor.pid()
    }

    pub fn stop_if_idle(&mut self) -> bool {
        self.supervisor.stop_if_idle()
    }
}
