//! `sotto eval plan`: planner accuracy and latency on a request set — Sotto's development
//! set (`tests/plans/dev.jsonl` format) or the Berkeley Function Calling Leaderboard's data
//! and ground truth (the `bfcl_eval/data` folder of PyPI `bfcl-eval`).
//!
//! Success is TinyAgent's: the plan makes exactly the reference's calls, with acceptable
//! arguments and an isomorphic dependency graph (`sotto_planner::score`). Also reported:
//! how many plans parse and type-check (100% by construction under the grammar), how many
//! calls are executable (a known function with valid arguments), and latency.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use sotto_planner::score::{matches, Expected, ExpectedCall};
use sotto_planner::Functions;

use super::plan::{builtin_setup, engine, functions_from_file, PlannerArgs};
use crate::app::App;
use crate::planning::{Planner, PlannerSetup};

#[derive(Debug, Args)]
pub struct EvalPlanArgs {
    /// A request set in the development set's format (one JSON object per line: id, kind,
    /// request, plan).
    #[arg(value_name = "FILE.jsonl", required_unless_present = "bfcl")]
    pub file: Option<PathBuf>,
    /// Score BFCL instead: the `bfcl_eval/data` folder of the PyPI package `bfcl-eval`.
    #[arg(long, value_name = "DIR")]
    pub bfcl: Option<PathBuf>,
    /// BFCL categories to score.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "simple,multiple,parallel,irrelevance"
    )]
    pub categories: Vec<String>,
    /// At most this many cases per set (or per BFCL category), taken evenly through it.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub planner: PlannerArgs,
    /// Before each request, prime the planner with the request without its last N words,
    /// as text being typed or a partial transcript would (`Planner::prepare`); the plan is
    /// timed from when the whole request is known, so this measures what priming leaves.
    #[arg(long, value_name = "N")]
    pub prime_all_but: Option<usize>,
    /// Print every case that failed, with the plan and why.
    #[arg(long)]
    pub show_failures: bool,
    /// Print one JSON object per case, then the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One request with its reference.
struct Case {
    id: String,
    kind: String,
    request: String,
    /// BFCL gives every case its own functions; the development set uses Sotto's tools.
    functions: Option<Functions>,
    reference: Vec<ExpectedCall>,
}

#[derive(Default)]
struct Tally {
    cases: usize,
    success: usize,
    valid: usize,
    calls: usize,
    executable: usize,
    total_ms: Vec<u64>,
    first_step_ms: Vec<u64>,
    /// Planned by a template rather than the model, and of those, how many were right.
    fast: usize,
    fast_success: usize,
}

impl Tally {
    fn row(&self, name: &str) -> Value {
        let pct = |n: usize, d: usize| {
            if d == 0 {
                100.0
            } else {
                100.0 * n as f64 / d as f64
            }
        };
        json!({
            "set": name,
            "cases": self.cases,
            "success_pct": pct(self.success, self.cases),
            "valid_pct": pct(self.valid, self.cases),
            "executable_pct": pct(self.executable, self.calls),
            "p50_ms": percentile(&self.total_ms, 50),
            "p95_ms": percentile(&self.total_ms, 95),
            "first_step_p50_ms": percentile(&self.first_step_ms, 50),
            "first_step_p95_ms": percentile(&self.first_step_ms, 95),
            "fast_pct": pct(self.fast, self.cases),
            "fast_success_pct": pct(self.fast_success, self.fast),
        })
    }
}

fn percentile(values: &[u64], p: usize) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

pub async fn run(app: &App, args: EvalPlanArgs) -> Result<ExitCode> {
    let mut sets: Vec<(String, Vec<Case>)> = Vec::new();
    if let Some(file) = &args.file {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "set".into());
        sets.push((name, thin(dev_cases(file)?, args.limit)));
    }
    if let Some(dir) = &args.bfcl {
        for category in &args.categories {
            let cases = bfcl_cases(dir, category)?;
            sets.push((format!("bfcl-{category}"), thin(cases, args.limit)));
        }
    }
    let mut base_setup = match &args.planner.tools {
        Some(path) => PlannerSetup::from_functions(functions_from_file(path)?),
        None => builtin_setup()?,
    };
    args.planner.apply(&mut base_setup);
    let mut planner = Planner::new(
        base_setup.clone(),
        engine(app, args.planner.model.as_deref()).await?,
    );
    let mut summary = Vec::new();
    for (name, cases) in &sets {
        let mut by_kind: BTreeMap<String, Tally> = BTreeMap::new();
        let mut all = Tally::default();
        eprintln!("{name}: {} cases", cases.len());
        for case in cases {
            if let Some(functions) = &case.functions {
                planner.set_setup(PlannerSetup::from_functions(functions.clone()));
            }
            let primed = match args.prime_all_but {
                Some(missing) => planner.prepare(&all_but_last(&case.request, missing)).await,
                None => Ok(None),
            };
            let outcome = match primed {
                Ok(_) => planner.plan(&case.request, |_| {}).await,
                Err(e) => Err(e.context("priming failed")),
            };
            let (planned, error) = match outcome {
                Ok(planned) => (Some(planned), None),
                Err(e) => (None, Some(format!("{e:#}"))),
            };
            let functions = case.functions.as_ref().unwrap_or(&base_setup.functions);
            let verdict = match &planned {
                Some(p) => matches(&p.plan, &case.reference),
                None => Err(error.clone().unwrap_or_default()),
            };
            let (mut calls, mut executable) = (0, 0);
            if let Some(p) = &planned {
                for step in p.plan.calls() {
                    calls += 1;
                    executable += usize::from(functions.check(step).is_ok());
                }
            }
            for tally in [by_kind.entry(case.kind.clone()).or_default(), &mut all] {
                tally.cases += 1;
                tally.success += usize::from(verdict.is_ok());
                tally.valid += usize::from(planned.is_some() && executable == calls);
                tally.calls += calls;
                tally.executable += executable;
                if planned.as_ref().is_some_and(|p| p.fast_path.is_some()) {
                    tally.fast += 1;
                    tally.fast_success += usize::from(verdict.is_ok());
                }
                if let Some(p) = &planned {
                    tally.total_ms.push(p.total.as_millis() as u64);
                    if let Some(first) = p.first_step {
                        tally.first_step_ms.push(first.as_millis() as u64);
                    }
                }
            }
            let plan_text = planned.as_ref().map(|p| p.text.clone()).unwrap_or_default();
            if args.json {
                println!(
                    "{}",
                    json!({
                        "id": case.id, "kind": case.kind, "request": case.request,
                        "ok": verdict.is_ok(), "why": verdict.as_ref().err(),
                        "plan": plan_text,
                        "ms": planned.as_ref().map(|p| p.total.as_millis() as u64),
                        "first_step_ms": planned.as_ref().and_then(|p| p.first_step).map(|d| d.as_millis() as u64),
                        "prompt_ms": planned.as_ref().map(|p| p.prompt_ms),
                        "generate_ms": planned.as_ref().map(|p| p.generate_ms),
                        "generated_tokens": planned.as_ref().map(|p| p.generated_tokens),
                        "prompt_tokens": planned.as_ref().map(|p| p.prompt_tokens),
                        "cached_prompt_tokens": planned.as_ref().map(|p| p.cached_prompt_tokens),
                        "best_score": planned.as_ref().map(|p| p.best_score),
                        "fast_path": planned.as_ref().and_then(|p| p.fast_path.clone()),
                    })
                );
            } else if args.show_failures {
                if let Err(why) = &verdict {
                    eprintln!(
                        "FAIL {} [{}] {}\n  {why}\n  {}",
                        case.id,
                        case.kind,
                        case.request,
                        plan_text.replace('\n', "\n  ")
                    );
                }
            }
        }
        if by_kind.len() > 1 {
            for (kind, tally) in &by_kind {
                summary.push(tally.row(&format!("{name}/{kind}")));
            }
        }
        summary.push(all.row(name));
        planner.set_setup(base_setup.clone());
    }
    print_summary(&summary, args.json);
    Ok(ExitCode::SUCCESS)
}

/// `text` without its last `n` words (words: separated by white space).
fn all_but_last(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words[..words.len().saturating_sub(n)].join(" ")
}

fn print_summary(rows: &[Value], as_json: bool) {
    if as_json {
        println!("{}", json!({ "summary": rows }));
        return;
    }
    println!(
        "{:<28} {:>5} {:>8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>6} {:>8}",
        "set",
        "cases",
        "success",
        "valid",
        "exec",
        "p50 ms",
        "p95 ms",
        "1st p50",
        "1st p95",
        "fast",
        "fast ok"
    );
    let ms = |v: &Value| {
        v.as_u64()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "-".into())
    };
    for row in rows {
        println!(
            "{:<28} {:>5} {:>7.1}% {:>6.1}% {:>6.1}% {:>7} {:>7} {:>8} {:>8} {:>5.1}% {:>7.1}%",
            row["set"].as_str().unwrap_or(""),
            row["cases"],
            row["success_pct"].as_f64().unwrap_or(0.0),
            row["valid_pct"].as_f64().unwrap_or(0.0),
            row["executable_pct"].as_f64().unwrap_or(0.0),
            ms(&row["p50_ms"]),
            ms(&row["p95_ms"]),
            ms(&row["first_step_p50_ms"]),
            ms(&row["first_step_p95_ms"]),
            row["fast_pct"].as_f64().unwrap_or(0.0),
            row["fast_success_pct"].as_f64().unwrap_or(0.0),
        );
    }
}

/// At most `limit` cases, spread evenly through the set (so every kind is represented).
fn thin(cases: Vec<Case>, limit: Option<usize>) -> Vec<Case> {
    match limit {
        Some(limit) if limit < cases.len() => {
            let step = cases.len() as f64 / limit as f64;
            let wanted: Vec<usize> = (0..limit).map(|i| (i as f64 * step) as usize).collect();
            cases
                .into_iter()
                .enumerate()
                .filter(|(i, _)| wanted.contains(i))
                .map(|(_, c)| c)
                .collect()
        }
        _ => cases,
    }
}

/// The development set's format: `{"id", "kind", "request", "plan": [{"id", "tool",
/// "args"}]}`, where an argument is a value, `"$N"`, or `{"one_of": [...]}` (null: may be
/// left out).
fn dev_cases(path: &Path) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
        let field = |name: &str| {
            row[name]
                .as_str()
                .map(String::from)
                .with_context(|| format!("{} line {}: no `{name}`", path.display(), n + 1))
        };
        let mut reference = Vec::new();
        for step in row["plan"].as_array().into_iter().flatten() {
            let function = step["tool"].as_str().unwrap_or_default().to_string();
            let mut args = BTreeMap::new();
            for (name, value) in step["args"].as_object().into_iter().flatten() {
                let options = match value.get("one_of").and_then(Value::as_array) {
                    Some(options) => options
                        .iter()
                        .map(|o| {
                            if o.is_null() {
                                Expected::Absent
                            } else {
                                Expected::from_json(o)
                            }
                        })
                        .collect(),
                    None => vec![Expected::from_json(value)],
                };
                args.insert(name.clone(), options);
            }
            reference.push(ExpectedCall { function, args });
        }
        cases.push(Case {
            id: field("id")?,
            kind: field("kind").unwrap_or_else(|_| "all".into()),
            request: field("request")?,
            functions: None,
            reference,
        });
    }
    Ok(cases)
}

/// BFCL's question file and possible answers for one category.
fn bfcl_cases(dir: &Path, category: &str) -> Result<Vec<Case>> {
    let file = match category {
        "simple" => "BFCL_v4_simple_python.json",
        "multiple" => "BFCL_v4_multiple.json",
        "parallel" => "BFCL_v4_parallel.json",
        "parallel_multiple" => "BFCL_v4_parallel_multiple.json",
        "irrelevance" => "BFCL_v4_irrelevance.json",
        other => bail!("unknown BFCL category `{other}` (simple, multiple, parallel, parallel_multiple, irrelevance)"),
    };
    let read_lines = |path: PathBuf| -> Result<Vec<Value>> {
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {} (is {} the bfcl_eval/data folder of PyPI bfcl-eval?)",
                path.display(),
                dir.display()
            )
        })?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .with_context(|| format!("{}: not JSON lines", path.display()))
            })
            .collect()
    };
    let questions = read_lines(dir.join(file))?;
    let answers: BTreeMap<String, Value> = if category == "irrelevance" {
        BTreeMap::new()
    } else {
        read_lines(dir.join("possible_answer").join(file))?
            .into_iter()
            .filter_map(|a| Some((a["id"].as_str()?.to_string(), a["ground_truth"].clone())))
            .collect()
    };
    let mut cases = Vec::new();
    for question in questions {
        let id = question["id"].as_str().unwrap_or_default().to_string();
        let request = question["question"][0]
            .as_array()
            .and_then(|turns| turns.iter().rev().find(|t| t["role"] == "user"))
            .and_then(|t| t["content"].as_str())
            .unwrap_or_default()
            .to_string();
        let functions = match Functions::from_json(&question["function"]) {
            Ok(functions) => functions,
            Err(e) => {
                eprintln!("skipping {id}: {e}");
                continue;
            }
        };
        let mut reference = Vec::new();
        if category != "irrelevance" {
            let Some(truth) = answers.get(&id) else {
                eprintln!("skipping {id}: no possible answer");
                continue;
            };
            for call in truth.as_array().into_iter().flatten() {
                for (function, params) in call.as_object().into_iter().flatten() {
                    let args = params
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(name, options)| {
                            let options = options
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|o| {
                                    if o == "" {
                                        Expected::Absent
                                    } else {
                                        Expected::Value(o.clone())
                                    }
                                })
                                .collect();
                            (name.clone(), options)
                        })
                        .collect();
                    reference.push(ExpectedCall {
                        function: function.clone(),
                        args,
                    });
                }
            }
        }
        cases.push(Case {
            id,
            kind: category.to_string(),
            request,
            functions: Some(functions),
            reference,
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::engines::lm::LmEngine;

    /// Every development request the fast path takes must be planned right: a template
    /// that takes a request meant for something else is the fast path's one risk. (The
    /// worker is never started: the fast path does not use the model.)
    #[test]
    fn the_fast_path_is_right_on_every_development_request_it_takes() {
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        let cases = dev_cases(&root.join("../tests/plans/dev.jsonl")).unwrap();
        let engine = LmEngine::new("/nonexistent.gguf".into(), 512, Duration::from_secs(1));
        let planner = Planner::new(builtin_setup().unwrap(), engine);
        let mut taken = Vec::new();
        for case in &cases {
            if let Some(planned) = planner.fast_plan(&case.request, Instant::now()) {
                let verdict = matches(&planned.plan, &case.reference);
                assert!(
                    verdict.is_ok(),
                    "{}: {:?} via `{}`: {}",
                    case.id,
                    case.request,
                    planned.fast_path.unwrap_or_default(),
                    planned.text
                );
                taken.push(case.id.as_str());
            }
        }
        eprintln!(
            "the fast path took {} of {}: {taken:?}",
            taken.len(),
            cases.len()
        );
        assert!(taken.len() >= 8, "only {} taken: {taken:?}", taken.len());
    }
}
