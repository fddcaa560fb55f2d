// The Tools tab: each tool, what it may do, and what the user lets it do.
import * as api from "./api";
import type { ToolView } from "./bindings/ToolView";
import { h, setChildren } from "./dom";
import { errorText } from "./format";

export interface ToolsView {
  element: HTMLElement;
  load(): Promise<void>;
}

export function createTools(): ToolsView {
  const list = h("ul", { className: "tools-list", testid: "tools-list", attrs: { "aria-label": "Tools" } });
  const message = h("p", { className: "empty" });
  const element = h("div", { className: "tools" }, message, list);
  let seq = 0;

  async function change(name: string, setting: string | null): Promise<void> {
    try {
      await api.setToolSetting(name, setting);
      message.textContent = "";
    } catch (error) {
      message.textContent = `Could not change ${name}: ${errorText(error)}`;
    }
    await view.load();
  }

  const view: ToolsView = {
    element,
    async load() {
      const mine = ++seq;
      try {
        const tools = await api.tools();
        if (mine !== seq) return;
        setChildren(list, ...tools.map((tool) => toolRow(tool, (setting) => change(tool.name, setting))));
        message.textContent = tools.length === 0 ? "No tools are installed." : "";
      } catch (error) {
        if (mine !== seq) return;
        message.textContent = `Could not load the tools: ${errorText(error)}`;
      }
    },
  };
  return view;
}

/** The settings a user can choose, as the backend names them ("" is the default). */
export const SETTINGS: [string, string][] = [
  ["", "Default for its risk"],
  ["always-ask", "Always ask"],
  ["ask-first-time", "Ask the first time"],
  ["allow", "Allow"],
  ["never", "Never"],
];

function toolRow(tool: ToolView, onChange: (setting: string | null) => void): HTMLLIElement {
  const select = h(
    "select",
    { testid: "tool-setting", attrs: { "aria-label": `Setting for ${tool.name}` } },
    // What always asks cannot be relaxed: the backend refuses Allow and Ask the first time.
    ...SETTINGS.filter(([value]) => !tool.always_asks || !["allow", "ask-first-time"].includes(value)).map(([value, label]) =>
      h("option", { attrs: { value }, text: label }),
    ),
  ) as HTMLSelectElement;
  select.value = tool.set_by_user ? tool.setting : "";
  select.addEventListener("change", () => onChange(select.value === "" ? null : select.value));
  return h(
    "li",
    { className: "tool-row", testid: "tool-row", attrs: { "data-name": tool.name } },
    h(
      "div",
      { className: "tool-head" },
      h("span", { className: "step-tool", text: tool.name }),
      h("span", { className: `badge risk-${tool.risk}`, text: tool.risk }),
      h("span", { className: `badge setting-${tool.setting}`, text: tool.setting }),
      h("span", { className: "meta", text: tool.set_by_user ? "your setting" : "default" }),
      h("span", { className: "meta", text: tool.plugin ? `plugin ${tool.plugin}` : "built in" }),
      select,
    ),
    tool.always_asks
      ? h("p", { className: "meta", testid: "tool-always-asks", text: `Asks every time it runs (${tool.always_asks}), whatever the setting; Never still blocks it.` })
      : null,
    h("p", { className: "description", text: tool.description }),
    tool.capabilities.length > 0 ? h("ul", { className: "capabilities" }, ...tool.capabilities.map((c) => h("li", { text: c }))) : null,
  );
}
