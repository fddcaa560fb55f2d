//! Test doubles and helpers shared by the executor's tests.
//!
//! The tools here are doubles, not built-ins, because the tests need what no built-in
//! offers: a tool that sleeps an exact time (to measure overlap, time out, be cancelled), one
//! that fails on demand, one that returns any JSON value (to exercise `$N` projection), and
//! tools of each risk level whose runs are counted (to prove a refused call never ran). They
//! are registered in a real `Registry` and go through the same validate/decide/authorize
//! path as every tool.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sotto_executor::{
    CancellationToken, ConfirmFailure, Confirmer, Event, Executor, ExecutorConfig, Grants,
    RunReport,
};
use sotto_planner::{Plan, PlanParser};
use sotto_tools::policy::ToolGrants;
use sotto_tools::{
    builtin, Confirmation, ConfirmationRequest, Registry, Reply, Risk, ToolContext, ToolError,
    ToolInfo, ToolManifest, TypedTool,
};
use tokio::sync::mpsc;

/// What the doubles did.
#[derive(Debug, Default)]
pub struct Probe {
    /// Sleeps whose future was dropped before it finished (timeout, cancellation).
    pub dropped: AtomicUsize,
    /// Runs of the tools that change something (`write_note`, `send_message`).
    pub changes: AtomicUsize,
}

fn info(name: &'static str, risk: Risk) -> ToolInfo {
    ToolInfo {
        name,
        description: "A test double.",
        examples: vec![],
        capabilities: vec![],
        risk,
    }
}

/// `sleep(ms, label?, after?)`: waits `ms` milliseconds; `after` takes any earlier output so
/// a chain can be written.
struct Sleep(Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SleepArgs {
    ms: u64,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    after: Option<Value>,
}

#[derive(Serialize, JsonSchema)]
struct Slept {
    ms: u64,
    label: Option<String>,
}

/// Counts a sleep that was dropped before finishing.
struct DropWatch(Arc<Probe>, bool);

impl Drop for DropWatch {
    fn drop(&mut self) {
        if !self.1 {
            self.0.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl TypedTool for Sleep {
    type Args = SleepArgs;
    type Output = Slept;
    fn info(&self) -> ToolInfo {
        info("sleep", Risk::ReadOnly)
    }
    async fn run(&self, args: SleepArgs, _: &ToolContext) -> Result<Reply<Slept>, ToolError> {
        let mut watch = DropWatch(self.0.clone(), false);
        tokio::time::sleep(Duration::from_millis(args.ms)).await;
        watch.1 = true;
        let summary = format!("Slept {} ms", args.ms);
        Ok(Reply::new(
            Slept {
                ms: args.ms,
                label: args.label,
            },
            summary,
        ))
    }
}

/// `fail(message)`: always fails with `message`.
struct Fail;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FailArgs {
    message: String,
}

impl TypedTool for Fail {
    type Args = FailArgs;
    type Output = ();
    fn info(&self) -> ToolInfo {
        info("fail", Risk::ReadOnly)
    }
    async fn run(&self, args: FailArgs, _: &ToolContext) -> Result<Reply<()>, ToolError> {
        Err(ToolError::Failed(args.message))
    }
}

/// `crash()`: panics, as a buggy tool might.
struct Crash;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

impl TypedTool for Crash {
    type Args = NoArgs;
    type Output = ();
    fn info(&self) -> ToolInfo {
        info("crash", Risk::ReadOnly)
    }
    async fn run(&self, _: NoArgs, _: &ToolContext) -> Result<Reply<()>, ToolError> {
        panic!("a bug in the tool")
    }
}

/// `emit(value, summary)`: returns `value` as its output, whatever it is.
struct Emit;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EmitArgs {
    value: Value,
    summary: String,
}

impl TypedTool for Emit {
    type Args = EmitArgs;
    type Output = Value;
    fn info(&self) -> ToolInfo {
        info("emit", Risk::ReadOnly)
    }
    async fn run(&self, args: EmitArgs, _: &ToolContext) -> Result<Reply<Value>, ToolError> {
        Ok(Reply::new(args.value, args.summary))
    }
}

/// A read-only tool that returns its arguments: `echo(text)`, `mail_to(to)`,
/// `count_items(items)`, `set_count(n)`.
struct Returns<A>(&'static str, std::marker::PhantomData<A>);

fn returns<A>(name: &'static str) -> Returns<A> {
    Returns(name, std::marker::PhantomData)
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EchoArgs {
    text: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailToArgs {
    /// An address.
    #[schemars(regex(pattern = r"^[^@\s]+@[^@\s]+$"))]
    to: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemsArgs {
    items: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountArgs {
    n: u32,
}

impl<A> TypedTool for Returns<A>
where
    A: Serialize + for<'de> Deserialize<'de> + JsonSchema + Send + Sync + 'static,
{
    type Args = A;
    type Output = A;
    fn info(&self) -> ToolInfo {
        info(self.0, Risk::ReadOnly)
    }
    async fn run(&self, args: A, _: &ToolContext) -> Result<Reply<A>, ToolError> {
        let summary = format!("{} done", self.0);
        Ok(Reply::new(args, summary))
    }
}

/// `write_note(text)` (changes local data) and `send_message(to, text)` (sends): counted.
struct Change(&'static str, Risk, Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangeArgs {
    #[serde(default)]
    to: Option<String>,
    text: String,
}

impl TypedTool for Change {
    type Args = ChangeArgs;
    type Output = ();
    fn info(&self) -> ToolInfo {
        info(self.0, self.1)
    }
    async fn run(&self, args: ChangeArgs, _: &ToolContext) -> Result<Reply<()>, ToolError> {
        self.2.changes.fetch_add(1, Ordering::SeqCst);
        Ok(Reply::new((), format!("{}: {}", self.0, args.text)))
    }
}

pub fn registry(probe: &Arc<Probe>) -> Arc<Registry> {
    let mut registry = Registry::new();
    registry.register(builtin(Sleep(probe.clone()))).unwrap();
    registry.register(builtin(Fail)).unwrap();
    registry.register(builtin(Crash)).unwrap();
    registry.register(builtin(Emit)).unwrap();
    registry
        .register(builtin(returns::<EchoArgs>("echo")))
        .unwrap();
    registry
        .register(builtin(returns::<MailToArgs>("mail_to")))
        .unwrap();
    registry
        .register(builtin(returns::<ItemsArgs>("count_items")))
        .unwrap();
    registry
        .register(builtin(returns::<CountArgs>("set_count")))
        .unwrap();
    let note = Change("write_note", Risk::ChangesLocalData, probe.clone());
    registry.register(builtin(note)).unwrap();
    let send = Change("send_message", Risk::Sends, probe.clone());
    registry.register(builtin(send)).unwrap();
    Arc::new(registry)
}

/// The doubles need no handles.
pub fn bare_contexts(manifest: &ToolManifest, _: &ToolGrants) -> Result<ToolContext, ToolError> {
    Ok(ToolContext::bare(&manifest.name))
}

pub fn executor(
    probe: &Arc<Probe>,
    grants: Grants,
    confirmer: Arc<dyn Confirmer>,
    config: ExecutorConfig,
) -> Executor {
    Executor::new(
        registry(probe),
        grants,
        Arc::new(bare_contexts),
        confirmer,
        config,
    )
}

/// A plan from its steps' lines (`join()` added).
pub fn plan(lines: &str) -> Plan {
    PlanParser::parse(&format!("{lines}\njoin()")).unwrap()
}

/// Runs a whole plan, returning the report and every event.
pub async fn run(executor: &Executor, lines: &str) -> (RunReport, Vec<Event>) {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let report = executor
        .run_plan(&plan(lines), sender, CancellationToken::new())
        .await;
    let mut events = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        events.push(event);
    }
    (report, events)
}

/// Declines, after taking `delay` to answer, and records how many requests were being
/// asked at once (the executor must never ask two at a time).
#[derive(Debug, Default)]
pub struct SlowDecline {
    pub delay: Duration,
    pub asking: AtomicUsize,
    pub most_at_once: AtomicUsize,
    pub asked: AtomicUsize,
}

impl Confirmer for SlowDecline {
    fn confirm<'a>(
        &'a self,
        _: &'a ConfirmationRequest,
    ) -> BoxFuture<'a, Result<Option<Confirmation>, ConfirmFailure>> {
        Box::pin(async move {
            let now = self.asking.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            self.asked.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.asking.fetch_sub(1, Ordering::SeqCst);
            Ok(None)
        })
    }
}
