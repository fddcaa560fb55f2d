// The window's header: the name, a pill with the assistant's state, and the microphone.
import type { StatusView } from "./bindings/StatusView";
import { h } from "./dom";
import { microphoneText, stateLabel } from "./format";

export interface Header {
  element: HTMLElement;
  setStatus(status: StatusView): void;
}

/** `extras` go at the right end (the mute toggle). */
export function createHeader(...extras: HTMLElement[]): Header {
  const pill = h("span", { className: "state-pill", testid: "state", text: "…", attrs: { "data-state": "unknown" } });
  const detail = h("span", { className: "state-detail", testid: "state-detail" });
  const mic = h("span", { className: "mic-state", testid: "mic-state", attrs: { "data-kind": "unknown" } });
  const element = h(
    "header",
    { className: "app-header" },
    h("h1", { className: "app-name", text: "Sotto" }),
    h("div", { className: "state", attrs: { role: "status", "aria-live": "polite" } }, pill, detail),
    h("div", { className: "mic-area" }, h("span", { className: "mic-state-label", text: "Microphone: " }), mic, ...extras),
  );
  return {
    element,
    setStatus(status) {
      pill.textContent = stateLabel(status.state);
      pill.dataset.state = status.state;
      detail.textContent = status.detail ?? "";
      detail.title = status.detail ?? "";
      const text = microphoneText(status.microphone);
      mic.textContent = text;
      mic.title = status.microphone.kind === "ready" ? `${text} (${status.microphone.native})` : text;
      mic.dataset.kind = status.microphone.kind;
    },
  };
}
