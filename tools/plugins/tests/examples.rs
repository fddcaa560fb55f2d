//! The example plugins, built to wasm32-wasip2 and run through the host the way the executor
//! runs any tool: the registry validates, the context comes from the grants, `Tool::call`.

mod support;

use serde_json::json;
use sotto_plugins::{LoadError, SUPPORTED_API};
use sotto_tools::{Capability, DirScope, Registry, Risk, ToolError, ToolSource};
use support::{host, wasm, Setup};

fn registry_of(plugin: &sotto_plugins::Plugin) -> Registry {
    let mut registry = Registry::new();
    for tool in plugin.tools() {
        registry.register(tool).unwrap();
    }
    registry
}

#[tokio::test]
async fn todo_adds_lists_and_completes_in_the_granted_folder() {
    let (host, _) = host();
    let plugin = host.load(&wasm("sotto-plugin-todo")).unwrap();
    let meta = plugin.meta();
    assert_eq!(meta.id, "todo");
    assert_eq!(meta.api_version, "0.1.0");
    assert_eq!(meta.sha256.len(), 64);
    assert_eq!(
        plugin.capabilities(),
        vec![
            Capability::ReadDir(DirScope::UserFolders),
            Capability::WriteDir(DirScope::UserFolders)
        ]
    );
    let registry = registry_of(&plugin);
    let add = registry.get("todo_add").unwrap().clone();
    assert_eq!(add.risk, Risk::ChangesLocalData);
    assert_eq!(add.source, ToolSource::Plugin { id: "todo".into() });
    assert!(!add.examples.is_empty());

    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("todo.txt"), "(B) water plants +garden\n").unwrap();
    let setup = Setup::new().folder(folder.path(), true);
    let run = |name: &str, args: serde_json::Value| {
        let call = registry.validate(name, args).unwrap();
        let context = setup.context(call.manifest());
        let tool = plugin.tool(name).unwrap();
        async move { sotto_tools::Tool::call(&*tool, call.args(), &context).await }
    };

    let added = run(
        "todo_add",
        json!({"text": "call mum @phone", "priority": "A", "due": "2026-12-01"}),
    )
    .await
    .unwrap();
    assert_eq!(added.value["number"], 2);
    assert_eq!(added.summary, "Added task 2: call mum @phone.");
    let file = std::fs::read_to_string(folder.path().join("todo.txt")).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines[0], "(B) water plants +garden");
    assert!(lines[1].starts_with("(A) 20"), "{file}");
    assert!(
        lines[1].ends_with(" call mum @phone due:2026-12-01"),
        "{file}"
    );

    let listed = run("todo_list", json!({})).await.unwrap();
    let texts: Vec<&str> = listed.value["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["call mum @phone", "water plants +garden"],
        "priority A first"
    );

    run("todo_done", json!({"number": 1})).await.unwrap();
    let open = run("todo_list", json!({})).await.unwrap();
    assert_eq!(open.value["tasks"].as_array().unwrap().len(), 1);
    let garden = run(
        "todo_list",
        json!({"include_done": true, "matching": "+GARDEN"}),
    )
    .await
    .unwrap();
    assert_eq!(garden.value["tasks"][0]["done"], true);

    let missing = run("todo_done", json!({"number": 9})).await.unwrap_err();
    assert!(
        matches!(&missing, ToolError::Refused(m) if m.contains("no open task 9")),
        "{missing}"
    );
    // A bad date passes the schema (a string) but not the tool.
    let bad = run("todo_add", json!({"text": "x", "due": "tomorrow"}))
        .await
        .unwrap_err();
    assert!(matches!(bad, ToolError::InvalidArgs { .. }), "{bad}");
}

#[tokio::test]
async fn todo_without_a_granted_folder_names_the_capability() {
    let (host, _) = host();
    let plugin = host.load(&wasm("sotto-plugin-todo")).unwrap();
    let tool = plugin.tool("todo_list").unwrap();
    let context = Setup::new().context(sotto_tools::Tool::manifest(&*tool));
    let error = sotto_tools::Tool::call(&*tool, &json!({}), &context)
        .await
        .unwrap_err();
    match error {
        ToolError::MissingCapability { key, .. } => assert_eq!(key, "read:user-folders"),
        other => panic!("expected a named denial, got {other}"),
    }

    // Granted read-only: listing works, adding is denied with the write capability named.
    let folder = tempfile::tempdir().unwrap();
    let setup = Setup::new().folder(folder.path(), false);
    let add = plugin.tool("todo_add").unwrap();
    let context = setup.context(sotto_tools::Tool::manifest(&*add));
    let error = sotto_tools::Tool::call(&*add, &json!({"text": "x"}), &context)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ToolError::MissingCapability { key, .. } if key == "write:user-folders"),
        "{error}"
    );
    assert!(!folder.path().join("todo.txt").exists());
}

#[tokio::test]
async fn converter_converts_units_and_currency_from_the_local_rates_file() {
    let (host, _) = host();
    let plugin = host.load(&wasm("sotto-plugin-convert")).unwrap();
    let registry = registry_of(&plugin);
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("rates.txt"),
        "# from the bank, 2026-11-27\nbase EUR\nUSD 1.25\nGBP 0.80\n",
    )
    .unwrap();
    let setup = Setup::new().folder(folder.path(), false);
    let call = |name: &str, args: serde_json::Value| {
        let call = registry.validate(name, args).unwrap();
        let context = setup.context(call.manifest());
        let tool = plugin.tool(name).unwrap();
        async move { sotto_tools::Tool::call(&*tool, call.args(), &context).await }
    };

    let miles = call(
        "convert_quantity",
        json!({"value": 26.2, "from": "mile", "to": "km"}),
    )
    .await
    .unwrap();
    assert!((miles.value["value"].as_f64().unwrap() - 42.1648128).abs() < 1e-9);
    assert_eq!(miles.summary, "26.2 mile is 42.1648 km.");
    let oven = call(
        "convert_quantity",
        json!({"value": 350, "from": "°F", "to": "°C"}),
    )
    .await
    .unwrap();
    assert!((oven.value["value"].as_f64().unwrap() - 176.666_666_7).abs() < 1e-6);
    let apples = call(
        "convert_quantity",
        json!({"value": 1, "from": "kg", "to": "km"}),
    )
    .await;
    assert!(matches!(apples, Err(ToolError::Refused(m)) if m.contains("different")));

    let money = call(
        "convert_currency",
        json!({"amount": 20, "from": "gbp", "to": "USD"}),
    )
    .await
    .unwrap();
    assert_eq!(money.value["amount"], 31.25);
    assert_eq!(money.value["currency"], "USD");
    assert_eq!(money.summary, "20 GBP is 31.25 USD.");
    let yen = call(
        "convert_currency",
        json!({"amount": 1, "from": "EUR", "to": "JPY"}),
    )
    .await;
    assert!(matches!(yen, Err(ToolError::Refused(m)) if m.contains("JPY")));

    // Units need no grant at all; currency without its folder is a named denial.
    let bare = Setup::new();
    let units = plugin.tool("convert_quantity").unwrap();
    let context = bare.context(sotto_tools::Tool::manifest(&*units));
    assert!(sotto_tools::Tool::call(
        &*units,
        &json!({"value": 1, "from": "kg", "to": "lb"}),
        &context
    )
    .await
    .is_ok());
    let currency = plugin.tool("convert_currency").unwrap();
    let context = bare.context(sotto_tools::Tool::manifest(&*currency));
    let denied = sotto_tools::Tool::call(
        &*currency,
        &json!({"amount": 1, "from": "EUR", "to": "USD"}),
        &context,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(denied, ToolError::MissingCapability { .. }),
        "{denied}"
    );
}

#[tokio::test]
async fn journal_writes_markdown_in_its_own_data_folder() {
    let (host, _) = host();
    let plugin = host.load(&wasm("sotto-plugin-journal")).unwrap();
    let registry = registry_of(&plugin);
    let write = registry.get("journal_write").unwrap().clone();
    let read = registry.get("journal_read").unwrap().clone();
    // The plugin's folder is a prefixed Sotto data folder, never one of Sotto's own.
    assert_eq!(
        write.capabilities,
        vec![Capability::WriteDir(DirScope::Sotto {
            folder: "plugin-journal-journal".into()
        })]
    );
    let setup = Setup::new().grant_all(&write).grant_all(&read);
    let tool = plugin.tool("journal_write").unwrap();
    for text in ["fixed the   bike brakes", "rode to the lake"] {
        let args = json!({"text": text, "date": "2026-03-03"});
        let call = registry.validate("journal_write", args).unwrap();
        let out = sotto_tools::Tool::call(&*tool, call.args(), &setup.context(&write))
            .await
            .unwrap();
        assert_eq!(out.value["date"], "2026-03-03");
    }
    let file = setup
        .data
        .path()
        .join("plugin-journal-journal/2026-03-03.md");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# 2026-03-03\n\n- "), "{text}");
    assert!(text.contains(" fixed the bike brakes\n"), "{text}");
    assert_eq!(text.matches("# 2026").count(), 1, "one heading per day");

    let reader = plugin.tool("journal_read").unwrap();
    let day = sotto_tools::Tool::call(
        &*reader,
        &json!({"date": "2026-03-03"}),
        &setup.context(&read),
    )
    .await
    .unwrap();
    let entries = day.value["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[1].as_str().unwrap().ends_with("rode to the lake"));
    assert_eq!(day.summary, "2 entries for 2026-03-03.");
    let empty = sotto_tools::Tool::call(
        &*reader,
        &json!({"date": "2026-03-04"}),
        &setup.context(&read),
    )
    .await
    .unwrap();
    assert_eq!(empty.value["entries"], json!([]));

    // Read granted, write not: the write is denied by name and nothing is written.
    let read_only = Setup::new().grant_all(&read);
    let denied = sotto_tools::Tool::call(&*tool, &json!({"text": "x"}), &read_only.context(&write))
        .await
        .unwrap_err();
    assert!(
        matches!(&denied, ToolError::MissingCapability { key, .. } if key == "write:sotto/plugin-journal-journal"),
        "{denied}"
    );
}

#[test]
fn the_template_loads_and_garbage_does_not() {
    let (host, _) = host();
    let plugin = host.load(&wasm("sotto-plugin-template")).unwrap();
    assert_eq!(plugin.meta().id, "template");
    assert!(SUPPORTED_API.contains("0.1.0"));

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm not really").unwrap();
    assert!(matches!(
        host.load(&garbage),
        Err(LoadError::NotAComponent { .. })
    ));
    assert!(matches!(
        host.load(&dir.path().join("missing.wasm")),
        Err(LoadError::Read { .. })
    ));
}
