//! A crash mid-write must leave a consistent database and keep every committed row.
//!
//! The test re-runs its own binary as a writer process (the `writer_child` test, which does
//! nothing unless `SOTTO_CRASH_DB` is set), lets it commit plans in a tight loop, kills it
//! with SIGKILL at an arbitrary moment, and then checks the file: SQLite's integrity check,
//! foreign keys, every plan having exactly the calls it declares, and every row the writer
//! reported as committed still being there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use sotto_store::{Input, NewPlan, NewToolCall, NewUtterance, Store};

const DB_VAR: &str = "SOTTO_CRASH_DB";

#[tokio::test]
async fn writer_child() {
    let Some(path) = std::env::var_os(DB_VAR) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&path)).await.unwrap();
    for i in 0u64.. {
        let utterance = store
            .record_utterance(&NewUtterance {
                input: Some(Input::Voice),
                transcript: Some(format!("utterance {i} {}", "words ".repeat(50))),
                ..Default::default()
            })
            .await
            .unwrap();
        let steps = (i % 7 + 1) as i64;
        let calls = (1..=steps)
            .map(|step| NewToolCall {
                step,
                tool: format!("tool_{step}"),
                arguments: serde_json::json!({ "payload": "x".repeat(2000), "i": i }),
                depends_on: (1..step).collect(),
            })
            .collect();
        store
            .record_plan(&NewPlan {
                utterance,
                planner: "crash-test".into(),
                text: format!("plan {i}"),
                calls,
                prompt_tokens: None,
                generated_tokens: None,
                duration_ms: None,
            })
            .await
            .unwrap();
        println!("committed {}", utterance.0);
    }
}

#[tokio::test]
async fn killing_a_writer_mid_write_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sotto.db");
    let exe = std::env::current_exe().unwrap();
    let mut last_committed = 0i64;
    for round in 0..6u64 {
        let mut child = Command::new(&exe)
            .args(["writer_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(DB_VAR, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        // Let it get going, then kill it after a varying number of commits so the kill lands
        // at different points of a transaction.
        let wanted = 20 + round * 13;
        let mut seen = 0;
        let mut lines = stdout.lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(id) = line.strip_prefix("committed ") {
                last_committed = id.parse().unwrap();
                seen += 1;
                if seen == wanted {
                    break;
                }
            }
        }
        assert_eq!(seen, wanted, "writer stopped early in round {round}");
        std::thread::sleep(Duration::from_micros(round * 700));
        child.kill().unwrap(); // SIGKILL: no destructors, no checkpoint
        child.wait().unwrap();
        // Rows the writer printed after our last read still count as committed.
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("committed ") {
                last_committed = id.parse().unwrap();
            }
        }

        let store = Store::open(&db).await.unwrap();
        assert_eq!(
            store.integrity_problems().await.unwrap(),
            Vec::<String>::new()
        );
        let history = store.history(i64::MAX, None).await.unwrap();
        let newest = history.first().map(|e| e.id.0).unwrap_or(0);
        assert!(
            newest >= last_committed,
            "round {round}: writer reported {last_committed} committed, database ends at {newest}"
        );
        for entry in &history {
            let detail = store.utterance(entry.id).await.unwrap();
            for plan in &detail.plans {
                assert_eq!(
                    plan.calls.len() as i64,
                    plan.step_count,
                    "round {round}: plan {:?} was torn",
                    plan.id
                );
            }
        }
        store.close().await;
    }
}
