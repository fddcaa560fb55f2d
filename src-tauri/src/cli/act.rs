//! `sotto do`: plan a request, confirm what needs confirming at the terminal, run the tools
//! as their steps stream out of the planner, print the reply. Every call is recorded in the
//! history with its decision, who approved it, its result and timings.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use sotto_executor::{Confirmer, Decline, Event, Grants, TerminalConfirmer};
use sotto_store::NewUtterance;
use sotto_tools::policy::{decide, Input, Origin};
use sotto_tools::{InteractiveConfirmer, Registry};
use tokio_util::sync::CancellationToken;

use super::plan::{planner, step_json, timing_line, PlannerArgs};
use crate::app::App;
use crate::planning::Planned;
use crate::requests::{self, grants, grants_with_yes, Progress, RequestOptions};

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
/// so its worker and prompt cache stay warm), confirming at the terminal.
pub async fn carry_out(
    app: &App,
    planner: &mut crate::planning::Planner,
    request: &str,
    args: DoOptions,
) -> Result<ExitCode> {
    let registry = Arc::new(crate::plugins::toolbox(app).await?.registry);
    if args.dry_run {
        let store = app.store().await?;
        let mut grants = grants(store).await?;
        if args.yes {
            grants = grants_with_yes(&registry, grants);
        }
        store
            .record_utterance(&NewUtterance {
                input: Some(sotto_store::Input::Typed),
                transcript: Some(request.to_string()),
                ..Default::default()
            })
            .await?;
        let planned = planner.plan(request, |_| {}).await?;
        return dry_run(&registry, &grants, &planned, args.json);
    }
    let confirmer: Arc<dyn Confirmer> = match InteractiveConfirmer::terminal() {
        Ok(terminal) => Arc::new(TerminalConfirmer::new(terminal)),
        Err(e) => {
            tracing::info!("no terminal for confirmations: {e}");
            Arc::new(Decline)
        }
    };
    let options = RequestOptions {
        input: Input::Typed,
        yes: args.yes,
        confirmer,
        utterance: None,
        cancel: CancellationToken::new(),
    };
    let quiet = args.json;
    let outcome = requests::carry_out(app, planner, registry, request, options, &mut |progress| {
        show(&progress, quiet)
    })
    .await?;
    if args.json {
        let plan_steps: Vec<Value> = outcome
            .plans
            .iter()
            .flat_map(|p| p.plan.calls().map(step_json))
            .collect();
        println!(
            "{}",
            json!({
                "plan": { "steps": plan_steps, "text": outcome.plans.iter().map(|p| p.text.clone()).collect::<Vec<_>>().join("\n") },
                "results": outcome.results,
                "reply": outcome.report.reply,
                "replanned": outcome.replanned,
            })
        );
    } else {
        println!("{}", outcome.report.reply);
    }
    Ok(if outcome.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints what happens for the person watching (stderr); nothing when `quiet` (`--json`).
fn show(progress: &Progress<'_>, quiet: bool) {
    if quiet {
        return;
    }
    match progress {
        Progress::PlanDone(planned) => eprintln!("{}", timing_line(planned)),
        Progress::Replanning(feedback) => eprintln!(
            "trying another plan: {}",
            feedback.lines().next().unwrap_or("")
        ),
        Progress::Step(Event::StepStarted { id, tool, args }) => {
            eprintln!("▶ {id}. {tool} {args}");
        }
        Progress::Step(Event::StepFinished {
            id,
            tool,
            result,
            audit,
            elapsed,
        }) => {
            let ms = elapsed.as_millis() as u64;
            match result {
                Ok(output) => eprintln!(
                    "✓ {id}. {tool}: {} ({ms} ms, {})",
                    output.summary,
                    audit.approval.as_deref().unwrap_or("-")
                ),
                Err(failure) => eprintln!("✗ {id}. {tool}: {failure}"),
            }
        }
        Progress::Step(Event::StepSkipped { id, tool, reason }) => {
            eprintln!("- {id}. {tool}: skipped ({reason})");
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
