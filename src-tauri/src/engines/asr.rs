//! Speech recognition for the app: the model the user gets by default (fetched and, for
//! faster-whisper models, imported into whisper.cpp format on first use) and a supervised
//! `sotto-asr` worker that has it loaded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sotto_ct2::Matrices;
use sotto_models::{InstallState, Task};
use sotto_protocol::asr::{
    glossary_prompt, AsrRequest, AsrResponse, AudioContext, DecodeOptions, Fusion, FusionMethod,
    Pcm, SpeechSegment, Transcript,
};
use sotto_protocol::client::{Supervisor, WorkerSpec};

use crate::app::App;

/// The whisper.cpp file made from a faster-whisper model, kept beside its source files. Its
/// weight matrices are Q8_0: on this 2-core CPU tiny.en decodes ~20% faster than in f16 (the
/// live decode's p50 went from ~150 to ~120 ms) with the same WER and 30 MB less memory
/// (README, "Speech figures"; `sotto bench asr --weights q8_0,f16` compares them).
pub const IMPORTED_FILE: &str = "ggml-model-q8_0.bin";

/// How [`IMPORTED_FILE`] stores its matrices.
pub const IMPORTED_MATRICES: Matrices = Matrices::Q8_0;

/// What versions before 2026-11-29 imported (f16 matrices): removed once the new import is
/// in place, so an upgrade does not keep two copies.
const OLD_IMPORTED_FILE: &str = "ggml-model.bin";

/// The imported file with `matrices` (f16 only when asked for, by a benchmark).
fn imported_file(matrices: Matrices) -> &'static str {
    match matrices {
        Matrices::Q8_0 => IMPORTED_FILE,
        Matrices::F16 => "ggml-model-f16.bin",
    }
}

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
    model_file_with(app, id, IMPORTED_MATRICES).await
}

/// [`model_file`], imported with `matrices` if it is a faster-whisper model.
pub async fn model_file_with(app: &App, id: &str, matrices: Matrices) -> Result<PathBuf> {
    let model = app.models.model(id)?;
    if app.models.state(model) != InstallState::Installed {
        eprintln!("fetching the speech model {id} (first use)");
        crate::cli::models::fetch(app, &[id.to_string()], false).await?;
    }
    whisper_file_with(app, id, matrices, || {
        eprintln!("importing {id} into whisper.cpp format (once)")
    })
}

/// The whisper.cpp file of the installed speech model `id`, importing it from
/// faster-whisper format the first time (`importing` is called just before). Blocks while
/// it imports (seconds).
pub fn whisper_file(app: &App, id: &str, importing: impl FnOnce()) -> Result<PathBuf> {
    whisper_file_with(app, id, IMPORTED_MATRICES, importing)
}

/// [`whisper_file`], imported with `matrices`.
pub fn whisper_file_with(
    app: &App,
    id: &str,
    matrices: Matrices,
    importing: impl FnOnce(),
) -> Result<PathBuf> {
    let model = app.models.model(id)?;
    let installed = app.models.installed_path(id)?;
    match model.format.as_str() {
        "ggml-whisper" => Ok(installed),
        "ct2-whisper" => {
            let target = installed.join(imported_file(matrices));
            if !target.is_file() {
                importing();
                import(&installed, &target, matrices)?;
                let old = installed.join(OLD_IMPORTED_FILE);
                if old.is_file() {
                    if let Err(e) = std::fs::remove_file(&old) {
                        tracing::warn!(path = %old.display(), "cannot remove the previous import: {e}");
                    }
                }
            }
            Ok(target)
        }
        other => bail!("{id} has format {other}, which the speech worker cannot load"),
    }
}

/// Converts a faster-whisper (CTranslate2) model directory into a whisper.cpp file whose
/// weight matrices are `matrices`.
pub fn import(ct2_dir: &Path, target: &Path, matrices: Matrices) -> Result<()> {
    sotto_ct2::convert_with(ct2_dir, target, matrices)
        .with_context(|| format!("cannot import {} as a Whisper model", ct2_dir.display()))?;
    Ok(())
}

/// The VAD model used unless the configuration names another.
pub const DEFAULT_VAD: &str = "silero-vad-v6.2.0";

/// The voice activity model in use: the configured one, else [`DEFAULT_VAD`].
pub fn vad_id(app: &App) -> &str {
    Some(app.settings.config.models.vad.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_VAD)
}

/// The installed VAD model, if any.
pub fn vad_file(app: &App) -> Option<PathBuf> {
    app.models.installed_path(vad_id(app)).ok()
}

/// The VAD model, fetched on first use (hands-free listening cannot work without it).
pub async fn vad_model_file(app: &App) -> Result<PathBuf> {
    let id = vad_id(app).to_string();
    let model = app.models.model(&id)?;
    if app.models.state(model) != InstallState::Installed {
        eprintln!("fetching the voice activity model {id} (first use)");
        crate::cli::models::fetch(app, std::slice::from_ref(&id), false).await?;
    }
    Ok(app.models.installed_path(&id)?)
}

/// How a live session decodes: the configured language and vocabulary, the context scaled to
/// the utterance, greedy, or a beam search with the language models fused in when
/// `speech.fusion.enabled` is set. `listen` uses it, and `bench e2e` measures exactly it.
pub async fn live_options(app: &App) -> DecodeOptions {
    let speech = &app.settings.config.speech;
    let options = DecodeOptions {
        language: Some(speech.language.clone()),
        initial_prompt: glossary_prompt(speech.vocabulary.iter().map(String::as_str)),
        audio_context: AudioContext::Scaled,
        beam_size: 1,
        fusion: None,
    };
    with_fusion(app, options, None).await
}

/// `options` with the configured fusion when it is on (or when `wanted` says so, whatever the
/// setting): the personal vocabulary model (rebuilt first if its sources changed), mixed
/// with the general-English base when `base_weight` asks for it, in the configured beam, and
/// the user's names in Whisper's prompt. Gated (`name_match` above 0): the worker fuses only
/// utterances whose plain transcript sounds like some of the names, prompting with those
/// first. A model that cannot be built is a warning: recognition goes on without fusion.
pub async fn with_fusion(app: &App, options: DecodeOptions, wanted: Option<bool>) -> DecodeOptions {
    let settings = &app.settings.config.speech.fusion;
    if !wanted.unwrap_or(settings.enabled) {
        return DecodeOptions {
            fusion: None,
            ..options
        };
    }
    let personal = match crate::vocab::personal_model(app).await {
        Ok(personal) => personal,
        Err(error) => {
            tracing::warn!("recognising without fusion: the personal vocabulary model cannot be built: {error:#}");
            return options;
        }
    };
    let mut models = vec![personal.model];
    if settings.base_weight > 0.0 {
        match crate::vocab::base::installed(app) {
            Ok(base) => models.extend(base),
            Err(error) => {
                tracing::warn!("fusing without the general-English base model: {error:#}")
            }
        }
    }
    let gated = settings.name_match > 0.0;
    let initial_prompt = if gated {
        // Whisper's first pass decodes as it would without fusion.
        options.initial_prompt.clone()
    } else {
        // The glossary starts with `speech.vocabulary`, the unfused prompt.
        glossary_prompt(personal.glossary.iter().map(String::as_str))
    };
    DecodeOptions {
        beam_size: settings.beam_size.max(options.beam_size),
        initial_prompt,
        fusion: Some(Fusion {
            models,
            weight: 1.0 - settings.base_weight,
            alpha: settings.alpha,
            beta: settings.beta,
            method: FusionMethod::Beam,
            names: if gated { personal.names } else { Vec::new() },
            name_match: settings.name_match,
        }),
        ..options
    }
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
        let audio = pcm(samples);
        let _cores = super::CORES.for_speech().await;
        match self
            .ask(|id| AsrRequest::Transcribe { id, audio, options })
            .await?
        {
            AsrResponse::Transcript(t) => Ok(t),
            other => unexpected(other),
        }
    }

    /// Where the speech is in `samples` (16 kHz), by the worker's Silero VAD.
    pub async fn detect_speech(&mut self, samples: Vec<i16>) -> Result<Vec<SpeechSegment>> {
        let audio = pcm(samples);
        match self
            .ask(|id| AsrRequest::DetectSpeech { id, audio })
            .await?
        {
            AsrResponse::Speech { segments, .. } => Ok(segments),
            other => unexpected(other),
        }
    }

    /// Sends the request made with the next id and waits for its answer.
    async fn ask(&mut self, request: impl FnOnce(u64) -> AsrRequest) -> Result<AsrResponse> {
        let id = self.next_id;
        self.next_id += 1;
        self.supervisor.call(&request(id), loaded).await?
    }

    /// The worker's process id while it runs (for memory measurements).
    pub fn pid(&self) -> Option<u32> {
        self.supervisor.pid()
    }

    pub fn stop_if_idle(&mut self) -> bool {
        self.supervisor.stop_if_idle()
    }
}

fn pcm(samples: Vec<i16>) -> Pcm {
    Pcm {
        sample_rate: 16_000,
        samples,
    }
}

/// A failure the worker reported, or an answer that does not fit the request.
fn unexpected<T>(response: AsrResponse) -> Result<T> {
    match response {
        AsrResponse::Failed { failure, .. } => bail!("{}", failure.message),
        other => bail!("unexpected answer from the speech worker: {other:?}"),
    }
}

/// Checks the worker's answer to the `Load` the supervisor replays after every (re)start.
fn loaded(response: &AsrResponse) -> Result<()> {
    match response {
        AsrResponse::Loaded { .. } => Ok(()),
        AsrResponse::Failed { failure, .. } => Err(anyhow::anyhow!("{}", failure.message)),
        other => Err(anyhow::anyhow!("unexpected answer to Load: {other:?}")),
    }
}
