// Words and numbers as the window shows them.
import type { AssistantState } from "./bindings/AssistantState";

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
