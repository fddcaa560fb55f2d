//! Interrupted downloads: cut connections, servers that ignore or refuse ranges, stalls.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sotto_models::{FetchError, InstallState, ModelManager, Stage};
use support::*;

const PATH: &str = "/m.bin";
const SIZE: usize = 400_000;
const HALF: usize = SIZE / 2;

/// A manager for one model `m` served at [`PATH`] by a server that answers the `n`-th
/// request with `script(request, n, body)`.
async fn setup(
    seed: u64,
    script: impl Fn(&Request, usize, &[u8]) -> Reply + Send + Sync + 'static,
) -> (Vec<u8>, Server, Env, ModelManager) {
    let body = payload(seed, SIZE);
    let served = body.clone();
    let server = Server::start(move |req, n| script(req, n, &served)).await;
    let env = Env::new();
    let manager = ModelManager::new(
        single(&body, &[url_source(&[(FILE, &server.url(PATH))])]),
        env.config(&server.base),
    );
    (body, server, env, manager)
}

fn installed(env: &Env) -> Vec<u8> {
    std::fs::read(env.models().join("m").join(FILE)).unwrap()
}

#[tokio::test]
async fn a_cut_connection_resumes_with_a_range_request() {
    let (body, server, env, manager) = setup(20, |req, n, body| match n {
        0 => Reply::ok(body).cut_after(HALF),
        _ => Reply::ranged(req, body),
    })
    .await;

    let events = Events::default();
    manager.fetch("m", false, &events.sink()).await.unwrap();

    assert_eq!(installed(&env), body);
    assert_eq!(
        server.ranges(PATH),
        vec![None, Some(HALF as u64)],
        "the retry must ask for bytes={HALF}-"
    );
    // Resumed, not restarted: progress never falls back below what was already there.
    let download = events.progress(Stage::Download);
    assert!(
        download.windows(2).all(|w| w[0].0 <= w[1].0),
        "{download:?}"
    );
    assert!(download.contains(&(HALF as u64, Some(SIZE as u64))));
    assert_eq!(download.last(), Some(&(SIZE as u64, Some(SIZE as u64))));
    assert!(
        events.failures().is_empty(),
        "a resumed download is not a failed source"
    );
    assert!(parts_under(&env.models()).is_empty());
}

#[tokio::test]
async fn a_server_that_ignores_ranges_gets_a_clean_restart() {
    let (body, server, env, manager) = setup(21, |_, n, body| match n {
        0 => Reply::ok(body).cut_after(HALF),
        _ => Reply::ok(body),
    })
    .await;

    manager.fetch("m", false, &|_| {}).await.unwrap();

    assert_eq!(server.ranges(PATH), vec![None, Some(HALF as u64)]);
    let got = installed(&env);
    assert_eq!(got.len(), SIZE, "bytes were duplicated");
    assert_eq!(got, body);
}

#[tokio::test]
async fn a_416_answer_restarts_the_download() {
    let (body, server, env, manager) = setup(22, |req, n, body| match n {
        0 => Reply::ok(body).cut_after(HALF),
        1 => Reply::new(416, "").header("content-range", format!("bytes */{}", body.len())),
        _ => Reply::ranged(req, body),
    })
    .await;

    manager.fetch("m", false, &|_| {}).await.unwrap();

    assert_eq!(
        server.ranges(PATH),
        vec![None, Some(HALF as u64), None],
        "after a 416 the part is dropped"
    );
    assert_eq!(installed(&env), body);
}

#[tokio::test]
async fn a_206_for_a_different_range_is_not_spliced() {
    let (body, server, env, manager) = setup(23, |req, n, body| match n {
        0 => Reply::ok(body).cut_after(HALF),
        // Claims to resume but sends the file from the start.
        1 => Reply::partial(body, 0),
        _ => Reply::ranged(req, body),
    })
    .await;

    manager.fetch("m", false, &|_| {}).await.unwrap();

    assert_eq!(server.ranges(PATH), vec![None, Some(HALF as u64), None]);
    assert_eq!(installed(&env), body);
}

#[tokio::test]
async fn a_server_sending_more_than_the_catalog_size_is_stopped() {
    let (_, server, env, manager) = setup(24, |_, _, body| {
        let mut longer = body.to_vec();
        longer.extend_from_slice(&payload(25, 10_000));
        Reply::ok(&longer)
    })
    .await;

    let error = manager.fetch("m", false, &|_| {}).await.unwrap_err();

    let message = error.to_string();
    assert!(
        matches!(error, FetchError::AllSourcesFailed { .. }),
        "{error:?}"
    );
    assert!(
        message.contains(&format!("sent more than the expected {SIZE} bytes")),
        "{message}"
    );
    assert_eq!(server.requests().len(), 1, "retrying cannot help");
    assert!(
        files_under(&env.models()).is_empty(),
        "{:?}",
        files_under(&env.models())
    );
}

#[tokio::test]
async fn a_stalled_download_is_resumed_on_the_next_attempt() {
    const STALL_AT: usize = 100_000;
    let (body, server, env, manager) = setup(26, |req, n, body| match n {
        0 => Reply::ok(body).stall_after(STALL_AT),
        _ => Reply::ranged(req, body),
    })
    .await;

    let started = Instant::now();
    let events = Events::default();
    manager.fetch("m", false, &events.sink()).await.unwrap();
    let elapsed = started.elapsed();

    assert_eq!(installed(&env), body);
    assert_eq!(server.ranges(PATH), vec![None, Some(STALL_AT as u64)]);
    assert!(
        elapsed >= Duration::from_secs(1),
        "gave up on the stall before the timeout: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(events.failures().is_empty());
}

#[tokio::test]
async fn a_server_that_always_stalls_fails_with_stalled_and_keeps_the_part() {
    const CHUNK: usize = 50_000;
    let behave = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&behave);
    let (body, server, env, mut manager) = setup(27, move |req, _, body| {
        let reply = Reply::ranged(req, body);
        if flag.load(Ordering::SeqCst) {
            reply
        } else {
            reply.stall_after(CHUNK)
        }
    })
    .await;
    let mut config = manager.config().clone();
    config.attempts = 2;
    manager = ModelManager::new(manager.catalog().clone(), config);

    let started = Instant::now();
    let error = manager.fetch("m", false, &|_| {}).await.unwrap_err();
    let elapsed = started.elapsed();

    let message = error.to_string();
    assert!(
        matches!(error, FetchError::AllSourcesFailed { .. }),
        "{error:?}"
    );
    assert!(message.contains("stalled: no data for 1 s"), "{message}");
    assert_eq!(
        server.ranges(PATH),
        vec![None, Some(CHUNK as u64)],
        "two attempts, the second resuming"
    );
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    // What arrived is kept for the next run.
    let part = env.models().join("m").join(format!(".{FILE}.part"));
    assert_eq!(std::fs::read(&part).unwrap(), &body[..2 * CHUNK]);
    assert_eq!(
        manager.state(manager.model("m").unwrap()),
        InstallState::Partial
    );
    assert!(!env.models().join("m").join(FILE).exists());

    // Once the server behaves, the next fetch continues from the kept part.
    behave.store(true, Ordering::SeqCst);
    manager.fetch("m", false, &|_| {}).await.unwrap();
    assert_eq!(server.ranges(PATH)[2], Some(2 * CHUNK as u64));
    assert_eq!(installed(&env), body);
    assert!(!part.exists());
}
