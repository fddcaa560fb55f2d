// The Settings tab: the preferences form, the models (with downloads) and the plugins.
import * as api from "./api";
import type { ModelProgress } from "./bindings/ModelProgress";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";
import { h } from "./dom";
import { errorText } from "./format";
import { createMicTest } from "./micTest";
import { createModelList } from "./models";
import { createPluginList } from "./plugins";
import { createSettingsForm } from "./settingsForm";

export interface SettingsTab {
  element: HTMLElement;
  /** Reads everything; the form is only redrawn if the user has not changed it meanwhile. */
  load(): Promise<void>;
  /** The tab went out of sight: the microphone test stops. */
  hide(): void;
  voice(update: VoiceUpdate): void;
  modelProgress(progress: ModelProgress): void;
}

export function createSettings(): SettingsTab {
  const micTest = createMicTest({ testid: "settings-level" });
  const form = createSettingsForm(micTest);
  const models = createModelList({ load: () => api.models() });
  const plugins = createPluginList();
  const message = h("p", { className: "request-error", attrs: { role: "alert" } });
  let loaded = false;
  const element = h(
    "div",
    { className: "settings", testid: "settings" },
    message,
    form.element,
    h("section", { className: "settings-section", attrs: { "aria-labelledby": "settings-models" } }, h("h3", { text: "Models", attrs: { id: "settings-models" } }), models.element),
    h("section", { className: "settings-section", attrs: { "aria-labelledby": "settings-plugins" } }, h("h3", { text: "Plugins", attrs: { id: "settings-plugins" } }), plugins.element),
  );

  return {
    element,
    async load() {
      const [view, list] = await Promise.allSettled([api.settings(), api.models()]);
      message.textContent = "";
      if (list.status === "fulfilled") models.render(list.value);
      else message.textContent = `Could not load the models: ${errorText(list.reason)}`;
      if (view.status === "fulfilled") {
        if (!loaded || !form.dirty()) form.render(view.value, list.status === "fulfilled" ? list.value : []);
        loaded = true;
      } else {
        message.textContent = `Could not load the settings: ${errorText(view.reason)}`;
      }
      await plugins.load();
    },
    hide() {
      void micTest.stop();
    },
    voice: (update) => micTest.voice(update),
    modelProgress: (progress) => models.progress(progress),
  };
}
