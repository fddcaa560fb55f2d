// Tabs (History, Tools, Settings) with the WAI-ARIA keyboard pattern: arrows move between tabs.
import { h } from "./dom";

export interface TabSpec {
  id: string;
  label: string;
  panel: HTMLElement;
  onShow?(): void;
  /** The tab was shown and another one is now (the Settings tab stops its microphone test). */
  onHide?(): void;
}

export interface Tabs {
  element: HTMLElement;
  show(id: string): void;
}

export function createTabs(specs: TabSpec[]): Tabs {
  const tablist = h("div", { className: "tablist", attrs: { role: "tablist", "aria-label": "Sections" } });
  const panels: HTMLElement[] = [];
  const buttons = specs.map((spec) => {
    const button = h("button", {
      className: "tab",
      testid: `tab-${spec.id}`,
      text: spec.label,
      attrs: { type: "button", role: "tab", id: `tab-${spec.id}`, "aria-controls": `panel-${spec.id}` },
      onClick: () => show(spec.id),
    });
    tablist.appendChild(button);
    const panel = h("div", { className: "tabpanel", attrs: { role: "tabpanel", id: `panel-${spec.id}`, "aria-labelledby": `tab-${spec.id}` } }, spec.panel);
    panels.push(panel);
    return button;
  });

  tablist.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    let next = -1;
    if (event.key === "ArrowRight") next = (index + 1) % buttons.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + buttons.length) % buttons.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = buttons.length - 1;
    if (next < 0) return;
    event.preventDefault();
    show(specs[next].id);
    buttons[next].focus();
  });

  let current: string | null = null;

  function show(id: string): void {
    const previous = current;
    current = id;
    specs.forEach((spec, i) => {
      const on = spec.id === id;
      if (!on && spec.id === previous && previous !== id) spec.onHide?.();
      buttons[i].setAttribute("aria-selected", String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
      if (on) spec.onShow?.();
    });
  }

  const element = h("section", { className: "panel tabs" }, tablist, ...panels);
  return { element, show };
}
