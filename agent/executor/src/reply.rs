//! The end of a run: every step's outcome, the short reply for the user, and whether one
//! replan is worth trying (with what to tell the planner).
//!
//! The reply is built from the steps' own summaries, in plan order:
//! - a `reply` step's text comes first;
//! - a successful call is mentioned unless every step that used its output also succeeded
//!   (after "look up Alice, then draft an email to her" the user wants to hear about the
//!   email, not the lookup);
//! - each failure is one sentence ("Couldn't run open_app: ..."), a refusal says it was not
//!   run, and the steps skipped because of failures are counted in one sentence;
//! - at most [`MAX_SENTENCES`] sentences, the rest counted ("... and 2 more.").

use sotto_planner::StepId;

use crate::events::{FailureKind, SkipReason, StepFailure, StepOutcome};

/// The most sentences a reply has before the rest is counted.
pub const MAX_SENTENCES: usize = 3;

/// One step of a finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub id: StepId,
    /// The function called, or `reply`.
    pub tool: String,
    /// The steps whose outputs it used.
    pub deps: Vec<StepId>,
    pub outcome: StepOutcome,
}

/// Everything a run came to.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// In the order the steps arrived.
    pub steps: Vec<StepRecord>,
    /// What to tell the user: a sentence or two.
    pub reply: String,
    pub cancelled: bool,
}

/// What to tell the planner for one more try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replan {
    /// The steps that failed in a way a new plan might avoid.
    pub failed: Vec<StepId>,
    /// For the planner's prompt: what failed and why, what was skipped, and what already
    /// happened and must not be done again.
    pub feedback: String,
}

impl RunReport {
    pub(crate) fn new(steps: Vec<StepRecord>, cancelled: bool) -> RunReport {
        let reply = compose_reply(&steps, cancelled);
        RunReport {
            steps,
            reply,
            cancelled,
        }
    }

    pub fn step(&self, id: StepId) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The failed steps with their failures.
    pub fn failures(&self) -> impl Iterator<Item = (&StepRecord, &StepFailure)> {
        self.steps.iter().filter_map(|s| match &s.outcome {
            StepOutcome::Failed(failure) => Some((s, failure)),
            _ => None,
        })
    }

    /// The steps that never started, with why.
    pub fn skipped(&self) -> impl Iterator<Item = (&StepRecord, &SkipReason)> {
        self.steps.iter().filter_map(|s| match &s.outcome {
            StepOutcome::Skipped(reason) => Some((s, reason)),
            _ => None,
        })
    }

    /// Whether one more plan is worth trying, and what to tell the planner: only when some
    /// step failed for a reason a new plan could avoid (a tool's error, an argument that did
    /// not fit, an unknown tool) and none was refused by the user or the policy, timed out
    /// or was cancelled. The app replans at most once.
    pub fn replan(&self) -> Option<Replan> {
        if self.cancelled {
            return None;
        }
        let failures: Vec<_> = self.failures().collect();
        if failures.is_empty() || failures.iter().any(|(_, f)| !f.kind.worth_replanning()) {
            return None;
        }
        let mut lines: Vec<String> = failures
            .iter()
            .map(|(s, f)| format!("Step {} ({}) failed: {}", s.id, s.tool, f.message))
            .collect();
        for (s, reason) in self.skipped() {
            lines.push(format!("Step {} ({}) was {reason}", s.id, s.tool));
        }
        for s in &self.steps {
            if let StepOutcome::Done(output) = &s.outcome {
                lines.push(format!(
                    "Step {} ({}) already succeeded, do not repeat it: {}",
                    s.id, s.tool, output.summary
                ));
            }
        }
        Some(Replan {
            failed: failures.iter().map(|(s, _)| s.id).collect(),
            feedback: lines.join("\n"),
        })
    }
}

fn compose_reply(steps: &[StepRecord], cancelled: bool) -> String {
    let mut sentences = Vec::new();
    if cancelled {
        sentences.push("Stopped.".to_string());
    }
    let mut skipped = 0;
    for step in steps {
        match &step.outcome {
            StepOutcome::Replied(text) => sentences.push(sentence(text)),
            StepOutcome::Done(output) => {
                let mut users = steps
                    .iter()
                    .filter(|s| s.deps.contains(&step.id))
                    .peekable();
                let used_fully = users.peek().is_some() && users.all(|s| s.outcome.succeeded());
                if !used_fully && !output.summary.trim().is_empty() {
                    sentences.push(sentence(&output.summary));
                }
            }
            StepOutcome::Failed(failure) => {
                if let Some(text) = failure_sentence(&step.tool, failure) {
                    sentences.push(text);
                }
            }
            StepOutcome::Skipped(SkipReason::DependencyFailed { .. }) => skipped += 1,
            StepOutcome::Skipped(SkipReason::Cancelled) => {}
            StepOutcome::Skipped(reason @ SkipReason::MissingDependency(_))
            | StepOutcome::Skipped(reason @ SkipReason::DuplicateId) => {
                sentences.push(format!("Couldn't run {}: {reason}.", step.tool));
            }
        }
    }
    match skipped {
        0 => {}
        1 => sentences.push("One step that needed it was skipped.".into()),
        n => sentences.push(format!("{n} steps that needed it were skipped.")),
    }
    if sentences.is_empty() {
        return if steps.is_empty() {
            "There was nothing to do.".into()
        } else {
            "Done.".into()
        };
    }
    if sentences.len() > MAX_SENTENCES {
        let more = sentences.len() - MAX_SENTENCES + 1;
        sentences.truncate(MAX_SENTENCES - 1);
        sentences.push(format!("... and {more} more."));
    }
    sentences.join(" ")
}

fn failure_sentence(tool: &str, failure: &StepFailure) -> Option<String> {
    let message = failure.message.trim();
    Some(match failure.kind {
        FailureKind::Cancelled => return None,
        FailureKind::Declined => format!("Didn't run {tool}: you did not confirm it."),
        FailureKind::TimedOut => format!("{tool} took too long and was stopped."),
        FailureKind::Denied => sentence(message),
        FailureKind::UnknownTool | FailureKind::InvalidArgs | FailureKind::ToolFailed => {
            sentence(&format!("Couldn't run {tool}: {message}"))
        }
    })
}

/// Trims and ends with a full stop unless it already ends a sentence.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sotto_tools::ToolOutput;

    use super::*;

    fn step(id: StepId, tool: &str, deps: &[StepId], outcome: StepOutcome) -> StepRecord {
        StepRecord {
            id,
            tool: tool.into(),
            deps: deps.to_vec(),
            outcome,
        }
    }

    fn done(summary: &str) -> StepOutcome {
        StepOutcome::Done(ToolOutput {
            value: json!(null),
            summary: summary.into(),
        })
    }

    fn failed(kind: FailureKind, message: &str) -> StepOutcome {
        StepOutcome::Failed(StepFailure::new(kind, message))
    }

    #[test]
    fn replies() {
        let skip = |root| {
            StepOutcome::Skipped(SkipReason::DependencyFailed {
                dependency: root,
                root,
            })
        };
        let cases: Vec<(Vec<StepRecord>, bool, &str)> = vec![
            (vec![], false, "There was nothing to do."),
            (vec![step(1, "reply", &[], StepOutcome::Replied("Hello!".into()))], false, "Hello!"),
            (
                vec![
                    step(1, "timer_start", &[], done("Started a timer for 10 minutes.")),
                    step(2, "open_app", &[], failed(FailureKind::ToolFailed, "no application called Firefox")),
                ],
                false,
                "Started a timer for 10 minutes. Couldn't run open_app: no application called Firefox.",
            ),
            (
                vec![
                    step(1, "contact_lookup", &[], done("Found Alice")),
                    step(2, "compose_email", &[1], done("Opened a draft to Alice")),
                ],
                false,
                "Opened a draft to Alice.",
            ),
            (
                vec![
                    step(1, "contact_lookup", &[], failed(FailureKind::ToolFailed, "no contact Bob")),
                    step(2, "compose_email", &[1], skip(1)),
                    step(3, "open_url", &[1], skip(1)),
                ],
                false,
                "Couldn't run contact_lookup: no contact Bob. 2 steps that needed it were skipped.",
            ),
            (
                vec![step(1, "note_create", &[], failed(FailureKind::Declined, "x"))],
                false,
                "Didn't run note_create: you did not confirm it.",
            ),
            (
                vec![
                    step(1, "a", &[], done("A")),
                    step(2, "b", &[], failed(FailureKind::Cancelled, "cancelled")),
                ],
                true,
                "Stopped. A.",
            ),
            (
                (1..=5).map(|n| step(n, "t", &[], done(&format!("Did {n}")))).collect(),
                false,
                "Did 1. Did 2. ... and 3 more.",
            ),
        ];
        for (steps, cancelled, expected) in cases {
            assert_eq!(RunReport::new(steps, cancelled).reply, expected);
        }
    }

    #[test]
    fn replan_only_for_mistakes_a_new_plan_could_avoid() {
        let report = RunReport::new(
            vec![
                step(1, "timer_start", &[], done("Started a timer")),
                step(
                    2,
                    "compose_email",
                    &[],
                    failed(FailureKind::InvalidArgs, "`/to` is not an email"),
                ),
                step(
                    3,
                    "open_url",
                    &[2],
                    StepOutcome::Skipped(SkipReason::DependencyFailed {
                        dependency: 2,
                        root: 2,
                    }),
                ),
            ],
            false,
        );
        let replan = report.replan().unwrap();
        assert_eq!(replan.failed, vec![2]);
        assert_eq!(
            replan.feedback,
            "Step 2 (compose_email) failed: `/to` is not an email\n\
             Step 3 (open_url) was skipped: step 2 failed\n\
             Step 1 (timer_start) already succeeded, do not repeat it: Started a timer"
        );
        for kind in [
            FailureKind::Declined,
            FailureKind::Denied,
            FailureKind::TimedOut,
        ] {
            let report = RunReport::new(vec![step(1, "x", &[], failed(kind, "no"))], false);
            assert_eq!(report.replan(), None, "{kind:?}");
        }
        let ok = RunReport::new(vec![step(1, "x", &[], done("fine"))], false);
        assert_eq!(ok.replan(), None);
    }
}
