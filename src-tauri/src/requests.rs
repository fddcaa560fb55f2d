//! One request carried out: planned, run step by step as the plan streams in, every call
//! recorded with its audit. Shared by `sotto do`, the interactive session and the desktop
//! window, which differ only in how they show [`Progress`] and who answers confirmations
//! (the terminal, the window's dialog, or nobody).
//!
//! Nothing here prints: the caller draws `Progress` as it comes, and gets an [`Outcome`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use sotto_executor::{Confirmer, Event, Executor, ExecutorConfig, FailureKind, Grants, RunReport};
use sotto_planner::plan::Step;
use sotto_store::{
    CallAudit, CallOutcome, Decision, NewPlan, NewToolCall, NewUtterance, PlanId, Store,
    UtteranceId,
};
use sotto_tools::policy::{Input, ToolGrants, ToolSetting};
use sotto_tools::{Host, Registry};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::engines::text::LmTextModel;
use crate::planning::{Planned, Planner};

/// The user's stored grants, per tool.
pub async fn grants(store: &Store) -> Result<Grants> {
    let records = store.all_tool_grants().await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let grants = ToolGrants::from_stored(
                r.setting.map(|s| s.as_str()),
                r.first_confirmed_at.is_some(),
                r.capabilities.iter().map(String::as_str),
                r.folders.iter().map(|f| (PathBuf::from(&f.path), f.write)),
            );
            (r.tool, grants)
        })
        .collect())
}

/// How one request is carried out.
#[derive(Clone)]
pub struct RequestOptions {
    /// Typed or spoken: the policy asks more of spoken requests.
    pub input: Input,
    /// Answer the first-time question for tools set to ask only once. Never for what always
    /// asks (sending, deleting, running commands, arguments from another tool's output).
    pub yes: bool,
    /// Who answers the questions the policy asks.
    pub confirmer: Arc<dyn Confirmer>,
    /// The history row this request belongs to, when the listener already wrote it (with
    /// its recording); `None` records a new typed one.
    pub utterance: Option<UtteranceId>,
    /// Stops planning and running; the steps under way are dropped.
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestOptions")
            .field("input", &self.input)
            .field("yes", &self.yes)
            .field("utterance", &self.utterance)
            .finish_non_exhaustive()
    }
}

/// What happens while a request is carried out, in order.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The history row exists (its id is what the window's history shows).
    Recorded(UtteranceId),
    /// The planner wrote one more step (before it runs).
    Planned(&'a Step),
    /// The executor's news about a step (started, asking, finished, skipped).
    Step(&'a Event),
    /// A plan is complete, with its timings.
    PlanDone(&'a Planned),
    /// The first plan failed in a way another might avoid; planning again with this feedback.
    Replanning(&'a str),
}

/// What came of a request.
#[derive(Debug)]
pub struct Outcome {
    pub utterance: UtteranceId,
    /// One plan, or two when the first failed and was replanned.
    pub plans: Vec<Planned>,
    /// Each finished or skipped call, as JSON (`{"id","tool","ok","value"|"error",...}`).
    pub results: Vec<Value>,
    pub report: RunReport,
    pub replanned: bool,
}

impl Outcome {
    /// Every call ran and succeeded.
    pub fn succeeded(&self) -> bool {
        self.report.failures().next().is_none() && self.report.skipped().next().is_none()
    }
}

/// Grants with `yes` applied: the first-time question counts as answered.
pub fn grants_with_yes(registry: &Registry, mut grants: Grants) -> Grants {
    for manifest in registry.manifests() {
        let mut tool = grants.get(&manifest.name);
        let setting = tool
            .setting
            .unwrap_or(ToolSetting::default_for(manifest.risk));
        if setting == ToolSetting::AskFirstTime {
            tool.confirmed_before = true;
            grants.insert(manifest.name.clone(), tool);
        }
    }
    grants
}

/// Plans and carries out one request with `planner` (kept by the caller between requests,
/// so its worker and prompt cache stay warm), against `registry` (the toolbox).
pub async fn carry_out(
    app: &App,
    planner: &mut Planner,
    registry: Arc<Registry>,
    request: &str,
    options: RequestOptions,
    on_progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<Outcome> {
    let store = app.store().await?;
    let mut grants = grants(store).await?;
    if options.yes {
        grants = grants_with_yes(&registry, grants);
    }
    let utterance = match options.utterance {
        Some(id) => id,
        None => {
            store
                .record_utterance(&NewUtterance {
                    input: Some(match options.input {
                        Input::Voice => sotto_store::Input::Voice,
                        _ => sotto_store::Input::Typed,
                    }),
                    transcript: Some(request.to_string()),
                    ..Default::default()
                })
                .await?
        }
    };
    on_progress(Progress::Recorded(utterance));
    let host = Host::new(
        app.settings.dirs.data.clone(),
        sotto_sandbox::HostEnv::from_process(),
    )
    .with_text_model(Arc::new(LmTextModel::new(
        planner.model_file().to_path_buf(),
    )));
    let executor = Executor::new(
        registry,
        grants,
        Arc::new(host),
        options.confirmer.clone(),
        ExecutorConfig {
            input: options.input,
            ..ExecutorConfig::default()
        },
    );
    let mut attempt = request.to_string();
    let mut results = Vec::new();
    let mut plans = Vec::new();
    let mut report;
    let mut replanned = false;
    loop {
        let run = plan_and_run(
            planner,
            &executor,
            store,
            utterance,
            &attempt,
            &options.cancel,
            on_progress,
        )
        .await;
        let (planned, run) = match run {
            Ok(done) => done,
            Err(e) => {
                store
                    .set_status(utterance, "failed", Some(&format!("{e:#}")))
                    .await
                    .ok();
                return Err(e);
            }
        };
        results.extend(run.results);
        plans.push(planned);
        report = run.report;
        match report.replan() {
            Some(replan) if !replanned && !options.cancel.is_cancelled() => {
                replanned = true;
                on_progress(Progress::Replanning(&replan.feedback));
                attempt = format!(
                    "{request}\n(An earlier plan went wrong. {})",
                    replan.feedback
                );
            }
            _ => break,
        }
    }
    let outcome = Outcome {
        utterance,
        plans,
        results,
        report,
        replanned,
    };
    let status = if outcome.succeeded() {
        "done"
    } else {
        "failed"
    };
    store.set_status(utterance, status, None).await.ok();
    Ok(outcome)
}

struct RunOutcome {
    report: RunReport,
    results: Vec<Value>,
}

/// Plans `request` while the executor runs each step as soon as it is parsed; records the
/// plan and every call's audit in the store.
async fn plan_and_run(
    planner: &mut Planner,
    executor: &Executor,
    store: &Store,
    utterance: UtteranceId,
    request: &str,
    cancel: &CancellationToken,
    on_progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<(Planned, RunOutcome)> {
    let (step_tx, step_rx) = mpsc::channel::<Step>(sotto_planner::plan::MAX_STEPS as usize + 1);
    // The planner's callback cannot borrow `on_progress` while the loop below does: parsed
    // steps reach it through this channel instead.
    let (parsed_tx, mut parsed_rx) = mpsc::unbounded_channel::<Step>();
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let cancel = cancel.child_token();
    let running = {
        let executor = executor.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { executor.run(step_rx, event_tx, cancel).await })
    };
    // Events are shown as they come; audit rows wait for the plan's row to exist.
    let mut pending: Vec<Event> = Vec::new();
    let mut results = Vec::new();
    let planned = {
        let planning = planner.plan(request, |step| {
            let _ = parsed_tx.send(step.clone());
            let _ = step_tx.try_send(step.clone());
        });
        tokio::pin!(planning);
        loop {
            tokio::select! {
                planned = &mut planning => break Some(planned),
                _ = cancel.cancelled() => break None,
                Some(step) = parsed_rx.recv() => on_progress(Progress::Planned(&step)),
                Some(event) = event_rx.recv() => {
                    results.extend(result_json(&event));
                    on_progress(Progress::Step(&event));
                    pending.push(event);
                }
            }
        }
    };
    drop(step_tx);
    while let Ok(step) = parsed_rx.try_recv() {
        on_progress(Progress::Planned(&step));
    }
    let planned = match planned {
        Some(Ok(planned)) => planned,
        Some(Err(e)) => {
            cancel.cancel();
            let _ = running.await;
            return Err(e);
        }
        None => {
            let _ = running.await;
            anyhow::bail!("cancelled");
        }
    };
    on_progress(Progress::PlanDone(&planned));
    let plan_id = record_plan(store, utterance, &planned).await?;
    for event in pending.drain(..) {
        audit(store, plan_id, &event).await;
    }
    while let Some(event) = event_rx.recv().await {
        results.extend(result_json(&event));
        on_progress(Progress::Step(&event));
        audit(store, plan_id, &event).await;
    }
    let report = running.await.context("the executor stopped unexpectedly")?;
    Ok((planned, RunOutcome { report, results }))
}

async fn record_plan(store: &Store, utterance: UtteranceId, planned: &Planned) -> Result<PlanId> {
    let calls = planned
        .plan
        .calls()
        .map(|step| NewToolCall {
            step: i64::from(step.id),
            tool: step.function().unwrap_or_default().to_string(),
            arguments: step_json(step)["args"].clone(),
            depends_on: step.deps().into_iter().map(i64::from).collect(),
        })
        .collect();
    Ok(store
        .record_plan(&NewPlan {
            utterance,
            planner: "sotto-planner".into(),
            text: planned.text.clone(),
            calls,
            prompt_tokens: Some(i64::from(planned.prompt_tokens)),
            generated_tokens: Some(i64::from(planned.generated_tokens)),
            duration_ms: Some(planned.total.as_millis() as i64),
        })
        .await?)
}

/// Writes one event's audit facts; a failed write is reported, never fatal (the tool has
/// already run).
async fn audit(store: &Store, plan: PlanId, event: &Event) {
    let written = match event {
        Event::StepFinished {
            id,
            tool,
            result,
            audit,
            elapsed,
        } => {
            let decision = match (&audit.approval, result) {
                (Some(by), _) if by.starts_with("user:") => Decision::Confirmed,
                (Some(_), _) => Decision::Allowed,
                (None, Err(failure))
                    if matches!(
                        failure.kind,
                        FailureKind::InvalidArgs | FailureKind::UnknownTool
                    ) =>
                {
                    Decision::Invalid
                }
                (None, _) => Decision::Denied,
            };
            let call_audit = CallAudit {
                decision,
                approved_by: audit.approval.clone(),
                reason: audit.decision.as_ref().map(|d| format!("{d:?}")),
                origin: match audit.origin.input {
                    Input::Voice => "voice",
                    Input::Typed => "typed",
                    Input::Unattended => "unattended",
                }
                .into(),
                uses_tool_output: audit.origin.uses_tool_output,
            };
            let outcome = CallOutcome {
                decision,
                result: result
                    .as_ref()
                    .ok()
                    .map(|o| json!({"value": o.value, "summary": o.summary})),
                error: result.as_ref().err().map(|f| f.message.clone()),
                duration_ms: Some(elapsed.as_millis() as i64),
            };
            let mut write = store
                .record_call_decision(plan, i64::from(*id), &call_audit)
                .await;
            if write.is_ok() {
                write = store.finish_tool_call(plan, i64::from(*id), &outcome).await;
            }
            if write.is_ok() && decision == Decision::Confirmed {
                write = store.mark_tool_confirmed(tool).await;
            }
            write
        }
        Event::StepSkipped { id, reason, .. } => {
            let outcome = CallOutcome {
                decision: Decision::Denied,
                result: None,
                error: Some(format!("skipped: {reason}")),
                duration_ms: None,
            };
            store.finish_tool_call(plan, i64::from(*id), &outcome).await
        }
        _ => Ok(()),
    };
    if let Err(e) = written {
        tracing::warn!("could not record step in the history: {e:#}");
    }
}

/// One finished or skipped call as JSON, for `--json` output and the window.
pub fn result_json(event: &Event) -> Option<Value> {
    match event {
        Event::StepFinished {
            id,
            tool,
            result,
            audit,
            elapsed,
        } => {
            let ms = elapsed.as_millis() as u64;
            Some(match result {
                Ok(output) => {
                    json!({"id": id, "tool": tool, "ok": true, "value": output.value, "summary": output.summary, "approval": audit.approval, "ms": ms})
                }
                Err(failure) => {
                    json!({"id": id, "tool": tool, "ok": false, "error": failure.message, "kind": failure.kind.as_str(), "approval": audit.approval, "ms": ms})
                }
            })
        }
        Event::StepSkipped { id, tool, reason } => {
            Some(json!({"id": id, "tool": tool, "ok": false, "skipped": reason.to_string()}))
        }
        _ => None,
    }
}

/// A plan step as JSON: `{"id", "tool", "args", "deps"}`.
pub fn step_json(step: &Step) -> Value {
    let args: serde_json::Map<String, Value> = match &step.action {
        sotto_planner::Action::Call { args, .. } => args
            .iter()
            .map(|(name, arg)| (name.clone(), arg.to_json_with_ref_strings()))
            .collect(),
        sotto_planner::Action::Reply { .. } => serde_json::Map::new(),
    };
    json!({
        "id": step.id,
        "tool": step.function(),
        "args": args,
        "deps": step.deps(),
    })
}
