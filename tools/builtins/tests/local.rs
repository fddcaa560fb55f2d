//! The tools that stay on the machine, for real against a throwaway data folder: date and
//! time, calculator, units, notes, timers; plus the registry facts every built-in must meet.

mod support;

use serde_json::json;
use sotto_tools::ToolError;
use support::World;

#[test]
fn every_builtin_has_a_sound_manifest() {
    let world = World::new();
    assert!(world.registry.len() >= 17, "{}", world.registry.len());
    for manifest in world.registry.manifests() {
        let name = &manifest.name;
        assert!(manifest.examples.len() >= 3, "{name}: few examples");
        let mut utterances: Vec<_> = manifest.examples.iter().map(|e| &e.utterance).collect();
        utterances.dedup();
        assert_eq!(utterances.len(), manifest.examples.len(), "{name}");
        assert!(!manifest.description.is_empty(), "{name}");
        assert_eq!(manifest.args_schema["type"], "object", "{name}");
        assert_eq!(
            manifest.args_schema["additionalProperties"],
            json!(false),
            "{name}: unknown arguments must be refused"
        );
        assert!(!manifest.args_schema.to_string().contains("$ref"), "{name}");
    }
}

#[tokio::test]
async fn date_time_here_and_in_a_named_zone() {
    let world = World::new();
    let tokyo = world
        .call("date_time", json!({"timezone": "Asia/Tokyo"}))
        .await
        .unwrap();
    assert_eq!(tokyo.value["timezone"], "Asia/Tokyo");
    assert_eq!(tokyo.value["utc_offset"], "+09:00");
    let unix = tokyo.value["unix_seconds"].as_i64().unwrap();
    let system_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((system_now - unix).abs() < 5);
    assert!(tokyo.summary.contains("Asia/Tokyo"), "{}", tokyo.summary);
    let local = world.call("date_time", json!({})).await.unwrap();
    assert_eq!(local.value["date"].as_str().unwrap().len(), 10);
    let err = world
        .call("date_time", json!({"timezone": "Mars/Olympus"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Mars/Olympus"), "{err}");
}

#[tokio::test]
async fn calculator_and_units() {
    let world = World::new();
    let out = world
        .call("calculator", json!({"expression": "1200 / 7 + 3"}))
        .await
        .unwrap();
    assert_eq!(out.value["text"], "174.4285714");
    assert_eq!(out.summary, "1200 / 7 + 3 = 174.4285714");
    let err = world
        .call("calculator", json!({"expression": "1/0"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Refused(_)), "{err}");

    let out = world
        .call(
            "convert_units",
            json!({"value": 5, "from": "mile", "to": "kilometer"}),
        )
        .await
        .unwrap();
    assert_eq!(out.value["result"], 8.04672);
    assert_eq!(out.summary, "5 mile = 8.04672 kilometer");
    // A unit the schema does not know is refused before the tool runs, naming the field.
    let err = world
        .call(
            "convert_units",
            json!({"value": 5, "from": "furlong", "to": "meter"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`/from`"), "{err}");
    let err = world
        .call(
            "convert_units",
            json!({"value": 1, "from": "kilogram", "to": "liter"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("mass"), "{err}");
}

#[tokio::test]
async fn notes_create_append_read_list_search() {
    let world = World::new();
    let out = world
        .call(
            "note_create",
            json!({"title": "Shopping List", "text": "milk\neggs"}),
        )
        .await
        .unwrap();
    let path = world.data().join("notes/shopping-list.md");
    assert_eq!(out.value["path"], path.display().to_string());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# Shopping List\n\nmilk\neggs\n"
    );
    let again = world
        .call(
            "note_create",
            json!({"title": "shopping list", "text": "x"}),
        )
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    let out = world
        .call(
            "note_append",
            json!({"title": "shopping list", "text": "flour"}),
        )
        .await
        .unwrap();
    assert_eq!(out.value["created"], false);
    let out = world
        .call(
            "note_append",
            json!({"title": "Todo", "text": "call the plumber"}),
        )
        .await
        .unwrap();
    assert_eq!(out.value["created"], true);
    world
        .call(
            "note_create",
            json!({"title": "Garden ideas", "text": "Plant tulips near the shed."}),
        )
        .await
        .unwrap();

    let read = world
        .call("note_read", json!({"title": "shopping"}))
        .await
        .unwrap();
    assert_eq!(read.value["title"], "Shopping List");
    assert_eq!(read.value["text"], "milk\neggs\nflour");
    let todo = world
        .call("note_read", json!({"title": "todo"}))
        .await
        .unwrap();
    assert_eq!(todo.value["text"], "call the plumber");
    let missing = world
        .call("note_read", json!({"title": "diary"}))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("no note called \"diary\""),
        "{missing}"
    );

    let list = world.call("note_list", json!({})).await.unwrap();
    let mut titles: Vec<_> = list.value["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Garden ideas", "Shopping List", "Todo"]);

    let found = world
        .call("note_search", json!({"query": "TULIPS"}))
        .await
        .unwrap();
    assert_eq!(
        found.value["matches"],
        json!([{"title": "Garden ideas", "line": "Plant tulips near the shed."}])
    );
    let none = world
        .call("note_search", json!({"query": "dentist"}))
        .await
        .unwrap();
    assert_eq!(none.value["matches"], json!([]));
}

#[tokio::test]
async fn ambiguous_note_titles_are_not_guessed() {
    let world = World::new();
    for title in ["work plan", "holiday plan"] {
        world
            .call("note_create", json!({"title": title, "text": "x"}))
            .await
            .unwrap();
    }
    let err = world
        .call("note_read", json!({"title": "plan"}))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("\"work plan\"") && text.contains("\"holiday plan\""),
        "{text}"
    );
}

#[tokio::test]
async fn timers_survive_a_restart_and_cancel() {
    let world = World::new();
    let started = world
        .call("timer_start", json!({"minutes": 10, "label": "pasta"}))
        .await
        .unwrap();
    assert_eq!(started.value["id"], 1);
    assert_eq!(started.summary, "Started the pasta timer for 10 minutes.");
    let remaining = started.value["remaining_seconds"].as_u64().unwrap();
    assert!((598..=600).contains(&remaining), "{remaining}");
    world
        .call("timer_start", json!({"hours": 1, "seconds": 5}))
        .await
        .unwrap();

    // "Restart": a fresh registry and context over the same data folder.
    let after = World {
        base: world.base,
        registry: {
            let mut r = sotto_tools::Registry::new();
            sotto_builtins::register_all(&mut r).unwrap();
            r
        },
    };
    let list = after.call("timer_list", json!({})).await.unwrap();
    let timers = list.value["timers"].as_array().unwrap();
    assert_eq!(timers.len(), 2);
    assert_eq!(timers[0]["label"], "pasta");
    assert_eq!(timers[1]["id"], 2);
    assert!(
        list.summary.contains("the pasta timer has 9 minutes"),
        "{}",
        list.summary
    );

    let files: Vec<_> = std::fs::read_dir(after.data().join("timers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");

    let cancelled = after
        .call("timer_cancel", json!({"label": "PASTA"}))
        .await
        .unwrap();
    assert_eq!(cancelled.value["cancelled"], json!([1]));
    let err = after
        .call("timer_cancel", json!({"id": 1}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no running timer"), "{err}");
    let err = after.call("timer_start", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("needs a length"), "{err}");
    let err = after
        .call("timer_start", json!({"minutes": -5}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`/minutes`"), "{err}");
    // A new timer takes the next free number, never a cancelled one still in use elsewhere.
    let next = after
        .call("timer_start", json!({"seconds": 30}))
        .await
        .unwrap();
    assert_eq!(next.value["id"], 3);
    after
        .call("timer_cancel", json!({"all": true}))
        .await
        .unwrap();
    let list = after.call("timer_list", json!({})).await.unwrap();
    assert_eq!(list.summary, "No timers are running.");
}

#[tokio::test]
async fn due_timers_are_found_for_the_notifier() {
    let world = World::new();
    let dir = sotto_sandbox::ScopedDir::create(&world.data().join("timers")).unwrap();
    let book = sotto_builtins::TimerBook::new(&dir);
    let now = jiff::Timestamp::now();
    let soon = book.add(Some("tea".into()), 1, now).unwrap();
    book.add(None, 3600, now).unwrap();
    let later = now + jiff::SignedDuration::from_secs(2);
    assert_eq!(book.due(later).unwrap(), vec![soon]);
    // A damaged file is skipped, not fatal.
    std::fs::write(world.data().join("timers/99.json"), "{ broken").unwrap();
    assert_eq!(book.list().unwrap().len(), 2);
}
