// The confirmation dialog: one question at a time about a call that waits for the user.
//
// Safe by default: focus starts on Deny, Escape and `n` deny, and the keys that allow (`y`, `a`)
// only work once the dialog has been on screen for ARM_MS, so a key pressed while typing in the
// command box as the dialog appears cannot allow anything.
import type { ConfirmAnswer } from "./bindings/ConfirmAnswer";
import type { ConfirmClosed } from "./bindings/ConfirmClosed";
import type { ConfirmPrompt } from "./bindings/ConfirmPrompt";
import type { ConfirmReply } from "./bindings/ConfirmReply";
import { h } from "./dom";
import { errorText } from "./format";

export const ARM_MS = 400;
const TICK_MS = 250;

export interface ConfirmDialogOptions {
  /** Sends the answer to the backend. */
  answer(reply: ConfirmReply): Promise<void>;
  /** Where the dialog is mounted while open (document.body by default). */
  host?: HTMLElement;
  /** Made inert while the dialog is open (the rest of the window). */
  background?: HTMLElement;
  onError?(message: string): void;
}

export interface ConfirmDialog {
  /** A new question (ignored if one with the same id is already known). */
  push(prompt: ConfirmPrompt): void;
  /** The backend closed question `id` (answered elsewhere, timed out or cancelled). */
  closed(event: ConfirmClosed): void;
  /** The id of the question on screen. */
  showing(): string | null;
  /** How many questions wait, the one on screen included. */
  size(): number;
  /** Closes everything without answering (the backend's timeouts deny). */
  dispose(): void;
}

interface Queued {
  prompt: ConfirmPrompt;
  deadline: number;
}

export function createConfirmDialog(options: ConfirmDialogOptions): ConfirmDialog {
  const host = options.host ?? document.body;
  const queue: Queued[] = [];
  let view: { item: Queued; backdrop: HTMLElement; countdown: HTMLElement; waiting: HTMLElement; shownAt: number } | null = null;
  let returnFocus: Element | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;

  function secondsLeft(item: Queued): number {
    return Math.max(0, Math.ceil((item.deadline - Date.now()) / 1000));
  }

  function render(item: Queued): { backdrop: HTMLElement; countdown: HTMLElement; waiting: HTMLElement; deny: HTMLButtonElement } {
    const { prompt } = item;
    const button = (label: string, testid: string, answer: ConfirmAnswer, className: string, key: string) =>
      h(
        "button",
        { className, testid, attrs: { type: "button", "aria-keyshortcuts": key }, onClick: () => respond(answer) },
        label,
        h("kbd", { text: key === "Escape" ? "Esc" : key.toUpperCase() }),
      );
    const allowOnce = button("Allow once", "confirm-allow-once", "allow-once", "primary", "y");
    const always = button("Always for this tool", "confirm-always", "always-for-tool", "secondary", "a");
    const deny = button("Deny", "confirm-deny", "deny", "danger", "Escape");
    const countdown = h("p", { className: "countdown", testid: "confirm-countdown", attrs: { "aria-live": "off" } });
    const waiting = h("p", { className: "meta", testid: "confirm-waiting" });
    const dialog = h(
      "div",
      {
        className: "dialog",
        testid: "confirm-dialog",
        attrs: {
          role: "alertdialog",
          "aria-modal": "true",
          "aria-labelledby": "confirm-title",
          "aria-describedby": "confirm-description",
          "data-id": prompt.id,
        },
      },
      h("h2", { attrs: { id: "confirm-title" } }, "Sotto wants to use ", h("span", { className: "tool-name", testid: "confirm-tool", text: prompt.tool })),
      h("p", { className: "description", attrs: { id: "confirm-description" }, text: prompt.description }),
      h(
        "dl",
        { className: "facts" },
        h("dt", { text: "Risk" }),
        h("dd", { className: "risk", testid: "confirm-risk", text: prompt.risk }),
        h("dt", { text: "Why" }),
        h("dd", { testid: "confirm-reason", text: prompt.reason }),
      ),
      h("p", { className: "label", text: "Exact arguments" }),
      h("pre", { className: "arguments", testid: "confirm-arguments", text: prompt.arguments }),
      countdown,
      waiting,
      // "Always" only where a setting can stop the question: sending, destroying, running
      // commands and arguments from another tool's output ask every time regardless.
      h("div", { className: "dialog-buttons" }, ...(prompt.can_always ? [deny, always, allowOnce] : [deny, allowOnce])),
    );
    const backdrop = h("div", { className: "backdrop" }, dialog);
    return { backdrop, countdown, waiting, deny };
  }

  function showNext(): void {
    while (queue.length > 0 && secondsLeft(queue[0]) <= 0) queue.shift();
    const item = queue[0];
    if (!item) {
      if (options.background) options.background.inert = false;
      if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus();
      returnFocus = null;
      return;
    }
    const { backdrop, countdown, waiting, deny } = render(item);
    host.appendChild(backdrop);
    if (options.background) options.background.inert = true;
    view = { item, backdrop, countdown, waiting, shownAt: Date.now() };
    updateCountdown();
    updateWaiting();
    deny.focus();
    document.addEventListener("keydown", onKey, true);
    timer = setInterval(updateCountdown, TICK_MS);
  }

  function hide(): void {
    if (!view) return;
    if (timer !== null) clearInterval(timer);
    timer = null;
    document.removeEventListener("keydown", onKey, true);
    view.backdrop.remove();
    view = null;
    queue.shift();
    showNext();
  }

  function updateWaiting(): void {
    if (!view) return;
    const more = queue.length - 1;
    view.waiting.textContent = more > 0 ? `${more} more waiting` : "";
  }

  function updateCountdown(): void {
    if (!view) return;
    const left = secondsLeft(view.item);
    if (left <= 0) {
      // The backend treats an unanswered question as Deny and closes it itself.
      hide();
      return;
    }
    view.countdown.textContent = `Denied automatically in ${left} s`;
  }

  function respond(answer: ConfirmAnswer): void {
    if (!view) return;
    const id = view.item.prompt.id;
    hide();
    options.answer({ id, answer }).catch((error: unknown) => options.onError?.(`Could not send the answer: ${errorText(error)}`));
  }

  function onKey(event: KeyboardEvent): void {
    if (!view || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "Escape" || key === "n" || key === "N") {
      event.preventDefault();
      event.stopPropagation();
      respond("deny");
      return;
    }
    if (key === "y" || key === "Y" || key === "a" || key === "A") {
      event.preventDefault();
      event.stopPropagation();
      if (event.repeat || Date.now() - view.shownAt < ARM_MS) return;
      const always = key.toLowerCase() === "a";
      if (always && !view.item.prompt.can_always) return;
      respond(always ? "always-for-tool" : "allow-once");
      return;
    }
    if (key === "Tab") trapFocus(event);
  }

  function trapFocus(event: KeyboardEvent): void {
    if (!view) return;
    const buttons = Array.from(view.backdrop.querySelectorAll<HTMLButtonElement>("button"));
    if (buttons.length === 0) return;
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = event.shiftKey ? (index <= 0 ? buttons.length - 1 : index - 1) : (index + 1) % buttons.length;
    event.preventDefault();
    buttons[next].focus();
  }

  return {
    push(prompt) {
      if (queue.some((item) => item.prompt.id === prompt.id)) return;
      queue.push({ prompt, deadline: Date.now() + prompt.timeout_secs * 1000 });
      if (view) {
        updateWaiting();
      } else {
        returnFocus = document.activeElement;
        showNext();
      }
    },
    closed(event) {
      if (view && view.item.prompt.id === event.id) {
        hide();
        return;
      }
      const index = queue.findIndex((item) => item.prompt.id === event.id);
      if (index > 0) queue.splice(index, 1);
      updateWaiting();
    },
    showing: () => view?.item.prompt.id ?? null,
    size: () => queue.length,
    dispose() {
      queue.splice(1);
      hide();
      queue.length = 0;
    },
  };
}
