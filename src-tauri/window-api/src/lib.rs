//! What Sotto's desktop window and its backend say to each other.
//!
//! The window (TypeScript, in `ui/`) calls the backend's commands and listens to its events;
//! every value that crosses is one of the types here. The TypeScript declarations in
//! `ui/src/bindings/` are generated from them (`ts-rs`), never written by hand: the test
//! `bindings_are_current` fails when they are stale, and `cargo run -p sotto-window-api
//! --example export-bindings` rewrites them.
//!
//! This crate knows nothing of Tauri or of the pipeline: the desktop crate converts the
//! pipeline's types into these at the edge, so the window's contract changes only here.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// Event names (the backend emits them to every window).
pub mod events {
    /// [`super::StatusView`]: the assistant's state changed.
    pub const STATUS: &str = "sotto:status";
    /// [`super::RequestUpdate`]: progress of one request.
    pub const REQUEST: &str = "sotto:request";
    /// [`super::ConfirmPrompt`]: a call waits for the user's answer.
    pub const CONFIRM: &str = "sotto:confirm";
    /// [`super::ConfirmClosed`]: a question was answered or timed out.
    pub const CONFIRM_CLOSED: &str = "sotto:confirm-closed";
}

/// The one state the tray and the window show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum AssistantState {
    Idle,
    Listening,
    Thinking,
    Acting,
    NeedsConfirmation,
    Error,
}

impl AssistantState {
    /// As the tray's tooltip says it.
    pub fn describe(self) -> &'static str {
        match self {
            AssistantState::Idle => "ready",
            AssistantState::Listening => "listening",
            AssistantState::Thinking => "thinking",
            AssistantState::Acting => "acting",
            AssistantState::NeedsConfirmation => "needs your confirmation",
            AssistantState::Error => "something went wrong",
        }
    }
}

/// What the assistant is doing, and the last thing it said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatusView {
    pub state: AssistantState,
    /// A line about the state ("planning: set a timer…", the error's message).
    pub detail: Option<String>,
    /// The reply to the last request.
    pub last_result: Option<String>,
}

/// One step of a plan, as the planner wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlanStep {
    pub id: u32,
    /// `None` for a reply step (no tool).
    pub tool: Option<String>,
    /// The arguments, `$N` references written as strings.
    #[ts(type = "Record<string, unknown>")]
    pub args: Value,
    pub deps: Vec<u32>,
}

/// Progress of one request, in order. `utterance` is its history row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RequestUpdate {
    /// The request is in the history.
    Recorded { utterance: i64, text: String },
    /// The planner wrote a step (it has not run yet).
    Planned { utterance: i64, step: PlanStep },
    /// A step's arguments are resolved and it is starting.
    Started {
        utterance: i64,
        id: u32,
        tool: String,
        #[ts(type = "Record<string, unknown>")]
        args: Value,
    },
    /// A step ended: `summary` is its result in words, or its error.
    Finished {
        utterance: i64,
        id: u32,
        tool: String,
        ok: bool,
        summary: String,
        ms: u64,
        /// Who let it run (`policy:read-only`, `user:window`), if anyone did.
        approval: Option<String>,
    },
    /// A step never ran, and why.
    Skipped {
        utterance: i64,
        id: u32,
        tool: String,
        reason: String,
    },
    /// The plan failed in a way another plan may avoid; planning again.
    Replanning { utterance: i64, feedback: String },
    /// Everything ran (or failed): what to tell the user.
    Done {
        utterance: i64,
        reply: String,
        ok: bool,
        /// From the request to the plan's last token.
        plan_ms: u64,
        /// The template that answered without the model, if one did.
        fast_path: Option<String>,
    },
    /// The request could not be carried out at all (no model, the worker crashed).
    Failed {
        utterance: Option<i64>,
        error: String,
    },
}

impl RequestUpdate {
    pub fn utterance(&self) -> Option<i64> {
        match self {
            RequestUpdate::Recorded { utterance, .. }
            | RequestUpdate::Planned { utterance, .. }
            | RequestUpdate::Started { utterance, .. }
            | RequestUpdate::Finished { utterance, .. }
            | RequestUpdate::Skipped { utterance, .. }
            | RequestUpdate::Replanning { utterance, .. }
            | RequestUpdate::Done { utterance, .. } => Some(*utterance),
            RequestUpdate::Failed { utterance, .. } => *utterance,
        }
    }
}

/// A call that waits for the user: the tool, its exact arguments and why Sotto asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConfirmPrompt {
    /// Names this question in [`ConfirmReply`]; a fresh random value per question.
    pub id: String,
    pub tool: String,
    pub description: String,
    /// What the tool may do, in words ("sends messages").
    pub risk: String,
    /// The arguments exactly as the tool will receive them (pretty JSON).
    pub arguments: String,
    pub reason: String,
    /// Whether "Always for this tool" can stop this question from coming back. It cannot
    /// for sending, destroying, running commands or arguments from another tool's output:
    /// those ask every time, whatever the user set, and the dialog offers no "Always".
    pub can_always: bool,
    /// Unanswered after this long, the answer is Deny.
    pub timeout_secs: u32,
}

/// The user's answer in the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ConfirmAnswer {
    /// Run this call, once.
    AllowOnce,
    /// Run it, and let this tool run without asking from now on (where the policy lets a
    /// setting decide; what always asks still asks).
    AlwaysForTool,
    Deny,
}

/// Sent by the window: the answer to the question `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConfirmReply {
    pub id: String,
    pub answer: ConfirmAnswer,
}

/// The question `id` is closed (answered here or elsewhere, or timed out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConfirmClosed {
    pub id: String,
    /// `None` when it timed out or the request was cancelled (both mean no).
    pub answer: Option<ConfirmAnswer>,
}

/// One row of the history list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryRow {
    pub id: i64,
    pub created_at: String,
    /// `voice` or `typed`.
    pub input: String,
    pub transcript: Option<String>,
    pub status: String,
    pub plans: i64,
    pub calls: i64,
}

/// One utterance with what Sotto did about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryDetail {
    pub row: HistoryRow,
    /// The recording, for playback (an absolute path), if one was kept.
    pub audio_path: Option<String>,
    pub audio_ms: Option<i64>,
    pub error: Option<String>,
    pub plans: Vec<PlanView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlanView {
    pub text: String,
    pub duration_ms: Option<i64>,
    pub calls: Vec<CallView>,
}

/// One tool call with its permission decision, result and timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CallView {
    pub step: i64,
    pub tool: String,
    #[ts(type = "Record<string, unknown>")]
    pub arguments: Value,
    pub decision: String,
    #[ts(type = "unknown")]
    pub result: Option<Value>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

/// A tool and what the user lets it do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolView {
    pub name: String,
    pub description: String,
    /// `read-only`, `changes-files`, `sends`, ...
    pub risk: String,
    /// The setting in force: `always-ask`, `ask-first-time`, `allow`, `never`.
    pub setting: String,
    /// Whether the user set it (otherwise it is the default for the tool's risk).
    pub set_by_user: bool,
    /// Capability keys (`read:sotto/notes`, `write:user-folders`, `notify`, ...).
    pub capabilities: Vec<String>,
    /// The plugin that provides it, if it is not built in.
    pub plugin: Option<String>,
}

/// Every type the window sees, for writing the bindings into `dir`. Integers are plain
/// `number`s: ids and milliseconds stay far below 2^53, and JSON carries them as numbers.
pub fn export_all(dir: &std::path::Path) -> Result<(), ts_rs::ExportError> {
    let config = ts_rs::Config::new()
        .with_out_dir(dir)
        .with_large_int("number");
    AssistantState::export_all(&config)?;
    StatusView::export_all(&config)?;
    PlanStep::export_all(&config)?;
    RequestUpdate::export_all(&config)?;
    ConfirmPrompt::export_all(&config)?;
    ConfirmAnswer::export_all(&config)?;
    ConfirmReply::export_all(&config)?;
    ConfirmClosed::export_all(&config)?;
    HistoryRow::export_all(&config)?;
    HistoryDetail::export_all(&config)?;
    PlanView::export_all(&config)?;
    CallView::export_all(&config)?;
    ToolView::export_all(&config)?;
    Ok(())
}
