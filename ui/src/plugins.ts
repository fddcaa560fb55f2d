// The Plugins section of the Settings tab: each plugin, its tools, and a switch to turn it off.
import * as api from "./api";
import type { PluginView } from "./bindings/PluginView";
import { h, setChildren } from "./dom";
import { errorText } from "./format";

export interface PluginList {
  element: HTMLElement;
  load(): Promise<void>;
}

export function createPluginList(): PluginList {
  const list = h("ul", { className: "plugin-list", testid: "plugin-list", attrs: { "aria-label": "Plugins" } });
  const message = h("p", { className: "empty", testid: "plugins-message" });
  const element = h("div", { className: "plugins" }, message, list);
  let seq = 0;

  function row(plugin: PluginView): HTMLLIElement {
    const id = `plugin-${plugin.id}`;
    const box = h("input", { testid: "plugin-enabled", attrs: { type: "checkbox", id, "data-id": plugin.id } });
    box.checked = plugin.enabled;
    box.addEventListener("change", () => {
      const enabled = box.checked;
      box.disabled = true;
      api
        .pluginSetEnabled({ id: plugin.id, enabled })
        .then(() => (message.textContent = ""))
        .catch((error: unknown) => {
          box.checked = !enabled;
          message.textContent = `Could not ${enabled ? "enable" : "disable"} ${plugin.name}: ${errorText(error)}`;
        })
        .finally(() => void view.load());
    });
    return h(
      "li",
      { className: "tool-row", testid: "plugin-row", attrs: { "data-id": plugin.id } },
      h(
        "div",
        { className: "tool-head" },
        box,
        h("label", { className: "step-tool", text: plugin.name, attrs: { for: id } }),
        h("span", { className: "meta", text: `version ${plugin.version}` }),
        h("span", { className: plugin.enabled ? "badge badge-ok" : "badge", text: plugin.enabled ? "enabled" : "disabled" }),
      ),
      plugin.tools.length > 0
        ? h("p", { className: "meta", text: `Tools: ${plugin.tools.join(", ")}` })
        : h("p", { className: "meta", text: "Provides no tools." }),
    );
  }

  const view: PluginList = {
    element,
    async load() {
      const mine = ++seq;
      try {
        const plugins = await api.plugins();
        if (mine !== seq) return;
        setChildren(list, ...plugins.map(row));
        if (plugins.length === 0) {
          setChildren(message, "No plugins are installed. Install one with ", h("code", { text: "sotto plugins install FILE" }), ".");
        } else {
          message.textContent = "";
        }
      } catch (error) {
        if (mine !== seq) return;
        message.textContent = `Could not load the plugins: ${errorText(error)}`;
      }
    },
  };
  return view;
}
