//! `type_text`: dictation, typing text into whatever window has the keyboard focus.
//!
//! X11: `xdotool type --clearmodifiers --delay 12 --file -` (Debian `xdotool`; 80 ms for text
//! beyond ASCII, see `REMAP_DELAY`). Wayland
//! (`WAYLAND_DISPLAY` set, as the clipboard tools decide): `wtype -d 12 -` (compositors with
//! the virtual-keyboard protocol: Sway, Hyprland, ...), falling back to `ydotool type --file -`
//! (uinput, for GNOME and KDE, which lack that protocol; needs its daemon or uinput access).
//!
//! The text travels on standard input, never in argv: no other user sees it in `ps`, and no
//! text, not even one starting with `-`, can be read as an option. `--clearmodifiers` lifts
//! a modifier the user still holds (the push-to-talk chord), so typed letters never turn
//! into shortcuts such as Ctrl+W.
//!
//! Control characters are refused, newlines and tabs included: typing never presses Enter or
//! Tab, so it cannot run a command in a focused terminal, send a chat message or submit a
//! form. Whatever is typed stays in the field, visible, until the user acts on it.
//!
//! Policy: `Risk::ChangesLocalData`, so it follows the user's setting (ask the first time by
//! default) rather than always asking. Typing lands in whatever is focused, but with no Enter
//! the harm is text the user sees and can undo, as with `clipboard_write`; the words are the
//! user's own, since text that came from another tool's output (a note, the clipboard, a web
//! page) makes the call ask every time (policy rule 5), and an unattended call that would ask
//! is refused. Asking before every sentence would make dictation useless, and a confirmation
//! prompt would itself take the focus from the window the text was meant for.
//!
//! Known limit: xdotool 3.20160805 (Debian 12) types a capital letter that is not on the
//! keyboard map (`É`) as its small letter (`é`); the tests pin that behaviour.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, Launcher, SandboxError};
use sotto_tools::{
    Capability, Example, Reply, Risk, SpawnScope, ToolContext, ToolError, ToolInfo, TypedTool,
};

/// Longest text one call types: a dictated paragraph. At 12 ms a key that is under half a
/// minute of typing (under three minutes at 80 ms), during which the user cannot use their
/// keyboard safely.
pub const MAX_TYPED_CHARS: usize = 2000;
/// Milliseconds between keystrokes for text on a US keyboard (ASCII): xdotool's own default,
/// slow enough that applications which process keys one event at a time drop none.
const ASCII_DELAY: &str = "12";
/// For text with any other character. xdotool types a letter missing from the keymap (`é`,
/// `€`) by binding it to a spare key, pressing that key and unbinding it again; an
/// application that reads the new keymap only after the unbinding receives nothing. At 12 ms
/// a busy machine lost about one such letter in ten (an xterm under Xvfb, load 10 on two
/// cores); at 40 ms none of fifty, but at 50 ms a full test run still lost one `ï` once (load
/// about 5, beside a speech model's test). 80 ms: a 2,000-character text then takes under
/// three minutes. The pause is only paid for texts that need it.
const REMAP_DELAY: &str = "80";

/// The keystroke delay for `text`, as xdotool's argument and in milliseconds.
fn key_delay(text: &str) -> (&'static str, u64) {
    if text.is_ascii() {
        (ASCII_DELAY, 12)
    } else {
        (REMAP_DELAY, 80)
    }
}

#[derive(Debug)]
pub struct TypeText;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeTextArgs {
    /// The text to type, exactly as it should appear (one line: no newlines or tabs).
    #[schemars(length(min = 1, max = 2000))]
    pub text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Typed {
    pub characters: usize,
    /// The program that typed it: `xdotool`, `wtype` or `ydotool`.
    pub by: String,
}

fn spawn(program: &str) -> Capability {
    Capability::Spawn(SpawnScope::Program(program.into()))
}

/// The programs to try, in order, with their arguments; the text goes on standard input.
fn typists(launcher: &Launcher, delay: &'static str) -> Vec<(&'static str, Vec<Arg>)> {
    if launcher.env().get("WAYLAND_DISPLAY").is_some() {
        vec![
            (
                "wtype",
                vec![Arg::Fixed("-d"), Arg::Fixed(delay), Arg::Fixed("-")],
            ),
            (
                "ydotool",
                vec![
                    Arg::Fixed("type"),
                    Arg::Fixed("--key-delay"),
                    Arg::Fixed(delay),
                    Arg::Fixed("--file"),
                    Arg::Fixed("-"),
                ],
            ),
        ]
    } else {
        vec![(
            "xdotool",
            vec![
                Arg::Fixed("type"),
                Arg::Fixed("--clearmodifiers"),
                Arg::Fixed("--delay"),
                Arg::Fixed(delay),
                Arg::Fixed("--file"),
                Arg::Fixed("-"),
            ],
        )]
    }
}

/// Why `text` may not be typed, if it may not. Checked here as well as by the schema, so a
/// caller that skipped validation still cannot type a newline or an endless text.
fn refusal(text: &str) -> Option<String> {
    let count = text.chars().count();
    if count == 0 {
        return Some("there is no text to type".into());
    }
    if count > MAX_TYPED_CHARS {
        return Some(format!(
            "that is {count} characters; I type at most {MAX_TYPED_CHARS} at a time"
        ));
    }
    if text.chars().any(char::is_control) {
        return Some(
            "I type one line of text only: newlines, tabs and other control characters would \
             press keys such as Enter in the focused window"
                .into(),
        );
    }
    None
}

impl TypedTool for TypeText {
    type Args = TypeTextArgs;
    type Output = Typed;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "type_text",
            description: "Types text into the window that has the keyboard focus, as if typed on the keyboard (dictation).",
            examples: vec![
                Example::new(
                    "type hello, I'll be there at six",
                    json!({"text": "hello, I'll be there at six"}),
                ),
                Example::new(
                    "dictate: thanks for the update, see you tomorrow",
                    json!({"text": "thanks for the update, see you tomorrow"}),
                ),
                Example::new(
                    "write Dear Anna in the document",
                    json!({"text": "Dear Anna"}),
                ),
            ],
            capabilities: vec![spawn("xdotool"), spawn("wtype"), spawn("ydotool")],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: TypeTextArgs,
        context: &ToolContext,
    ) -> Result<Reply<Typed>, ToolError> {
        if let Some(reason) = refusal(&args.text) {
            return Err(ToolError::Refused(reason));
        }
        let launcher = context.launcher("xdotool")?.in_utf8_locale();
        let characters = args.text.chars().count();
        let (delay, delay_ms) = key_delay(&args.text);
        // Typing takes its time: allow twice the keystrokes' delays, plus start-up.
        let timeout =
            Duration::from_secs(10) + Duration::from_millis(2 * delay_ms * characters as u64);
        let mut problems = Vec::new();
        for (program, program_args) in typists(&launcher, delay) {
            match launcher
                .feed(program, &program_args, args.text.as_bytes(), timeout)
                .await
            {
                Ok(out) if out.success => {
                    return Ok(Reply::new(
                        Typed {
                            characters,
                            by: program.to_string(),
                        },
                        format!(
                            "Typed {characters} character{}.",
                            if characters == 1 { "" } else { "s" }
                        ),
                    ));
                }
                // wtype checks for the virtual-keyboard protocol before it types anything, so
                // after its failure the fallback does not type the text a second time.
                Ok(out) => problems.push(format!("{program}: {}", out.stderr_tail)),
                // A missing fallback is worth naming, but the first failure says more.
                Err(e @ SandboxError::ProgramNotFound { .. }) => problems.push(e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(ToolError::Failed(format!(
            "cannot type the text ({})",
            problems.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_may_be_typed() {
        for (text, refused) in [
            ("Hello, World! $(rm -rf ~); echo pwned", None),
            ("-rf --help", None),
            ("café naïve € 日本", None),
            ("", Some("no text")),
            ("ls\n", Some("one line")),
            ("a\tb", Some("one line")),
            ("a\rb", Some("one line")),
            ("bell\u{7}", Some("one line")),
            ("esc\u{1b}[2J", Some("one line")),
            ("c1\u{9b}", Some("one line")),
        ] {
            let got = refusal(text);
            match (got.as_deref(), refused) {
                (None, None) => {}
                (Some(reason), Some(fragment)) => {
                    assert!(reason.contains(fragment), "{text:?}: {reason}")
                }
                (got, want) => panic!("{text:?}: got {got:?}, wanted {want:?}"),
            }
        }
        let long = "x".repeat(MAX_TYPED_CHARS);
        assert_eq!(refusal(&long), None);
        let too_long = "é".repeat(MAX_TYPED_CHARS + 1);
        assert!(refusal(&too_long).unwrap().contains("at most 2000"));
    }
}
