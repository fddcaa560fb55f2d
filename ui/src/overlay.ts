// The overlay: a small always-on-top card (its own window, ~420x160, that the backend shows,
// places and hides) with what Sotto is doing right now: the state, the level while listening,
// what was heard, the plan's steps as they run, and the reply. It only listens; it has no
// buttons, so nothing in it can be clicked by accident (confirmations stay in the main window).
import * as api from "./api";
import type { RequestUpdate } from "./bindings/RequestUpdate";
import type { StatusView } from "./bindings/StatusView";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";
import { h } from "./dom";
import { errorText, stateLabel } from "./format";
import { createLevelMeter } from "./level";
import { createStepList } from "./steps";

export interface Overlay {
  element: HTMLElement;
  status(status: StatusView): void;
  voice(update: VoiceUpdate): void;
  request(update: RequestUpdate): void;
}

export function createOverlay(): Overlay {
  const state = h("span", { className: "state-pill", testid: "overlay-state", text: "…", attrs: { "data-state": "unknown" } });
  const meter = createLevelMeter("overlay-level");
  meter.element.hidden = true;
  const text = h("p", { className: "overlay-text", testid: "overlay-text", attrs: { "aria-live": "polite" } });
  const steps = createStepList({ rowTestid: "overlay-step", details: false });
  steps.element.dataset.testid = "overlay-steps";
  steps.element.classList.add("overlay-steps");
  const reply = h("p", { className: "overlay-reply", testid: "overlay-reply", attrs: { "aria-live": "polite" } });
  const element = h(
    "section",
    { className: "overlay-card", testid: "overlay", attrs: { "aria-label": "Sotto" } },
    h("div", { className: "overlay-head" }, h("span", { className: "app-name", text: "Sotto" }), state, meter.element),
    text,
    steps.element,
    reply,
  );

  function clear(): void {
    text.textContent = "";
    text.classList.remove("partial");
    steps.reset();
    reply.textContent = "";
    reply.classList.remove("request-error", "reply-not-ok");
  }

  function setText(value: string, partial: boolean): void {
    text.textContent = value;
    text.classList.toggle("partial", partial);
  }

  function setReply(value: string, kind: "ok" | "not-ok" | "error"): void {
    reply.textContent = value;
    reply.classList.toggle("reply-not-ok", kind === "not-ok");
    reply.classList.toggle("request-error", kind === "error");
  }

  return {
    element,
    status(status) {
      state.textContent = stateLabel(status.state);
      state.dataset.state = status.state;
      meter.element.hidden = status.state !== "listening";
      if (status.state !== "listening") meter.reset();
      if (status.state === "error" && status.detail && !reply.textContent) setReply(status.detail, "error");
    },
    voice(update) {
      switch (update.kind) {
        case "started":
          clear();
          meter.reset();
          meter.element.hidden = false;
          break;
        case "level":
          meter.set(update.dbfs);
          break;
        case "partial":
          setText(update.text, true);
          break;
        case "heard":
          meter.element.hidden = true;
          if (update.text.trim()) setText(update.text, false);
          else setReply("Nothing was heard.", "error");
          break;
        case "failed":
          meter.element.hidden = true;
          setReply(update.message, "error");
          break;
      }
    },
    request(update) {
      if (update.kind === "recorded") {
        // A typed request starts here; a spoken one already shows what was heard.
        if (text.textContent !== update.text) {
          clear();
          setText(update.text, false);
        } else {
          steps.reset();
          reply.textContent = "";
        }
        return;
      }
      steps.apply(update);
      if (update.kind === "done") setReply(update.reply, update.ok ? "ok" : "not-ok");
      else if (update.kind === "failed") setReply(update.error, "error");
    },
  };
}

/** Mounts the overlay in `root` and follows the backend's events. */
export async function startOverlay(root: HTMLElement): Promise<() => void> {
  const overlay = createOverlay();
  root.replaceChildren(overlay.element);
  // Listen first, then read the current state, so nothing falls between the two.
  const unlisten = await Promise.all([api.onStatus(overlay.status), api.onVoice(overlay.voice), api.onRequest(overlay.request)]);
  try {
    overlay.status(await api.status());
  } catch (error) {
    overlay.request({ kind: "failed", utterance: null, error: `Could not reach Sotto: ${errorText(error)}` });
  }
  return () => unlisten.forEach((fn) => void fn());
}
