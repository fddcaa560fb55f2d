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

  return {
    element,
    async load() {
      const mine = ++seq;
      try {
        const tools = await api.tools();
        if (mine !== seq) return;
        setChildren(list, ...tools.map(toolRow));
        message.textContent = tools.length === 0 ? "No tools are installed." : "";
      } catch (error) {
        if (mine !== seq) return;
        message.textContent = `Could not load the tools: ${errorText(error)}`;
      }
    },
  };
}

function toolRow(tool: ToolView): HTMLLIElement {
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
    ),
    h("p", { className: "description", text: tool.description }),
    tool.capabilities.length > 0 ? h("ul", { className: "capabilities" }, ...tool.capabilities.map((c) => h("li", { text: c }))) : null,
  );
}
