// Sample backend data for the unit tests.
import type { ConfirmPrompt } from "../src/bindings/ConfirmPrompt";
import type { HistoryDetail } from "../src/bindings/HistoryDetail";
import type { HistoryRow } from "../src/bindings/HistoryRow";
import type { ModelView } from "../src/bindings/ModelView";
import type { SettingsView } from "../src/bindings/SettingsView";
import type { StatusView } from "../src/bindings/StatusView";
import type { ToolView } from "../src/bindings/ToolView";

export const HOSTILE = `<img src=x onerror=alert(1)>`;

export function prompt(id: string, overrides: Partial<ConfirmPrompt> = {}): ConfirmPrompt {
  return {
    id,
    tool: "message_send",
    description: "Sends a chat message.",
    risk: "sends messages",
    arguments: JSON.stringify({ to: "Ana", text: "hi" }, null, 2),
    reason: "message_send always asks.",
    can_always: false,
    timeout_secs: 30,
    ...overrides,
  };
}

export function row(id: number, overrides: Partial<HistoryRow> = {}): HistoryRow {
  return { id, created_at: "2026-11-27T10:00:00Z", input: "typed", transcript: `request ${id}`, status: "done", plans: 1, calls: 1, ...overrides };
}

export function detail(id: number, overrides: Partial<HistoryDetail> = {}): HistoryDetail {
  return {
    row: row(id),
    audio_path: null,
    audio_ms: null,
    error: null,
    plans: [
      {
        text: "1. timer_set {\"minutes\": 10}",
        duration_ms: 420,
        calls: [
          { step: 1, tool: "timer_set", arguments: { minutes: 10 }, decision: "policy:allow", result: { due: "10:40" }, error: null, duration_ms: 3 },
          { step: 2, tool: "notes_open", arguments: {}, decision: "user:allow-once", result: null, error: "no such folder", duration_ms: 1200 },
        ],
      },
    ],
    ...overrides,
  };
}

export function tool(name: string, overrides: Partial<ToolView> = {}): ToolView {
  return {
    name,
    description: `${name} does things.`,
    risk: "read-only",
    setting: "allow",
    set_by_user: false,
    capabilities: ["may read the clock"],
    plugin: null,
    always_asks: null,
    ...overrides,
  };
}

/** A status with the microphone ready and not muted, unless overridden. */
export function status(overrides: Partial<StatusView> = {}): StatusView {
  return {
    state: "idle",
    detail: null,
    last_result: null,
    muted: false,
    microphone: { kind: "ready", device: "USB Mic", native: "48000 Hz, 1 channel(s), f32" },
    ...overrides,
  };
}

export function settingsView(overrides: Partial<SettingsView> = {}): SettingsView {
  return {
    preferences: {
      input_device: "",
      language: "en",
      partials: true,
      keep_recordings: true,
      name_fusion: false,
      keep_audio_days: 30,
      push_to_talk_key: "Ctrl+Alt+Space",
      toggle_key: "",
      autostart: false,
      notifications: true,
      asr_model: "",
      planner_model: "",
    },
    devices: [
      { id: "usb", name: "USB Mic", is_default: true },
      { id: "laptop", name: "Built-in microphone", is_default: false },
    ],
    hotkeys_note: null,
    config_file: "/home/user/.config/sotto/config.toml",
    restart_needed: false,
    ...overrides,
  };
}

export function model(id: string, overrides: Partial<ModelView> = {}): ModelView {
  return { id, task: "asr", description: `${id} model.`, size_bytes: 75_000_000, state: "installed", recommended: false, in_use: false, ...overrides };
}

export const byTestId = (id: string, root: ParentNode = document): HTMLElement | null =>
  root.querySelector<HTMLElement>(`[data-testid="${id}"]`);

export const allByTestId = (id: string, root: ParentNode = document): HTMLElement[] =>
  Array.from(root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`));

export function key(key: string, init: KeyboardEventInit = {}): void {
  (document.activeElement ?? document.body).dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init }));
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
