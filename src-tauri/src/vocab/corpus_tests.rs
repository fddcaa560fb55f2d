use serde_json::{json, Value};

use super::*;

fn tool(name: &str, schema: Value, examples: &[(&str, Value)], templates: &[&str]) -> ToolPhrases {
    ToolPhrases {
        tool: name.into(),
        args_schema: schema,
        examples: examples
            .iter()
            .map(|(u, a)| (u.to_string(), a.clone()))
            .collect(),
        templates: templates.iter().map(|t| t.to_string()).collect(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn has(corpus: &[String], sentence: &str) -> bool {
    corpus.iter().any(|s| s == sentence)
}

#[test]
fn a_named_person_in_an_example_becomes_each_contact() {
    let sources = Sources {
        tools: vec![tool(
            "call",
            json!({}),
            &[("call Bob", json!({"name": "Bob"}))],
            &[],
        )],
        contacts: strings(&["Siobhan Murphy"]),
        ..Sources::default()
    };
    let corpus = corpus(&sources);
    for sentence in [
        "call Bob",
        "call Siobhan Murphy",
        "call Siobhan",
        "Siobhan Murphy",
    ] {
        assert!(
            has(&corpus, sentence),
            "{sentence:?} missing from {corpus:?}"
        );
    }
}

#[test]
fn entity_classes_come_from_the_argument_and_for_bare_names_the_tool() {
    let cases: &[(&str, &str, Option<EntityClass>)] = &[
        ("call", "name", Some(EntityClass::Person)),
        ("contact_lookup", "name", Some(EntityClass::Person)),
        ("compose_email", "to", Some(EntityClass::Person)),
        ("compose_email", "cc", Some(EntityClass::Person)),
        ("send_message", "recipient", Some(EntityClass::Person)),
        ("anything", "contact_name", Some(EntityClass::Person)),
        ("open_app", "name", Some(EntityClass::App)),
        ("anything", "application", Some(EntityClass::App)),
        ("note_read", "title", Some(EntityClass::Note)),
        ("anything", "note", Some(EntityClass::Note)),
        ("find_files", "name", None),
        ("calendar_add", "title", None),
        ("timer_start", "label", None),
        ("convert_units", "total", None),
        ("web_search", "query", None),
    ];
    for &(tool, key, expected) in cases {
        assert_eq!(entity_class(tool, key), expected, "{tool}.{key}");
    }
}

#[test]
fn replacing_said_words_keeps_punctuation_and_possessives() {
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        (
            "call Bob",
            "Bob",
            "Siobhan Murphy",
            Some("call Siobhan Murphy"),
        ),
        (
            "what's Anna's email address",
            "Anna",
            "Aoife",
            Some("what's Aoife's email address"),
        ),
        (
            "phone number of Bob Smith?",
            "bob smith",
            "Ngozi Okafor",
            Some("phone number of Ngozi Okafor?"),
        ),
        ("open firefox", "firefox", "GIMP", Some("open GIMP")),
        (
            "email anna@example.org about it",
            "anna@example.org",
            "Tadhg",
            Some("email Tadhg about it"),
        ),
        // Whole words only.
        ("how many kilometers", "kilometer", "Bob", None),
        ("call Bobby", "Bob", "X", None),
        ("call Bob", "", "X", None),
    ];
    // Case folding that changes lengths, lone marks, empty words: no panic, whatever the text.
    for text in [
        "İstanbul's",
        "ß'S ẞ",
        "’s",
        "'",
        "ǅ’S",
        "a\u{301}'s",
        "  ",
        "x's's",
    ] {
        for said in ["i̇stanbul", "ß", "", "ǆ", "a\u{301}", "x's"] {
            let _ = replace_words(text, said, "Zoë");
        }
    }
    for &(utterance, said, with, expected) in cases {
        assert_eq!(
            replace_words(utterance, said, with).as_deref(),
            expected,
            "{utterance:?} {said:?}"
        );
    }
}

#[test]
fn arguments_with_fixed_values_or_outside_the_utterance_are_not_slots() {
    let schema = json!({"type": "object", "properties": {
        "to": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "name": {"type": "string"},
    }});
    let sources = Sources {
        tools: vec![tool(
            "convert",
            schema,
            &[
                (
                    "convert 350 fahrenheit to celsius",
                    json!({"to": "celsius"}),
                ),
                ("ring them", json!({"name": "Bob"})),
            ],
            &[],
        )],
        contacts: strings(&["Siobhan Murphy"]),
        ..Sources::default()
    };
    let corpus = corpus(&sources);
    assert!(
        !corpus
            .iter()
            .any(|s| s.contains("Siobhan") && s != "Siobhan Murphy"),
        "{corpus:?}"
    );
}

#[test]
fn templates_are_said_with_entities_schema_values_and_example_numbers() {
    let apps = tool(
        "open_app",
        json!({"type": "object", "properties": {"name": {"type": "string"}}}),
        &[("open firefox", json!({"name": "firefox"}))],
        &["(start|launch) [the] {name}"],
    );
    let volume = tool(
        "volume",
        json!({"type": "object", "properties": {
            "action": {"type": "string", "enum": ["up", "down", "set"]},
            "percent": {"type": "integer"},
        }}),
        &[(
            "set the volume to 30 percent",
            json!({"action": "set", "percent": 30}),
        )],
        &[
            "turn it {action}",
            "set volume to {percent} percent {action=set}",
        ],
    );
    let search = tool(
        "note_search",
        json!({"type": "object", "properties": {"query": {"type": "string"}}}),
        &[],
        &["search my notes for {query}"],
    );
    let sources = Sources {
        tools: vec![apps, volume, search],
        apps: strings(&["Inkscape", "LibreOffice Writer"]),
        ..Sources::default()
    };
    let corpus = corpus(&sources);
    for sentence in [
        "start Inkscape",
        "launch the LibreOffice Writer",
        "turn it up",
        "turn it down",
        "set volume to 30 percent",
    ] {
        assert!(
            has(&corpus, sentence),
            "{sentence:?} missing from {corpus:?}"
        );
    }
    // Nothing fills `{query}`: the template gives no sentence.
    assert!(
        !corpus.iter().any(|s| s.starts_with("search my notes")),
        "{corpus:?}"
    );
}

#[test]
fn custom_words_repeat_and_history_follows() {
    let sources = Sources {
        custom: strings(&["Kubernetes", " "]),
        history: strings(&["open the kitchen renovation note"]),
        note_titles: strings(&["kitchen renovation"]),
        ..Sources::default()
    };
    assert_eq!(
        corpus(&sources),
        [
            "kitchen renovation",
            "Kubernetes",
            "Kubernetes",
            "Kubernetes",
            "open the kitchen renovation note"
        ]
    );
}

#[test]
fn generated_sentences_are_capped_by_even_deterministic_sampling() {
    let contacts: Vec<String> = (0..30_000).map(|i| format!("Person{i}")).collect();
    let sources = Sources {
        tools: vec![tool(
            "call",
            json!({}),
            &[("call Bob", json!({"name": "Bob"}))],
            &[],
        )],
        contacts,
        ..Sources::default()
    };
    let first = corpus(&sources);
    assert_eq!(first, corpus(&sources));
    let generated = first.iter().filter(|s| s.starts_with("call ")).count();
    // The example itself, then at most the cap.
    assert_eq!(generated, 1 + MAX_GENERATED);
    // Spread over the whole list, not its start.
    assert!(
        has(&first, "call Person29998"),
        "the end of the list is sampled too"
    );
    let indices: Vec<usize> = even_indices(10, 4).collect();
    assert_eq!(indices, [0, 2, 5, 7]);
    assert_eq!(even_indices(3, 4).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn the_real_tools_give_sentences_with_the_users_entities() {
    let mut registry = sotto_tools::Registry::new();
    sotto_builtins::register_all(&mut registry).unwrap();
    let manifests: Vec<_> = registry.manifests().cloned().collect();
    let mut sources = Sources::from_manifests(&manifests);
    sources.contacts = strings(&["Siobhan Murphy"]);
    sources.apps = strings(&["Inkscape"]);
    sources.note_titles = strings(&["quarterly roadmap"]);
    let corpus = corpus(&sources);
    for wanted in ["Siobhan Murphy", "Inkscape", "quarterly roadmap"] {
        let uses = corpus
            .iter()
            .filter(|s| s.contains(wanted) && s.as_str() != wanted)
            .count();
        assert!(
            uses >= 2,
            "{wanted} is in {uses} sentences besides itself: {corpus:#?}"
        );
    }
    assert!(corpus.len() > sources.tool_examples(), "{}", corpus.len());
}
