//! Templates against requests: what they take, what they leave to the planner, and learning
//! templates from use.

use proptest::prelude::*;
use serde_json::{json, Value};
use sotto_fastpath::{propose, FastPath, Template};

fn schemas() -> Vec<(&'static str, Value, Vec<&'static str>)> {
    vec![
        (
            "timer_start",
            json!({"type": "object", "properties": {
                "hours": {"type": ["integer", "null"]},
                "minutes": {"type": ["integer", "null"]},
                "seconds": {"type": ["integer", "null"]},
                "label": {"type": ["string", "null"]}}}),
            vec![
                "[set|start] [a|an] timer (for|of) {minutes} (minute|minutes|min|mins)",
                "[set|start] [a|an] timer (for|of) {seconds} (second|seconds)",
                "[set|start] [a|an] {minutes} minute timer",
            ],
        ),
        (
            "volume",
            json!({"type": "object", "properties": {
                "action": {"type": "string", "enum": ["up", "down", "mute", "toggle_mute"]},
                "percent": {"type": ["integer", "null"]}}}),
            vec![
                "[turn] [the] volume {action}",
                "(turn it|turn the sound) {action}",
                "set [the] volume to {percent} [percent|%] {action=\"set\"}",
            ],
        ),
        (
            "convert_units",
            json!({"type": "object", "properties": {
                "value": {"type": "number"},
                "from": {"type": "string", "enum": ["mile", "kilometer", "inch", "nautical_mile", "celsius", "fahrenheit"]},
                "to": {"type": "string", "enum": ["mile", "kilometer", "inch", "nautical_mile", "celsius", "fahrenheit"]}}}),
            vec!["convert {value} {from} (to|into) {to}"],
        ),
        (
            "open_app",
            json!({"type": "object", "properties": {"name": {"type": "string"}}}),
            vec!["(open|start|launch) {name}"],
        ),
        (
            "open_url",
            json!({"type": "object", "properties": {"url": {"type": "string"}}}),
            vec!["(open|go to) {url}"],
        ),
        (
            "lock_screen",
            json!({"type": "object", "properties": {}}),
            vec!["lock [the|my] (screen|computer)"],
        ),
    ]
}

fn fast_path() -> FastPath {
    let tools = schemas();
    let (fast, problems) = FastPath::build(
        tools
            .iter()
            .map(|(name, schema, templates)| (*name, schema, templates.as_slice())),
    );
    assert!(problems.is_empty(), "{problems:?}");
    fast
}

fn check(fast: &FastPath, request: &str, expected: Option<(&str, Value)>) {
    let found = fast.find(request).map(|c| (c.tool, c.args));
    let expected = expected.map(|(tool, args)| (tool.to_string(), args));
    assert_eq!(found, expected, "{request}");
}

#[test]
fn whole_requests_in_the_templates_words_are_taken_with_typed_slots() {
    let fast = fast_path();
    let cases = [
        (
            "set a timer for 10 minutes",
            Some(("timer_start", json!({"minutes": 10}))),
        ),
        (
            "Set a timer for ten minutes.",
            Some(("timer_start", json!({"minutes": 10}))),
        ),
        (
            "timer for twenty five minutes please",
            Some(("timer_start", json!({"minutes": 25}))),
        ),
        (
            "hey sotto set a 5 minute timer",
            Some(("timer_start", json!({"minutes": 5}))),
        ),
        (
            "set a timer for 90 seconds",
            Some(("timer_start", json!({"seconds": 90}))),
        ),
        (
            "turn the volume up",
            Some(("volume", json!({"action": "up"}))),
        ),
        (
            "volume toggle mute",
            Some(("volume", json!({"action": "toggle_mute"}))),
        ),
        ("turn it down", Some(("volume", json!({"action": "down"})))),
        (
            "set the volume to 40 percent",
            Some(("volume", json!({"action": "set", "percent": 40}))),
        ),
        (
            "convert 5 miles to kilometers",
            Some((
                "convert_units",
                json!({"value": 5, "from": "mile", "to": "kilometer"}),
            )),
        ),
        (
            "convert 2.5 nautical miles into kilometers",
            Some((
                "convert_units",
                json!({"value": 2.5, "from": "nautical_mile", "to": "kilometer"}),
            )),
        ),
        (
            "convert 12 inches to kilometers",
            Some((
                "convert_units",
                json!({"value": 12, "from": "inch", "to": "kilometer"}),
            )),
        ),
        (
            "launch Firefox",
            Some(("open_app", json!({"name": "Firefox"}))),
        ),
        (
            "start the Text Editor",
            Some(("open_app", json!({"name": "the Text Editor"}))),
        ),
        ("lock my computer", Some(("lock_screen", json!({})))),
        (
            "go to docs.rs",
            Some(("open_url", json!({"url": "docs.rs"}))),
        ),
    ];
    for (request, expected) in cases {
        check(&fast, request, expected);
    }
}

#[test]
fn anything_not_sure_goes_to_the_planner() {
    let fast = fast_path();
    for request in [
        "",
        "please",
        // More than the template says.
        "set a timer for 10 minutes and turn the volume up",
        "set a timer for ten minutes for the pasta",
        // A slot that is not of its type.
        "set a timer for some minutes",
        "set a timer for 2.5 minutes",
        "turn the volume sideways",
        "convert 5 parsecs to kilometers",
        // Two tools claim it (an app called "a 5 minute timer", or a timer).
        "open firefox",
        "start a 5 minute timer",
        // Text slots take a few words, not a paragraph.
        "start the application that I used yesterday to write the letter to my bank about the mortgage",
        // A text slot never takes a second request joined to the first.
        "launch firefox and set a timer for 10 minutes",
        "launch firefox then lock my computer",
        // A text slot never takes a request of its own (that is a two-step plan).
        "launch lock my computer",
        // Words alone are not a template.
        "lock",
    ] {
        check(&fast, request, None);
    }
}

#[test]
fn bad_templates_are_reported_and_the_rest_still_work() {
    let schema = json!({"type": "object", "properties": {
        "minutes": {"type": "integer"}, "flags": {"type": "array"}}});
    let sources = [
        "set a timer for {minutes} minutes",
        "set a timer for {hours} hours",
        "{minutes}",
        "tag {flags}",
        "set (a| timer",
        "set () timer",
        "x {minutes} y {minutes}",
        "[a|b] [c|d] [e|f] [g|h] [i|j] [k|l] [m|n] [o|p] [q|r]",
    ];
    let (fast, problems) = FastPath::build([("timer_start", &schema, sources.as_slice())]);
    assert_eq!(fast.len(), 1);
    let messages: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(messages.len(), sources.len() - 1, "{messages:#?}");
    for (message, expected) in messages.iter().zip([
        "no argument `hours`",
        "at least one fixed word",
        "cannot be said",
        "missing",
        "an empty choice",
        "appears twice",
        "more than 256 ways",
    ]) {
        assert!(message.contains(expected), "{message} / {expected}");
    }
}

#[test]
fn a_confirmed_call_becomes_a_template_that_reads_back_and_generalises() {
    let schema = json!({"type": "object", "properties": {
        "title": {"type": "string"}, "text": {"type": "string"},
        "minutes": {"type": "integer"}, "label": {"type": "string"},
        "action": {"type": "string", "enum": ["play_pause", "next"]}}});
    let args = |v: Value| v.as_object().unwrap().clone();
    let cases = [
        (
            "add milk to my shopping list",
            json!({"title": "shopping list", "text": "milk"}),
            "add {text} to my {title}",
            "add eggs to my packing list",
            json!({"title": "packing list", "text": "eggs"}),
        ),
        (
            "pasta timer for ten minutes",
            json!({"minutes": 10, "label": "pasta"}),
            "{label} timer for {minutes} minutes",
            "tea timer for 3 minutes",
            json!({"minutes": 3, "label": "tea"}),
        ),
        (
            "skip this song",
            json!({"action": "next"}),
            "skip this song {action=\"next\"}",
            "skip this song",
            json!({"action": "next"}),
        ),
    ];
    for (utterance, call, expected, other, other_args) in cases {
        let template = propose(utterance, &args(call), &schema).unwrap();
        assert_eq!(template, expected);
        let parsed = Template::parse(&template, &schema).unwrap();
        let tokens = sotto_fastpath::Tokens::new(other);
        assert_eq!(parsed.matches(&tokens), Some(args(other_args)), "{other}");
    }
    // Characters that are template syntax are never proposed.
    assert_eq!(
        propose("note (draft) {x}", &args(json!({"text": "x"})), &schema),
        None
    );
}

proptest! {
    /// Whatever the words, a proposal always reads back to the call it came from.
    #[test]
    fn proposals_read_back_exactly(
        words in prop::collection::vec("[a-z]{1,6}", 1..8),
        value_at in 0usize..8,
        minutes in 0u32..500,
    ) {
        let schema = json!({"type": "object", "properties": {
            "text": {"type": "string"}, "minutes": {"type": "integer"}}});
        let mut said = words.clone();
        let at = value_at.min(said.len());
        said.insert(at, minutes.to_string());
        let utterance = said.join(" ");
        let text = words[0].clone();
        let call = json!({"minutes": minutes, "text": text});
        if let Some(template) = propose(&utterance, call.as_object().unwrap(), &schema) {
            let parsed = Template::parse(&template, &schema).unwrap();
            prop_assert_eq!(
                parsed.matches(&sotto_fastpath::Tokens::new(&utterance)),
                Some(call.as_object().unwrap().clone())
            );
        }
    }

    /// No input makes matching panic or take long.
    #[test]
    fn any_request_is_safe_to_match(request in "\\PC{0,200}") {
        let fast = fast_path();
        let _ = fast.find(&request);
    }
}
