//! `ModelManager::fetch` against a real (local, scripted) HTTP server: installing, events,
//! hash checks, falling back between sources, verify and remove.
//!
//! Resuming, stalls and misbehaving range handling are in `resume.rs`; PyPI in `pypi.rs`;
//! disk space in `disk.rs`.

mod support;

use sotto_models::{FetchError, FetchEvent, InstallState, ModelManager, Stage, VerifyOutcome};
use support::*;

#[tokio::test]
async fn a_url_download_installs_the_verified_file_and_reports_progress() {
    let body = payload(1, 300_000);
    let served = body.clone();
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/files/m.bin" => Reply::ranged(req, &served),
        _ => Reply::not_found(),
    })
    .await;
    let env = Env::new();
    let url = server.url("/files/m.bin");
    let manager = ModelManager::new(
        single(&body, &[url_source(&[(FILE, &url)])]),
        env.config(&server.base),
    );
    let model = manager.model("m").unwrap().clone();
    assert_eq!(manager.state(&model), InstallState::Missing);
    assert!(matches!(manager.installed_path("m"), Err(FetchError::NotInstalled(id)) if id == "m"));

    let events = Events::default();
    let path = manager.fetch("m", false, &events.sink()).await.unwrap();

    let expected_path = env.models().join("m").join(FILE);
    assert_eq!(path, expected_path);
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(manager.installed_path("m").unwrap(), expected_path);
    assert_eq!(manager.state(&model), InstallState::Installed);
    assert_eq!(
        files_under(&env.models()),
        vec![format!("m/{FILE}")],
        "only the file, no .part"
    );
    assert_eq!(
        server.ranges("/files/m.bin"),
        vec![None],
        "one plain request"
    );

    let total = body.len() as u64;
    let download = events.progress(Stage::Download);
    assert!(!download.is_empty());
    assert!(
        download.iter().all(|&(_, t)| t == Some(total)),
        "{download:?}"
    );
    assert!(
        download.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress went backwards: {download:?}"
    );
    assert_eq!(
        download.last().unwrap().0,
        total,
        "progress never reached the total"
    );
    let all = events.all();
    let source = format!("url {url}");
    assert_eq!(
        all.first(),
        Some(&FetchEvent::SourceStarted {
            model: "m".into(),
            source: source.clone(),
            index: 1,
            count: 1
        })
    );
    assert_eq!(
        all.last(),
        Some(&FetchEvent::Installed {
            model: "m".into(),
            path: expected_path.clone(),
            bytes: total,
            source
        })
    );
    assert!(events.failures().is_empty());

    // Installed files are kept: no request at all the second time...
    manager.fetch("m", false, &|_| {}).await.unwrap();
    assert_eq!(server.requests().len(), 1);
    // ...unless forced.
    std::fs::write(&expected_path, b"stale").unwrap();
    manager.fetch("m", true, &|_| {}).await.unwrap();
    assert_eq!(server.requests().len(), 2);
    assert_eq!(std::fs::read(&expected_path).unwrap(), body);
}

#[tokio::test]
async fn a_hugging_face_source_resolves_repo_revision_and_path_on_the_endpoint() {
    let weights = payload(2, 200_000);
    let config = br#"{"layers": 4}"#.to_vec();
    let (w, c) = (weights.clone(), config.clone());
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/hf/org/tiny-model/resolve/0123456789abcdef/weights/w.bin" => Reply::ranged(req, &w),
        "/hf/org/tiny-model/resolve/0123456789abcdef/config.json" => Reply::ranged(req, &c),
        _ => Reply::not_found(),
    })
    .await;
    let env = Env::new();
    let files = [
        FileSpec::of("w.bin", &weights),
        FileSpec::of("config.json", &config),
    ];
    let source = hf_source(
        "org/tiny-model",
        "0123456789abcdef",
        &[("w.bin", "weights/w.bin"), ("config.json", "config.json")],
    );
    let manager = ModelManager::new(
        catalog(&[model_toml("two", &files, &[source])]),
        env.config(&server.base),
    );

    let events = Events::default();
    let path = manager.fetch("two", false, &events.sink()).await.unwrap();

    // A model of several files is loaded from its directory.
    assert_eq!(path, env.models().join("two"));
    assert_eq!(std::fs::read(path.join("w.bin")).unwrap(), weights);
    assert_eq!(std::fs::read(path.join("config.json")).unwrap(), config);
    assert_eq!(server.requests().len(), 2, "{:?}", server.requests());
    assert_eq!(
        events.installed_from().as_deref(),
        Some("huggingface org/tiny-model@0123456789ab")
    );
    let total = (weights.len() + config.len()) as u64;
    assert_eq!(
        events.progress(Stage::Download).iter().map(|p| p.0).max(),
        Some(total)
    );
}

#[tokio::test]
async fn wrong_bytes_are_deleted_and_the_source_that_sent_them_is_named() {
    let body = payload(3, 250_000);
    let impostor = payload(4, body.len());
    let server = Server::start(move |req, _| Reply::ranged(req, &impostor)).await;
    let env = Env::new();
    let url = server.url("/m.bin");
    let manager = ModelManager::new(
        single(&body, &[url_source(&[(FILE, &url)])]),
        env.config(&server.base),
    );

    let events = Events::default();
    let error = manager.fetch("m", false, &events.sink()).await.unwrap_err();

    let FetchError::AllSourcesFailed { model, failures } = &error else {
        panic!("expected AllSourcesFailed, got {error:?}");
    };
    assert_eq!(model, "m");
    assert_eq!(failures.len(), 1, "{failures:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("could not fetch m from any source:"),
        "{message}"
    );
    assert!(
        message.contains(&format!("url {url} delivered a wrong {FILE}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("expected sha256 {}", sha256(&body))),
        "{message}"
    );
    assert!(message.contains("the download was deleted"), "{message}");
    assert_eq!(events.failures().len(), 1);
    assert_eq!(events.failures()[0].0, format!("url {url}"));
    // A complete transfer of the wrong file is not retried at the HTTP level.
    assert_eq!(server.requests().len(), 1);
    assert!(!env.models().join("m").join(FILE).exists());
    assert!(
        parts_under(&env.models()).is_empty(),
        "{:?}",
        files_under(&env.models())
    );
    assert_eq!(
        manager.state(manager.model("m").unwrap()),
        InstallState::Missing
    );
}

#[tokio::test]
async fn a_404_falls_back_to_the_next_url() {
    let body = payload(5, 150_000);
    let served = body.clone();
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/mirror/m.bin" => Reply::ranged(req, &served),
        _ => Reply::not_found(),
    })
    .await;
    let env = Env::new();
    let (gone, mirror) = (server.url("/gone/m.bin"), server.url("/mirror/m.bin"));
    let sources = [url_source(&[(FILE, &gone)]), url_source(&[(FILE, &mirror)])];
    let manager = ModelManager::new(single(&body, &sources), env.config(&server.base));

    let events = Events::default();
    let path = manager.fetch("m", false, &events.sink()).await.unwrap();

    assert_eq!(std::fs::read(path).unwrap(), body);
    let failures = events.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, format!("url {gone}"));
    assert!(
        failures[0].1.contains("not found (404 Not Found)"),
        "{}",
        failures[0].1
    );
    assert_eq!(events.installed_from(), Some(format!("url {mirror}")));
    let started: Vec<(usize, usize)> = events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            FetchEvent::SourceStarted { index, count, .. } => Some((index, count)),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec![(1, 2), (2, 2)]);
    // A 404 is final: the dead URL is asked once, not once per attempt.
    assert_eq!(server.requests_to("/gone/m.bin").len(), 1);
}

#[tokio::test]
async fn a_source_that_lies_falls_back_to_a_local_file() {
    let body = payload(6, 120_000);
    let lie = payload(7, body.len());
    let server = Server::start(move |req, _| Reply::ranged(req, &lie)).await;
    let env = Env::new();
    let local = env.tmp.path().join("backup copy.bin");
    std::fs::write(&local, &body).unwrap();
    let url = server.url("/m.bin");
    let sources = [url_source(&[(FILE, &url)]), local_source(&[(FILE, &local)])];
    let manager = ModelManager::new(single(&body, &sources), env.config(&server.base));

    let events = Events::default();
    let path = manager.fetch("m", false, &events.sink()).await.unwrap();

    assert_eq!(std::fs::read(path).unwrap(), body);
    let failures = events.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, format!("url {url}"));
    assert!(
        failures[0].1.contains("delivered a wrong model.bin"),
        "{}",
        failures[0].1
    );
    assert_eq!(
        events.installed_from(),
        Some(format!("local {}", local.display()))
    );
    assert!(local.exists(), "a local source is copied, not moved");
    assert!(parts_under(&env.models()).is_empty());
}

#[tokio::test]
async fn a_404_alone_is_a_clear_not_found_error() {
    let server = Server::start(|_, _| Reply::not_found()).await;
    let env = Env::new();
    let url = server.url("/nowhere/m.bin");
    let body = payload(8, 1000);
    let manager = ModelManager::new(
        single(&body, &[url_source(&[(FILE, &url)])]),
        env.config(&server.base),
    );

    let error = manager.fetch("m", false, &|_| {}).await.unwrap_err();

    assert!(
        matches!(error, FetchError::AllSourcesFailed { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("{url}: not found (404 Not Found)")),
        "{message}"
    );
    assert_eq!(server.requests().len(), 1);
    assert!(files_under(&env.models()).is_empty());
}

#[tokio::test]
async fn a_part_left_by_a_failed_source_does_not_make_the_next_one_fail() {
    // The first source answers every request with a short page and 200 (a moved-file notice
    // or a portal), so each attempt ends "closed after 19 of N bytes" and leaves a .part of
    // it. The second source is fine and resumes from that .part: the junk prefix must not get
    // it blamed for a hash mismatch.
    let body = payload(9, 200_000);
    let served = body.clone();
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/good/m.bin" => Reply::ranged(req, &served),
        _ => Reply::ok(b"<html>moved</html>\n"),
    })
    .await;
    let env = Env::new();
    let (bad, good) = (server.url("/bad/m.bin"), server.url("/good/m.bin"));
    let sources = [url_source(&[(FILE, &bad)]), url_source(&[(FILE, &good)])];
    let manager = ModelManager::new(single(&body, &sources), env.config(&server.base));

    let events = Events::default();
    let result = manager.fetch("m", false, &events.sink()).await;

    let path = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::read(path).unwrap(), body);
    let failures = events.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, format!("url {bad}"));
    assert!(
        failures[0]
            .1
            .contains("connection closed after 19 of 200000 bytes"),
        "{}",
        failures[0].1
    );
    assert_eq!(
        server.requests_to("/bad/m.bin").len(),
        3,
        "one request per attempt"
    );
    // The good source first resumed the junk, then (on the mismatch) fetched it all afresh.
    assert_eq!(server.ranges("/good/m.bin"), vec![Some(19), None]);
    assert_eq!(events.installed_from(), Some(format!("url {good}")));
    assert!(parts_under(&env.models()).is_empty());
}

#[tokio::test]
async fn verify_finds_a_corrupted_byte_and_remove_frees_the_space() {
    let weights = payload(10, 100_000);
    let config = b"{}\n".to_vec();
    let (w, c) = (weights.clone(), config.clone());
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/w.bin" => Reply::ranged(req, &w),
        _ => Reply::ranged(req, &c),
    })
    .await;
    let env = Env::new();
    let files = [
        FileSpec::of("w.bin", &weights),
        FileSpec::of("config.json", &config),
    ];
    let source = url_source(&[
        ("w.bin", &server.url("/w.bin")),
        ("config.json", &server.url("/config.json")),
    ]);
    let manager = ModelManager::new(
        catalog(&[model_toml("two", &files, &[source])]),
        env.config(&server.base),
    );
    let dir = manager.fetch("two", false, &|_| {}).await.unwrap();
    let model = manager.model("two").unwrap().clone();

    let events = Events::default();
    let outcomes = manager.verify("two", &events.sink()).await.unwrap();
    assert_eq!(
        outcomes,
        vec![
            VerifyOutcome::Ok {
                file: "w.bin".into()
            },
            VerifyOutcome::Ok {
                file: "config.json".into()
            }
        ]
    );
    assert_eq!(events.progress(Stage::Verify).len(), 2);

    // Flip one byte in the middle: same size, so `state` still says Installed...
    let weights_path = dir.join("w.bin");
    let mut corrupted = weights.clone();
    corrupted[50_000] ^= 0x01;
    std::fs::write(&weights_path, &corrupted).unwrap();
    assert_eq!(manager.state(&model), InstallState::Installed);
    // ...but verify hashes.
    let outcomes = manager.verify("two", &|_| {}).await.unwrap();
    assert_eq!(
        outcomes[0],
        VerifyOutcome::Mismatch {
            file: "w.bin".into(),
            expected: sha256(&weights),
            actual: sha256(&corrupted)
        }
    );
    assert_eq!(
        outcomes[1],
        VerifyOutcome::Ok {
            file: "config.json".into()
        }
    );

    // A partial download is freed too.
    std::fs::remove_file(dir.join("config.json")).unwrap();
    std::fs::write(dir.join(".config.json.part"), b"{").unwrap();
    assert_eq!(manager.state(&model), InstallState::Partial);

    let freed = manager.remove("two").unwrap();
    assert_eq!(freed, weights.len() as u64 + 1);
    assert!(
        !dir.exists(),
        "the empty model directory is removed: {:?}",
        files_under(&dir)
    );
    assert_eq!(manager.state(&model), InstallState::Missing);
    assert!(matches!(
        manager.installed_path("two"),
        Err(FetchError::NotInstalled(_))
    ));
    let outcomes = manager.verify("two", &|_| {}).await.unwrap();
    assert_eq!(
        outcomes,
        vec![
            VerifyOutcome::Missing {
                file: "w.bin".into()
            },
            VerifyOutcome::Missing {
                file: "config.json".into()
            }
        ]
    );
    assert_eq!(manager.remove("two").unwrap(), 0);
}

#[tokio::test]
async fn a_model_the_catalog_does_not_have_is_an_unknown_model_error() {
    let server = Server::start(|_, _| Reply::not_found()).await;
    let env = Env::new();
    let body = payload(11, 10);
    let manager = ModelManager::new(
        single(&body, &[url_source(&[(FILE, &server.url("/m"))])]),
        env.config(&server.base),
    );

    let error = manager
        .fetch("no-such-model", false, &|_| {})
        .await
        .unwrap_err();

    assert!(
        matches!(&error, FetchError::UnknownModel(id) if id == "no-such-model"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("no model \"no-such-model\" in the catalog"),
        "{error}"
    );
    assert!(matches!(
        manager.verify("no-such-model", &|_| {}).await,
        Err(FetchError::UnknownModel(_))
    ));
    assert!(matches!(
        manager.remove("no-such-model"),
        Err(FetchError::UnknownModel(_))
    ));
    assert!(server.requests().is_empty());
    assert!(
        !env.models().exists(),
        "nothing is created for an unknown model"
    );
}
