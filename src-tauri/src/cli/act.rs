//! `sotto do`: plan a request, confirm what needs confirming at the terminal, run the tools
//! as their steps stream out of the planner, print the reply. Every call is recorded in the
//! history with its decision, who approved it, its result and timings.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{json, Value};
use sotto_executor::{
    Confirmer, Decline, Event, Executor, ExecutorConfig, FailureKind, Grants, RunReport,
    TerminalConfirmer,
};
use sotto_planner::plan::Step;
use sotto_store::{
    CallAudit, CallOutcome, Decision, NewPlan, NewToolCall, NewUtterance, PlanId, Store,
};
use sotto_tools::policy::{decide, Input, Origin, ToolGrants, ToolSetting};
use sotto_tools::{Host, InteractiveConfirmer, Registry};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::plan::{planner, step_json, timing_line, PlannerArgs};
use crate::app::App;
use crate::engines::text::LmTextModel;
use crate::planning::Planned;

#[derive(Debug, Args)]
pub struct DoArgs {
    /// The request, as you would say it ("set a timer for ten minutes").
    #[arg(required = true, num_args = 1..)]
    pub request: Vec<String>,
    #[command(flatten)]
    pub planner: PlannerArgs,
    /// Show what would run and with which permissions; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Answer "yes" for tools your settings ask about only the first time. Never for
    /// sending, deleting, running commands or arguments taken from another tool's output:
    /// those always ask at the terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print JSON: {"plan", "results", "reply"}.
    #[arg(long)]
    pub json: bool,
}

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
#[derive(Debug, Clone, Copy, Default)]
pub struct DoOptions {
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
}

pub async fn run(app: &App, args: DoArgs) -> Result<ExitCode> {
    let request = args.request.join(" ");
    let mut planner = planner(app, &args.planner).await?;
    let options = DoOptions {
        dry_run: args.dry_run,
        yes: args.yes,
        json: args.json,
    };
    carry_out(app, &mut planner, &request, options).await
}

/// Plans and carries out one request with `planner` (kept by the caller between requests,
/// so its worker and prompt cache stay warm).
pub async fn carry_out(
    app: &App,
    planner: &mut crate::planning::Planner,
    request: &str,
    args: DoOptions,
) -> Result<ExitCode> {
    let request = request.to_string();
    let store = app.store().await?;
    let registry = Arc::new(crate::plugins::toolbox(app).await?.registry);
    let mut grants = grants(store).await?;
    if args.yes {
        // `--yes` stands in for the first-time question only: the policy still asks for
        // everything that always asks.
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
    }
    let utterance = store
        .record_utterance(&NewUtterance {
            input: Some(sotto_store::Input::Typed),
            transcript: Some(request.clone()),
            ..Default::default()
        })
        .await?;
    if args.dry_run {
        let planned = planner.plan(&request, |_| {}).await?;
        return dry_run(&registry, &grants, &planned, args.json);
    }
    let confirmer: Arc<dyn Confirmer> = match InteractiveConfirmer::terminal() {
        Ok(terminal) => Arc::new(TerminalConfirmer::new(terminal)),
        Err(e) => {
            tracing::info!("no terminal for confirmations: {e}");
            Arc::new(Decline)
        }
    };
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
        confirmer,
        ExecutorConfig {
            input: Input::Typed,
            ..ExecutorConfig::default()
        },
    );
    let mut attempt = request.clone();
    let mut results = Vec::new();
    let mut plans = Vec::new();
    let mut report;
    let mut replanned = false;
    loop {
        let (planned, run) =
            plan_and_run(planner, &executor, store, utterance, &attempt, args.json).await?;
        results.extend(run.results);
        plans.push(planned);
        report = run.report;
        match report.replan() {
            Some(replan) if !replanned => {
                replanned = true;
                if !args.json {
                    eprintln!(
                        "trying another plan: {}",
                        replan.feedback.lines().next().unwrap_or("")
                    );
                }
                attempt = format!(
                    "{request}\n(An earlier plan went wrong. {})",
                    replan.feedback
                );
            }
            _ => break,
        }
    }
    let status = if report.failures().next().is_none() && report.skipped().next().is_none() {
        "done"
    } else {
        "failed"
    };
    store.set_status(utterance, status, None).await.ok();
    if args.json {
        let plan_steps: Vec<Value> = plans
            .iter()
            .flat_map(|p| p.plan.calls().map(step_json))
            .collect();
        println!(
            "{}",
            json!({
                "plan": { "steps": plan_steps, "text": plans.iter().map(|p| p.text.clone()).collect::<Vec<_>>().join("\n") },
                "results": results,
                "reply": report.reply,
                "replanned": replanned,
            })
        );
    } else {
        println!("{}", report.reply);
    }
    Ok(if status == "done" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

struct RunOutcome {
    report: RunReport,
    results: Vec<Value>,
}

/// Plans `request` while the executor runs each step as soon as it is parsed; records the
/// plan and every call's audit in the store.
async fn plan_and_run(
    planner: &mut crate::planning::Planner,
    executor: &Executor,
    store: &Store,
    utterance: sotto_store::UtteranceId,
    request: &str,
    quiet: bool,
) -> Result<(Planned, RunOutcome)> {
    let (step_tx, step_rx) = mpsc::channel::<Step>(sotto_planner::plan::MAX_STEPS as usize + 1);
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let running = {
        let executor = executor.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { executor.run(step_rx, event_tx, cancel).await })
    };
    // Events are printed as they come; audit rows wait for the plan's row to exist.
    let mut pending: Vec<Event> = Vec::new();
    let mut results = Vec::new();
    let planned = {
        let planning = planner.plan(request, |step| {
            let _ = step_tx.try_send(step.clone());
        });
        tokio::pin!(planning);
        loop {
            tokio::select! {
                planned = &mut planning => break planned,
                Some(event) = event_rx.recv() => {
                    show(&event, quiet, &mut results);
                    pending.push(event);
                }
            }
        }
    };
    drop(step_tx);
    let planned = match planned {
        Ok(planned) => planned,
        Err(e) => {
            cancel.cancel();
            let _ = running.await;
            return Err(e);
        }
    };
    if !quiet {
        eprintln!("{}", timing_line(&planned));
    }
    let plan_id = record_plan(store, utterance, &planned).await?;
    for event in pending.drain(..) {
        audit(store, plan_id, &event).await;
    }
    while let Some(event) = event_rx.recv().await {
        show(&event, quiet, &mut results);
        audit(store, plan_id, &event).await;
    }
    let report = running.await.context("the executor stopped unexpectedly")?;
    Ok((planned, RunOutcome { report, results }))
}

async fn record_plan(
    store: &Store,
    utterance: sotto_store::UtteranceId,
    planned: &Planned,
) -> Result<PlanId> {
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
        eprintln!("warning: could not record step in the history: {e:#}");
    }
}

/// Prints one event for the person watching (stderr), and collects results for `--json`.
fn show(event: &Event, quiet: bool, results: &mut Vec<Value>) {
    match event {
        Event::StepStarted { id, tool, args } if !quiet => {
            eprintln!("▶ {id}. {tool} {args}");
        }
        Event::StepFinished {
            id,
            tool,
            result,
            audit,
            elapsed,
        } => {
            let ms = elapsed.as_millis() as u64;
            match result {
                Ok(output) => {
                    if !quiet {
                        eprintln!(
                            "✓ {id}. {tool}: {} ({ms} ms, {})",
                            output.summary,
                            audit.approval.as_deref().unwrap_or("-")
                        );
                    }
                    results.push(json!({"id": id, "tool": tool, "ok": true, "value": output.value, "summary": output.summary, "approval": audit.approval, "ms": ms}));
                }
                Err(failure) => {
                    if !quiet {
                        eprintln!("✗ {id}. {tool}: {failure}");
                    }
                    results.push(json!({"id": id, "tool": tool, "ok": false, "error": failure.message, "kind": failure.kind.as_str(), "approval": audit.approval, "ms": ms}));
                }
            }
        }
        Event::StepSkipped { id, tool, reason } => {
            if !quiet {
                eprintln!("- {id}. {tool}: skipped ({reason})");
            }
            results
                .push(json!({"id": id, "tool": tool, "ok": false, "skipped": reason.to_string()}));
        }
        _ => {}
    }
}

/// `--dry-run`: each step with what the policy would decide, nothing run.
fn dry_run(
    registry: &Registry,
    grants: &Grants,
    planned: &Planned,
    as_json: bool,
) -> Result<ExitCode> {
    let mut rows = Vec::new();
    for step in &planned.plan.steps {
        let Some(tool) = step.function() else {
            continue;
        };
        let uses_output = !step.deps().is_empty();
        let permission = match registry.get(tool) {
            None => "unknown tool: would fail".to_string(),
            Some(manifest) => {
                let origin = Origin {
                    input: Input::Typed,
                    uses_tool_output: uses_output,
                };
                let decision = decide(manifest, &grants.get(tool), origin);
                let capabilities: Vec<String> =
                    manifest.capabilities.iter().map(|c| c.key()).collect();
                format!(
                    "{decision:?}; risk {}; capabilities [{}]",
                    manifest.risk.as_str(),
                    capabilities.join(", ")
                )
            }
        };
        if !as_json {
            println!("{step}\n    would be: {permission}");
        }
        rows.push(json!({"step": step_json(step), "permission": permission}));
    }
    if let Some(reply) = planned.plan.reply() {
        if !as_json {
            println!("reply: {reply}");
        }
    }
    if as_json {
        println!(
            "{}",
            json!({"plan": {"steps": planned.plan.calls().map(step_json).collect::<Vec<_>>(), "text": planned.text}, "dry_run": rows, "reply": planned.plan.reply()})
        );
    } else {
        println!("(dry run: nothing was run)");
    }
    Ok(ExitCode::SUCCESS)
}
