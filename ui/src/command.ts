// The command box: a text field, Run, and Cancel while a request runs.
import { h } from "./dom";

export interface CommandBoxOptions {
  onSubmit(text: string): void;
  onCancel(): void;
  /** The person paused typing: what the field holds (two words or more), so the backend can
   * get ready for the request it is becoming. */
  onTyping?(text: string): void;
}

/** How long typing must pause before `onTyping` hears of it. */
export const TYPING_PAUSE_MS = 300;

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

  let pause: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener("input", () => {
    clearTimeout(pause);
    pause = setTimeout(() => {
      const text = input.value.trim();
      if (!busy && text.split(/\s+/).length >= 2) options.onTyping?.(text);
    }, TYPING_PAUSE_MS);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(pause);
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
