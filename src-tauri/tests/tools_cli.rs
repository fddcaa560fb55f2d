//! `sotto tools list|show|grant|revoke` run as a user would: the real binary, a throwaway
//! SOTTO_HOME (so a real store), exit codes and messages checked.

use std::process::{Command, Output};

use serde_json::Value;

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_sotto"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SOTTO_HOME", self.dir.path())
            .env("RUST_BACKTRACE", "0")
            .args(args)
            .output()
            .unwrap();
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        output
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// Runs a command that must fail with a message and print no result; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert_ne!(output.status.code(), Some(0));
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
        let err = stderr(&output);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        err
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}:\n{out}"))
    }

    /// The `sotto tools list` row of one tool.
    fn row(&self, tool: &str) -> String {
        self.ok(&["tools", "list"])
            .lines()
            .find(|l| l.split_whitespace().next() == Some(tool))
            .unwrap_or_else(|| panic!("{tool} not listed"))
            .to_string()
    }

    fn permissions(&self, tool: &str) -> Value {
        self.json(&["tools", "show", tool, "--json"])["permissions"].clone()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_shows_every_tool_with_its_risk_and_default_setting() {
    let home = Home::new();
    let out = home.ok(&["tools", "list"]);
    let expected: Vec<String> = {
        let mut names: Vec<String> = sotto_builtins::all()
            .iter()
            .map(|t| t.manifest().name.clone())
            .collect();
        names.sort();
        names
    };
    // The count moves as built-ins are added; the listing must name every one of them.
    assert!(expected.len() >= 29, "{expected:?}");
    let listed: Vec<&str> = out
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(listed, expected, "{out}");
    for (tool, risk, setting) in [
        ("calculator", "read-only", "allow (default)"),
        (
            "note_create",
            "changes-local-data",
            "ask-first-time (default)",
        ),
        ("open_url", "reaches-outside", "ask-first-time (default)"),
        ("find_files", "read-only", "allow (default)"),
    ] {
        let row = home.row(tool);
        assert!(row.contains(risk) && row.contains(setting), "{row}");
    }
    // Built-ins come with their fixed capabilities; folders are the user's to grant.
    assert!(home.row("open_url").contains("+spawn:xdg-open"));
    assert!(home.row("find_files").contains("-read:user-folders"));

    let json = home.json(&["tools", "list", "--json"]);
    let tools = json.as_array().unwrap();
    assert_eq!(tools.len(), expected.len());
    for tool in tools {
        assert_eq!(tool["setting_is_default"], true, "{tool}");
        assert!(tool["risk"].is_string() && tool["description"].is_string());
    }
}

#[test]
fn grant_allow_then_revoke_returns_to_the_default() {
    let home = Home::new();
    let out = home.ok(&["tools", "grant", "note_create", "--setting", "allow"]);
    assert!(out.contains("allow"), "{out}");
    let row = home.row("note_create");
    assert!(row.contains("allow") && !row.contains("(default)"), "{row}");
    assert_eq!(home.permissions("note_create")["setting"], "allow");
    assert_eq!(home.permissions("note_create")["setting_is_default"], false);
    // Other tools are untouched.
    assert!(home.row("note_append").contains("ask-first-time (default)"));

    home.ok(&["tools", "revoke", "note_create"]);
    assert!(home.row("note_create").contains("ask-first-time (default)"));
    assert_eq!(home.permissions("note_create")["setting_is_default"], true);
    // Revoking again is not an error: there is nothing left to take back.
    let out = home.ok(&["tools", "revoke", "note_create"]);
    assert!(out.contains("already has the default"), "{out}");
}

#[test]
fn settings_the_policy_would_ignore_are_not_offered() {
    let home = Home::new();
    // compose_email only opens a draft for the user to send (risk: reaches outside), so the
    // policy lets a setting relax it; sending, deleting and running commands always ask, and
    // no built-in does those today. The refusal itself is unit-tested in `cli/tools.rs` with
    // manifests that send, destroy and run commands.
    let always_asking: Vec<String> = home
        .json(&["tools", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["always_asks"].is_null())
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert!(always_asking.is_empty(), "{always_asking:?}");
    let show = home.ok(&["tools", "show", "compose_email"]);
    assert!(show.contains("reaches-outside"), "{show}");
    home.ok(&["tools", "grant", "compose_email", "--setting", "allow"]);
    assert_eq!(home.permissions("compose_email")["setting"], "allow");
    home.ok(&["tools", "grant", "compose_email", "--setting", "always-ask"]);
    assert_eq!(home.permissions("compose_email")["setting"], "always-ask");
    // `never` turns a tool off; `grant` alone turns it back on.
    home.ok(&["tools", "grant", "open_url", "--setting", "never"]);
    assert!(home.row("open_url").contains("never"));
    home.ok(&["tools", "grant", "open_url"]);
    assert!(home.row("open_url").contains("ask-first-time (default)"));
    let err = home.fails(&["tools", "grant", "open_url"]);
    assert!(err.contains("nothing to grant"), "{err}");
}

#[test]
fn a_granted_folder_is_canonical_and_shown() {
    let home = Home::new();
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("docs")).unwrap();
    let canonical = std::fs::canonicalize(folder.path().join("docs")).unwrap();
    let canonical = canonical.to_str().unwrap();
    // A path with `..` in it is stored as the folder it names.
    let roundabout = folder.path().join("docs/../docs");
    home.ok(&[
        "tools",
        "grant",
        "find_files",
        "--folder",
        roundabout.to_str().unwrap(),
    ]);
    let show = home.ok(&["tools", "show", "find_files"]);
    assert!(show.contains(canonical), "{show}");
    assert!(
        show.contains("read:user-folders (read folders you choose): granted"),
        "{show}"
    );
    assert!(home.row("find_files").contains("+read:user-folders"));
    let permissions = home.permissions("find_files");
    assert_eq!(permissions["folders"][0]["path"], canonical);
    assert_eq!(permissions["folders"][0]["write"], false);

    home.ok(&["tools", "revoke", "find_files", "--folder", canonical]);
    assert!(home.permissions("find_files")["folders"]
        .as_array()
        .unwrap()
        .is_empty());
    let err = home.fails(&["tools", "revoke", "find_files", "--folder", canonical]);
    assert!(err.contains("was not granted"), "{err}");
}

#[test]
fn bad_folders_are_errors_and_change_nothing() {
    let home = Home::new();
    let missing = home.dir.path().join("no-such-folder");
    let err = home.fails(&[
        "tools",
        "grant",
        "find_files",
        "--setting",
        "always-ask",
        "--folder",
        missing.to_str().unwrap(),
    ]);
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains("no-such-folder"), "{err}");
    assert_eq!(home.permissions("find_files")["setting_is_default"], true);

    let file = home.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = home.fails(&[
        "tools",
        "grant",
        "find_files",
        "--folder",
        file.to_str().unwrap(),
    ]);
    assert!(err.contains("not a folder"), "{err}");

    let err = home.fails(&[
        "tools",
        "grant",
        "calculator",
        "--folder",
        manifest_dir().to_str().unwrap(),
    ]);
    assert!(err.contains("does not use folders"), "{err}");
}

#[test]
fn unknown_tools_and_capabilities_are_clear_errors() {
    let home = Home::new();
    let err = home.fails(&["tools", "show", "note_craete"]);
    assert!(err.contains("no tool named `note_craete`"), "{err}");
    assert!(err.contains("`note_create`"), "{err}");
    let err = home.fails(&["tools", "grant", "email", "--setting", "allow"]);
    assert!(err.contains("`compose_email`"), "{err}");
    let err = home.fails(&["tools", "revoke", "zzzzzz"]);
    assert!(err.contains("no tool named `zzzzzz`"), "{err}");

    let err = home.fails(&["tools", "grant", "open_url", "--capability", "network"]);
    assert!(err.contains("unknown capability `network`"), "{err}");
    assert!(err.contains("spawn:xdg-open"), "{err}");
    let err = home.fails(&["tools", "revoke", "open_app", "--capability", "clipboard"]);
    assert!(err.contains("read:applications"), "{err}");
    let err = home.fails(&["tools", "grant", "calculator", "--capability", "network"]);
    assert!(err.contains("declares no capabilities"), "{err}");
    // Folder capabilities are granted folder by folder.
    let err = home.fails(&[
        "tools",
        "grant",
        "find_files",
        "--capability",
        "read:user-folders",
    ]);
    assert!(err.contains("--folder"), "{err}");

    // A bad setting is clap's usage error.
    let output = home.run(&["tools", "grant", "open_url", "--setting", "sometimes"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("ask-first"), "{}", stderr(&output));
}

#[test]
fn show_describes_one_tool() {
    let home = Home::new();
    let out = home.ok(&["tools", "show", "compose_email"]);
    for expected in [
        "compose_email",
        "Never sends anything itself",
        "arguments:",
        "to (array of string, required)",
        "result:",
        "examples:",
        "anna@example.org",
        "spawn:xdg-open",
        "setting: ask-first-time (default)",
    ] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }
    let json = home.json(&["tools", "show", "calculator", "--json"]);
    assert_eq!(json["manifest"]["name"], "calculator");
    assert_eq!(json["manifest"]["risk"], "read-only");
    assert!(json["manifest"]["parameters"]["properties"].is_object());
    assert_eq!(json["permissions"]["setting"], "allow");
    assert!(json["permissions"]["always_asks"].is_null());
}

/// This package's folder, asked at run time: a shared build cache may hold this test compiled
/// in another checkout, where the compile-time path points.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}
