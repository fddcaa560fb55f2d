//! `sotto plan`: the plan Sotto would make for a request, printed step by step as the model
//! writes it. Nothing is run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{json, Value};
use sotto_planner::Functions;

use crate::app::App;
use crate::engines::lm::{self, LmEngine, PLANNER_CONTEXT};
use crate::planning::{Planned, Planner, PlannerSetup};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The request, as you would say it ("set a timer for ten minutes").
    #[arg(required = true, num_args = 1..)]
    pub request: Vec<String>,
    #[command(flatten)]
    pub planner: PlannerArgs,
    /// Print JSON: {"steps": [{"id", "tool", "args", "deps"}], "reply", "elapsed_ms", ...}.
    #[arg(long)]
    pub json: bool,
}

/// How to build the planner; shared by `plan`, `do` and `eval plan`.
#[derive(Debug, Args, Clone, Default)]
pub struct PlannerArgs {
    /// Plan against these functions instead of Sotto's tools: a JSON list of OpenAI-style
    /// function schemas ({"name", "description", "parameters"}, BFCL's type names accepted).
    #[arg(long, value_name = "FILE")]
    pub tools: Option<PathBuf>,
    /// The planner model (a catalog id); default: the configured or recommended one.
    #[arg(long)]
    pub model: Option<String>,
    /// Offer the planner only the K tools retrieval ranks highest (0: all tools).
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// Put the N worked examples most like the request right before it (default 1; 0: only
    /// the fixed examples every prompt has, which the worker keeps cached: about half the
    /// time to the first step).
    #[arg(long, value_name = "N")]
    pub retrieved_examples: Option<usize>,
    /// Added to the logit of ending the plan where another step could follow.
    #[arg(long, value_name = "LOGIT", allow_negative_numbers = true)]
    pub join_nudge: Option<f32>,
    /// Added to the logit of a reply instead of a first call.
    #[arg(long, value_name = "LOGIT", allow_negative_numbers = true)]
    pub reply_nudge: Option<f32>,
    /// Always plan with the model, even for requests a tool's template covers (the
    /// baseline for measuring the fast path).
    #[arg(long)]
    pub no_fast_path: bool,
    /// Generate every token with its own model run, without prompt-lookup guesses (the
    /// baseline for measuring them; the plans are the same).
    #[arg(long)]
    pub no_lookup_drafts: bool,
}

impl PlannerArgs {
    /// The options that change a setup, whichever functions it has.
    pub fn apply(&self, setup: &mut PlannerSetup) {
        if let Some(n) = self.retrieved_examples {
            setup.retrieved_examples = n;
        }
        if let Some(logit) = self.join_nudge {
            setup.nudges.join = logit;
        }
        if let Some(logit) = self.reply_nudge {
            setup.nudges.reply = logit;
        }
        if let Some(k) = self.top_k {
            setup.top_k = k;
        }
        if self.no_fast_path {
            setup.fast_path = Default::default();
        }
        if self.no_lookup_drafts {
            setup.lookup_drafts = false;
        }
    }
}

/// The built-in tools' planner setup.
pub fn builtin_setup() -> Result<PlannerSetup> {
    let tools = sotto_builtins::all();
    PlannerSetup::from_manifests(tools.iter().map(|t| t.manifest()))
}

/// Functions from a `--tools` file.
pub fn functions_from_file(path: &Path) -> Result<Functions> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the function list {}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    Functions::from_json(&json).with_context(|| format!("in {}", path.display()))
}

/// Where the worker keeps the planner's evaluated prompt for `model` (in the cache folder:
/// losing it costs one slow first request, nothing else).
pub fn prefix_cache_file(app: &App, model: &str) -> PathBuf {
    let dir = app.settings.dirs.cache.join("planner");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        // Not fatal: the worker then evaluates the prompt and says it could not save it.
        tracing::warn!("cannot create {}: {e}", dir.display());
    }
    dir.join(format!("{model}.prefix"))
}

/// The LM worker with the planner model loaded on first use.
pub async fn engine(app: &App, model: Option<&str>) -> Result<LmEngine> {
    let id = lm::choose_model(app, model).await?;
    let file = lm::model_file(app, &id).await?;
    Ok(LmEngine::new(
        file,
        PLANNER_CONTEXT,
        Duration::from_secs(600),
    ))
}

pub async fn planner(app: &App, args: &PlannerArgs) -> Result<Planner> {
    let model = lm::choose_model(app, args.model.as_deref()).await?;
    let setup = match &args.tools {
        Some(path) => PlannerSetup::from_functions(functions_from_file(path)?),
        None => {
            // Built-ins plus the enabled plugins' tools.
            let toolbox = crate::plugins::toolbox(app).await?;
            PlannerSetup {
                prefix_cache: Some(prefix_cache_file(app, &model)),
                ..PlannerSetup::from_manifests(toolbox.registry.manifests())?
            }
        }
    };
    let mut setup = setup;
    args.apply(&mut setup);
    Ok(Planner::new(
        setup,
        engine(app, args.model.as_deref()).await?,
    ))
}

pub async fn run(app: &App, args: PlanArgs) -> Result<ExitCode> {
    let request = args.request.join(" ");
    let mut planner = planner(app, &args.planner).await?;
    let json = args.json;
    let planned = planner
        .plan(&request, |step| {
            if !json {
                println!("{step}");
            }
        })
        .await?;
    if json {
        println!("{}", planned_json(&planned));
    } else {
        println!("join()");
        eprintln!("{}", timing_line(&planned));
    }
    Ok(ExitCode::SUCCESS)
}

/// One step as JSON; `$N` arguments are written as the string "$N".
pub use crate::requests::step_json;

pub fn planned_json(planned: &Planned) -> Value {
    json!({
        "steps": planned.plan.calls().map(step_json).collect::<Vec<_>>(),
        "reply": planned.plan.reply(),
        "text": planned.text,
        "elapsed_ms": planned.total.as_millis() as u64,
        "first_step_ms": planned.first_step.map(|d| d.as_millis() as u64),
        "retrieve_us": planned.retrieve.as_micros() as u64,
        "offered": planned.offered,
        "prompt_tokens": planned.prompt_tokens,
        "cached_prompt_tokens": planned.cached_prompt_tokens,
        "generated_tokens": planned.generated_tokens,
        "prompt_ms": planned.prompt_ms,
        "generate_ms": planned.generate_ms,
        "fast_path": planned.fast_path,
    })
}

pub fn timing_line(planned: &Planned) -> String {
    if let Some(template) = &planned.fast_path {
        return format!(
            "planned in {} µs by the fast path (template `{template}`; no model)",
            planned.total.as_micros()
        );
    }
    format!(
        "planned in {} ms (first step {}; prompt {} tokens, {} cached, {} ms; {} generated in {} ms)",
        planned.total.as_millis(),
        planned
            .first_step
            .map(|d| format!("{} ms", d.as_millis()))
            .unwrap_or_else(|| "-".into()),
        planned.prompt_tokens,
        planned.cached_prompt_tokens,
        planned.prompt_ms,
        planned.generated_tokens,
        planned.generate_ms
    )
}
