// The only module that talks to the Rust backend (Tauri `invoke` and `listen`).
// Everything else imports from here, so tests can replace this module with a mock.
import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ConfirmClosed } from "./bindings/ConfirmClosed";
import type { ConfirmPrompt } from "./bindings/ConfirmPrompt";
import type { ConfirmReply } from "./bindings/ConfirmReply";
import type { HistoryDetail } from "./bindings/HistoryDetail";
import type { HistoryRow } from "./bindings/HistoryRow";
import type { ModelProgress } from "./bindings/ModelProgress";
import type { ModelView } from "./bindings/ModelView";
import type { OnboardingView } from "./bindings/OnboardingView";
import type { PluginView } from "./bindings/PluginView";
import type { Preferences } from "./bindings/Preferences";
import type { RequestUpdate } from "./bindings/RequestUpdate";
import type { SettingsView } from "./bindings/SettingsView";
import type { StatusView } from "./bindings/StatusView";
import type { ToolView } from "./bindings/ToolView";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";

export type { UnlistenFn };

// Commands (argument keys exactly as the Rust commands name them).

export function status(): Promise<StatusView> {
  return invoke<StatusView>("status");
}

export async function submit(args: { text: string }): Promise<void> {
  await invoke<null>("submit", args);
}

/** The request being typed so far: the planner gets ready for it (nothing runs). */
export async function prepare(args: { text: string }): Promise<void> {
  await invoke<null>("prepare", args);
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

/** Starts recording an utterance now (as the push-to-talk key does). */
export async function listenStart(): Promise<void> {
  await invoke<null>("listen_start");
}

/** Ends the recording: it is transcribed and carried out as a request. */
export async function listenStop(): Promise<void> {
  await invoke<null>("listen_stop");
}

/** Closes (true) or reopens (false) the microphone. */
export async function setMuted(args: { muted: boolean }): Promise<void> {
  await invoke<null>("set_muted", args);
}

export function settings(): Promise<SettingsView> {
  return invoke<SettingsView>("settings");
}

/** Validates and saves; rejects with the reason (a string) when a value is not accepted. */
export function savePreferences(args: { preferences: Preferences }): Promise<SettingsView> {
  return invoke<SettingsView>("save_preferences", args);
}

/** While on, `sotto:voice` level events flow without recording anything. */
export async function micTest(args: { on: boolean }): Promise<void> {
  await invoke<null>("mic_test", args);
}

export function models(): Promise<ModelView[]> {
  return invoke<ModelView[]>("models");
}

/** Starts a download; its progress comes as `sotto:model` events. */
export async function modelFetch(args: { id: string }): Promise<void> {
  await invoke<null>("model_fetch", args);
}

export function plugins(): Promise<PluginView[]> {
  return invoke<PluginView[]>("plugins");
}

export async function pluginSetEnabled(args: { id: string; enabled: boolean }): Promise<void> {
  await invoke<null>("plugin_set_enabled", args);
}

export function onboarding(): Promise<OnboardingView> {
  return invoke<OnboardingView>("onboarding");
}

export async function onboardingDone(): Promise<void> {
  await invoke<null>("onboarding_done");
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

export function onVoice(handler: (update: VoiceUpdate) => void): Promise<UnlistenFn> {
  return listen<VoiceUpdate>("sotto:voice", (event) => handler(event.payload));
}

export function onModel(handler: (progress: ModelProgress) => void): Promise<UnlistenFn> {
  return listen<ModelProgress>("sotto:model", (event) => handler(event.payload));
}
