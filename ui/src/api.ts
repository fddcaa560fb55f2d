// The only module that talks to the Rust backend (Tauri `invoke` and `listen`).
// Everything else imports from here, so tests can replace this module with a mock.
import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ConfirmClosed } from "./bindings/ConfirmClosed";
import type { ConfirmPrompt } from "./bindings/ConfirmPrompt";
import type { ConfirmReply } from "./bindings/ConfirmReply";
import type { HistoryDetail } from "./bindings/HistoryDetail";
import type { HistoryRow } from "./bindings/HistoryRow";
import type { RequestUpdate } from "./bindings/RequestUpdate";
import type { StatusView } from "./bindings/StatusView";
import type { ToolView } from "./bindings/ToolView";

export type { UnlistenFn };

// Commands (argument keys exactly as the Rust commands name them).

export function status(): Promise<StatusView> {
  return invoke<StatusView>("status");
}

export async function submit(args: { text: string }): Promise<void> {
  await invoke<null>("submit", args);
}

export async function cancel(): Promise<void> {
  await invoke<null>("cancel");
}

export async function confirmAnswer(args: { reply: ConfirmReply }): Promise<void> {
  await invoke<null>("confirm_answer", args);
}

export function pendingConfirmations(): Promise<ConfirmPrompt[]> {
  return invoke<ConfirmPrompt[]>("pending_confirmations");
}

export function history(args: { search: string | null; limit: number }): Promise<HistoryRow[]> {
  return invoke<HistoryRow[]>("history", args);
}

export function historyDetail(args: { id: number }): Promise<HistoryDetail> {
  return invoke<HistoryDetail>("history_detail", args);
}

export async function historyDelete(args: { id: number }): Promise<void> {
  await invoke<null>("history_delete", args);
}

/** The user's setting for one tool; `null` goes back to the default for its risk. */
export function setToolSetting(tool: string, setting: string | null): Promise<void> {
  return invoke<void>("set_tool_setting", { tool, setting });
}

export function tools(): Promise<ToolView[]> {
  return invoke<ToolView[]>("tools");
}

/** A URL the webview can load for a local file (the recording of an utterance). */
export function audioSrc(path: string): string {
  return convertFileSrc(path);
}

// Events.

export function onStatus(handler: (status: StatusView) => void): Promise<UnlistenFn> {
  return listen<StatusView>("sotto:status", (event) => handler(event.payload));
}

export function onRequest(handler: (update: RequestUpdate) => void): Promise<UnlistenFn> {
  return listen<RequestUpdate>("sotto:request", (event) => handler(event.payload));
}

export function onConfirm(handler: (prompt: ConfirmPrompt) => void): Promise<UnlistenFn> {
  return listen<ConfirmPrompt>("sotto:confirm", (event) => handler(event.payload));
}

export function onConfirmClosed(handler: (closed: ConfirmClosed) => void): Promise<UnlistenFn> {
  return listen<ConfirmClosed>("sotto:confirm-closed", (event) => handler(event.payload));
}
