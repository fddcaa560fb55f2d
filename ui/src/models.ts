// A list of models with their state and a Download button for those not (fully) on this machine.
// Progress comes from `sotto:model` events, which the app passes to `progress`; the Settings tab
// and the onboarding each have one list.
import * as api from "./api";
import type { ModelProgress } from "./bindings/ModelProgress";
import type { ModelView } from "./bindings/ModelView";
import { h, setChildren } from "./dom";
import { errorText, formatBytes } from "./format";

const TASKS: Record<string, string> = {
  asr: "Speech recognition",
  vad: "Voice activity",
  planner: "Planner",
  ngram: "Language model",
};

export const taskLabel = (task: string): string => TASKS[task] ?? task;

export interface ModelListOptions {
  /** Reads the list again (after a download ends). */
  load(): Promise<ModelView[]>;
  /** Called after each render with the models shown. */
  onChange?(models: ModelView[]): void;
}

export interface ModelList {
  element: HTMLElement;
  render(models: ModelView[]): void;
  progress(progress: ModelProgress): void;
  refresh(): Promise<void>;
}

interface Row {
  button: HTMLButtonElement | null;
  bar: HTMLProgressElement;
  line: HTMLElement;
  box: HTMLElement;
}

export function createModelList(options: ModelListOptions): ModelList {
  const list = h("ul", { className: "model-list", testid: "model-list", attrs: { "aria-label": "Models" } });
  const message = h("p", { className: "empty" });
  const element = h("div", { className: "models" }, message, list);
  const rows = new Map<string, Row>();
  // Downloads under way survive a re-render (the list refreshes when another one ends).
  const downloading = new Set<string>();

  function row(model: ModelView): HTMLLIElement {
    const installed = model.state === "installed";
    const bar = h("progress", { attrs: { max: "100", "aria-label": `Downloading ${model.id}` } });
    const line = h("span", { className: "meta", attrs: { "aria-live": "polite" } });
    const box = h("div", { className: "model-progress", testid: "model-progress", attrs: { "data-id": model.id } }, bar, line);
    box.hidden = !downloading.has(model.id);
    const button = installed
      ? null
      : h("button", {
          testid: "model-download",
          text: model.state === "partial" ? "Resume download" : "Download",
          attrs: { type: "button", "data-id": model.id, "aria-label": `Download ${model.id} (${formatBytes(model.size_bytes)})` },
          onClick: () => void fetch(model.id),
        });
    if (button) button.disabled = downloading.has(model.id);
    rows.set(model.id, { button, bar, line, box });
    return h(
      "li",
      { className: "model-row", testid: "model-row", attrs: { "data-id": model.id, "data-state": model.state } },
      h(
        "div",
        { className: "model-head" },
        h("span", { className: "step-tool", text: model.id }),
        h("span", { className: "meta", text: taskLabel(model.task) }),
        h("span", { className: `badge model-${model.state}`, text: model.state === "partial" ? "partly downloaded" : model.state }),
        h("span", { className: "meta", text: formatBytes(model.size_bytes) }),
        model.recommended ? h("span", { className: "badge badge-accent", text: "recommended" }) : null,
        model.in_use ? h("span", { className: "badge badge-ok", text: "in use" }) : null,
        button,
      ),
      h("p", { className: "description", text: model.description }),
      box,
    );
  }

  async function fetch(id: string): Promise<void> {
    const target = rows.get(id);
    downloading.add(id);
    if (target) {
      if (target.button) target.button.disabled = true;
      target.box.hidden = false;
      target.bar.removeAttribute("value"); // indeterminate until the first event
      target.line.textContent = "Starting…";
    }
    try {
      await api.modelFetch({ id });
    } catch (error) {
      downloading.delete(id);
      const now = rows.get(id);
      if (now) {
        if (now.button) now.button.disabled = false;
        now.line.textContent = `Could not start the download: ${errorText(error)}`;
      }
    }
  }

  const view: ModelList = {
    element,
    render(models) {
      rows.clear();
      setChildren(list, ...models.map(row));
      message.textContent = models.length === 0 ? "No models to show." : "";
      options.onChange?.(models);
    },
    progress(progress) {
      const target = rows.get(progress.id);
      if (!progress.done) downloading.add(progress.id);
      if (target) {
        target.box.hidden = false;
        if (target.button) target.button.disabled = !progress.done;
        if (progress.bytes_total) {
          target.bar.value = Math.min(100, Math.round((progress.bytes_done / progress.bytes_total) * 100));
        } else {
          target.bar.removeAttribute("value");
        }
        const amount = progress.bytes_total
          ? `${formatBytes(progress.bytes_done)} of ${formatBytes(progress.bytes_total)}`
          : formatBytes(progress.bytes_done);
        target.line.textContent = progress.error ?? progress.message ?? `${progress.stage}: ${amount}`;
        target.box.dataset.stage = progress.stage;
        target.box.classList.toggle("failed", Boolean(progress.error));
      }
      if (progress.done) {
        downloading.delete(progress.id);
        if (progress.error) {
          if (target) target.box.dataset.stage = "failed";
        } else {
          void view.refresh();
        }
      }
    },
    async refresh() {
      try {
        view.render(await options.load());
      } catch (error) {
        message.textContent = `Could not load the models: ${errorText(error)}`;
      }
    },
  };
  return view;
}
