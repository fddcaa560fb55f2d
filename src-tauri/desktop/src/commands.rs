//! The window's commands: thin calls into the [`Assistant`]. Errors reach the window as
//! their message, with the cause chain.

use std::sync::Arc;

use sotto_window_api::{
    ConfirmPrompt, ConfirmReply, HistoryDetail, HistoryRow, ModelView, OnboardingView, PluginView,
    Preferences, SettingsView, StatusView, ToolView,
};
use tauri::State;

use crate::settings::SettingsService;
use crate::voice::Voice;
use crate::Assistant;

type Shared<'a> = State<'a, Arc<Assistant>>;

fn message(error: anyhow::Error) -> String {
    format!("{error:#}")
}

#[tauri::command]
pub async fn status(assistant: Shared<'_>) -> Result<StatusView, String> {
    Ok(assistant.status())
}

#[tauri::command]
pub async fn submit(assistant: Shared<'_>, text: String) -> Result<(), String> {
    assistant.submit(text)
}

/// The request being typed so far: the planner primes for it in the background.
#[tauri::command]
pub async fn prepare(assistant: Shared<'_>, text: String) -> Result<(), String> {
    assistant.prepare_later(text);
    Ok(())
}

#[tauri::command]
pub async fn cancel(assistant: Shared<'_>) -> Result<(), String> {
    assistant.cancel();
    Ok(())
}

/// The dialog's answer. The only way a confirmation is given from the desktop.
#[tauri::command]
pub async fn confirm_answer(assistant: Shared<'_>, reply: ConfirmReply) -> Result<(), String> {
    assistant.confirmations.answer(&reply)
}

#[tauri::command]
pub async fn pending_confirmations(assistant: Shared<'_>) -> Result<Vec<ConfirmPrompt>, String> {
    Ok(assistant.confirmations.pending())
}

#[tauri::command]
pub async fn history(
    assistant: Shared<'_>,
    search: Option<String>,
    limit: i64,
) -> Result<Vec<HistoryRow>, String> {
    assistant
        .history(search.as_deref(), limit)
        .await
        .map_err(message)
}

#[tauri::command]
pub async fn history_detail(assistant: Shared<'_>, id: i64) -> Result<HistoryDetail, String> {
    assistant.history_detail(id).await.map_err(message)
}

#[tauri::command]
pub async fn history_delete(assistant: Shared<'_>, id: i64) -> Result<(), String> {
    assistant.history_delete(id).await.map_err(message)
}

#[tauri::command]
pub async fn tools(assistant: Shared<'_>) -> Result<Vec<ToolView>, String> {
    assistant.tools().await.map_err(message)
}

/// The user's setting for one tool; `null` goes back to the default for its risk.
#[tauri::command]
pub async fn set_tool_setting(
    assistant: Shared<'_>,
    tool: String,
    setting: Option<String>,
) -> Result<(), String> {
    assistant
        .set_tool_setting(&tool, setting.as_deref())
        .await
        .map_err(message)
}

// The microphone.

type VoiceState<'a> = State<'a, Arc<Voice>>;
type SettingsState<'a> = State<'a, Arc<SettingsService>>;

/// Start recording an utterance (the window's microphone button, pressed).
#[tauri::command]
pub async fn listen_start(voice: VoiceState<'_>) -> Result<(), String> {
    voice.start()
}

/// Finish the recording: it is transcribed and carried out.
#[tauri::command]
pub async fn listen_stop(voice: VoiceState<'_>) -> Result<(), String> {
    voice.stop()
}

#[tauri::command]
pub async fn set_muted(voice: VoiceState<'_>, muted: bool) -> Result<(), String> {
    voice.set_muted(muted);
    Ok(())
}

#[tauri::command]
pub async fn mic_test(voice: VoiceState<'_>, on: bool) -> Result<(), String> {
    voice.mic_test(on)
}

// Settings, models, plugins, first run.

#[tauri::command]
pub async fn settings(service: SettingsState<'_>) -> Result<SettingsView, String> {
    Ok(service.view())
}

#[tauri::command]
pub async fn save_preferences(
    service: SettingsState<'_>,
    preferences: Preferences,
) -> Result<SettingsView, String> {
    service.save(&preferences).map_err(message)
}

#[tauri::command]
pub async fn models(service: SettingsState<'_>) -> Result<Vec<ModelView>, String> {
    service.models().await.map_err(message)
}

#[tauri::command]
pub async fn model_fetch(service: SettingsState<'_>, id: String) -> Result<(), String> {
    service.fetch_model(id)
}

#[tauri::command]
pub async fn plugins(service: SettingsState<'_>) -> Result<Vec<PluginView>, String> {
    service.plugins().await.map_err(message)
}

#[tauri::command]
pub async fn plugin_set_enabled(
    service: SettingsState<'_>,
    id: String,
    enabled: bool,
) -> Result<(), String> {
    service
        .set_plugin_enabled(&id, enabled)
        .await
        .map_err(message)
}

#[tauri::command]
pub async fn onboarding(service: SettingsState<'_>) -> Result<OnboardingView, String> {
    service.onboarding().await.map_err(message)
}

/// First-run setup finished or skipped: the microphone opens, the planner loads.
#[tauri::command]
pub async fn onboarding_done(
    service: SettingsState<'_>,
    voice: VoiceState<'_>,
    assistant: Shared<'_>,
) -> Result<(), String> {
    service.onboarding_done().map_err(message)?;
    voice.open();
    assistant.warm_up_later(false);
    Ok(())
}
