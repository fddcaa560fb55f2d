//! The committed TypeScript bindings match the Rust types: a change on one side without
//! regenerating fails here, not in the window at run time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ts") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

#[test]
fn bindings_are_current() {
    // Read at run time: a shared build cache may hold this binary from another checkout.
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let committed = manifest.join("../../ui/src/bindings");
    let fresh = tempfile::tempdir().unwrap();
    sotto_window_api::export_all(fresh.path()).unwrap();
    let (want, have) = (files(fresh.path()), files(&committed));
    assert!(!want.is_empty());
    for (name, text) in &want {
        assert_eq!(
            have.get(name),
            Some(text),
            "ui/src/bindings/{name} is stale: run `cargo run -p sotto-window-api --example export-bindings`"
        );
    }
    let extra: Vec<_> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(extra.is_empty(), "bindings no type makes: {extra:?}");
}

#[test]
fn request_updates_are_tagged_by_kind() {
    let update = sotto_window_api::RequestUpdate::Done {
        utterance: 3,
        reply: "6*7 = 42.".into(),
        ok: true,
        plan_ms: 12,
        fast_path: None,
    };
    let json = serde_json::to_value(&update).unwrap();
    assert_eq!(json["kind"], "done");
    assert_eq!(json["utterance"], 3);
    let back: sotto_window_api::RequestUpdate = serde_json::from_value(json).unwrap();
    assert_eq!(back, update);
    let answer: sotto_window_api::ConfirmAnswer =
        serde_json::from_str("\"always-for-tool\"").unwrap();
    assert_eq!(answer, sotto_window_api::ConfirmAnswer::AlwaysForTool);
}
