//! The window's commands: thin calls into the [`Assistant`]. Errors reach the window as
//! their message, with the cause chain.

use std::sync::Arc;

use sotto_window_api::{
    ConfirmPrompt, ConfirmReply, HistoryDetail, HistoryRow, StatusView, ToolView,
};
use tauri::State;

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
