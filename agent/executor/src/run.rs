//! The run loop (which steps may start, skip or wait) and one step's call through the
//! tools' path (substitute, validate, decide, confirm, authorize, run with a timeout).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sotto_planner::{Action, Arg, Step, StepId};
use sotto_tools::policy::{decide, Decision, Origin, ToolGrants};
use sotto_tools::{
    authorize, Confirmation, ConfirmationRequest, Refusal, Registry, ToolError, ToolOutput,
};
use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::events::{Event, FailureKind, SkipReason, StepAudit, StepFailure, StepOutcome};
use crate::reply::{RunReport, StepRecord};
use crate::substitute::resolve_args;
use crate::{Confirmer, Contexts, Executor, ExecutorConfig, Grants};

/// What every step task of one run shares.
struct Shared {
    registry: Arc<Registry>,
    contexts: Arc<dyn Contexts>,
    confirmer: Arc<dyn Confirmer>,
    config: ExecutorConfig,
    /// A std mutex: held only to read or mark, never across an await.
    grants: Mutex<Grants>,
    /// Held across one whole confirmation: one question at a time.
    asking: tokio::sync::Mutex<()>,
    events: mpsc::UnboundedSender<Event>,
}

impl Shared {
    fn grants(&self, tool: &str) -> ToolGrants {
        self.grants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tool)
    }

    fn send(&self, event: Event) {
        // Nobody listening is fine: the report is returned anyway.
        let _ = self.events.send(event);
    }
}

/// A step seen by the loop.
struct Entry {
    id: StepId,
    tool: String,
    deps: Vec<StepId>,
    step: Step,
    outcome: Option<StepOutcome>,
}

/// The loop's bookkeeping.
struct State {
    shared: Arc<Shared>,
    /// Every step seen, in arrival order, with its outcome once it has one.
    records: Vec<Entry>,
    /// Step id -> index in `records` (the first step with that id).
    index: BTreeMap<StepId, usize>,
    /// Arrived, not started, not skipped.
    waiting: BTreeSet<StepId>,
    tasks: JoinSet<StepOutcome>,
    /// Task -> the step it runs and when it started.
    running: HashMap<Id, (StepId, Instant)>,
    input_open: bool,
}

pub(crate) async fn run(
    executor: &Executor,
    mut steps: mpsc::Receiver<Step>,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> RunReport {
    let shared = Arc::new(Shared {
        registry: executor.registry.clone(),
        contexts: executor.contexts.clone(),
        confirmer: executor.confirmer.clone(),
        config: executor.config,
        grants: Mutex::new(executor.grants.clone()),
        asking: tokio::sync::Mutex::new(()),
        events,
    });
    let mut state = State {
        shared: shared.clone(),
        records: Vec::new(),
        index: BTreeMap::new(),
        waiting: BTreeSet::new(),
        tasks: JoinSet::new(),
        running: HashMap::new(),
        input_open: true,
    };
    let mut cancelled = false;
    loop {
        state.advance();
        if !state.input_open && state.tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                cancelled = true;
                break;
            }
            step = steps.recv(), if state.input_open => match step {
                Some(step) => state.arrive(step),
                None => state.input_open = false,
            },
            Some(joined) = state.tasks.join_next_with_id() => state.finish(joined),
        }
    }
    if cancelled {
        steps.close();
        while let Ok(step) = steps.try_recv() {
            state.arrive(step);
        }
        state.cancel_all().await;
    }
    let records = state
        .records
        .into_iter()
        .map(|entry| StepRecord {
            id: entry.id,
            tool: entry.tool,
            deps: entry.deps,
            // Every step has an outcome by now; a missing one could only be a bug here.
            outcome: entry
                .outcome
                .unwrap_or(StepOutcome::Skipped(SkipReason::Cancelled)),
        })
        .collect();
    let report = RunReport::new(records, cancelled);
    shared.send(Event::Finished {
        reply: report.reply.clone(),
        cancelled,
    });
    report
}

impl State {
    fn arrive(&mut self, step: Step) {
        let id = step.id;
        let tool = tool_name(&step);
        let deps = step.deps();
        let duplicate = self.index.contains_key(&id);
        self.records.push(Entry {
            id,
            tool: tool.clone(),
            deps: deps.clone(),
            step,
            outcome: None,
        });
        let at = self.records.len() - 1;
        if duplicate {
            self.settle_at(at, StepOutcome::Skipped(SkipReason::DuplicateId));
            return;
        }
        self.index.insert(id, at);
        // References go to earlier steps only (the planner's parser checks it; a hand-made
        // plan might not), which also rules out cycles.
        if let Some(&bad) = deps.iter().find(|&&d| d >= id) {
            self.settle(id, StepOutcome::Skipped(SkipReason::MissingDependency(bad)));
            return;
        }
        self.waiting.insert(id);
    }

    /// Starts every waiting step whose dependencies all succeeded and skips every one with
    /// a dependency that did not. One ascending pass is enough: dependencies come earlier.
    fn advance(&mut self) {
        for id in self.waiting.clone() {
            let record = &self.records[self.index[&id]];
            let mut blocked = None;
            let mut ready = true;
            for &dep in &record.deps {
                match self.outcome(dep) {
                    Some(outcome) if outcome.succeeded() => {}
                    Some(StepOutcome::Skipped(SkipReason::DependencyFailed { root, .. })) => {
                        blocked = Some(SkipReason::DependencyFailed {
                            dependency: dep,
                            root: *root,
                        });
                    }
                    Some(_) => {
                        blocked = Some(SkipReason::DependencyFailed {
                            dependency: dep,
                            root: dep,
                        });
                    }
                    None if !self.input_open && !self.index.contains_key(&dep) => {
                        blocked = Some(SkipReason::MissingDependency(dep));
                    }
                    None => ready = false,
                }
                if blocked.is_some() {
                    break;
                }
            }
            if let Some(reason) = blocked {
                self.waiting.remove(&id);
                self.settle(id, StepOutcome::Skipped(reason));
            } else if ready {
                self.waiting.remove(&id);
                self.start(id);
            }
        }
    }

    fn outcome(&self, id: StepId) -> Option<&StepOutcome> {
        self.index
            .get(&id)
            .and_then(|&at| self.records[at].outcome.as_ref())
    }

    fn start(&mut self, id: StepId) {
        let record = &self.records[self.index[&id]];
        let (function, args) = match &record.step.action {
            Action::Reply { text } => {
                let text = text.clone();
                self.settle(id, StepOutcome::Replied(text));
                return;
            }
            Action::Call { function, args } => (function.clone(), args.clone()),
        };
        let outputs: BTreeMap<StepId, ToolOutput> = record
            .deps
            .iter()
            .filter_map(|&dep| match self.outcome(dep)? {
                StepOutcome::Done(output) => Some((dep, output.clone())),
                StepOutcome::Replied(text) => Some((
                    dep,
                    ToolOutput {
                        value: text.clone().into(),
                        summary: text.clone(),
                    },
                )),
                _ => None,
            })
            .collect();
        self.shared.send(Event::StepReady {
            id,
            tool: function.clone(),
        });
        let shared = self.shared.clone();
        let handle = self
            .tasks
            .spawn(async move { call_step(&shared, id, &function, &args, &outputs).await });
        self.running.insert(handle.id(), (id, Instant::now()));
    }

    fn finish(&mut self, joined: Result<(Id, StepOutcome), tokio::task::JoinError>) {
        match joined {
            Ok((task, outcome)) => {
                if let Some((id, _)) = self.running.remove(&task) {
                    self.set_outcome(id, outcome);
                }
            }
            Err(error) => {
                // Aborted, or a tool that panicked: its task is gone, so report for it here.
                if let Some((id, started)) = self.running.remove(&error.id()) {
                    let failure = if error.is_cancelled() {
                        StepFailure::new(FailureKind::Cancelled, "cancelled")
                    } else {
                        StepFailure::new(
                            FailureKind::ToolFailed,
                            format!("the tool crashed: {error}"),
                        )
                    };
                    self.report_lost(id, started, failure);
                }
            }
        }
    }

    /// Reports a step whose task ended without reporting (panicked or aborted).
    fn report_lost(&mut self, id: StepId, started: Instant, failure: StepFailure) {
        let tool = self.records[self.index[&id]].tool.clone();
        let uses_tool_output = !self.records[self.index[&id]].deps.is_empty();
        self.shared.send(Event::StepFinished {
            id,
            tool,
            result: Err(failure.clone()),
            audit: StepAudit {
                origin: Origin {
                    input: self.shared.config.input,
                    uses_tool_output,
                },
                decision: None,
                approval: None,
            },
            elapsed: started.elapsed(),
        });
        self.set_outcome(id, StepOutcome::Failed(failure));
    }

    /// Aborts every running step and waits until their futures are dropped (a tool's
    /// future is gone when the run returns); skips every waiting one.
    async fn cancel_all(&mut self) {
        self.tasks.abort_all();
        while let Some(joined) = self.tasks.join_next_with_id().await {
            // A step that finished before the abort reached it has reported itself.
            self.finish(joined);
        }
        for id in std::mem::take(&mut self.waiting) {
            self.settle(id, StepOutcome::Skipped(SkipReason::Cancelled));
        }
    }

    /// Records an outcome decided by the loop itself (a reply or a skip), with its event.
    fn settle(&mut self, id: StepId, outcome: StepOutcome) {
        self.settle_at(self.index[&id], outcome);
    }

    fn settle_at(&mut self, at: usize, outcome: StepOutcome) {
        let record = &mut self.records[at];
        if let StepOutcome::Skipped(reason) = &outcome {
            self.shared.send(Event::StepSkipped {
                id: record.id,
                tool: record.tool.clone(),
                reason: reason.clone(),
            });
        }
        record.outcome = Some(outcome);
    }

    fn set_outcome(&mut self, id: StepId, outcome: StepOutcome) {
        let at = self.index[&id];
        self.records[at].outcome = Some(outcome);
    }
}

fn tool_name(step: &Step) -> String {
    step.function()
        .unwrap_or(sotto_planner::plan::REPLY)
        .to_string()
}

/// One call, start to finish, reporting its events; runs in its own task.
async fn call_step(
    shared: &Shared,
    id: StepId,
    function: &str,
    args: &[(String, Arg)],
    outputs: &BTreeMap<StepId, ToolOutput>,
) -> StepOutcome {
    let started = Instant::now();
    let mut audit = StepAudit {
        origin: Origin {
            input: shared.config.input,
            uses_tool_output: !outputs.is_empty(),
        },
        decision: None,
        approval: None,
    };
    let result = attempt(shared, id, function, args, outputs, &mut audit).await;
    shared.send(Event::StepFinished {
        id,
        tool: function.to_string(),
        result: result.clone(),
        audit,
        elapsed: started.elapsed(),
    });
    match result {
        Ok(output) => StepOutcome::Done(output),
        Err(failure) => StepOutcome::Failed(failure),
    }
}

async fn attempt(
    shared: &Shared,
    id: StepId,
    function: &str,
    args: &[(String, Arg)],
    outputs: &BTreeMap<StepId, ToolOutput>,
    audit: &mut StepAudit,
) -> Result<ToolOutput, StepFailure> {
    let manifest = shared.registry.get(function).ok_or_else(|| {
        StepFailure::new(
            FailureKind::UnknownTool,
            ToolError::UnknownTool(function.to_string()).to_string(),
        )
    })?;
    let resolved = resolve_args(id, &manifest.args_schema, args, outputs)
        .map_err(|message| StepFailure::new(FailureKind::InvalidArgs, message))?;
    shared.send(Event::StepStarted {
        id,
        tool: function.to_string(),
        args: resolved.clone(),
    });
    let call = shared
        .registry
        .validate(function, resolved)
        .map_err(tool_failure)?;
    let mut grants = shared.grants(function);
    let mut decision = decide(call.manifest(), &grants, audit.origin);
    let mut confirmation = None;
    if let Decision::Ask(_) = decision {
        let _one_at_a_time = shared.asking.lock().await;
        // While this step waited its turn, the user may have confirmed another call of the
        // same tool (a first-time question is then answered): decide again.
        grants = shared.grants(function);
        decision = decide(call.manifest(), &grants, audit.origin);
        if let Decision::Ask(reason) = decision {
            let request = ConfirmationRequest::new(&call, reason);
            confirmation = ask(shared, id, request).await?;
            if confirmation.is_some() {
                // Marked before the next question is asked, which is what lets it see it.
                shared
                    .grants
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .mark_confirmed(function);
            }
        }
    }
    audit.decision = Some(decision.clone());
    let authorized = authorize(call, &decision, confirmation).map_err(|refusal| {
        let kind = match refusal {
            Refusal::Denied { .. } => FailureKind::Denied,
            Refusal::NotConfirmed { .. } | Refusal::WrongConfirmation { .. } => {
                FailureKind::Declined
            }
        };
        StepFailure::new(kind, refusal.to_string())
    })?;
    audit.approval = Some(authorized.approval().as_string());
    let context = shared
        .contexts
        .context(manifest, &grants)
        .map_err(tool_failure)?;
    let timeout = shared.config.step_timeout;
    match tokio::time::timeout(timeout, authorized.run(&context)).await {
        Ok(result) => result.map_err(tool_failure),
        Err(_) => Err(StepFailure::new(
            FailureKind::TimedOut,
            format!(
                "{function} did not finish within {} s and was stopped",
                timeout.as_secs_f32()
            ),
        )),
    }
}

/// Asks the confirmer; the caller holds `shared.asking`, so one question at a time.
async fn ask(
    shared: &Shared,
    id: StepId,
    request: ConfirmationRequest,
) -> Result<Option<Confirmation>, StepFailure> {
    shared.send(Event::NeedsConfirmation {
        id,
        request: request.clone(),
    });
    shared.confirmer.confirm(&request).await.map_err(|error| {
        StepFailure::new(
            FailureKind::Declined,
            format!(
                "{} was not run: could not ask you to confirm it: {error}",
                request.tool
            ),
        )
    })
}

fn tool_failure(error: ToolError) -> StepFailure {
    let kind = match error {
        ToolError::UnknownTool(_) => FailureKind::UnknownTool,
        ToolError::InvalidArgs { .. } => FailureKind::InvalidArgs,
        _ => FailureKind::ToolFailed,
    };
    StepFailure::new(kind, error.to_string())
}
