// The preferences form of the Settings tab. It keeps the user's edits when saving fails (the
// backend's message shows next to the Save button) and shows what the backend saved when it works.
import * as api from "./api";
import type { ModelView } from "./bindings/ModelView";
import type { Preferences } from "./bindings/Preferences";
import type { SettingsView } from "./bindings/SettingsView";
import { h, setChildren, type Child } from "./dom";
import { errorText } from "./format";
import { attachHotkeyCapture } from "./hotkey";
import type { MicTest } from "./micTest";

/** Languages offered by name; a saved code not in the list is kept as its own option. */
export const LANGUAGES: [string, string][] = [
  ["en", "English"],
  ["de", "Deutsch"],
  ["fr", "Français"],
  ["es", "Español"],
  ["it", "Italiano"],
  ["nl", "Nederlands"],
  ["pt", "Português"],
  ["pl", "Polski"],
  ["sv", "Svenska"],
  ["ru", "Русский"],
  ["ja", "日本語"],
  ["ko", "한국어"],
  ["zh", "中文"],
];

export interface SettingsForm {
  element: HTMLFormElement;
  render(view: SettingsView, models: ModelView[]): void;
  /** The form's values, or why they cannot be saved. */
  read(): Preferences | string;
  /** The user changed something since the last render. */
  dirty(): boolean;
}

function option(value: string, label: string): HTMLOptionElement {
  return h("option", { attrs: { value }, text: label });
}

/** Fills a select and selects `value`, adding it if it is not among the choices. */
function fill(select: HTMLSelectElement, choices: [string, string][], value: string, unknown: (v: string) => string): void {
  const all = choices.some(([v]) => v === value) ? choices : [...choices, [value, unknown(value)] as [string, string]];
  setChildren(select, ...all.map(([v, label]) => option(v, label)));
  select.value = value;
}

export function createSettingsForm(micTest: MicTest): SettingsForm {
  let dirty = false;
  const control = <T extends HTMLInputElement | HTMLSelectElement>(el: T, id: string): T => {
    el.id = `pref-${id}`;
    el.dataset.testid = `pref-${id}`;
    el.addEventListener("input", () => (dirty = true));
    el.addEventListener("change", () => (dirty = true));
    return el;
  };
  const select = (id: string) => control(h("select"), id);
  const input = (id: string, type: string) => control(h("input", { attrs: { type } }), id);
  const field = (label: string, el: HTMLElement, ...hint: Child[]) =>
    h("div", { className: "field" }, h("label", { text: label, attrs: { for: el.id } }), el, ...hint);
  const check = (label: string, el: HTMLInputElement, hint: string) =>
    h("div", { className: "field field-check" }, el, h("label", { text: label, attrs: { for: el.id } }), h("span", { className: "meta", text: hint }));

  const device = select("device");
  const language = select("language");
  const partials = input("partials", "checkbox");
  const keepRecordings = input("keep-recordings", "checkbox");
  const nameFusion = input("name-fusion", "checkbox");
  const keepDays = input("keep-days", "number");
  keepDays.min = "0";
  keepDays.step = "1";
  const ptt = input("ptt-key", "text");
  const toggle = input("toggle-key", "text");
  for (const key of [ptt, toggle]) {
    key.placeholder = "Click here and press keys";
    key.autocomplete = "off";
    key.setAttribute("aria-description", "Press a key combination to record it; Backspace clears it");
    attachHotkeyCapture(key, () => (dirty = true));
  }
  const autostart = input("autostart", "checkbox");
  const notifications = input("notifications", "checkbox");
  const asrModel = select("asr-model");
  const plannerModel = select("planner-model");

  // mic_test listens to the saved device, so a new choice must be saved before it can be tested.
  const deviceUnsaved = h("span", { className: "meta", testid: "device-unsaved", text: "Save first to test this microphone: the test uses the saved one." });
  let savedDevice = "";
  device.addEventListener("change", () => (deviceUnsaved.hidden = device.value === savedDevice));
  const hotkeysNote = h("p", { className: "note", testid: "hotkeys-note" });
  const configFile = h("p", { className: "meta", testid: "config-file" });
  const restart = h("p", { className: "note", testid: "restart-needed", attrs: { role: "status" }, text: "Restart Sotto to apply the new models." });
  const saved = h("span", { className: "saved", testid: "settings-saved", attrs: { role: "status" } });
  const error = h("p", { className: "request-error", testid: "settings-error", attrs: { role: "alert" } });
  const save = h("button", { className: "primary", testid: "settings-save", text: "Save", attrs: { type: "submit" } });

  const element = h(
    "form",
    // novalidate: the form's own check (read) explains the problem next to Save, like the backend's.
    { className: "settings-form", testid: "settings-form", attrs: { "aria-label": "Preferences", novalidate: "" } },
    h("fieldset", {}, h("legend", { text: "Microphone and speech" }),
      field("Microphone", device, deviceUnsaved), micTest.element,
      field("Language you speak", language),
      check("Show words as they are heard", partials, "Partial transcripts while you speak"),
      check("Favour my names and words (experimental)", nameFusion, "Contacts, apps, notes and your vocabulary come out right more often; recognition is slower and a little less accurate on other words"),
      check("Keep recordings", keepRecordings, "So you can play them back from the history"),
      field("Keep recordings for (days)", keepDays, h("span", { className: "meta", text: "0 keeps them forever" }))),
    h("fieldset", {}, h("legend", { text: "Hotkeys" }),
      field("Push-to-talk key (hold to speak)", ptt),
      field("Toggle key (press to start, again to stop)", toggle),
      hotkeysNote),
    h("fieldset", {}, h("legend", { text: "Models" }),
      field("Speech model", asrModel),
      field("Planner model", plannerModel)),
    h("fieldset", {}, h("legend", { text: "Desktop" }),
      check("Start Sotto when I log in", autostart, "It starts in the tray"),
      check("Notifications", notifications, "A desktop notification with each result and when a timer rings")),
    restart,
    h("div", { className: "form-buttons" }, save, saved),
    error,
    configFile,
  );

  function modelChoices(models: ModelView[], task: string): [string, string][] {
    const choices: [string, string][] = [["", "Recommended"]];
    for (const m of models.filter((m) => m.task === task)) {
      const notes = [m.recommended ? "recommended" : "", m.state !== "installed" ? "not downloaded" : ""].filter(Boolean);
      choices.push([m.id, notes.length ? `${m.id} (${notes.join(", ")})` : m.id]);
    }
    return choices;
  }

  function render(view: SettingsView, models: ModelView[]): void {
    const p = view.preferences;
    fill(device, [["", "System default"], ...view.devices.map((d): [string, string] => [d.id, d.is_default ? `${d.name} (default)` : d.name])], p.input_device, (v) => `${v} (not connected)`);
    fill(language, LANGUAGES.map(([code, name]): [string, string] => [code, `${name} (${code})`]), p.language, (v) => v);
    savedDevice = p.input_device;
    deviceUnsaved.hidden = true;
    partials.checked = p.partials;
    keepRecordings.checked = p.keep_recordings;
    nameFusion.checked = p.name_fusion;
    keepDays.value = String(p.keep_audio_days);
    ptt.value = p.push_to_talk_key;
    toggle.value = p.toggle_key;
    autostart.checked = p.autostart;
    notifications.checked = p.notifications;
    fill(asrModel, modelChoices(models, "asr"), p.asr_model, (v) => `${v} (unknown)`);
    fill(plannerModel, modelChoices(models, "planner"), p.planner_model, (v) => `${v} (unknown)`);
    hotkeysNote.textContent = view.hotkeys_note ?? "";
    hotkeysNote.hidden = !view.hotkeys_note;
    configFile.textContent = `Saved in ${view.config_file}`;
    restart.hidden = !view.restart_needed;
    dirty = false;
  }

  function read(): Preferences | string {
    const days = Number(keepDays.value);
    if (keepDays.value.trim() === "" || !Number.isInteger(days) || days < 0 || days > 4_294_967_295) {
      return "Keep recordings for: a whole number of days, 0 or more.";
    }
    return {
      input_device: device.value,
      language: language.value,
      partials: partials.checked,
      keep_recordings: keepRecordings.checked,
      name_fusion: nameFusion.checked,
      keep_audio_days: days,
      push_to_talk_key: ptt.value.trim(),
      toggle_key: toggle.value.trim(),
      autostart: autostart.checked,
      notifications: notifications.checked,
      asr_model: asrModel.value,
      planner_model: plannerModel.value,
    };
  }

  let lastModels: ModelView[] = [];
  let busy = false;
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    const preferences = read();
    saved.textContent = "";
    if (typeof preferences === "string") {
      error.textContent = preferences;
      return;
    }
    busy = true;
    save.disabled = true;
    api
      .savePreferences({ preferences })
      .then((view) => {
        error.textContent = "";
        render(view, lastModels);
        saved.textContent = "Saved";
      })
      .catch((e: unknown) => (error.textContent = errorText(e))) // the edits stay in the form
      .finally(() => {
        busy = false;
        save.disabled = false;
      });
  });

  return {
    element,
    render(view, models) {
      lastModels = models;
      error.textContent = "";
      saved.textContent = "";
      render(view, models);
    },
    read,
    dirty: () => dirty,
  };
}
