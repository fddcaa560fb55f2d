//! The planner's language model for the app: the model the user gets by default (fetched on
//! first use) and a supervised `sotto-lm` worker that has it loaded, streaming answers.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sotto_models::{InstallState, Task};
use sotto_protocol::client::{Next, Supervisor, WorkerError, WorkerSpec};
use sotto_protocol::lm::{Completion, Generate, LmRequest, LmResponse, Prompt};
use sotto_protocol::WorkerFailure;

use crate::app::App;

/// Context size for planning: the system prompt with the whole tool catalogue, a few
/// examples, the request and the plan fit with room to spare.
pub const PLANNER_CONTEXT: u32 = 4096;

/// Which planner model to use: the one asked for, else the configured one, else the
/// recommended one.
pub async fn choose_model(app: &App, requested: Option<&str>) -> Result<String> {
    if let Some(id) =
        requested.or(Some(app.settings.config.models.planner.as_str()).filter(|s| !s.is_empty()))
    {
        let model = app.models.model(id)?;
        if model.task != Task::Planner {
            bail!("{id} is a {} model, not a planner model", model.task);
        }
        return Ok(id.to_string());
    }
    let recommendations = crate::cli::models::recommended_choices(app).await;
    recommendations
        .into_iter()
        .find(|r| r.task == Task::Planner)
        .and_then(|r| r.chosen)
        .context("no planner model suits this machine (see `sotto models recommend`)")
}

/// The GGUF file of catalog model `id`, fetched first if needed.
pub async fn model_file(app: &App, id: &str) -> Result<PathBuf> {
    let model = app.models.model(id)?;
    if app.models.state(model) != InstallState::Installed {
        if !app.settings.config.models.auto_fetch {
            bail!(
                "the planner model {id} is not installed, and models.auto_fetch is off: \
                 run `sotto models fetch {id}`"
            );
        }
        eprintln!("fetching the planner model {id} (first use)");
        crate::cli::models::fetch(app, &[id.to_string()], false).await?;
    }
    if model.format != "gguf" {
        bail!(
            "{id} has format {}, which the planner worker cannot load",
            model.format
        );
    }
    let installed = app.models.installed_path(id)?;
    if installed.is_file() {
        return Ok(installed);
    }
    let gguf = std::fs::read_dir(&installed)
        .with_context(|| format!("cannot read {}", installed.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|e| e == "gguf"));
    gguf.with_context(|| format!("{id} is installed but has no .gguf file"))
}

/// What [`LmEngine::prime_until`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimeReport {
    /// The prompt's length in tokens.
    pub tokens: u32,
    /// Tokens evaluated; the rest were in the cache already.
    pub evaluated: u32,
    /// The worker's time.
    pub ms: u64,
    /// Stopped before the end of the prompt (the cache holds its start).
    pub cancelled: bool,
}

/// A supervised `sotto-lm` with one model loaded.
#[derive(Debug)]
pub struct LmEngine {
    supervisor: Supervisor<LmRequest, LmResponse>,
    load: LmRequest,
    model: PathBuf,
    next_id: u64,
}

impl LmEngine {
    pub fn new(model: PathBuf, n_ctx: u32, idle_timeout: Duration) -> LmEngine {
        let spec = WorkerSpec {
            name: "sotto-lm".into(),
            program: super::worker_program("sotto-lm"),
            args: Vec::new(),
            hello_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(300),
        };
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2)
            .min(8);
        let mut supervisor = Supervisor::new(spec, idle_timeout);
        let load = LmRequest::Load {
            model: model.clone(),
            n_ctx,
            threads,
        };
        supervisor.set_setup(vec![load.clone()]);
        LmEngine {
            supervisor,
            load,
            model,
            next_id: 1,
        }
    }

    /// Makes `prompt` the prefix the worker holds in its KV cache from its start (and again
    /// after any restart), loaded from `cache_file` when that holds it for this model, else
    /// evaluated and saved there: a new worker answers its first request without evaluating
    /// the long stable part of the planner's prompt again. Takes effect when the worker
    /// (re)starts.
    pub fn set_prefix(&mut self, prompt: Prompt, cache_file: Option<PathBuf>) {
        self.supervisor.set_setup(vec![
            self.load.clone(),
            LmRequest::Prime {
                id: 0,
                prompt,
                cache_file,
                interruptible: false,
            },
        ]);
    }

    /// Puts `prompt` (a chat without the assistant's opening) in the worker's KV cache now,
    /// so that a request starting with the same tokens evaluates only the rest: what the
    /// planner does with a partial transcript while the person is still speaking. Speculative
    /// work: when `stop` completes first, the worker stops within one small chunk, keeping
    /// the start it evaluated. Returns how many tokens it evaluated (the rest it already
    /// held), its time, and whether it was stopped.
    pub async fn prime_until(
        &mut self,
        prompt: Prompt,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<PrimeReport> {
        let id = self.next_id;
        self.next_id += 1;
        let request = LmRequest::Prime {
            id,
            prompt,
            cache_file: None,
            interruptible: true,
        };
        let cancel = async move {
            stop.await;
            LmRequest::Cancel { id }
        };
        let mut outcome: Option<Result<PrimeReport>> = None;
        let streamed = self
            .supervisor
            .stream(&request, loaded, cancel, |response| match response {
                LmResponse::Primed {
                    id: got,
                    tokens,
                    evaluated,
                    ms,
                    cancelled,
                    ..
                } if got == id => {
                    outcome = Some(Ok(PrimeReport {
                        tokens,
                        evaluated,
                        ms,
                        cancelled,
                    }));
                    Next::Done
                }
                LmResponse::Failed { failure, .. } => {
                    outcome = Some(Err(model_failed(&failure)));
                    Next::Done
                }
                // An answer to an earlier, cancelled request: not ours.
                _ => Next::More,
            })
            .await;
        answer(streamed, outcome)
    }

    /// Starts the worker (model loaded, prefix primed) now if it is not running.
    pub async fn start(&mut self) -> Result<()> {
        self.supervisor
            .start(loaded)
            .await
            .context("the planner worker did not start")?
    }

    /// Generates an answer, handing each piece of text to `on_text` as it comes; returns when
    /// the worker reports the end. `Next::Done` from `on_text` cancels the rest (the worker
    /// is told to stop, and the answer so far is returned).
    pub async fn generate(
        &mut self,
        mut request: Generate,
        mut on_text: impl FnMut(&str) -> Next,
    ) -> Result<Completion> {
        let id = self.next_id;
        self.next_id += 1;
        request.id = id;
        let (cancel_tx, cancel_rx) = tokio::sync::oneshot::channel::<()>();
        let mut cancel_tx = Some(cancel_tx);
        let cancel = async move {
            // Never completes unless the caller asked to stop.
            if cancel_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
            LmRequest::Cancel { id }
        };
        let mut outcome: Option<Result<Completion>> = None;
        let streamed = self
            .supervisor
            .stream(&LmRequest::Generate(request), loaded, cancel, |response| {
                match response {
                    LmResponse::Token { id: got, text } if got == id => {
                        if on_text(&text) == Next::Done {
                            if let Some(tx) = cancel_tx.take() {
                                let _ = tx.send(());
                            }
                        }
                        Next::More
                    }
                    LmResponse::Done(completion) if completion.id == id => {
                        outcome = Some(Ok(completion));
                        Next::Done
                    }
                    LmResponse::Failed { failure, .. } => {
                        outcome = Some(Err(model_failed(&failure)));
                        Next::Done
                    }
                    // An answer to an earlier, cancelled request: not ours.
                    _ => Next::More,
                }
            })
            .await;
        answer(streamed, outcome)
    }

    /// The GGUF file this engine loads.
    pub fn model(&self) -> &std::path::Path {
        &self.model
    }

    /// The worker's process id while it runs (for memory measurements).
    pub fn pid(&self) -> Option<u32> {
        self.supervisor.pid()
    }

    pub fn stop_if_idle(&mut self) -> bool {
        self.supervisor.stop_if_idle()
    }
}

/// The worker's answer to a streamed request, or why there is none.
fn answer<T>(streamed: Result<Result<()>, WorkerError>, outcome: Option<Result<T>>) -> Result<T> {
    match streamed {
        Err(e) => Err(anyhow::Error::new(e).context("the planner worker stopped")),
        Ok(Err(rejected)) => Err(rejected),
        Ok(Ok(())) => {
            outcome.unwrap_or_else(|| bail!("the planner worker ended without an answer"))
        }
    }
}

fn model_failed(failure: &WorkerFailure) -> anyhow::Error {
    anyhow::anyhow!("the planner model failed: {}", failure.message)
}

/// Checks the worker's answer to the `Load` the supervisor replays after every (re)start.
fn loaded(response: &LmResponse) -> Result<()> {
    match response {
        LmResponse::Loaded(_) => Ok(()),
        LmResponse::Primed {
            tokens,
            from_file,
            evaluated,
            ms,
            ..
        } => {
            tracing::info!(
                tokens,
                from_file,
                evaluated,
                ms,
                "planner prompt prefix ready"
            );
            Ok(())
        }
        LmResponse::Failed { failure, .. } => Err(anyhow::anyhow!(
            "the planner model cannot be loaded: {}",
            failure.message
        )),
        other => Err(anyhow::anyhow!("unexpected answer to Load: {other:?}")),
    }
}
