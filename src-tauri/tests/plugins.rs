//! `sotto plugins ...` as a user runs it: the real binary, a throwaway home (so a real
//! store), the SDK's example plugins built for wasm32-wasip2. Runs are started with `setsid`
//! (no terminal, so nothing can be confirmed) unless a test gives them a pseudo-terminal.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::Fixture;
use serde_json::Value;
use sotto_e2e::guests::wasm;

fn detached(fixture: &Fixture, args: &[&str]) -> Output {
    let command = fixture.command(args);
    let mut run = Command::new("setsid");
    run.arg("--wait")
        .arg(command.get_program())
        .args(command.get_args())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            run.env(key, value);
        }
    }
    let output = run.output().unwrap();
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{args:?} panicked: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn ok(fixture: &Fixture, args: &[&str]) -> String {
    let output = detached(fixture, args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(fixture: &Fixture, args: &[&str]) -> String {
    let output = detached(fixture, args);
    assert!(!output.status.success(), "{args:?} succeeded");
    String::from_utf8(output.stderr).unwrap()
}

fn installed(fixture: &Fixture) -> Vec<Value> {
    let out = ok(fixture, &["plugins", "list", "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn tool_names(fixture: &Fixture) -> Vec<String> {
    let out = ok(fixture, &["tools", "list", "--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    let tools = json
        .as_array()
        .or_else(|| json["tools"].as_array())
        .unwrap();
    tools
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The same component with a custom section appended: another file (another hash) that is
/// still the same plugin, as a rebuilt version would be.
fn rebuilt(original: &Path, dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(original).unwrap();
    let name = b"sotto-test-rebuild";
    let payload = b"v2";
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8); // size (one LEB128 byte)
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let out = dir.join("todo-v2.wasm");
    std::fs::write(&out, bytes).unwrap();
    out
}

#[test]
fn install_asks_pins_the_file_and_the_lifecycle_keeps_grants_consistent() {
    let fixture = Fixture::new();
    let todo = wasm("sotto-plugin-todo");
    let todo_arg = todo.to_str().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let folder_arg = folder.path().to_str().unwrap();
    assert!(installed(&fixture).is_empty());

    // Without a terminal and without --yes, nothing is installed, and the capabilities were
    // shown before the refusal.
    let output = detached(&fixture, &["plugins", "install", todo_arg]);
    assert!(!output.status.success());
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.contains("tool todo_add") && shown.contains("may change folders you choose"),
        "{shown}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("--yes"));
    assert!(installed(&fixture).is_empty());
    assert!(!tool_names(&fixture).contains(&"todo_add".to_string()));

    // A broken component is refused with the reason.
    let junk = folder.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm not really").unwrap();
    let error = fails(
        &fixture,
        &["plugins", "install", "--yes", junk.to_str().unwrap()],
    );
    assert!(error.contains("cannot be installed"), "{error}");

    ok(
        &fixture,
        &[
            "plugins", "install", "--yes", "--folder", folder_arg, "--write", todo_arg,
        ],
    );
    let list = installed(&fixture);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "todo");
    assert_eq!(list[0]["status"], "enabled");
    assert_eq!(
        list[0]["tools"],
        serde_json::json!(["todo_add", "todo_done", "todo_list"])
    );
    let pinned = list[0]["sha256"].as_str().unwrap().to_string();
    assert!(tool_names(&fixture).contains(&"todo_add".to_string()));
    // Its tools got exactly the capabilities they declare, and the folder.
    let show = ok(&fixture, &["tools", "show", "todo_add", "--json"]);
    assert!(
        show.contains("write:user-folders") && show.contains(folder_arg),
        "{show}"
    );
    let again = fails(&fixture, &["plugins", "install", "--yes", todo_arg]);
    assert!(again.contains("already installed"), "{again}");

    // Disabled: still installed, its tools left out.
    ok(&fixture, &["plugins", "disable", "todo"]);
    assert_eq!(installed(&fixture)[0]["status"], "disabled");
    assert!(!tool_names(&fixture).contains(&"todo_add".to_string()));
    ok(&fixture, &["plugins", "enable", "todo"]);
    assert!(tool_names(&fixture).contains(&"todo_add".to_string()));

    // The installed copy changed behind Sotto's back: it is not loaded, and Sotto says why.
    let copy = fixture.home().join("data/plugins/todo.wasm");
    assert!(copy.is_file());
    let mut bytes = std::fs::read(&copy).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&copy, bytes).unwrap();
    let output = detached(&fixture, &["tools", "list"]);
    assert!(output.status.success(), "Sotto keeps working");
    let warning = String::from_utf8_lossy(&output.stderr);
    assert!(
        warning.contains("changed since it was installed")
            && warning.contains("sotto plugins update todo"),
        "{warning}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("todo_add"));
    assert_eq!(installed(&fixture)[0]["status"], "changed");
    // The source still has the approved bytes: update restores them without asking.
    let restored = ok(&fixture, &["plugins", "update", "todo"]);
    assert!(restored.contains("Restored"), "{restored}");
    assert_eq!(installed(&fixture)[0]["status"], "enabled");

    // A new build asks again; without an answer nothing changes.
    let scratch = tempfile::tempdir().unwrap();
    let v2 = rebuilt(&todo, scratch.path());
    let v2_arg = v2.to_str().unwrap();
    let output = detached(&fixture, &["plugins", "update", "todo", "--from", v2_arg]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("The file changed"));
    assert_eq!(installed(&fixture)[0]["sha256"], pinned.as_str());
    ok(
        &fixture,
        &["plugins", "update", "todo", "--from", v2_arg, "--yes"],
    );
    let list = installed(&fixture);
    assert_ne!(list[0]["sha256"], pinned.as_str());
    assert_eq!(list[0]["status"], "enabled");
    assert_eq!(
        list[0]["source"],
        v2.canonicalize().unwrap().to_str().unwrap()
    );
    let show = ok(&fixture, &["tools", "show", "todo_add", "--json"]);
    assert!(
        show.contains(folder_arg),
        "the folder grant survives an update: {show}"
    );
    // Another plugin's file is not an update of this one.
    let convert = wasm("sotto-plugin-convert");
    let wrong = fails(
        &fixture,
        &[
            "plugins",
            "update",
            "todo",
            "--yes",
            "--from",
            convert.to_str().unwrap(),
        ],
    );
    assert!(wrong.contains("not `todo`"), "{wrong}");

    // Removed: file, tools and grants gone.
    ok(&fixture, &["plugins", "remove", "todo"]);
    assert!(installed(&fixture).is_empty());
    assert!(!copy.exists());
    assert!(!tool_names(&fixture).contains(&"todo_add".to_string()));
    let error = fails(&fixture, &["plugins", "enable", "todo"]);
    assert!(error.contains("no plugin `todo`"), "{error}");
}

#[test]
fn a_yes_typed_at_the_terminal_installs() {
    let fixture = Fixture::new();
    let journal = wasm("sotto-plugin-journal");
    let command = fixture.command(&["plugins", "install", journal.to_str().unwrap()]);
    // `script` gives the command a pseudo-terminal as its controlling terminal; what we
    // write to script's input is typed at it.
    let line = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| format!("'{}'", a.to_str().unwrap()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            script.env(key, value);
        }
    }
    let mut child = script.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{:?}: {text}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("Install plugin `journal` with these permissions? [yes/no]"),
        "{text}"
    );
    assert!(text.contains("Installed journal"), "{text}");
    assert_eq!(installed(&fixture).len(), 1);
}
