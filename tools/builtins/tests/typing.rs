//! `type_text` (dictation) for real: the real `xdotool` on a private X server (Xvfb) types
//! into a real xterm whose shell runs `cat > FILE`, so the file holds exactly the characters
//! the window received. The Wayland programs cannot run here (no compositor); stand-in
//! scripts show which is tried, with which arguments, and that the text comes on stdin.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{decide, AllowReason, AskReason, Decision, Input, Origin, ToolGrants};
use sotto_tools::Host;
use support::xvfb::Xvfb;
use support::World;

/// An xterm (Debian package `xterm`) on `display` whose shell copies what is typed into
/// `out`, focused so that typing reaches it. Killed when dropped.
struct Xterm {
    child: Child,
    display: String,
}

impl Xterm {
    fn start(display: &str, out: &Path) -> Xterm {
        let child = Command::new("xterm")
            .args(["-u8", "-e", "sh", "-c", r#"exec cat > "$1""#, "sh"])
            .arg(out)
            .env("DISPLAY", display)
            .env("LANG", "C.UTF-8")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("xterm runs (Debian package xterm; .ci/setup installs it)");
        let xterm = Xterm {
            child,
            display: display.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let window = loop {
            let found = xterm.xdotool(&["search", "--onlyvisible", "--class", "xterm"]);
            if let Some(id) = found.lines().next().filter(|l| !l.is_empty()) {
                break id.to_string();
            }
            assert!(Instant::now() < deadline, "no xterm window in 10 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        // No window manager runs on Xvfb, so focus is given directly (XSetInputFocus).
        xterm.xdotool(&["windowfocus", "--sync", &window]);
        xterm
    }

    /// Runs the test's own xdotool (not the tool's) on this display.
    fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool runs (Debian package xdotool; .ci/setup installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Ends the input (Ctrl+D on an empty line) and waits for `cat` and the xterm to exit.
    fn finish(mut self) {
        self.xdotool(&["key", "ctrl+d"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "xterm did not exit after Ctrl+D");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Xterm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A host on `display` with the C locale: the tool must not depend on the user's `LANG` to
/// type non-ASCII letters.
fn x11_host(world: &World, display: &str) -> Host {
    let home = world.home();
    let display = display.to_string();
    Host::new(
        world.data(),
        HostEnv::from_lookup(move |key| match key {
            "HOME" => Some(home.clone().into()),
            "PATH" => Some("/usr/bin:/bin".into()),
            "DISPLAY" => Some(display.clone().into()),
            "LANG" => Some("C".into()),
            _ => None,
        }),
    )
}

#[tokio::test]
async fn typed_text_reaches_the_focused_window_exactly() {
    let world = World::new();
    let x = Xvfb::start();
    let out: PathBuf = world.base.path().join("typed.txt");
    let xterm = Xterm::start(&x.display, &out);
    let host = x11_host(&world, &x.display);
    let grants = world.allowed(&[]);

    let plain = "Hello, World! It's 3:45; ready? (Yes) #1 @me ~/notes \"quoted\" back\\slash \
                 50% a+b=c [x] {y} <z> | café, naïve, Straße, 10 €";
    let hostile = "$(touch ~/pwned); echo pwned `touch pwned2` && rm -rf ~ -- --help";
    // FIXME: xdotool 3.20160805 types capitals that are not on the keymap as small letters.
    let capital = "École";
    for text in [plain, hostile, capital] {
        let typed = world
            .call_in(&host, "type_text", json!({"text": text}), &grants)
            .await
            .unwrap();
        assert_eq!(typed.value["characters"], text.chars().count());
        assert_eq!(typed.value["by"], "xdotool");
        // The tool never presses Enter; the test does, to end the line for `cat`.
        xterm.xdotool(&["key", "Return"]);
    }
    xterm.finish();

    let received = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        received.lines().collect::<Vec<_>>(),
        [plain, hostile, "école"]
    );
    // The metacharacters were only characters: nothing ran, nothing was created.
    assert!(!world.home().join("pwned").exists());
    assert!(!world.home().join("pwned2").exists());
    assert!(world.home().exists());
}

#[tokio::test]
async fn the_text_goes_on_stdin_never_in_argv() {
    let world = World::new();
    world.script(
        "xdotool",
        r#"echo "$* LANG=$LANG" > "$HOME/argv.txt"; cat > "$HOME/stdin.txt""#,
    );
    // Letters beyond ASCII are typed more slowly (see `REMAP_DELAY` in the tool).
    for (text, delay) in [
        ("-rf --help $(id) ; x", "12"),
        ("-rf --help $(id) ; é", "80"),
    ] {
        let out = world
            .call("type_text", json!({"text": text}))
            .await
            .unwrap();
        assert_eq!(
            out.summary,
            format!("Typed {} characters.", text.chars().count())
        );
        let argv = std::fs::read_to_string(world.home().join("argv.txt")).unwrap();
        assert_eq!(
            argv.trim(),
            format!("type --clearmodifiers --delay {delay} --file - LANG=C.UTF-8")
        );
        assert_eq!(
            std::fs::read_to_string(world.home().join("stdin.txt")).unwrap(),
            text
        );
    }
}

#[tokio::test]
async fn wayland_uses_wtype_then_falls_back_to_ydotool() {
    let world = World::new();
    world.script(
        "wtype",
        r#"echo "wtype $*" >> "$HOME/calls.txt"; echo 'Compositor does not support the virtual keyboard protocol' >&2; exit 1"#,
    );
    world.script(
        "ydotool",
        r#"echo "ydotool $*" >> "$HOME/calls.txt"; cat > "$HOME/stdin.txt""#,
    );
    let mut host = world.host();
    host.env = host.env.with_var("WAYLAND_DISPLAY", "wayland-0");
    let out = world
        .call_in(
            &host,
            "type_text",
            json!({"text": "dear Anna,"}),
            &world.allowed(&[]),
        )
        .await
        .unwrap();
    assert_eq!(out.value, json!({"characters": 10, "by": "ydotool"}));
    let calls = std::fs::read_to_string(world.home().join("calls.txt")).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["wtype -d 12 -", "ydotool type --key-delay 12 --file -"]
    );
    assert_eq!(
        std::fs::read_to_string(world.home().join("stdin.txt")).unwrap(),
        "dear Anna,"
    );

    // When neither can type, both reasons are given.
    world.script("ydotool", "echo 'failed to open uinput device' >&2; exit 1");
    let err = world
        .call_in(
            &host,
            "type_text",
            json!({"text": "x"}),
            &world.allowed(&[]),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("cannot type the text (wtype: Compositor does not support")
            && text.contains("ydotool: failed to open uinput device"),
        "{text}"
    );
}

#[tokio::test]
async fn newlines_and_overlong_texts_are_refused_before_anything_runs() {
    let world = World::new();
    world.script("xdotool", r#"echo called >> "$HOME/calls.txt""#);
    for (text, fragment) in [
        ("rm -rf ~\n".to_string(), "one line"),
        ("a\tb".to_string(), "one line"),
        ("x".repeat(2001), "invalid arguments"),
        (String::new(), "invalid arguments"),
    ] {
        let err = world
            .call("type_text", json!({"text": text}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains(fragment), "{text:?}: {err}");
    }
    assert!(!world.home().join("calls.txt").exists());
    // At the cap, it types.
    world
        .call("type_text", json!({"text": "é".repeat(2000)}))
        .await
        .unwrap();
    assert!(world.home().join("calls.txt").exists());
}

#[tokio::test]
async fn without_a_display_the_error_names_xdotool() {
    let world = World::new();
    let err = world
        .call("type_text", json!({"text": "hello"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot type the text (xdotool:"),
        "{err}"
    );
}

#[test]
fn typing_asks_the_first_time_and_whenever_the_text_came_from_a_tool() {
    let world = World::new();
    let manifest = world.registry.get("type_text").unwrap().clone();
    let voice = Origin::user(Input::Voice);
    assert_eq!(
        decide(&manifest, &ToolGrants::default(), voice),
        Decision::Ask(AskReason::FirstTime)
    );
    let confirmed = ToolGrants {
        confirmed_before: true,
        ..Default::default()
    };
    assert_eq!(
        decide(&manifest, &confirmed, voice),
        Decision::Allow(AllowReason::ConfirmedBefore)
    );
    // "Type what's on my clipboard": the text is another tool's output, so it asks.
    let from_tool = Origin {
        input: Input::Voice,
        uses_tool_output: true,
    };
    assert_eq!(
        decide(&manifest, &confirmed, from_tool),
        Decision::Ask(AskReason::UsesToolOutput)
    );
}
