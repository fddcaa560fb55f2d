//! The built-ins' fast-path templates: all of them compile against their tool's schema, and
//! none takes another tool's example request or gives an example other arguments than the
//! example says (the examples were written for the planner, not for the templates).

use sotto_fastpath::FastPath;
use sotto_tools::Registry;

fn built() -> (Registry, FastPath) {
    let mut registry = Registry::new();
    sotto_builtins::register_all(&mut registry).unwrap();
    let manifests: Vec<_> = registry.manifests().cloned().collect();
    let templates: Vec<Vec<&str>> = manifests
        .iter()
        .map(|m| m.templates.iter().map(String::as_str).collect())
        .collect();
    let (fast, problems) = FastPath::build(
        manifests
            .iter()
            .zip(&templates)
            .map(|(m, t)| (m.name.as_str(), &m.args_schema, t.as_slice())),
    );
    assert!(problems.is_empty(), "{problems:#?}");
    (registry, fast)
}

#[test]
fn every_template_compiles_and_no_example_is_misrouted() {
    let (registry, fast) = built();
    assert!(fast.len() >= 30, "{}", fast.len());
    let mut taken = 0;
    for manifest in registry.manifests() {
        for example in &manifest.examples {
            let Some(call) = fast.find(&example.utterance) else {
                continue;
            };
            taken += 1;
            assert_eq!(
                (call.tool.as_str(), &call.args),
                (manifest.name.as_str(), &example.args),
                "{:?} via `{}`",
                example.utterance,
                call.template
            );
            registry.validate(&call.tool, call.args.clone()).unwrap();
        }
    }
    // The examples include the commonest requests; the fast path takes a good share.
    assert!(taken >= 10, "{taken}");
}

#[test]
fn frequent_requests_take_the_fast_path_with_valid_arguments() {
    let (registry, fast) = built();
    for (request, tool) in [
        ("what time is it", "date_time"),
        ("set a timer for twenty minutes", "timer_start"),
        ("Set a 3 minute timer, please.", "timer_start"),
        ("turn the volume down", "volume"),
        ("mute", "volume"),
        ("pause the music", "media_control"),
        ("next track", "media_control"),
        ("lock my screen", "lock_screen"),
        ("convert 100 fahrenheit to celsius", "convert_units"),
        ("how many kilometers is 26 miles", "convert_units"),
        ("what's on my clipboard", "clipboard_read"),
        ("cancel the pasta timer", "timer_cancel"),
        ("launch firefox", "open_app"),
    ] {
        let call = fast
            .find(request)
            .unwrap_or_else(|| panic!("{request}: no template"));
        assert_eq!(call.tool, tool, "{request}");
        registry
            .validate(&call.tool, call.args.clone())
            .unwrap_or_else(|e| panic!("{request}: {e}"));
    }
}
