//! `sotto bench e2e` on two spoken commands with the real models: the figures are there, the
//! baseline really plans without the fast path, the primed session primes the planner while
//! the commands are spoken, and the memory of every process is measured.

mod common;

use common::Fixture;
use serde_json::Value;

#[test]
fn bench_e2e_times_every_stage_against_the_planner_only_baseline() {
    let fixture = Fixture::new().with_planner();
    let output = fixture.sotto(&["bench", "e2e", "--limit", "2", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let configs = json["configs"].as_array().unwrap();
    let names: Vec<&str> = configs
        .iter()
        .map(|c| c["config"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "fast path + planner",
            "planner only",
            "partials, no priming",
            "primed while speaking"
        ],
        "{json}"
    );
    for config in configs {
        assert_eq!(config["utterances"], 2, "{json}");
        let stages = config["stages_ms"].as_array().unwrap();
        let stage = |name: &str| {
            stages
                .iter()
                .find(|s| s["stage"].as_str().unwrap().trim() == name)
                .unwrap_or_else(|| panic!("no stage {name}: {json}"))
        };
        for name in [
            "transcript final",
            "tools retrieved",
            "first step = first tool start",
            "plan complete",
        ] {
            assert_eq!(stage(name)["n"], 2, "{name}: {json}");
            let p50 = stage(name)["p50"].as_f64().unwrap();
            assert!(p50 > 0.0 && p50 < 600_000.0, "{name}: {json}");
        }
        // Stages happen in order.
        let p50 = |name: &str| stage(name)["p50"].as_f64().unwrap();
        assert!(p50("transcript final") <= p50("tools retrieved"), "{json}");
        assert!(
            p50("first step = first tool start") <= p50("plan complete"),
            "{json}"
        );
    }
    // "Set a timer for ten minutes" has a template; the baseline must not use it.
    assert!(configs[0]["fast_path"].as_u64().unwrap() >= 1, "{json}");
    assert_eq!(configs[1]["fast_path"], 0, "{json}");
    // The sessions replayed in real time: only the primed one primes the planner on the
    // partial transcripts while the commands are spoken. (How much of the plan's prompt that
    // saves depends on whether the last words change the retrieved example, which Whisper's
    // partials decide; `plan.rs` checks the saving on fixed text.)
    let primed = |n: usize| configs[n]["prompt_tokens_primed"].as_u64().unwrap();
    assert_eq!(primed(2), 0, "{json}");
    assert!(primed(3) > 0, "{json}");
    assert!(
        json["ready_after_idle_ms"]["primed_session_first_step"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{json}"
    );
    for process in ["sotto", "sotto-asr", "sotto-lm"] {
        assert!(
            json["peak_mb"][process].as_f64().unwrap() > 1.0,
            "{process}: {json}"
        );
    }
    assert!(json["idle_mb"].as_f64().unwrap() > 1.0, "{json}");
    let transcripts = json["transcripts"].as_array().unwrap();
    assert!(
        sotto_e2e::words(transcripts[0]["transcript"].as_str().unwrap()).contains("timer"),
        "{json}"
    );
}
