//! What the executor tells its caller while it runs (an [`Event`] per change, in order) and
//! what each step came to ([`StepOutcome`]). Plain data: the CLI prints it, the desktop app
//! shows it, the app writes the audit from it. Nothing here is serialised; the edges convert.

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use sotto_planner::StepId;
use sotto_tools::policy::{Decision, Origin};
use sotto_tools::{ConfirmationRequest, ToolOutput};

/// One change in a run, sent as it happens.
///
/// A call goes `StepReady` -> `StepStarted` -> (`NeedsConfirmation`) -> `StepFinished`; one
/// that fails before its arguments are resolved (unknown tool, a `$N` that does not fit) has
/// no `StepStarted`; one that is cancelled finishes with [`FailureKind::Cancelled`]. A step
/// that never starts has only `StepSkipped`. A `reply` step has no events: its text is part
/// of `Finished`'s reply.
#[derive(Debug)]
pub enum Event {
    /// The step has arrived and everything it depends on has finished: it starts now.
    StepReady { id: StepId, tool: String },
    /// Its arguments are resolved (`$N` substituted); validation and the policy come next.
    StepStarted {
        id: StepId,
        tool: String,
        args: Value,
    },
    /// The policy asks; the confirmer is being asked now (one request at a time).
    NeedsConfirmation {
        id: StepId,
        request: ConfirmationRequest,
    },
    /// The step ran, or failed before or while running.
    StepFinished {
        id: StepId,
        tool: String,
        result: Result<ToolOutput, StepFailure>,
        audit: StepAudit,
        elapsed: Duration,
    },
    /// The step never started.
    StepSkipped {
        id: StepId,
        tool: String,
        reason: SkipReason,
    },
    /// Every step has an outcome; `reply` is what to tell the user.
    Finished { reply: String, cancelled: bool },
}

/// What the audit log needs about one call's permission. `decision` is `None` when the call
/// never reached the policy (unknown tool, arguments that did not validate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepAudit {
    pub origin: Origin,
    pub decision: Option<Decision>,
    /// Who let it run ([`sotto_tools::Approval::as_string`]: `policy:read-only`,
    /// `user:terminal`), `None` when it was not allowed to.
    pub approval: Option<String>,
}

/// Why a step did not produce an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No tool of that name.
    UnknownTool,
    /// The arguments (after `$N` substitution) do not fit the tool's schema, or a `$N`
    /// output has nothing that fits the parameter.
    InvalidArgs,
    /// The policy refused it (blocked, missing grant, nobody to confirm).
    Denied,
    /// The user (or the confirmer standing in for them) said no, or could not be asked.
    Declined,
    /// The tool ran and returned an error (or its context could not be built).
    ToolFailed,
    /// The tool did not finish within the step timeout; its future was dropped.
    TimedOut,
    /// The run was cancelled while the step was under way; its future was dropped.
    Cancelled,
}

impl FailureKind {
    /// Whether another plan might do better: yes for mistakes in the plan or a tool's error,
    /// no when the user or the policy said no (a new plan must not route around them) and
    /// no for a timeout or a cancellation.
    pub fn worth_replanning(self) -> bool {
        matches!(
            self,
            FailureKind::UnknownTool | FailureKind::InvalidArgs | FailureKind::ToolFailed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::UnknownTool => "unknown-tool",
            FailureKind::InvalidArgs => "invalid-arguments",
            FailureKind::Denied => "denied",
            FailureKind::Declined => "declined",
            FailureKind::ToolFailed => "tool-failed",
            FailureKind::TimedOut => "timed-out",
            FailureKind::Cancelled => "cancelled",
        }
    }
}

/// A failed step: what kind of failure and the message for the user (which already names
/// the tool where the tool's own error does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl StepFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> StepFailure {
        StepFailure {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why a step was not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A step it uses (`dependency`) failed or was itself skipped; `root` is the failed step
    /// the chain goes back to.
    DependencyFailed { dependency: StepId, root: StepId },
    /// It uses a step that never arrived (the plan ended without it) or is not an earlier
    /// step (only a hand-made plan can say so: the parser refuses it).
    MissingDependency(StepId),
    /// Its id was already used by an earlier step.
    DuplicateId,
    /// The run was cancelled before it could start.
    Cancelled,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::DependencyFailed { dependency, root } if dependency == root => {
                write!(f, "skipped: step {root} failed")
            }
            SkipReason::DependencyFailed { dependency, root } => {
                write!(
                    f,
                    "skipped: step {dependency} was skipped (step {root} failed)"
                )
            }
            SkipReason::MissingDependency(id) => {
                write!(f, "skipped: step {id} is not in the plan")
            }
            SkipReason::DuplicateId => f.write_str("skipped: another step has the same number"),
            SkipReason::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// What one step came to.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// A reply step: the text for the user.
    Replied(String),
    Done(ToolOutput),
    Failed(StepFailure),
    Skipped(SkipReason),
}

impl StepOutcome {
    /// Whether the steps that use this one may start.
    pub fn succeeded(&self) -> bool {
        matches!(self, StepOutcome::Replied(_) | StepOutcome::Done(_))
    }
}
