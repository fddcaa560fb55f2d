//! The assistant as the desktop sees it: one request at a time through the same pipeline as
//! `sotto do` (`sotto::requests`), with its progress turned into the window's events, its
//! questions into dialogs, and the tray's state kept true. The planner stays loaded between
//! requests, so only the first one pays for starting the model.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use sotto::app::App;
use sotto::planning::Planner;
use sotto::requests::{self, Outcome, Progress, RequestOptions};
use sotto_executor::{CancellationToken, Event};
use sotto_store::UtteranceId;
use sotto_tools::policy::{Input, ToolSetting};
use sotto_window_api::{
    AssistantState, CallView, HistoryDetail, HistoryRow, MicrophoneView, PlanStep, PlanView,
    RequestUpdate, StatusView, ToolView,
};

use crate::confirm::{Confirmations, WindowConfirmer, DEFAULT_TIMEOUT};
use crate::ui::Ui;

pub struct Assistant {
    app: Arc<App>,
    ui: Arc<dyn Ui>,
    /// Loaded on first use (or by [`Assistant::warm_up`]) and kept warm.
    planner: tokio::sync::Mutex<Option<Planner>>,
    status: Mutex<StatusView>,
    pub confirmations: Arc<Confirmations>,
    /// The request under way, to cancel it.
    current: Mutex<Option<CancellationToken>>,
    confirm_timeout: Duration,
}

impl std::fmt::Debug for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assistant")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Assistant {
    pub fn new(app: App, ui: Arc<dyn Ui>) -> Arc<Assistant> {
        Assistant::with_timeout(app, ui, DEFAULT_TIMEOUT)
    }

    /// With a confirmation timeout other than the default (tests).
    pub fn with_timeout(app: App, ui: Arc<dyn Ui>, confirm_timeout: Duration) -> Arc<Assistant> {
        Arc::new(Assistant {
            app: Arc::new(app),
            ui,
            planner: Default::default(),
            status: Mutex::new(StatusView {
                state: AssistantState::Idle,
                detail: None,
                last_result: None,
                muted: false,
                microphone: MicrophoneView::Closed,
            }),
            confirmations: Default::default(),
            current: Mutex::new(None),
            confirm_timeout,
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn status(&self) -> StatusView {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_state(&self, state: AssistantState, detail: Option<String>) {
        self.update_status(|status| {
            status.state = state;
            status.detail = detail;
        });
    }

    fn finish(&self, state: AssistantState, detail: Option<String>, result: Option<String>) {
        self.update_status(|status| {
            status.state = state;
            status.detail = detail;
            if result.is_some() {
                status.last_result = result;
            }
        });
    }

    /// Changes the status and shows it (window and tray).
    fn update_status(&self, change: impl FnOnce(&mut StatusView)) {
        let status = {
            let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut status);
            status.clone()
        };
        self.ui.status(&status);
    }

    /// The microphone's state, as the voice service sees it.
    pub fn set_microphone(&self, microphone: MicrophoneView) {
        self.update_status(|status| {
            status.muted = microphone == MicrophoneView::Muted;
            status.microphone = microphone;
        });
    }

    /// Recording began (`true`) or ended without a request (`false`, with why). A request
    /// under way keeps its state: the tray shows listening only while idle.
    pub fn set_listening(&self, listening: bool, detail: Option<String>) {
        self.update_status(|status| match (listening, status.state) {
            (true, AssistantState::Idle | AssistantState::Error) => {
                status.state = AssistantState::Listening;
                status.detail = detail;
            }
            (false, AssistantState::Listening) => {
                status.state = AssistantState::Idle;
                status.detail = detail;
            }
            _ => {}
        });
    }

    /// Whether a request is under way.
    pub fn busy(&self) -> bool {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Loads the planner model and evaluates its stable prompt now, so the first request
    /// does not wait for either: one plan no template answers, thrown away (not recorded).
    pub async fn warm_up(&self) -> Result<()> {
        let mut planner = self.planner.lock().await;
        if planner.is_none() {
            *planner = Some(start_planner(&self.app).await?);
        }
        if let Some(planner) = planner.as_mut() {
            planner.plan("what can you do", |_| {}).await?;
        }
        Ok(())
    }

    /// Gets the planner ready, in the background, for a request that will start like
    /// `partial` (what the person has said so far): the planner puts its retrieved example
    /// and those words in the model's cache (`Planner::prepare`), so when the final
    /// transcript comes only what changed is evaluated. Starts the planner if it is not
    /// loaded. Skipped while a request runs or another priming is under way: partials come
    /// every second, and the newest one is worth more than a queue of old ones.
    pub fn prepare_later(self: &Arc<Assistant>, partial: String) {
        if self.busy() {
            return;
        }
        let assistant = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            let Ok(mut planner) = assistant.planner.try_lock() else {
                return;
            };
            if planner.is_none() {
                match start_planner(&assistant.app).await {
                    Ok(started) => *planner = Some(started),
                    Err(e) => {
                        // The request will start it again and say what is wrong.
                        tracing::warn!("the planner did not start: {e:#}");
                        return;
                    }
                }
            }
            if let Some(planner) = planner.as_mut() {
                match planner.prepare(&partial).await {
                    Ok(primed) => tracing::debug!(?primed, "planner primed on a partial"),
                    // Only time is lost: the request evaluates its whole prompt.
                    Err(e) => tracing::debug!("priming the planner failed: {e:#}"),
                }
            }
        });
    }

    /// The tools changed (a plugin switched on or off): the planner is built again with the
    /// new set, in the background, so the next request plans with it.
    pub fn tools_changed(self: &Arc<Assistant>) {
        self.warm_up_later(true);
    }

    /// [`Assistant::warm_up`] in the background (a failure is logged: the next request
    /// says what is wrong); with `rebuild`, the planner is made again first.
    pub fn warm_up_later(self: &Arc<Assistant>, rebuild: bool) {
        let assistant = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            if rebuild {
                // Waits for a request under way to finish with the planner it started with.
                *assistant.planner.lock().await = None;
            }
            if let Err(e) = assistant.warm_up().await {
                tracing::warn!("the planner did not start: {e:#}");
            }
        });
    }

    /// Starts carrying out `text` in the background; progress goes to the window. Refused
    /// while another request runs (the window disables its box meanwhile).
    pub fn submit(self: &Arc<Assistant>, text: String) -> Result<(), String> {
        self.submit_from(text, None)
    }

    /// As [`Assistant::submit`], for what was said: `utterance` is the history row the
    /// listener already wrote (with the recording), which the request then continues.
    pub fn submit_from(
        self: &Arc<Assistant>,
        text: String,
        utterance: Option<UtteranceId>,
    ) -> Result<(), String> {
        let text = text.trim().to_string();
        if text.is_empty() {
            return Err("type a request first".into());
        }
        let cancel = {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            if current.is_some() {
                return Err(
                    "Sotto is still working on the last request: wait, or cancel it".into(),
                );
            }
            let token = CancellationToken::new();
            *current = Some(token.clone());
            token
        };
        let assistant = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            // Errors are shown through the window's events; nothing to return here.
            let _ = assistant.run_from(&text, utterance, cancel).await;
        });
        Ok(())
    }

    /// Stops the request under way, if any: its open question closes as Deny.
    pub fn cancel(&self) {
        if let Some(token) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            token.cancel();
        }
    }

    /// Carries out one typed request and waits for it; [`Assistant::submit`] runs this.
    pub async fn run(&self, text: &str, cancel: CancellationToken) -> Result<Outcome> {
        self.run_from(text, None, cancel).await
    }

    /// Carries out a request and waits for it; `utterance` is its history row if the
    /// listener wrote one (a spoken request).
    pub async fn run_from(
        &self,
        text: &str,
        utterance: Option<UtteranceId>,
        cancel: CancellationToken,
    ) -> Result<Outcome> {
        let result = self.run_inner(text, utterance, cancel).await;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        result
    }

    async fn run_inner(
        &self,
        text: &str,
        utterance: Option<UtteranceId>,
        cancel: CancellationToken,
    ) -> Result<Outcome> {
        self.set_state(AssistantState::Thinking, Some(text.to_string()));
        let mut recorded: Option<UtteranceId> = utterance;
        let result = self.carry_out(text, cancel, &mut recorded).await;
        match &result {
            Ok(outcome) => {
                let ok = outcome.succeeded();
                let plan_ms = outcome
                    .plans
                    .last()
                    .map(|p| p.total.as_millis() as u64)
                    .unwrap_or(0);
                self.ui.request(&RequestUpdate::Done {
                    utterance: outcome.utterance.0,
                    reply: outcome.report.reply.clone(),
                    ok,
                    plan_ms,
                    fast_path: outcome.plans.last().and_then(|p| p.fast_path.clone()),
                });
                self.finish(
                    AssistantState::Idle,
                    None,
                    Some(outcome.report.reply.clone()),
                );
            }
            Err(error) => {
                let message = format!("{error:#}");
                self.ui.request(&RequestUpdate::Failed {
                    utterance: recorded.map(|u| u.0),
                    error: message.clone(),
                });
                self.finish(AssistantState::Error, Some(message.clone()), Some(message));
            }
        }
        result
    }

    async fn carry_out(
        &self,
        text: &str,
        cancel: CancellationToken,
        recorded: &mut Option<UtteranceId>,
    ) -> Result<Outcome> {
        let registry = Arc::new(sotto::plugins::toolbox(&self.app).await?.registry);
        let mut planner = self.planner.lock().await;
        if planner.is_none() {
            self.set_state(
                AssistantState::Thinking,
                Some("starting the planner model".into()),
            );
            *planner = Some(start_planner(&self.app).await?);
        }
        let planner = planner.as_mut().context("the planner did not start")?;
        let confirmer = WindowConfirmer {
            confirmations: Arc::clone(&self.confirmations),
            ui: Arc::clone(&self.ui),
            timeout: self.confirm_timeout,
            remember_always: {
                let app = Arc::clone(&self.app);
                Arc::new(move |tool: String| {
                    let app = Arc::clone(&app);
                    Box::pin(async move { remember_always(&app, &tool).await })
                })
            },
        };
        let options = RequestOptions {
            input: if recorded.is_some() {
                Input::Voice
            } else {
                Input::Typed
            },
            yes: false,
            confirmer: Arc::new(confirmer),
            utterance: *recorded,
            cancel,
        };
        let ui = Arc::clone(&self.ui);
        let mut utterance = 0i64;
        let mut on_progress = |progress: Progress<'_>| {
            if let Progress::Recorded(id) = &progress {
                utterance = id.0;
                *recorded = Some(*id);
            }
            // The tray follows the executor's events, which arrive in order: a question
            // comes after its step started and before it finished.
            let state = self.status().state;
            match &progress {
                Progress::Step(Event::StepStarted { .. }) if state == AssistantState::Thinking => {
                    self.set_state(AssistantState::Acting, Some(text.to_string()));
                }
                Progress::Step(Event::NeedsConfirmation { request, .. }) => {
                    self.set_state(
                        AssistantState::NeedsConfirmation,
                        Some(format!("{} waits for your OK", request.tool)),
                    );
                }
                Progress::Step(Event::StepFinished { .. } | Event::StepSkipped { .. })
                    if state == AssistantState::NeedsConfirmation =>
                {
                    self.set_state(AssistantState::Acting, Some(text.to_string()));
                }
                _ => {}
            }
            if let Some(update) = update_for(utterance, text, &progress) {
                ui.request(&update);
            }
        };
        requests::carry_out(
            &self.app,
            planner,
            registry,
            text,
            options,
            &mut on_progress,
        )
        .await
    }

    pub async fn history(&self, search: Option<&str>, limit: i64) -> Result<Vec<HistoryRow>> {
        let store = self.app.store().await?;
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        Ok(store
            .history(limit.clamp(1, 1000), search)
            .await?
            .into_iter()
            .map(history_row)
            .collect())
    }

    pub async fn history_detail(&self, id: i64) -> Result<HistoryDetail> {
        let store = self.app.store().await?;
        let detail = store.utterance(UtteranceId(id)).await?;
        Ok(HistoryDetail {
            audio_path: detail.audio_path.as_ref().map(|audio| {
                self.app
                    .settings
                    .recordings_dir
                    .join(audio)
                    .display()
                    .to_string()
            }),
            audio_ms: detail.audio_ms,
            error: detail.error.clone(),
            plans: detail
                .plans
                .iter()
                .map(|plan| PlanView {
                    text: plan.text.clone(),
                    duration_ms: plan.duration_ms,
                    calls: plan
                        .calls
                        .iter()
                        .map(|call| CallView {
                            step: call.step,
                            tool: call.tool.clone(),
                            arguments: call.arguments.clone(),
                            decision: call.decision.clone(),
                            result: call.result.clone(),
                            error: call.error.clone(),
                            duration_ms: call.duration_ms,
                        })
                        .collect(),
                })
                .collect(),
            row: history_row(detail.entry),
        })
    }

    /// Deletes the row, its plans and calls, and its recording.
    pub async fn history_delete(&self, id: i64) -> Result<()> {
        let store = self.app.store().await?;
        let recordings = &self.app.settings.recordings_dir;
        if let Some(problem) = sotto::history::delete(store, recordings, UtteranceId(id)).await? {
            tracing::warn!("{problem}");
        }
        Ok(())
    }

    /// Every tool Sotto can call now, with the setting in force.
    pub async fn tools(&self) -> Result<Vec<ToolView>> {
        let toolbox = sotto::plugins::toolbox(&self.app).await?;
        let store = self.app.store().await?;
        let stored = store.all_tool_grants().await?;
        let plugins = store.plugins().await?;
        let mut tools: Vec<ToolView> = toolbox
            .registry
            .manifests()
            .map(|manifest| {
                let user = stored
                    .iter()
                    .find(|r| r.tool == manifest.name)
                    .and_then(|r| r.setting.map(|s| s.as_str().to_string()));
                ToolView {
                    name: manifest.name.clone(),
                    description: manifest.description.clone(),
                    risk: manifest.risk.as_str().to_string(),
                    setting: user.clone().unwrap_or_else(|| {
                        ToolSetting::default_for(manifest.risk).as_str().to_string()
                    }),
                    set_by_user: user.is_some(),
                    capabilities: manifest.capabilities.iter().map(|c| c.key()).collect(),
                    plugin: plugins
                        .iter()
                        .find(|p| p.tools.contains(&manifest.name))
                        .map(|p| p.id.clone()),
                    always_asks: sotto::tool_settings::always_asks(manifest)
                        .map(|reason| reason.describe().to_string()),
                }
            })
            .collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tools)
    }
}

impl Assistant {
    /// The user's setting for `tool` (`always-ask`, `ask-first-time`, `allow`, `never`), or
    /// back to the default for its risk with `None`. What always asks (sending, destroying,
    /// running commands, arguments from another tool's output) still asks whatever this says.
    pub async fn set_tool_setting(&self, tool: &str, setting: Option<&str>) -> Result<()> {
        let toolbox = sotto::plugins::toolbox(&self.app).await?;
        let Some(manifest) = toolbox.registry.get(tool).cloned() else {
            anyhow::bail!("there is no tool called {tool:?}");
        };
        let value = match setting {
            None => None,
            Some(text) => Some(sotto_store::ToolSettingValue::parse(text).with_context(|| {
                format!("{text:?} is not a setting: always-ask, ask-first-time, allow or never")
            })?),
        };
        if let Some(setting) = value.and_then(|v| ToolSetting::parse(v.as_str())) {
            sotto::tool_settings::check_setting(&manifest, setting)?;
        }
        self.app
            .store()
            .await?
            .set_tool_setting(tool, value)
            .await?;
        Ok(())
    }
}

async fn start_planner(app: &App) -> Result<Planner> {
    sotto::cli::plan::planner(app, &sotto::cli::plan::PlannerArgs::default()).await
}

/// "Always for this tool": the tool's setting becomes Allow. The policy still asks for what
/// always asks (sending, destroying, arguments from another tool's output) whatever the
/// setting says, so this cannot relax those.
async fn remember_always(app: &App, tool: &str) {
    let saved = async {
        app.store()
            .await?
            .set_tool_setting(tool, Some(sotto_store::ToolSettingValue::Allow))
            .await?;
        anyhow::Ok(())
    };
    if let Err(e) = saved.await {
        tracing::warn!("could not remember to allow {tool}: {e:#}");
    }
}

fn history_row(entry: sotto_store::HistoryEntry) -> HistoryRow {
    HistoryRow {
        id: entry.id.0,
        created_at: entry.created_at,
        input: entry.input,
        transcript: entry.transcript,
        status: entry.status,
        plans: entry.plan_count,
        calls: entry.call_count,
    }
}

/// The window's view of one piece of progress (`None` for what it does not show).
pub fn update_for(utterance: i64, text: &str, progress: &Progress<'_>) -> Option<RequestUpdate> {
    Some(match progress {
        Progress::Recorded(id) => RequestUpdate::Recorded {
            utterance: id.0,
            text: text.to_string(),
        },
        Progress::Planned(step) => RequestUpdate::Planned {
            utterance,
            step: PlanStep {
                id: step.id,
                tool: step.function().map(str::to_string),
                args: requests::step_json(step)["args"].clone(),
                deps: step.deps().into_iter().collect(),
            },
        },
        Progress::Replanning(feedback) => RequestUpdate::Replanning {
            utterance,
            feedback: feedback.to_string(),
        },
        Progress::Step(Event::StepStarted { id, tool, args }) => RequestUpdate::Started {
            utterance,
            id: *id,
            tool: tool.clone(),
            args: args.clone(),
        },
        Progress::Step(Event::StepFinished {
            id,
            tool,
            result,
            audit,
            elapsed,
        }) => RequestUpdate::Finished {
            utterance,
            id: *id,
            tool: tool.clone(),
            ok: result.is_ok(),
            summary: match result {
                Ok(output) => output.summary.clone(),
                Err(failure) => failure.message.clone(),
            },
            ms: elapsed.as_millis() as u64,
            approval: audit.approval.clone(),
        },
        Progress::Step(Event::StepSkipped { id, tool, reason }) => RequestUpdate::Skipped {
            utterance,
            id: *id,
            tool: tool.clone(),
            reason: reason.to_string(),
        },
        _ => return None,
    })
}
