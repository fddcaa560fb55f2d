//! The sandbox against the real file system and real processes: escapes through `..`,
//! absolute paths and symlinks; shell metacharacters; the scrubbed environment.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sotto_sandbox::{
    Access, Arg, HostEnv, Launcher, ProgramRule, SafeText, SandboxError, ScopedDir, WalkLimits,
};

/// A root with a file inside and a secret beside it (outside the root).
fn world() -> (tempfile::TempDir, PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("granted");
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/plan.txt"), "inside").unwrap();
    std::fs::write(base.path().join("secret.txt"), "outside").unwrap();
    (base, root)
}

fn assert_outside(result: Result<impl std::fmt::Debug, SandboxError>, what: &str) {
    match result {
        Err(SandboxError::OutsideRoot { .. }) => {}
        other => panic!("{what}: expected OutsideRoot, got {other:?}"),
    }
}

#[test]
fn traversal_and_absolute_paths_are_refused() {
    let (_base, root) = world();
    let dir = ScopedDir::open(&root, Access::ReadWrite).unwrap();
    assert_eq!(dir.read_to_string("docs/plan.txt").unwrap(), "inside");
    assert_eq!(dir.read_to_string("./docs/plan.txt").unwrap(), "inside");
    for path in [
        "../secret.txt",
        "docs/../../secret.txt",
        "/etc/passwd",
        "docs/../plan.txt",
    ] {
        assert_outside(dir.read_to_string(path), path);
        assert_outside(dir.write_atomic(path, b"x"), path);
    }
    assert!(dir.read_to_string("").is_err());
    assert_eq!(
        std::fs::read_to_string(root.parent().unwrap().join("secret.txt")).unwrap(),
        "outside"
    );
}

#[test]
fn cap_std_itself_refuses_escapes_without_our_lexical_check() {
    let (_base, root) = world();
    let dir = ScopedDir::open(&root, Access::Read).unwrap();
    let raw = dir.cap_dir();
    assert!(raw.read_to_string("docs/../docs/plan.txt").is_ok());
    for path in ["../secret.txt", "docs/../../secret.txt", "/etc/passwd"] {
        let err = raw.read_to_string(path).unwrap_err();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::PermissionDenied,
            "{path}: {err}"
        );
    }
}

#[test]
fn symlinks_that_leave_the_root_are_refused_and_inner_ones_work() {
    let (base, root) = world();
    symlink(base.path(), root.join("up")).unwrap();
    symlink(base.path().join("secret.txt"), root.join("secret-link")).unwrap();
    symlink("../secret.txt", root.join("relative-link")).unwrap();
    symlink("/etc/passwd", root.join("passwd")).unwrap();
    symlink("docs/plan.txt", root.join("inner-link")).unwrap();
    let dir = ScopedDir::open(&root, Access::ReadWrite).unwrap();
    for path in ["up/secret.txt", "secret-link", "relative-link", "passwd"] {
        assert_outside(dir.read_to_string(path), path);
        assert_outside(dir.read_prefix(path, 10), path);
    }
    // Writing through an escaping link must not touch the target either.
    assert_outside(dir.append("secret-link", b"pwned"), "append");
    assert_outside(
        dir.write_atomic("up/new.txt", b"pwned"),
        "write through dir link",
    );
    assert!(!base.path().join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(base.path().join("secret.txt")).unwrap(),
        "outside"
    );
    assert_eq!(dir.read_to_string("inner-link").unwrap(), "inside");
    // A walk lists the links but never descends through them.
    let (entries, truncated) = dir.walk(WalkLimits::default());
    assert!(!truncated);
    let paths: Vec<_> = entries.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"up"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("secret.txt")), "{paths:?}");
}

#[test]
fn a_root_given_through_a_symlink_is_canonicalised() {
    let (base, root) = world();
    symlink(&root, base.path().join("alias")).unwrap();
    let dir = ScopedDir::open(&base.path().join("alias"), Access::Read).unwrap();
    assert_eq!(dir.root(), std::fs::canonicalize(&root).unwrap());
}

#[test]
fn read_only_roots_refuse_every_change() {
    let (_base, root) = world();
    let dir = ScopedDir::open(&root, Access::Read).unwrap();
    assert!(matches!(
        dir.write_atomic("docs/plan.txt", b"x"),
        Err(SandboxError::ReadOnly { .. })
    ));
    assert!(matches!(
        dir.append("docs/plan.txt", b"x"),
        Err(SandboxError::ReadOnly { .. })
    ));
    assert!(matches!(
        dir.remove_file("docs/plan.txt"),
        Err(SandboxError::ReadOnly { .. })
    ));
    assert_eq!(dir.read_to_string("docs/plan.txt").unwrap(), "inside");
}

#[test]
fn writes_are_whole_and_create_new_never_overwrites() {
    let (_base, root) = world();
    let dir = ScopedDir::open(&root, Access::ReadWrite).unwrap();
    dir.create_new("a.txt", b"first").unwrap();
    assert!(matches!(
        dir.create_new("a.txt", b"second"),
        Err(SandboxError::AlreadyExists { .. })
    ));
    dir.append("a.txt", b" more").unwrap();
    assert_eq!(dir.read_to_string("a.txt").unwrap(), "first more");
    dir.write_atomic("a.txt", b"replaced").unwrap();
    assert_eq!(dir.read_to_string("a.txt").unwrap(), "replaced");
    let (prefix, longer) = dir.read_prefix("a.txt", 3).unwrap();
    assert_eq!((prefix.as_slice(), longer), (&b"rep"[..], true));
    // No temporary files are left behind.
    let names: Vec<_> = dir.list(".").unwrap().into_iter().map(|e| e.path).collect();
    assert_eq!(names, ["a.txt", "docs"]);
}

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A private HOME with a `bin` folder first on PATH.
fn private_env(home: &Path) -> HostEnv {
    std::fs::create_dir_all(home.join("bin")).unwrap();
    let path = format!("{}:/usr/bin:/bin", home.join("bin").display());
    let home = home.to_path_buf();
    HostEnv::from_lookup(move |key| match key {
        "PATH" => Some(path.clone().into()),
        "HOME" => Some(home.clone().into()),
        "LANG" => Some("C.UTF-8".into()),
        _ => None,
    })
}

#[tokio::test]
async fn shell_metacharacters_arrive_literally_and_nothing_else_runs() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    script(
        &home.path().join("bin"),
        "dump-args",
        r#"for a in "$@"; do printf '%s\n' "$a"; done > "$HOME/args.txt""#,
    );
    let hostile = [
        "; rm -rf ~",
        "$(touch pwned)",
        "`touch pwned-too`",
        "a | touch piped && touch anded",
        "x > redirected",
        "'quoted' \"double\" \\back",
    ];
    let args: Vec<Arg> = hostile
        .iter()
        .map(|s| Arg::Text(SafeText::new(s).unwrap()))
        .collect();
    let launcher = Launcher::new(env, ProgramRule::Named(vec!["dump-args".into()]));
    let out = launcher
        .run("dump-args", &args, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(out.success, "{out:?}");
    let received = std::fs::read_to_string(home.path().join("args.txt")).unwrap();
    assert_eq!(received.lines().collect::<Vec<_>>(), hostile);
    let mut left: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["args.txt", "bin"], "something else ran");
}

#[tokio::test]
async fn the_child_sees_only_the_allow_listed_environment() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    script(
        &home.path().join("bin"),
        "dump-env",
        r#"/usr/bin/env > "$HOME/env.txt"; pwd > "$HOME/cwd.txt""#,
    );
    // Cargo gives this test process CARGO_* variables; the child must not inherit them.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let launcher = Launcher::new(env, ProgramRule::Named(vec!["dump-env".into()]));
    let out = launcher
        .run("dump-env", &[], Duration::from_secs(10))
        .await
        .unwrap();
    assert!(out.success);
    let text = std::fs::read_to_string(home.path().join("env.txt")).unwrap();
    let keys: Vec<&str> = text.lines().filter_map(|l| l.split('=').next()).collect();
    for key in &keys {
        // The shell itself may add PWD, SHLVL and `_`.
        assert!(
            ["PATH", "HOME", "LANG", "PWD", "SHLVL", "_", "OLDPWD"].contains(key),
            "unexpected variable {key} in {text}"
        );
    }
    assert!(keys.contains(&"HOME") && keys.contains(&"PATH"));
    let cwd = std::fs::read_to_string(home.path().join("cwd.txt")).unwrap();
    assert_eq!(
        Path::new(cwd.trim()),
        std::fs::canonicalize(home.path()).unwrap()
    );
}

#[tokio::test]
async fn programs_outside_the_rule_or_path_are_refused_before_anything_runs() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    script(&home.path().join("bin"), "xdg-open", "exit 0");
    let launcher = Launcher::new(env.clone(), ProgramRule::Named(vec!["xdg-open".into()]));
    assert!(matches!(
        launcher.resolve("sh"),
        Err(SandboxError::ProgramNotAllowed { .. })
    ));
    assert_eq!(
        launcher.resolve("xdg-open").unwrap(),
        home.path().join("bin/xdg-open")
    );
    let apps = Launcher::new(env, ProgramRule::DesktopEntries);
    for bad in ["no-such-program", "relative/path", "-x", ""] {
        assert!(
            matches!(apps.resolve(bad), Err(SandboxError::ProgramNotFound { .. })),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_program_that_hangs_is_killed_at_the_timeout() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    script(
        &home.path().join("bin"),
        "hang",
        r#"sleep 30; touch "$HOME/finished""#,
    );
    let launcher = Launcher::new(env, ProgramRule::Named(vec!["hang".into()]));
    let started = std::time::Instant::now();
    let err = launcher
        .run("hang", &[], Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, SandboxError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn detached_programs_start_and_report_failures_on_stderr_when_waited() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    script(&home.path().join("bin"), "app", r#"touch "$HOME/started""#);
    script(
        &home.path().join("bin"),
        "fails",
        "echo 'partial output'; echo 'no browser' >&2; exit 3",
    );
    let launcher = Launcher::new(env, ProgramRule::Named(vec!["app".into(), "fails".into()]));
    launcher.spawn_detached("app", &[]).unwrap();
    let marker = home.path().join("started");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !marker.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(marker.exists());
    let out = launcher
        .run("fails", &[], Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        (out.success, out.code, out.stderr_tail.as_str()),
        (false, Some(3), "no browser")
    );
    assert_eq!(out.stdout, "partial output\n");
}

#[tokio::test]
async fn input_is_fed_on_stdin_and_a_lingering_child_does_not_block() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    // Like xclip: read stdin, then leave a child running that holds stderr open.
    script(
        &home.path().join("bin"),
        "owner",
        r#"cat > "$HOME/got.txt"; (sleep 3 >&2) & exit 0"#,
    );
    script(
        &home.path().join("bin"),
        "broken",
        "echo 'cannot open display' >&2; exit 1",
    );
    let launcher = Launcher::new(
        env,
        ProgramRule::Named(vec!["owner".into(), "broken".into()]),
    );
    let started = std::time::Instant::now();
    let out = launcher
        .feed(
            "owner",
            &[],
            "; rm -rf ~\n$(x)".as_bytes(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert!(out.success);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited for the child"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join("got.txt")).unwrap(),
        "; rm -rf ~\n$(x)"
    );
    let out = launcher
        .feed("broken", &[], b"x", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        (out.success, out.stderr_tail.as_str()),
        (false, "cannot open display")
    );
}

#[tokio::test]
async fn a_filter_reads_and_writes_more_than_a_pipe_holds_without_blocking() {
    let home = tempfile::tempdir().unwrap();
    let env = private_env(home.path());
    // `cat` echoes while it reads: with 1 MiB each way, writing all input before reading
    // any output would deadlock on the full pipes.
    script(&home.path().join("bin"), "echoer", "exec cat");
    script(
        &home.path().join("bin"),
        "reject",
        "cat > /dev/null; echo 'Syntax Error: not a PDF' >&2; exit 3",
    );
    let launcher = Launcher::new(
        env,
        ProgramRule::Named(vec!["echoer".into(), "reject".into()]),
    );
    let input: Vec<u8> = (0..1024 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let out = launcher
        .filter("echoer", &[], &input, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(out.success);
    // Only the head is kept.
    assert_eq!(out.stdout.as_bytes(), &input[..64 * 1024]);
    let out = launcher
        .filter("reject", &[], b"%PDF-garbage", Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        (out.success, out.code, out.stderr_tail.as_str()),
        (false, Some(3), "Syntax Error: not a PDF")
    );
    assert!(launcher
        .filter("sh", &[], b"", Duration::from_secs(5))
        .await
        .is_err());
}
