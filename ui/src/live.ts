// The live panel: what the current request is doing, from its transcript to the reply.
import type { PlanStep } from "./bindings/PlanStep";
import type { RequestUpdate } from "./bindings/RequestUpdate";
import { h, setChildren } from "./dom";
import { formatArgsInline, formatMs } from "./format";

export type StepStatus = "planned" | "running" | "ok" | "failed" | "skipped";

const STATUS_MARK: Record<StepStatus, string> = {
  planned: "·",
  running: "…",
  ok: "✓",
  failed: "✗",
  skipped: "–",
};

const STATUS_WORD: Record<StepStatus, string> = {
  planned: "waiting",
  running: "running",
  ok: "done",
  failed: "failed",
  skipped: "skipped",
};

interface StepRow {
  element: HTMLLIElement;
  mark: HTMLSpanElement;
  state: HTMLSpanElement;
  ms: HTMLSpanElement;
  note: HTMLDivElement;
}

export interface LivePanel {
  element: HTMLElement;
  /** A typed request was sent: clear the panel and show its text. */
  start(text: string): void;
  apply(update: RequestUpdate): void;
  /** The request could not be started (the submit command failed). */
  showError(message: string): void;
  /** With nothing running: show the last reply, if there is one. */
  showIdle(lastResult: string | null): void;
  /** The utterance shown, if known. */
  utterance(): number | null;
}

export function createLivePanel(): LivePanel {
  const heading = h("h2", { className: "panel-title", text: "Current request" });
  const transcript = h("p", { className: "transcript", testid: "live-transcript" });
  const steps = h("ol", { className: "steps", attrs: { "aria-label": "Steps" } });
  const notes = h("div", { className: "notes" });
  const outcome = h("div", { className: "outcome" });
  const empty = h("p", { className: "empty", text: "Nothing running. Type a request above and press Enter." });
  const element = h(
    "section",
    { className: "panel live-panel", testid: "live-panel", attrs: { "aria-live": "polite", "aria-label": "Current request" } },
    heading,
    empty,
    transcript,
    steps,
    notes,
    outcome,
  );

  let current: number | null = null;
  let active = false; // something has been shown since the last reset
  let generation = 0; // bumped on replanning: the new plan's step ids start again
  let rows = new Map<string, StepRow>();

  function reset(): void {
    current = null;
    generation = 0;
    rows = new Map();
    transcript.textContent = "";
    steps.replaceChildren();
    notes.replaceChildren();
    outcome.replaceChildren();
    empty.hidden = true;
    active = true;
  }

  function setTranscript(text: string): void {
    setChildren(transcript, h("span", { className: "label", text: "You said " }), h("q", { text }));
  }

  function key(id: number): string {
    return `${generation}:${id}`;
  }

  function addRow(id: number, tool: string | null, args: Record<string, unknown>): StepRow {
    const mark = h("span", { className: "step-mark", attrs: { "aria-hidden": "true" } });
    const state = h("span", { className: "step-state" });
    const ms = h("span", { className: "step-ms" });
    const note = h("div", { className: "step-note" });
    const hasArgs = Object.keys(args).length > 0;
    const element = h(
      "li",
      { className: "step", testid: "live-step", attrs: { "data-step-id": String(id), "data-kind": tool === null ? "reply" : "tool" } },
      mark,
      h("span", { className: "step-tool", text: tool ?? "reply" }),
      hasArgs ? h("code", { className: "step-args", text: formatArgsInline(args) }) : null,
      state,
      ms,
      note,
    );
    const row = { element, mark, state, ms, note };
    setStatus(row, "planned");
    rows.set(key(id), row);
    steps.appendChild(element);
    return row;
  }

  function rowFor(id: number, tool: string, args: Record<string, unknown> = {}): StepRow {
    return rows.get(key(id)) ?? addRow(id, tool, args);
  }

  function setStatus(row: StepRow, status: StepStatus): void {
    row.element.dataset.status = status;
    row.mark.textContent = STATUS_MARK[status];
    row.state.textContent = STATUS_WORD[status];
  }

  function adopt(utterance: number | null): void {
    if (!active) reset();
    if (utterance === null) return;
    if (current === null) {
      current = utterance;
    } else if (current !== utterance) {
      // A request whose start this window missed: show it from here on.
      reset();
      current = utterance;
    }
  }

  function planned(step: PlanStep): void {
    addRow(step.id, step.tool, step.args);
  }

  return {
    element,
    start(text) {
      reset();
      setTranscript(text);
    },
    apply(update) {
      switch (update.kind) {
        case "recorded":
          reset();
          current = update.utterance;
          setTranscript(update.text);
          break;
        case "planned":
          adopt(update.utterance);
          planned(update.step);
          break;
        case "started": {
          adopt(update.utterance);
          const row = rowFor(update.id, update.tool, update.args);
          setStatus(row, "running");
          break;
        }
        case "finished": {
          adopt(update.utterance);
          const row = rowFor(update.id, update.tool);
          setStatus(row, update.ok ? "ok" : "failed");
          row.ms.textContent = formatMs(update.ms);
          const parts = [update.summary, update.approval ? `allowed by ${update.approval}` : ""].filter(Boolean);
          row.note.textContent = parts.join(" · ");
          break;
        }
        case "skipped": {
          adopt(update.utterance);
          const row = rowFor(update.id, update.tool);
          setStatus(row, "skipped");
          row.note.textContent = update.reason;
          break;
        }
        case "replanning":
          adopt(update.utterance);
          generation += 1;
          for (const row of rows.values()) row.element.classList.add("superseded");
          notes.appendChild(
            h("p", { className: "note", testid: "live-replanning" }, h("strong", { text: "Replanning: " }), update.feedback),
          );
          break;
        case "done": {
          adopt(update.utterance);
          // A reply step runs no tool, so no event marks it: the reply itself is its result.
          for (const row of rows.values()) {
            if (row.element.dataset.kind === "reply" && row.element.dataset.status === "planned") setStatus(row, "ok");
          }
          const details = [`planned in ${formatMs(update.plan_ms)}`];
          if (update.fast_path) details.push(`answered by the ${update.fast_path} template`);
          setChildren(
            outcome,
            h("p", { className: update.ok ? "reply" : "reply reply-not-ok", testid: "reply", text: update.reply }),
            h("p", { className: "meta", text: details.join(" · ") }),
          );
          break;
        }
        case "failed":
          adopt(update.utterance);
          // Whatever was still running was stopped with the request.
          for (const row of rows.values()) {
            if (row.element.dataset.status === "running") {
              setStatus(row, "skipped");
              row.note.textContent = "stopped";
            }
          }
          setChildren(outcome, h("p", { className: "request-error", testid: "request-error", attrs: { role: "alert" }, text: update.error }));
          break;
      }
    },
    showError(message) {
      setChildren(outcome, h("p", { className: "request-error", testid: "request-error", attrs: { role: "alert" }, text: message }));
    },
    showIdle(lastResult) {
      if (active) return;
      if (lastResult) {
        empty.hidden = true;
        setChildren(outcome, h("p", { className: "meta", text: "Last reply" }), h("p", { className: "reply", text: lastResult }));
      } else {
        empty.hidden = false;
      }
    },
    utterance: () => current,
  };
}
