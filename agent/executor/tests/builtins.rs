//! The executor with Sotto's real built-in tools (calculator, date, timers) and real
//! `ToolContext`s built over a temporary data folder, and a real terminal (a pseudo-terminal)
//! answering a confirmation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use sotto_executor::{
    CancellationToken, Confirmer, Decline, Event, Executor, ExecutorConfig, FailureKind, Grants,
    RunReport, StepOutcome, TerminalConfirmer,
};
use sotto_planner::PlanParser;
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{AskReason, Decision, ToolGrants, ToolSetting};
use sotto_tools::{Host, InteractiveConfirmer, Registry};
use tokio::sync::mpsc;

fn host(dir: &Path) -> Host {
    let home = dir.to_path_buf();
    Host::new(
        dir.join("data"),
        HostEnv::from_lookup(move |key| (key == "HOME").then(|| home.clone().into())),
    )
}

fn executor(dir: &Path, grants: Grants, confirmer: Arc<dyn Confirmer>) -> Executor {
    let mut registry = Registry::new();
    sotto_builtins::register_all(&mut registry).unwrap();
    Executor::new(
        Arc::new(registry),
        grants,
        Arc::new(host(dir)),
        confirmer,
        ExecutorConfig::default(),
    )
}

fn timers_allowed() -> Grants {
    let allow = ToolGrants {
        setting: Some(ToolSetting::Allow),
        ..ToolGrants::default()
    };
    [("timer_start".to_string(), allow)].into_iter().collect()
}

async fn run(executor: &Executor, lines: &str) -> (RunReport, Vec<Event>) {
    let plan = PlanParser::parse(&format!("{lines}\njoin()")).unwrap();
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let report = executor
        .run_plan(&plan, sender, CancellationToken::new())
        .await;
    let mut events = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        events.push(event);
    }
    (report, events)
}

fn timer_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("data/timers")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn real_tools_run_with_real_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let executor = executor(dir.path(), timers_allowed(), Arc::new(Decline));
    let (report, _) = run(
        &executor,
        "1. calculator(expression=\"2 * 5\")\n2. date_time()\n3. timer_start(minutes=10, label=\"pasta\")",
    )
    .await;
    assert!(
        report.steps.iter().all(|s| s.outcome.succeeded()),
        "{report:?}"
    );
    assert_eq!(timer_files(dir.path()), 1);
    assert!(
        report.reply.starts_with("2 * 5 = 10. ")
            && report
                .reply
                .ends_with(" Started the pasta timer for 10 minutes."),
        "{}",
        report.reply
    );
    // A real tool's own refusal is a failure worth a replan, in the reply as one sentence.
    let (report, _) = run(&executor, "1. timer_start(minutes=0)").await;
    assert_eq!(
        report.reply,
        "Couldn't run timer_start: a timer needs a length: how long?"
    );
    assert!(report.replan().is_some());
}

#[tokio::test]
async fn a_length_computed_by_a_tool_asks_before_starting_a_timer() {
    let dir = tempfile::tempdir().unwrap();
    let executor = executor(dir.path(), timers_allowed(), Arc::new(Decline));
    let (report, events) = run(
        &executor,
        "1. calculator(expression=\"2 * 5\")\n2. timer_start(minutes=$1, label=\"tea\")",
    )
    .await;
    // The calculator's `value` (10.0) is the only field that fits an integer, given as 10.
    let args = events.iter().find_map(|e| match e {
        Event::StepStarted { id: 2, args, .. } => Some(args.clone()),
        _ => None,
    });
    assert_eq!(args, Some(json!({"minutes": 10, "label": "tea"})));
    let decision = events.iter().find_map(|e| match e {
        Event::StepFinished { id: 2, audit, .. } => audit.decision.clone(),
        _ => None,
    });
    assert_eq!(decision, Some(Decision::Ask(AskReason::UsesToolOutput)));
    let StepOutcome::Failed(failure) = &report.steps[1].outcome else {
        panic!("{report:?}")
    };
    assert_eq!(failure.kind, FailureKind::Declined);
    assert_eq!(timer_files(dir.path()), 0);
}

/// A pseudo-terminal: the confirmer opens the follower by path; the test types on the
/// leader as a person would.
fn pty() -> (std::fs::File, PathBuf) {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let leader = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&leader).unwrap();
    unlockpt(&leader).unwrap();
    let name = ptsname(&leader, Vec::new()).unwrap();
    let follower = PathBuf::from(name.to_str().unwrap());
    (std::fs::File::from(leader), follower)
}

#[tokio::test]
async fn one_yes_at_the_terminal_answers_a_first_time_question_for_the_run() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (mut leader, follower) = pty();
    let confirmer = InteractiveConfirmer::terminal_at(&follower).unwrap();
    let executor = executor(
        dir.path(),
        Grants::default(),
        Arc::new(TerminalConfirmer::new(confirmer)),
    );
    // One "yes" typed; both timers run: the second step, waiting its turn to ask, sees that
    // the first-time question was answered.
    leader.write_all(b"yes\n").unwrap();
    let (report, events) = run(
        &executor,
        "1. timer_start(minutes=1, label=\"eggs\")\n2. timer_start(minutes=2, label=\"toast\")",
    )
    .await;
    assert!(
        report.steps.iter().all(|s| s.outcome.succeeded()),
        "{report:?}"
    );
    assert_eq!(timer_files(dir.path()), 2);
    let mut approvals: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::StepFinished { audit, .. } => audit.approval.clone(),
            _ => None,
        })
        .collect();
    approvals.sort();
    assert_eq!(approvals, ["policy:confirmed-before", "user:terminal"]);
    let asked = events
        .iter()
        .filter(|e| matches!(e, Event::NeedsConfirmation { .. }))
        .count();
    assert_eq!(asked, 1);
}
