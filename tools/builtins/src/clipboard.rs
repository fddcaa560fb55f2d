//! `clipboard_read` and `clipboard_write`: the desktop clipboard through `xclip` on X11 or
//! `wl-paste`/`wl-copy` on Wayland (chosen by whether `WAYLAND_DISPLAY` is set).
//!
//! The text travels on standard input and output, never as an argument. What is read is
//! data like any tool output: the policy makes a later change that uses it ask first.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, HostEnv};
use sotto_tools::{
    Capability, Example, Reply, Risk, SpawnScope, ToolContext, ToolError, ToolInfo, TypedTool,
};

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CHARS: usize = 100_000;

fn capabilities() -> Vec<Capability> {
    let mut caps = vec![Capability::Clipboard];
    caps.extend(
        ["xclip", "wl-copy", "wl-paste"].map(|p| Capability::Spawn(SpawnScope::Program(p.into()))),
    );
    caps
}

fn wayland(env: &HostEnv) -> bool {
    env.get("WAYLAND_DISPLAY").is_some()
}

/// The program (and its arguments) that prints the clipboard's text in this session:
/// `wl-paste` on Wayland, else `xclip`. Shared with the plugin host's clipboard service.
pub fn clipboard_reader(env: &HostEnv) -> (&'static str, Vec<Arg>) {
    if wayland(env) {
        ("wl-paste", vec![Arg::Fixed("--no-newline")])
    } else {
        (
            "xclip",
            vec![
                Arg::Fixed("-selection"),
                Arg::Fixed("clipboard"),
                Arg::Fixed("-o"),
            ],
        )
    }
}

/// The program (and its arguments) that takes the clipboard's new text on standard input.
pub fn clipboard_writer(env: &HostEnv) -> (&'static str, Vec<Arg>) {
    if wayland(env) {
        ("wl-copy", vec![])
    } else {
        (
            "xclip",
            vec![
                Arg::Fixed("-selection"),
                Arg::Fixed("clipboard"),
                Arg::Fixed("-i"),
            ],
        )
    }
}

fn failed(program: &str, detail: String) -> ToolError {
    ToolError::Failed(format!("cannot use the clipboard ({program}: {detail})"))
}

#[derive(Debug)]
pub struct ClipboardRead;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClipboardReadArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClipboardText {
    pub text: String,
    /// The clipboard held more than 100,000 characters; `text` is the start.
    pub truncated: bool,
}

impl TypedTool for ClipboardRead {
    type Args = ClipboardReadArgs;
    type Output = ClipboardText;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "(what's|what is) [currently] in [my|the] clipboard",
            "show [me] [my|the] clipboard [contents]",
            "(what's|what is) on [my|the] clipboard",
            "read [me] [my|the] clipboard",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "clipboard_read",
            description: "Reads the text on the clipboard.",
            examples: vec![
                Example::new("what's on my clipboard", json!({})),
                Example::new("read the clipboard", json!({})),
                Example::new("what did I copy", json!({})),
            ],
            capabilities: capabilities(),
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        _: ClipboardReadArgs,
        context: &ToolContext,
    ) -> Result<Reply<ClipboardText>, ToolError> {
        let launcher = context.launcher("xclip")?;
        let (program, args) = clipboard_reader(launcher.env());
        let out = launcher.run(program, &args, TIMEOUT).await?;
        if !out.success {
            // An empty clipboard is not an error for the user.
            if out.stderr_tail.contains("target STRING not available")
                || out.stderr_tail.contains("No selection")
            {
                return Ok(Reply::new(
                    ClipboardText {
                        text: String::new(),
                        truncated: false,
                    },
                    "The clipboard is empty.",
                ));
            }
            return Err(failed(program, out.stderr_tail));
        }
        let truncated = out.stdout.chars().count() > MAX_CHARS;
        let text: String = out.stdout.chars().take(MAX_CHARS).collect();
        let summary = if text.is_empty() {
            "The clipboard is empty.".to_string()
        } else {
            format!("The clipboard says: {text}")
        };
        Ok(Reply::new(ClipboardText { text, truncated }, summary))
    }
}

#[derive(Debug)]
pub struct ClipboardWrite;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClipboardWriteArgs {
    /// The text to put on the clipboard.
    #[schemars(length(min = 1, max = 100000))]
    pub text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClipboardWritten {
    pub characters: usize,
}

impl TypedTool for ClipboardWrite {
    type Args = ClipboardWriteArgs;
    type Output = ClipboardWritten;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "clipboard_write",
            description: "Puts text on the clipboard, replacing what was there.",
            examples: vec![
                Example::new(
                    "copy my address to the clipboard: 12 High Street",
                    json!({"text": "12 High Street"}),
                ),
                Example::new(
                    "put hello world on the clipboard",
                    json!({"text": "hello world"}),
                ),
                Example::new(
                    "copy the phone number 555 0100",
                    json!({"text": "555 0100"}),
                ),
            ],
            capabilities: capabilities(),
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: ClipboardWriteArgs,
        context: &ToolContext,
    ) -> Result<Reply<ClipboardWritten>, ToolError> {
        let launcher = context.launcher("xclip")?;
        let (program, program_args) = clipboard_writer(launcher.env());
        // xclip stays behind to serve the selection; `feed` waits only for the program.
        let out = launcher
            .feed(program, &program_args, args.text.as_bytes(), TIMEOUT)
            .await?;
        if !out.success {
            return Err(failed(program, out.stderr_tail));
        }
        let characters = args.text.chars().count();
        Ok(Reply::new(
            ClipboardWritten { characters },
            "Copied to the clipboard.",
        ))
    }
}
