//! Installed plugins and their tools' grants against a real SQLite file.

use sotto_store::{NewPlugin, Store, ToolSettingValue};

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sotto.db")).await.unwrap();
    (dir, store)
}

fn todo(sha: char) -> NewPlugin {
    NewPlugin {
        id: "todo".into(),
        name: "Todo".into(),
        version: "0.1.0".into(),
        api_version: "0.1.0".into(),
        source: "/src/todo.wasm".into(),
        sha256: sha.to_string().repeat(64),
        tools: vec!["todo_add".into(), "todo_list".into()],
        capabilities: vec![
            ("todo_add".into(), "write:user-folders".into()),
            ("todo_add".into(), "notify".into()),
            ("todo_list".into(), "read:user-folders".into()),
        ],
        folders: vec![("todo_add".into(), "/home/u/Todo".into(), true)],
    }
}

#[tokio::test]
async fn install_records_the_plugin_its_tools_and_their_grants_together() {
    let (_dir, store) = fresh().await;
    assert!(store.plugins().await.unwrap().is_empty());
    store.save_plugin(&todo('a')).await.unwrap();
    let record = store.plugin("todo").await.unwrap().unwrap();
    assert_eq!(record.sha256, "a".repeat(64));
    assert!(record.enabled);
    assert_eq!(record.tools, ["todo_add", "todo_list"]);
    let add = store.tool_grants("todo_add").await.unwrap();
    assert_eq!(add.capabilities, ["notify", "write:user-folders"]);
    assert_eq!(add.folders.len(), 1);
    assert!(add.folders[0].write);
    assert_eq!(
        store.tool_grants("todo_list").await.unwrap().capabilities,
        ["read:user-folders"]
    );
}

#[tokio::test]
async fn an_update_revokes_what_the_new_version_no_longer_declares() {
    let (_dir, store) = fresh().await;
    store.save_plugin(&todo('a')).await.unwrap();
    store
        .set_tool_setting("todo_list", Some(ToolSettingValue::Allow))
        .await
        .unwrap();
    let mut next = todo('b');
    next.version = "0.2.0".into();
    next.tools = vec!["todo_add".into(), "todo_done".into()];
    next.capabilities = vec![
        ("todo_add".into(), "write:user-folders".into()),
        ("todo_done".into(), "write:user-folders".into()),
    ];
    next.folders.clear();
    store.save_plugin(&next).await.unwrap();
    let record = store.plugin("todo").await.unwrap().unwrap();
    assert_eq!(record.version, "0.2.0");
    assert_eq!(record.sha256, "b".repeat(64));
    assert_eq!(record.tools, ["todo_add", "todo_done"]);
    let add = store.tool_grants("todo_add").await.unwrap();
    assert_eq!(
        add.capabilities,
        ["write:user-folders"],
        "notify was dropped"
    );
    assert_eq!(add.folders.len(), 1, "folders the user gave stay");
    let gone = store.tool_grants("todo_list").await.unwrap();
    assert!(gone.setting.is_none() && gone.capabilities.is_empty());
}

#[tokio::test]
async fn a_tool_name_cannot_belong_to_two_plugins() {
    let (_dir, store) = fresh().await;
    store.save_plugin(&todo('a')).await.unwrap();
    let mut thief = todo('c');
    thief.id = "thief".into();
    thief.tools = vec!["todo_add".into()];
    assert!(store.save_plugin(&thief).await.is_err());
    assert!(
        store.plugin("thief").await.unwrap().is_none(),
        "nothing half-written"
    );
    assert_eq!(store.plugins().await.unwrap().len(), 1);
}

#[tokio::test]
async fn disable_enable_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let store = Store::open(&path).await.unwrap();
    store.save_plugin(&todo('a')).await.unwrap();
    assert!(store.set_plugin_enabled("todo", false).await.unwrap());
    assert!(!store.set_plugin_enabled("nope", false).await.unwrap());
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    assert!(!store.plugin("todo").await.unwrap().unwrap().enabled);
    assert!(store.set_plugin_enabled("todo", true).await.unwrap());
    assert!(store.remove_plugin("todo").await.unwrap());
    assert!(!store.remove_plugin("todo").await.unwrap());
    assert!(store.plugins().await.unwrap().is_empty());
    assert!(store.all_tool_grants().await.unwrap().is_empty());
}
