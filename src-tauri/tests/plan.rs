//! The planner end to end with the real Qwen2.5-Coder-0.5B model: `sotto plan` and
//! `sotto eval plan` as a person runs them, and clear errors when the worker misbehaves.

mod common;

use common::Fixture;
use serde_json::Value;

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Plain requests whose plans must be exactly right (calls, arguments, graph): one eval
/// run, so the model's prompt is evaluated once. Then the same requests with the planner
/// primed on each request but its last word first (what a partial transcript or typing
/// does): the plans must still be exactly right, and far less prompt left to evaluate.
#[test]
fn requests_get_exactly_the_right_plans() {
    let fixture = Fixture::new().with_planner();
    let set = manifest_dir().join("tests/data/exact-plans.jsonl");
    let set = set.to_str().unwrap();
    let plain = exact_plans(&fixture, &["eval", "plan", set, "--json"]);
    let primed = exact_plans(
        &fixture,
        &["eval", "plan", set, "--json", "--prime-all-but", "1"],
    );
    let evaluated = |case: &Value| {
        case["prompt_tokens"].as_u64().unwrap() - case["cached_prompt_tokens"].as_u64().unwrap()
    };
    let (mut before, mut after) = (0, 0);
    for (plain, primed) in plain.iter().zip(&primed) {
        assert_eq!(plain["id"], primed["id"]);
        if !plain["fast_path"].is_null() {
            continue;
        }
        assert!(
            evaluated(primed) <= evaluated(plain),
            "priming cannot add work: {plain} then {primed}"
        );
        before += evaluated(plain);
        after += evaluated(primed);
    }
    assert!(before > 0, "some requests must go to the model");
    assert!(
        after * 2 < before,
        "primed, the planner evaluated {after} prompt tokens against {before}"
    );
}

/// Runs `sotto eval plan` on the exact-plans set and checks every plan is right; returns
/// the cases' JSON lines.
fn exact_plans(fixture: &Fixture, args: &[&str]) -> Vec<Value> {
    let output = fixture.sotto(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    let lines = json_lines(&output.stdout);
    let cases: Vec<Value> = lines
        .iter()
        .filter(|l| l.get("id").is_some())
        .cloned()
        .collect();
    assert_eq!(cases.len(), 7, "{lines:?}");
    for case in &cases {
        assert_eq!(case["ok"], true, "{args:?}: {case}");
    }
    let summary = &lines.last().unwrap()["summary"];
    let total = summary
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["set"] == "exact-plans")
        .unwrap();
    assert_eq!(total["valid_pct"], 100.0, "{total}");
    assert_eq!(total["success_pct"], 100.0, "{total}");
    cases
}

#[test]
fn plan_prints_json_against_any_function_list() {
    let fixture = Fixture::new().with_planner();
    // BFCL's way of writing functions: `dict`, `float`.
    let tools = fixture.file("tools.json");
    std::fs::write(
        &tools,
        r#"[{"name": "get_weather", "description": "The weather forecast for a city.",
             "parameters": {"type": "dict", "properties": {
                 "city": {"type": "string", "description": "The city."},
                 "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
               "required": ["city"]}},
            {"name": "convert_currency", "description": "Converts an amount of money.",
             "parameters": {"type": "dict", "properties": {
                 "amount": {"type": "float"}, "from": {"type": "string"}, "to": {"type": "string"}},
               "required": ["amount", "from", "to"]}}]"#,
    )
    .unwrap();
    // The model answers BFCL-style lists less reliably than Sotto's own tools (see the BFCL
    // figures in the README), so this checks what the grammar guarantees: whatever it plans,
    // it calls only the listed functions, with arguments of the listed types.
    for request in [
        "what's the weather in Oslo?",
        "how much is 20 euros in dollars?",
    ] {
        let output = fixture.sotto(&[
            "plan",
            "--json",
            "--tools",
            tools.to_str().unwrap(),
            request,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(plan["offered"].as_array().unwrap().len() == 2, "{plan}");
        for step in plan["steps"].as_array().unwrap() {
            match step["tool"].as_str().unwrap() {
                "get_weather" => assert!(step["args"]["city"].is_string(), "{plan}"),
                "convert_currency" => assert!(step["args"]["amount"].is_number(), "{plan}"),
                other => panic!("{other} is not in the list: {plan}"),
            }
        }
        assert!(
            !plan["steps"].as_array().unwrap().is_empty() || plan["reply"].is_string(),
            "{plan}"
        );
    }

    // With Sotto's tools: the documented JSON (planned by the model, not the fast path).
    let output = fixture.sotto(&[
        "plan",
        "--json",
        "--no-fast-path",
        "set a timer for ten minutes",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{plan}");
    assert_eq!(steps[0]["id"], 1);
    assert_eq!(steps[0]["tool"], "timer_start");
    assert_eq!(steps[0]["args"]["minutes"], 10);
    assert_eq!(steps[0]["deps"], Value::Array(vec![]));
    assert!(plan["elapsed_ms"].as_u64().unwrap() > 0);
    assert!(plan["first_step_ms"].as_u64().unwrap() <= plan["elapsed_ms"].as_u64().unwrap());
    assert!(plan["fast_path"].is_null(), "{plan}");
    // The same request on the fast path: the same call, from a template, without the model.
    let output = fixture.sotto(&["plan", "--json", "set a timer for ten minutes"]);
    assert!(output.status.success());
    let fast: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fast["steps"], plan["steps"], "{fast}");
    assert!(
        fast["fast_path"].as_str().unwrap().contains("timer"),
        "{fast}"
    );
    assert_eq!(fast["generated_tokens"], 0, "{fast}");

    // A request no tool serves gives no tool steps.
    let output = fixture.sotto(&["plan", "--json", "book me a flight to Lisbon"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["steps"], Value::Array(vec![]), "{plan}");
    assert!(plan["reply"].is_string(), "{plan}");

    // A bad function list is a clear error.
    std::fs::write(&tools, r#"[{"description": "no name"}]"#).unwrap();
    let output = fixture.sotto(&["plan", "--tools", tools.to_str().unwrap(), "hello"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has no `name`"), "{stderr}");
}

#[test]
fn a_crashed_or_babbling_worker_is_a_clear_error() {
    let fixture = Fixture::new().with_planner();
    // A worker that dies at once, and one that answers with something that is not the
    // protocol: the real worker cannot be made to do either on purpose.
    let dies = fixture.file("dies.sh");
    std::fs::write(&dies, "#!/bin/sh\necho 'out of memory' >&2\nexit 3\n").unwrap();
    let babbles = fixture.file("babbles.sh");
    std::fs::write(
        &babbles,
        "#!/bin/sh\nprintf 'hello, I am not a worker\\n'\nsleep 5\n",
    )
    .unwrap();
    for script in [&dies, &babbles] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let output = fixture
            .command(&["plan", "--no-fast-path", "set a timer for one minute"])
            .env("SOTTO_LM_WORKER", script)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("sotto-lm"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// This package's folder, asked at run time: a shared build cache may hold this test compiled
/// in another checkout, where the compile-time path points.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}
