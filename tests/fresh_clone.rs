//! The README's first command, tried as a new user would: clone the repository, run
//! `.ci/start`, talk to the session it opens, quit.
//!
//! The clone is of the committed HEAD, so this checks what would land, not the working tree.
//! Builds go to the shared cargo target directory (CARGO_TARGET_DIR from .ci/env) and models
//! come from SOTTO_TEST_MODELS_DIR when `.ci/test` has fetched them, so the test costs a
//! relink rather than a fresh build and a 600 MB download; without those variables it does
//! the whole first run, downloads included.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn the_start_command_works_from_a_fresh_clone() {
    let root = sotto_e2e::repo_root();
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("sotto");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(&root)
        .arg(&clone)
        .status()
        .expect("git runs");
    assert!(status.success(), "git clone failed");

    let home = work.path().join("home");
    let mut command = Command::new(clone.join(".ci/start"));
    command
        .env("SOTTO_HOME", &home)
        // The command line's session (a desktop session would open the app instead).
        .env("SOTTO_START", "cli")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(models) = std::env::var_os("SOTTO_TEST_MODELS_DIR") {
        command.env("SOTTO_MODELS_DIR", models);
    }
    let mut child = command.spawn().expect(".ci/start runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"models list\nhistory list\nquit\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "start failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The session chose models for this machine and has them ready.
    for task in ["asr", "vad", "planner"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("model for {task}")))
            .unwrap_or_else(|| panic!("no {task} model line in:\n{stdout}\n{stderr}"));
        assert!(
            line.contains("(ready)") || stderr.contains("installed"),
            "{task} model neither ready nor installed:\n{stdout}\n{stderr}"
        );
    }
    assert!(
        stdout.contains("qwen2.5-coder-0.5b-instruct-q4_k_m"),
        "{stdout}"
    );
    assert!(stdout.contains("no history yet"), "{stdout}");
    assert!(
        home.join("data/sotto.db").exists(),
        "the session opened its database"
    );
    assert!(stdout.trim_end().ends_with("bye"), "{stdout}");
}
