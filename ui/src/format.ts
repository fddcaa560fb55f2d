// Words and numbers as the window shows them.
import type { AssistantState } from "./bindings/AssistantState";
import type { MicrophoneView } from "./bindings/MicrophoneView";

const STATE_LABELS: Record<AssistantState, string> = {
  idle: "Ready",
  listening: "Listening",
  thinking: "Thinking",
  acting: "Acting",
  "needs-confirmation": "Needs your OK",
  error: "Error",
};

export function stateLabel(state: AssistantState): string {
  return STATE_LABELS[state] ?? String(state);
}

/** States in which a request is under way. */
export function isBusyState(state: AssistantState): boolean {
  return state === "listening" || state === "thinking" || state === "acting" || state === "needs-confirmation";
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** JSON for people: pretty, and a plain string shown as itself. */
export function formatJson(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Arguments on one line, for step rows. */
export function formatArgsInline(args: Record<string, unknown>): string {
  try {
    return JSON.stringify(args);
  } catch {
    return String(args);
  }
}

export function formatTime(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  return formatJson(error);
}

/** A size for people: "75 MB", "1.2 GB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** The microphone line in the header. */
export function microphoneText(microphone: MicrophoneView): string {
  switch (microphone.kind) {
    case "ready":
      return microphone.device;
    case "muted":
      return "Muted";
    case "closed":
      return "Microphone not open yet";
    case "unavailable":
      return microphone.message;
  }
}
