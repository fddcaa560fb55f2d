// The window's header: the name and a pill with the assistant's state.
import type { StatusView } from "./bindings/StatusView";
import { h } from "./dom";
import { stateLabel } from "./format";

export interface Header {
  element: HTMLElement;
  setStatus(status: StatusView): void;
}

export function createHeader(): Header {
  const pill = h("span", { className: "state-pill", testid: "state", text: "…", attrs: { "data-state": "unknown" } });
  const detail = h("span", { className: "state-detail", testid: "state-detail" });
  const element = h(
    "header",
    { className: "app-header" },
    h("h1", { className: "app-name", text: "Sotto" }),
    h("div", { className: "state", attrs: { role: "status", "aria-live": "polite" } }, pill, detail),
  );
  return {
    element,
    setStatus(status) {
      pill.textContent = stateLabel(status.state);
      pill.dataset.state = status.state;
      detail.textContent = status.detail ?? "";
      detail.title = status.detail ?? "";
    },
  };
}
