// The command box: a text field, Run, and Cancel while a request runs.
import { h } from "./dom";

export interface CommandBoxOptions {
  onSubmit(text: string): void;
  onCancel(): void;
}

export interface CommandBox {
  element: HTMLElement;
  setBusy(busy: boolean): void;
  /** Puts text back in the field (after a submit that failed). */
  restore(text: string): void;
  focus(): void;
}

export function createCommandBox(options: CommandBoxOptions): CommandBox {
  const input = h("input", {
    className: "command-input",
    testid: "command-input",
    attrs: {
      type: "text",
      placeholder: "Ask Sotto… (e.g. set a timer for ten minutes)",
      "aria-label": "Request",
      autocomplete: "off",
      spellcheck: "false",
    },
  });
  const run = h("button", { className: "primary", testid: "command-submit", text: "Run", attrs: { type: "submit" } });
  const cancel = h("button", {
    className: "secondary",
    testid: "command-cancel",
    text: "Cancel",
    attrs: { type: "button" },
    onClick: () => options.onCancel(),
  });
  cancel.hidden = true;
  const form = h("form", { className: "command-box", attrs: { role: "search", "aria-label": "Command" } }, input, run, cancel);
  let busy = false;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    options.onSubmit(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && busy) {
      event.preventDefault();
      options.onCancel();
    }
  });

  return {
    element: form,
    setBusy(next) {
      busy = next;
      form.classList.toggle("busy", next);
      form.setAttribute("aria-busy", String(next));
      input.readOnly = next;
      run.disabled = next;
      run.textContent = next ? "Working…" : "Run";
      cancel.hidden = !next;
    },
    restore(text) {
      if (!input.value) input.value = text;
    },
    focus() {
      input.focus();
    },
  };
}
