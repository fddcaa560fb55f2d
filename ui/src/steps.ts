// The plan's steps as they stream in: tool, arguments and a status mark for each. Shared by the
// live panel (main window) and the overlay, which shows the same list in compact form.
import type { RequestUpdate } from "./bindings/RequestUpdate";
import { h } from "./dom";
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

export interface StepListOptions {
  /** data-testid of each row. */
  rowTestid: string;
  /** Show arguments, timings and notes (the overlay leaves them out for room). */
  details: boolean;
}

export interface StepList {
  element: HTMLOListElement;
  reset(): void;
  /** Applies the step-related part of an update (the rest is ignored). */
  apply(update: RequestUpdate): void;
}

export function createStepList(options: StepListOptions): StepList {
  const element = h("ol", { className: "steps", attrs: { "aria-label": "Steps" } });
  let generation = 0; // bumped on replanning: the new plan's step ids start again
  let rows = new Map<string, StepRow>();

  const key = (id: number): string => `${generation}:${id}`;

  function setStatus(row: StepRow, status: StepStatus): void {
    row.element.dataset.status = status;
    row.mark.textContent = STATUS_MARK[status];
    row.state.textContent = STATUS_WORD[status];
  }

  function addRow(id: number, tool: string | null, args: Record<string, unknown>): StepRow {
    const mark = h("span", { className: "step-mark", attrs: { "aria-hidden": "true" } });
    const state = h("span", { className: "step-state" });
    const ms = h("span", { className: "step-ms" });
    const note = h("div", { className: "step-note" });
    const showArgs = options.details && Object.keys(args).length > 0;
    const row: StepRow = {
      element: h(
        "li",
        { className: "step", testid: options.rowTestid, attrs: { "data-step-id": String(id), "data-kind": tool === null ? "reply" : "tool" } },
        mark,
        h("span", { className: "step-tool", text: tool ?? "reply" }),
        showArgs ? h("code", { className: "step-args", text: formatArgsInline(args) }) : null,
        state,
        options.details ? ms : null,
        options.details ? note : null,
      ),
      mark,
      state,
      ms,
      note,
    };
    setStatus(row, "planned");
    rows.set(key(id), row);
    element.appendChild(row.element);
    return row;
  }

  const rowFor = (id: number, tool: string, args: Record<string, unknown> = {}): StepRow => rows.get(key(id)) ?? addRow(id, tool, args);

  return {
    element,
    reset() {
      generation = 0;
      rows = new Map();
      element.replaceChildren();
    },
    apply(update) {
      switch (update.kind) {
        case "planned":
          addRow(update.step.id, update.step.tool, update.step.args);
          break;
        case "started":
          setStatus(rowFor(update.id, update.tool, update.args), "running");
          break;
        case "finished": {
          const row = rowFor(update.id, update.tool);
          setStatus(row, update.ok ? "ok" : "failed");
          row.ms.textContent = formatMs(update.ms);
          const parts = [update.summary, update.approval ? `allowed by ${update.approval}` : ""].filter(Boolean);
          row.note.textContent = parts.join(" · ");
          break;
        }
        case "skipped": {
          const row = rowFor(update.id, update.tool);
          setStatus(row, "skipped");
          row.note.textContent = update.reason;
          break;
        }
        case "replanning":
          generation += 1;
          for (const row of rows.values()) row.element.classList.add("superseded");
          break;
        case "done":
          // A reply step runs no tool, so no event marks it: the reply itself is its result.
          for (const row of rows.values()) {
            if (row.element.dataset.kind === "reply" && row.element.dataset.status === "planned") setStatus(row, "ok");
          }
          break;
        case "failed":
          // Whatever was still running was stopped with the request.
          for (const row of rows.values()) {
            if (row.element.dataset.status === "running") {
              setStatus(row, "skipped");
              row.note.textContent = "stopped";
            }
          }
          break;
        case "recorded":
          break;
      }
    },
  };
}
