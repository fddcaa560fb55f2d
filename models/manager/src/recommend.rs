//! Choosing models by what they can do and what they need, not by file name: for each task,
//! the best-quality model that speaks the user's language, fits in this machine's memory
//! budget for that task, is fast enough on its cores, and can be fetched from here.

use crate::catalog::{Catalog, Model, Task};
use crate::machine::Machine;

/// The choice for one task, with the reasons a user can check.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub task: Task,
    /// `None` when nothing in the catalog suits this machine.
    pub chosen: Option<String>,
    pub why: String,
    /// Every other candidate of the task, with why it lost.
    pub passed_over: Vec<(String, String)>,
}

/// The share of total memory one task may take, so that all three models, the app, and the
/// user's own programs fit together.
fn ram_budget_mb(task: Task, machine: &Machine) -> u64 {
    let share = match task {
        Task::Vad => 0.02,
        Task::Asr => 0.15,
        Task::Planner => 0.25,
    };
    (machine.total_ram_mb as f64 * share) as u64
}

/// Recommends one model per task. `language` is the ISO 639-1 code the user speaks;
/// `reachable(model)` says whether any of the model's sources can be reached from here (pass
/// `|_| true` to ignore the network).
pub fn recommend(
    catalog: &Catalog,
    machine: &Machine,
    language: &str,
    reachable: &dyn Fn(&Model) -> bool,
) -> Vec<Recommendation> {
    Task::ALL
        .iter()
        .map(|&task| recommend_for(catalog, machine, language, reachable, task))
        .collect()
}

fn recommend_for(
    catalog: &Catalog,
    machine: &Machine,
    language: &str,
    reachable: &dyn Fn(&Model) -> bool,
    task: Task,
) -> Recommendation {
    let budget = ram_budget_mb(task, machine);
    let mut fitting: Vec<&Model> = Vec::new();
    let mut passed_over = Vec::new();
    for model in catalog.models.iter().filter(|m| m.task == task) {
        let reject = if !model.speaks(language) {
            Some(format!("does not handle language {language:?}"))
        } else if model.ram_mb > budget {
            Some(format!(
                "needs {} MB of memory; the {task} budget on this machine is {budget} MB",
                model.ram_mb
            ))
        } else if model.min_cores > machine.cores {
            Some(format!(
                "needs {} cores to answer quickly; this machine has {}",
                model.min_cores, machine.cores
            ))
        } else if !reachable(model) {
            Some("none of its sources can be reached from this machine".to_string())
        } else {
            None
        };
        match reject {
            Some(reason) => passed_over.push((model.id.clone(), reason)),
            None => fitting.push(model),
        }
    }
    // Best quality first; among equals, the one dedicated to the language (an English-only
    // model beats a multilingual one for English), then the lighter one.
    let dedicated = |m: &Model| m.languages.iter().any(|l| l == language);
    fitting.sort_by_key(|m| (std::cmp::Reverse(m.quality), !dedicated(m), m.ram_mb));
    let Some((best, rest)) = fitting.split_first() else {
        return Recommendation {
            task,
            chosen: None,
            why: format!("no {task} model in the catalog suits this machine"),
            passed_over,
        };
    };
    // The runners-up go first, best first, and a tie is not called ranking lower.
    let runners_up = rest.iter().map(|other| {
        let reason = if other.quality < best.quality {
            format!(
                "fits too, but ranks below {} (quality {} vs {})",
                best.id, other.quality, best.quality
            )
        } else if dedicated(best) && !dedicated(other) {
            format!(
                "fits too and is as good (quality {}), but {} is made for {language:?}",
                other.quality, best.id
            )
        } else if best.ram_mb < other.ram_mb {
            format!(
                "fits too and is as good (quality {}), but {} needs less memory ({} vs {} MB)",
                other.quality, best.id, best.ram_mb, other.ram_mb
            )
        } else {
            format!(
                "fits too and is as good (quality {}); {} comes first in the catalog",
                other.quality, best.id
            )
        };
        (other.id.clone(), reason)
    });
    passed_over.splice(0..0, runners_up);
    let why = format!(
        "highest quality ({}) {task} model that handles {language:?}, fits the {budget} MB memory budget ({} MB) and runs on {} cores (needs {})",
        best.quality, best.ram_mb, machine.cores, best.min_cores
    );
    Recommendation {
        task,
        chosen: Some(best.id.clone()),
        why,
        passed_over,
    }
}
