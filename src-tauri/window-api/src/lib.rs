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
    /// [`super::VoiceUpdate`]: the microphone and what it hears.
    pub const VOICE: &str = "sotto:voice";
    /// [`super::ModelProgress`]: a model download's progress.
    pub const MODEL: &str = "sotto:model";
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
    /// The microphone is off because the user muted it: hotkeys do nothing until unmuted.
    pub muted: bool,
    /// What the microphone is (its name), or why there is none ("no input device ...").
    pub microphone: MicrophoneView,
}

/// The microphone as the window and the tray show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MicrophoneView {
    /// Not opened yet (the speech model is loading, or nothing asked for it).
    Closed,
    /// Open and ready: `device` is its name, `native` its format ("48000 Hz, 2 channel(s), f32").
    Ready { device: String, native: String },
    /// Muted by the user: closed until unmuted.
    Muted,
    /// Cannot be used, and what to do about it.
    Unavailable { message: String },
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
    /// Why it asks before every call whatever its setting ("sends messages or posts on your
    /// behalf"), if it does; only `always-ask` and `never` can be set for it.
    pub always_asks: Option<String>,
}

/// What the microphone hears, in order. `Level` comes about ten times a second while an
/// utterance is being recorded (and while the settings' microphone test runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum VoiceUpdate {
    /// Loudness of the latest audio in dBFS (-100 silence .. 0 full scale).
    Level { dbfs: f32 },
    /// Recording began (hotkey down, toggle, or the window's microphone button).
    Started,
    /// What has been heard so far of the utterance in progress.
    Partial { text: String },
    /// The utterance is finished and transcribed; it goes on as a request. `utterance` is
    /// its history row; `text` is empty when nothing was said.
    Heard {
        utterance: Option<i64>,
        text: String,
        audio_ms: u64,
        /// From the end of speech to the final transcript.
        transcribe_ms: u64,
    },
    /// Transcription failed; the recording and history row are kept.
    Failed {
        utterance: Option<i64>,
        message: String,
    },
}

/// A model in the catalog and whether it is on this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelView {
    pub id: String,
    /// `asr`, `vad` or `planner`.
    pub task: String,
    pub description: String,
    pub size_bytes: u64,
    /// `installed`, `partial` (an interrupted download) or `missing`.
    pub state: String,
    /// What `sotto models recommend` picks for this machine.
    pub recommended: bool,
    /// The model Sotto uses for its task now (configured, else recommended).
    pub in_use: bool,
}

/// A model download's progress. Ends with `done: true`, with `error` set if it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelProgress {
    pub id: String,
    /// `download`, `verify`, `unpack`, ... (the manager's stage), or `import`.
    pub stage: String,
    pub bytes_done: u64,
    pub bytes_total: Option<u64>,
    /// A line for the user ("trying source 2/3: pypi ...", "installed (75 MB)").
    pub message: Option<String>,
    pub done: bool,
    pub error: Option<String>,
}

/// An input device the user can choose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InputDeviceView {
    /// What goes into `Preferences::input_device`.
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

/// What the user can change in the Settings tab. Saved to `config.toml` (comments kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Preferences {
    /// An [`InputDeviceView::id`]; empty for the system default.
    pub input_device: String,
    /// Two-letter ISO 639-1 code of the language spoken to Sotto.
    pub language: String,
    /// Show what is heard while the person is still speaking.
    pub partials: bool,
    /// Keep the audio of every utterance for playback.
    pub keep_recordings: bool,
    /// Favour the user's own names and words in recognition (`speech.fusion.enabled`):
    /// fewer errors on names, slower, and a few more errors on other speech.
    pub name_fusion: bool,
    /// Days to keep recordings; 0 keeps them forever.
    pub keep_audio_days: u32,
    /// Hold to talk, release to send ("Ctrl+Alt+Space"); empty for none.
    pub push_to_talk_key: String,
    /// Press to start listening, again to stop; empty for none.
    pub toggle_key: String,
    /// Start Sotto (in the tray) when the user logs in.
    pub autostart: bool,
    /// Show a desktop notification with each result, and when a timer rings.
    pub notifications: bool,
    /// Speech model id; empty for the recommended one.
    pub asr_model: String,
    /// Planner model id; empty for the recommended one.
    pub planner_model: String,
}

/// The Settings tab: the preferences and what to choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    pub preferences: Preferences,
    pub devices: Vec<InputDeviceView>,
    /// Why global hotkeys do not work here, if they do not (Wayland), and what to do.
    pub hotkeys_note: Option<String>,
    /// Where the preferences are saved.
    pub config_file: String,
    /// Some saved preferences (the models) take effect when Sotto starts again.
    pub restart_needed: bool,
}

/// A plugin and whether it is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PluginView {
    pub id: String,
    pub name: String,
    pub version: String,
    pub enabled: bool,
    pub tools: Vec<String>,
}

/// First run: what is ready and what is still to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OnboardingView {
    /// The user finished (or skipped) onboarding before.
    pub done: bool,
    /// The models Sotto needs and their state (the recommended speech, voice-activity and
    /// planner models).
    pub models: Vec<ModelView>,
    pub push_to_talk_key: String,
    pub hotkeys_note: Option<String>,
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
    MicrophoneView::export_all(&config)?;
    VoiceUpdate::export_all(&config)?;
    ModelView::export_all(&config)?;
    ModelProgress::export_all(&config)?;
    InputDeviceView::export_all(&config)?;
    Preferences::export_all(&config)?;
    SettingsView::export_all(&config)?;
    PluginView::export_all(&config)?;
    OnboardingView::export_all(&config)?;
    Ok(())
}
