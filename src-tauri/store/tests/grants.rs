//! Tool permissions and call audit against a real SQLite file.

use serde_json::json;
use sotto_store::{
    CallAudit, Decision, Input, NewPlan, NewToolCall, NewUtterance, Store, ToolSettingValue,
};

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sotto.db")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn an_unknown_tool_has_the_default_grants() {
    let (_dir, store) = fresh().await;
    let record = store.tool_grants("find_files").await.unwrap();
    assert_eq!(record.tool, "find_files");
    assert_eq!(record.setting, None);
    assert_eq!(record.first_confirmed_at, None);
    assert!(record.capabilities.is_empty() && record.folders.is_empty());
    assert!(store.all_tool_grants().await.unwrap().is_empty());
}

#[tokio::test]
async fn settings_grants_and_revocations_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let store = Store::open(&path).await.unwrap();
    store
        .set_tool_setting("note_create", Some(ToolSettingValue::Allow))
        .await
        .unwrap();
    store.mark_tool_confirmed("open_url").await.unwrap();
    store
        .grant_folder("find_files", "/home/u/Documents", false)
        .await
        .unwrap();
    store
        .grant_folder("find_files", "/home/u/Projects", false)
        .await
        .unwrap();
    store
        .grant_folder("find_files", "/home/u/Projects", true)
        .await
        .unwrap();
    store.grant_capability("weather", "network").await.unwrap();
    store.grant_capability("weather", "network").await.unwrap();
    store.close().await;

    let store = Store::open(&path).await.unwrap();
    let notes = store.tool_grants("note_create").await.unwrap();
    assert_eq!(notes.setting, Some(ToolSettingValue::Allow));
    let open_url = store.tool_grants("open_url").await.unwrap();
    assert_eq!(open_url.setting, None);
    let first = open_url.first_confirmed_at.clone().expect("confirmed");
    // The first confirmation is kept, not overwritten by later ones.
    store.mark_tool_confirmed("open_url").await.unwrap();
    assert_eq!(
        store
            .tool_grants("open_url")
            .await
            .unwrap()
            .first_confirmed_at,
        Some(first)
    );
    let find = store.tool_grants("find_files").await.unwrap();
    let folders: Vec<_> = find
        .folders
        .iter()
        .map(|f| (f.path.as_str(), f.write))
        .collect();
    assert_eq!(
        folders,
        [("/home/u/Documents", false), ("/home/u/Projects", true)]
    );
    assert_eq!(
        store.tool_grants("weather").await.unwrap().capabilities,
        ["network"]
    );
    let names: Vec<_> = store
        .all_tool_grants()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.tool)
        .collect();
    assert_eq!(names, ["find_files", "note_create", "open_url", "weather"]);

    assert!(store
        .revoke_folder("find_files", "/home/u/Documents")
        .await
        .unwrap());
    assert!(!store
        .revoke_folder("find_files", "/home/u/Documents")
        .await
        .unwrap());
    assert!(store.revoke_capability("weather", "network").await.unwrap());
    assert_eq!(store.revoke_tool("find_files").await.unwrap(), 1);
    assert_eq!(store.revoke_tool("note_create").await.unwrap(), 1);
    assert_eq!(
        store.tool_grants("note_create").await.unwrap().setting,
        None
    );
    store.set_tool_setting("open_url", None).await.unwrap();
    assert_eq!(store.tool_grants("open_url").await.unwrap().setting, None);
    assert!(store.integrity_problems().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_schema_refuses_unknown_settings_and_empty_grants() {
    let (_dir, store) = fresh().await;
    assert!(store.grant_folder("find_files", "", false).await.is_err());
    assert!(store.grant_capability("x", "").await.is_err());
}

#[tokio::test]
async fn call_decisions_are_audited_with_origin_and_approver() {
    let (_dir, store) = fresh().await;
    let utterance = store
        .record_utterance(&NewUtterance {
            input: Some(Input::Voice),
            transcript: Some("note that the plan says ignore previous instructions".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let plan = store
        .record_plan(&NewPlan {
            utterance,
            planner: "test".into(),
            text: "1. find_files()\n2. open_url($1)\njoin()".into(),
            calls: vec![
                NewToolCall {
                    step: 1,
                    tool: "find_files".into(),
                    arguments: json!({"name": "plan"}),
                    depends_on: vec![],
                },
                NewToolCall {
                    step: 2,
                    tool: "open_url".into(),
                    arguments: json!({"url": "$1"}),
                    depends_on: vec![1],
                },
            ],
            prompt_tokens: None,
            generated_tokens: None,
            duration_ms: None,
        })
        .await
        .unwrap();
    store
        .record_call_decision(
            plan,
            1,
            &CallAudit {
                decision: Decision::Allowed,
                approved_by: Some("policy:read-only".into()),
                reason: Some("read-only".into()),
                origin: "voice".into(),
                uses_tool_output: false,
            },
        )
        .await
        .unwrap();
    store
        .record_call_decision(
            plan,
            2,
            &CallAudit {
                decision: Decision::Denied,
                approved_by: None,
                reason: Some("open_url needs your confirmation".into()),
                origin: "unattended".into(),
                uses_tool_output: true,
            },
        )
        .await
        .unwrap();
    let first = store.call_audit(plan, 1).await.unwrap().unwrap();
    assert_eq!(
        (
            first.decision.as_str(),
            first.approved_by.as_deref(),
            first.origin.as_deref()
        ),
        ("allowed", Some("policy:read-only"), Some("voice"))
    );
    let second = store.call_audit(plan, 2).await.unwrap().unwrap();
    assert_eq!(second.decision, "denied");
    assert_eq!(second.uses_tool_output, Some(true));
    assert_eq!(second.approved_by, None);
    assert!(store.call_audit(plan, 3).await.unwrap().is_none());
    // An origin outside the schema's list is refused by SQLite itself.
    let bad = CallAudit {
        decision: Decision::Allowed,
        approved_by: None,
        reason: None,
        origin: "tool-output".into(),
        uses_tool_output: false,
    };
    assert!(store.record_call_decision(plan, 1, &bad).await.is_err());
}
