//! The `sotto` binary driven as a user would: real process, real files under a private
//! SOTTO_HOME, exit codes and messages checked.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn sotto(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sotto"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SOTTO_HOME", self.path())
            .env("RUST_BACKTRACE", "0");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.sotto().args(args).output().unwrap()
    }

    fn write_config(&self, text: &str) {
        let dir = self.path().join("config");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_no_panic(output: &Output) {
    let err = stderr(output);
    assert!(!err.contains("panicked"), "sotto panicked: {err}");
}

#[test]
fn help_lists_every_command() {
    let home = Home::new();
    let output = home.run(&["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    for command in [
        "do",
        "plan",
        "transcribe",
        "listen",
        "models",
        "tools",
        "history",
        "bench",
        "eval",
        "config",
        "vocab",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    let models_help = stdout(&home.run(&["models", "--help"]));
    for sub in ["list", "fetch", "verify", "remove", "path", "recommend"] {
        assert!(
            models_help.contains(sub),
            "models {sub} missing from:\n{models_help}"
        );
    }
}

#[test]
fn config_show_and_init_use_sotto_home() {
    let home = Home::new();
    let shown = stdout(&home.run(&["config", "show"]));
    let root = home.path().display().to_string();
    assert!(shown.contains(&format!("{root}/data/sotto.db")), "{shown}");
    assert!(shown.contains(&format!("{root}/data/models")), "{shown}");
    assert!(shown.contains("absent: all defaults"), "{shown}");

    assert!(home.run(&["config", "init"]).status.success());
    let file = home.path().join("config/config.toml");
    assert!(std::fs::read_to_string(&file).unwrap().contains("[models]"));
    let again = home.run(&["config", "init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"));
}

#[test]
fn a_broken_config_is_a_clear_error_not_a_panic() {
    let home = Home::new();
    home.write_config("[speech]\nlanguge = \"en\"\n");
    let output = home.run(&["models", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_panic(&output);
    let err = stderr(&output);
    assert!(
        err.contains("config.toml") && err.contains("languge"),
        "{err}"
    );
}

#[test]
fn history_starts_empty_and_unknown_ids_are_errors() {
    let home = Home::new();
    let output = home.run(&["history", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "no history yet");
    assert!(
        home.path().join("data/sotto.db").exists(),
        "the database is created on first use"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&home.run(&["history", "list", "--json"]).stdout).unwrap();
    assert_eq!(json, serde_json::json!([]));
    let missing = home.run(&["history", "show", "7"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no utterance with id 7"));
}

#[test]
fn a_damaged_database_is_reported_with_advice() {
    let home = Home::new();
    std::fs::create_dir_all(home.path().join("data")).unwrap();
    std::fs::write(home.path().join("data/sotto.db"), vec![7u8; 4096]).unwrap();
    let output = home.run(&["history", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_panic(&output);
    assert!(
        stderr(&output).contains("move it aside"),
        "{}",
        stderr(&output)
    );
    // Model management does not need the database.
    assert!(home.run(&["models", "list"]).status.success());
}

/// A catalog whose one model comes from a local file, so the whole fetch / verify / remove
/// cycle runs through the real binary without the network.
fn local_catalog(home: &Home, payload: &[u8]) -> std::path::PathBuf {
    let source = home.path().join("payload.bin");
    std::fs::write(&source, payload).unwrap();
    let sha = hex::encode(Sha256::digest(payload));
    let catalog = home.path().join("catalog.toml");
    std::fs::write(
        &catalog,
        format!(
            r#"schema = 1
[[model]]
id = "tiny-test"
name = "Test model"
task = "vad"
languages = ["*"]
format = "ggml-silero"
license = "MIT"
ram_mb = 1
min_cores = 1
quality = 1
description = "test"
files = [{{ name = "model.bin", size = {size}, sha256 = "{sha}" }}]
[[model.source]]
kind = "local"
files."model.bin" = "{source}"
"#,
            size = payload.len(),
            source = source.display()
        ),
    )
    .unwrap();
    catalog
}

#[test]
fn fetch_verify_corrupt_and_remove_through_the_cli() {
    let home = Home::new();
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let catalog = local_catalog(&home, &payload);
    let cat = catalog.to_str().unwrap();

    let fetched = home.run(&["--catalog", cat, "models", "fetch", "tiny-test"]);
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let installed = home.path().join("data/models/tiny-test/model.bin");
    assert_eq!(std::fs::read(&installed).unwrap(), payload);
    let path = home.run(&["--catalog", cat, "models", "path", "tiny-test"]);
    assert_eq!(stdout(&path).trim(), installed.display().to_string());

    let list: serde_json::Value = serde_json::from_slice(
        &home
            .run(&["--catalog", cat, "models", "list", "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(list[0]["state"], "installed");

    assert!(home
        .run(&["--catalog", cat, "models", "verify"])
        .status
        .success());
    let mut bytes = payload.clone();
    bytes[500] ^= 0xff;
    std::fs::write(&installed, &bytes).unwrap();
    let verify = home.run(&["--catalog", cat, "models", "verify", "tiny-test"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(stdout(&verify).contains("corrupt"), "{}", stdout(&verify));

    let removed = home.run(&["--catalog", cat, "models", "remove", "tiny-test"]);
    assert!(removed.status.success());
    assert!(!installed.exists());
    let path = home.run(&["--catalog", cat, "models", "path", "tiny-test"]);
    assert_eq!(path.status.code(), Some(1));
    assert!(stderr(&path).contains("not installed"));

    let log = stdout(&home.run(&["--catalog", cat, "models", "log"]));
    for event in ["installed", "verified", "corrupt", "removed"] {
        assert!(
            log.contains(event),
            "{event} missing from the model log:\n{log}"
        );
    }
}

#[test]
fn unknown_models_are_named_in_the_error() {
    let home = Home::new();
    let output = home.run(&["models", "fetch", "no-such-model"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no model \"no-such-model\" in the catalog"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn recommend_explains_its_choices() {
    let home = Home::new();
    let output = home.run(&["models", "recommend", "--offline", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let tasks: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["task"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["asr", "vad", "planner"]);
    for row in rows.as_array().unwrap() {
        assert!(row["chosen"].is_string(), "nothing chosen for {row}");
        assert!(row["why"].as_str().unwrap().contains("fits"), "{row}");
    }
}

#[test]
fn the_interactive_session_takes_commands_from_stdin() {
    let home = Home::new();
    // No downloads in this test: auto_fetch off, so the session only reports what is missing.
    home.write_config("[models]\nauto_fetch = false\n");
    let mut child = home
        .sotto()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"history list\nset a timer for ten minutes\nmodels nonsense\nquit\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_panic(&output);
    let out = stdout(&output);
    assert!(out.contains("history:"), "{out}");
    assert!(out.contains("auto_fetch is off"), "{out}");
    assert!(out.contains("no history yet"), "{out}");
    // A request goes to the planner, whose model this home does not have (and may not
    // fetch): a clear error, and the session goes on.
    assert!(
        stderr(&output).contains("models.auto_fetch is off"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("unrecognized subcommand"),
        "a bad command is reported and the session goes on"
    );
    assert!(out.trim_end().ends_with("bye"), "{out}");
}
