//! The desktop's assistant without its window: real planner model, real SQLite file, real
//! tools in a private home; the window's side is a recorder that answers questions the way
//! the dialog's buttons do (the WebDriver test drives the real window).

mod common;

use std::time::Duration;

use common::Fixture;
use sotto_executor::CancellationToken;
use sotto_window_api::{AssistantState, ConfirmAnswer, RequestUpdate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_confirms_denies_and_remembers() {
    let mut fixture = Fixture::new(Duration::from_secs(60));

    // Deny: nothing is set, the run says it was declined.
    let outcome = fixture
        .run_answering("set a timer for 5 minutes", ConfirmAnswer::Deny)
        .await;
    assert!(!outcome.succeeded());
    assert_eq!(outcome.results[0]["ok"], false, "{:?}", outcome.results);
    assert_eq!(fixture.timers(), 0);

    // Allow once: set, approved by the window (and, the tool asking only the first time, it
    // will not ask again).
    let outcome = fixture
        .run_answering("set a timer for 5 minutes", ConfirmAnswer::AllowOnce)
        .await;
    assert!(outcome.succeeded(), "{:?}", outcome.results);
    assert_eq!(
        outcome.results[0]["approval"], "user:window",
        "{:?}",
        outcome.results
    );
    assert_eq!(fixture.timers(), 1);

    // The history shows both, newest first, with the audited decision.
    let rows = fixture.assistant.history(None, 10).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].status, "done");
    assert_eq!(rows[1].status, "failed");
    let detail = fixture.assistant.history_detail(rows[0].id).await.unwrap();
    assert_eq!(detail.plans[0].calls[0].tool, "timer_start");
    assert_eq!(detail.plans[0].calls[0].decision, "confirmed");

    // The user makes the tool ask every time; "Always for this tool" then answers and is
    // remembered, so the next one runs without a question.
    fixture
        .assistant
        .app()
        .store()
        .await
        .unwrap()
        .set_tool_setting(
            "timer_start",
            Some(sotto_store::ToolSettingValue::AlwaysAsk),
        )
        .await
        .unwrap();
    let outcome = fixture
        .run_answering("set a timer for 5 minutes", ConfirmAnswer::AlwaysForTool)
        .await;
    assert!(outcome.succeeded(), "{:?}", outcome.results);
    let tools = fixture.assistant.tools().await.unwrap();
    let timer = tools.iter().find(|t| t.name == "timer_start").unwrap();
    assert_eq!((timer.setting.as_str(), timer.set_by_user), ("allow", true));
    let outcome = fixture
        .assistant
        .run("set a timer for 5 minutes", CancellationToken::new())
        .await
        .unwrap();
    assert!(outcome.succeeded(), "{:?}", outcome.results);
    assert!(
        fixture.prompts.try_recv().is_err(),
        "asked again after Always"
    );
    assert_eq!(fixture.timers(), 3);

    // Every question was closed with its answer; the tray went through the states.
    let closed = fixture.recorder.closed.lock().unwrap().clone();
    let answers: Vec<_> = closed.iter().map(|c| c.answer).collect();
    assert_eq!(
        answers,
        vec![
            Some(ConfirmAnswer::Deny),
            Some(ConfirmAnswer::AllowOnce),
            Some(ConfirmAnswer::AlwaysForTool)
        ]
    );
    let states = fixture.recorder.states.lock().unwrap().clone();
    assert!(
        states.contains(&AssistantState::NeedsConfirmation),
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&AssistantState::Idle), "{states:?}");
    assert_eq!(fixture.assistant.status().state, AssistantState::Idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_question_is_a_no() {
    let mut fixture = Fixture::new(Duration::from_secs(1));
    let outcome = fixture
        .assistant
        .run("set a timer for 5 minutes", CancellationToken::new())
        .await
        .unwrap();
    assert!(fixture.prompts.try_recv().is_ok(), "it asked");
    assert!(!outcome.succeeded());
    assert_eq!(fixture.timers(), 0);
    let closed = fixture.recorder.closed.lock().unwrap().clone();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].answer, None, "timed out, not answered");
    assert!(fixture.assistant.confirmations.pending().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_streams_to_the_window_through_the_model() {
    let fixture = Fixture::new(Duration::from_secs(5));
    // Not a template: the real planner model writes this plan.
    fixture
        .assistant
        .submit("what is 17 times 23".into())
        .unwrap();
    // One request at a time: a second is refused while the first runs.
    assert!(fixture.assistant.submit("what time is it".into()).is_err());
    let done = common::wait_for_done(&fixture.recorder, Duration::from_secs(180)).await;
    let RequestUpdate::Done { reply, ok, .. } = done else {
        panic!("failed: {done:?}");
    };
    assert!(ok && reply.contains("391"), "{reply}");
    let updates = fixture.recorder.updates.lock().unwrap().clone();
    let kinds: Vec<&str> = updates
        .iter()
        .map(|u| match u {
            RequestUpdate::Recorded { .. } => "recorded",
            RequestUpdate::Planned { .. } => "planned",
            RequestUpdate::Started { .. } => "started",
            RequestUpdate::Finished { .. } => "finished",
            RequestUpdate::Skipped { .. } => "skipped",
            RequestUpdate::Replanning { .. } => "replanning",
            RequestUpdate::Done { .. } => "done",
            RequestUpdate::Failed { .. } => "failed",
        })
        .collect();
    assert_eq!(kinds.first(), Some(&"recorded"), "{kinds:?}");
    let planned = kinds
        .iter()
        .position(|k| *k == "planned")
        .expect("a planned step");
    let finished = kinds
        .iter()
        .position(|k| *k == "finished")
        .expect("a finished step");
    assert!(planned < finished, "{kinds:?}");
    // Done after the request ended: the next one is accepted.
    tokio::time::sleep(Duration::from_millis(50)).await;
    fixture.assistant.submit("what is 2 plus 2".into()).unwrap();
    fixture.assistant.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_set_to_never_is_refused_without_a_question() {
    let mut fixture = Fixture::new(Duration::from_secs(5));
    let assistant = &fixture.assistant;
    assert!(assistant
        .set_tool_setting("no_such_tool", Some("allow"))
        .await
        .is_err());
    assert!(assistant
        .set_tool_setting("timer_start", Some("sometimes"))
        .await
        .is_err());
    assistant
        .set_tool_setting("timer_start", Some("never"))
        .await
        .unwrap();
    let tools = assistant.tools().await.unwrap();
    let timer = tools.iter().find(|t| t.name == "timer_start").unwrap();
    assert_eq!((timer.setting.as_str(), timer.set_by_user), ("never", true));
    // A setting can decide for it, so the window offers every setting.
    assert_eq!(timer.always_asks, None);
    let outcome = assistant
        .run("set a timer for 5 minutes", CancellationToken::new())
        .await
        .unwrap();
    assert!(!outcome.succeeded());
    assert!(
        fixture.prompts.try_recv().is_err(),
        "never means no question"
    );
    assert_eq!(fixture.timers(), 0);
    // Back to the default for its risk.
    fixture
        .assistant
        .set_tool_setting("timer_start", None)
        .await
        .unwrap();
    let tools = fixture.assistant.tools().await.unwrap();
    let timer = tools.iter().find(|t| t.name == "timer_start").unwrap();
    assert_eq!(
        (timer.setting.as_str(), timer.set_by_user),
        ("ask-first-time", false)
    );
}
