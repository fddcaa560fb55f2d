// The Settings tab with the backend mocked: the form round-trip, models and plugins.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { createSettings, type SettingsTab } from "../src/settings";
import { allByTestId, byTestId, flush, model, settingsView } from "./fixtures";

vi.mock("../src/api");
const mocked = vi.mocked(api);

let tab: SettingsTab;

const MODELS = [
  model("whisper-base", { task: "asr", recommended: true, in_use: true }),
  model("whisper-small", { task: "asr", state: "missing", size_bytes: 488_000_000 }),
  model("silero-vad", { task: "vad" }),
  model("qwen-1.5b", { task: "planner", state: "partial", recommended: true, size_bytes: 1_100_000_000 }),
];

beforeEach(async () => {
  vi.resetAllMocks();
  document.body.replaceChildren();
  mocked.settings.mockResolvedValue(settingsView());
  mocked.models.mockResolvedValue(MODELS);
  mocked.plugins.mockResolvedValue([]);
  mocked.micTest.mockResolvedValue(undefined);
  mocked.modelFetch.mockResolvedValue(undefined);
  mocked.pluginSetEnabled.mockResolvedValue(undefined);
  tab = createSettings();
  document.body.append(tab.element);
  await tab.load();
  await flush();
});

afterEach(() => tab.hide());

const field = <T extends HTMLElement>(id: string) => byTestId(`pref-${id}`) as T;
const select = (id: string) => field<HTMLSelectElement>(id);
const input = (id: string) => field<HTMLInputElement>(id);
const options = (id: string) => Array.from(select(id).options).map((o) => [o.value, o.textContent]);

function change(el: HTMLInputElement | HTMLSelectElement, value: string | boolean): void {
  if (typeof value === "boolean") (el as HTMLInputElement).checked = value;
  else el.value = value;
  el.dispatchEvent(new Event(typeof value === "boolean" ? "change" : "input", { bubbles: true }));
}

function save(): void {
  (byTestId("settings-form") as HTMLFormElement).requestSubmit();
}

describe("the preferences form", () => {
  it("shows the saved preferences and what to choose from", () => {
    expect(options("device")).toEqual([
      ["", "System default"],
      ["usb", "USB Mic (default)"],
      ["laptop", "Built-in microphone"],
    ]);
    expect(select("device").value).toBe("");
    expect(select("language").value).toBe("en");
    for (const code of ["en", "de", "fr", "es", "it", "nl", "pt", "ja", "zh"]) expect(options("language").map(([v]) => v)).toContain(code);
    expect(input("partials").checked).toBe(true);
    expect(input("keep-days").value).toBe("30");
    expect(input("ptt-key").value).toBe("Ctrl+Alt+Space");
    expect(options("asr-model")).toEqual([
      ["", "Recommended"],
      ["whisper-base", "whisper-base (recommended)"],
      ["whisper-small", "whisper-small (not downloaded)"],
    ]);
    expect(options("planner-model").map(([v]) => v)).toEqual(["", "qwen-1.5b"]);
    expect(byTestId("config-file")?.textContent).toContain("/home/user/.config/sotto/config.toml");
    expect(byTestId("restart-needed")?.hidden).toBe(true);
    expect(byTestId("hotkeys-note")?.hidden).toBe(true);
  });

  it("keeps a language or device it does not know as a choice", async () => {
    const view = settingsView({ hotkeys_note: "Wayland: use the desktop's shortcut settings.", restart_needed: true });
    view.preferences.language = "eu";
    view.preferences.input_device = "gone";
    mocked.settings.mockResolvedValue(view);
    tab = createSettings();
    document.body.replaceChildren(tab.element);
    await tab.load();
    expect(select("language").value).toBe("eu");
    expect(select("device").value).toBe("gone");
    expect(byTestId("hotkeys-note")?.textContent).toBe("Wayland: use the desktop's shortcut settings.");
    expect(byTestId("restart-needed")?.hidden).toBe(false);
  });

  it("saves what the user changed and shows Saved", async () => {
    const saved = settingsView({ restart_needed: true });
    mocked.savePreferences.mockResolvedValue(saved);
    change(select("device"), "laptop");
    change(select("language"), "de");
    change(input("partials"), false);
    change(input("keep-days"), "0");
    change(input("autostart"), true);
    change(input("name-fusion"), true);
    change(select("planner-model"), "qwen-1.5b");
    input("toggle-key").dispatchEvent(new KeyboardEvent("keydown", { key: "t", code: "KeyT", ctrlKey: true, shiftKey: true, bubbles: true, cancelable: true }));
    save();
    await flush();
    expect(mocked.savePreferences).toHaveBeenCalledWith({
      preferences: {
        input_device: "laptop",
        language: "de",
        partials: false,
        keep_recordings: true,
        name_fusion: true,
        keep_audio_days: 0,
        push_to_talk_key: "Ctrl+Alt+Space",
        toggle_key: "Ctrl+Shift+T",
        autostart: true,
        notifications: true,
        asr_model: "",
        planner_model: "qwen-1.5b",
      },
    });
    expect(byTestId("settings-saved")?.textContent).toBe("Saved");
    expect(byTestId("settings-error")?.textContent).toBe("");
    expect(byTestId("restart-needed")?.hidden).toBe(false);
    // The form shows what the backend saved.
    expect(select("language").value).toBe("en");
  });

  it("shows the backend's reason when saving fails, and keeps the edits", async () => {
    mocked.savePreferences.mockRejectedValue("push_to_talk_key: \"Ctrl+Fn\" is not a key Sotto can listen to");
    change(select("language"), "fr");
    save();
    await flush();
    expect(byTestId("settings-error")?.textContent).toBe("push_to_talk_key: \"Ctrl+Fn\" is not a key Sotto can listen to");
    expect(byTestId("settings-error")?.getAttribute("role")).toBe("alert");
    expect(byTestId("settings-saved")?.textContent).toBe("");
    expect(select("language").value).toBe("fr");
    // Reloading the tab (shown again) does not throw the edits away either.
    await tab.load();
    expect(select("language").value).toBe("fr");
  });

  it("does not send a number of days that is not a whole number", async () => {
    change(input("keep-days"), "2.5");
    save();
    await flush();
    expect(mocked.savePreferences).not.toHaveBeenCalled();
    expect(byTestId("settings-error")?.textContent).toContain("whole number");
  });

  it("says a newly chosen microphone must be saved before the test uses it", () => {
    expect(byTestId("device-unsaved")?.hidden).toBe(true);
    select("device").value = "laptop";
    select("device").dispatchEvent(new Event("change"));
    expect(byTestId("device-unsaved")?.hidden).toBe(false);
    select("device").value = "";
    select("device").dispatchEvent(new Event("change"));
    expect(byTestId("device-unsaved")?.hidden).toBe(true);
  });

  it("tests the microphone with a level meter, and stops the test when hidden", async () => {
    const test = byTestId("mic-test") as HTMLButtonElement;
    test.click();
    await flush();
    expect(mocked.micTest).toHaveBeenCalledWith({ on: true });
    expect(test.getAttribute("aria-pressed")).toBe("true");
    tab.voice({ kind: "level", dbfs: -30 });
    expect(byTestId("settings-level")?.getAttribute("aria-valuenow")).toBe("50");
    tab.hide();
    await flush();
    expect(mocked.micTest).toHaveBeenLastCalledWith({ on: false });
    expect(byTestId("settings-level")?.getAttribute("aria-valuenow")).toBe("0");
  });
});

describe("models", () => {
  it("lists each model with its state, size and badges", () => {
    const rows = allByTestId("model-row");
    expect(rows.map((r) => [r.dataset.id, r.dataset.state])).toEqual([
      ["whisper-base", "installed"],
      ["whisper-small", "missing"],
      ["silero-vad", "installed"],
      ["qwen-1.5b", "partial"],
    ]);
    expect(rows[0].textContent).toContain("recommended");
    expect(rows[0].textContent).toContain("in use");
    expect(rows[0].textContent).toContain("75 MB");
    expect(rows[3].textContent).toContain("1.1 GB");
    expect(allByTestId("model-download").map((b) => [b.dataset.id, b.textContent])).toEqual([
      ["whisper-small", "Download"],
      ["qwen-1.5b", "Resume download"],
    ]);
  });

  it("downloads: a progress bar from the events, then the list again", async () => {
    (allByTestId("model-download")[0] as HTMLButtonElement).click();
    await flush();
    expect(mocked.modelFetch).toHaveBeenCalledWith({ id: "whisper-small" });
    const box = () => byTestId("model-progress", document.querySelector('[data-testid="model-row"][data-id="whisper-small"]')!)!;
    expect(box().hidden).toBe(false);
    tab.modelProgress({ id: "whisper-small", stage: "download", bytes_done: 244_000_000, bytes_total: 488_000_000, message: null, done: false, error: null });
    expect(box().querySelector("progress")!.value).toBe(50);
    expect(box().textContent).toContain("244 MB of 488 MB");
    mocked.models.mockResolvedValue(MODELS.map((m) => (m.id === "whisper-small" ? { ...m, state: "installed" } : m)));
    tab.modelProgress({ id: "whisper-small", stage: "download", bytes_done: 488_000_000, bytes_total: 488_000_000, message: "installed (488 MB)", done: true, error: null });
    await flush();
    expect(document.querySelector('[data-testid="model-row"][data-id="whisper-small"]')!.getAttribute("data-state")).toBe("installed");
  });

  it("a failed download says why and can be tried again", async () => {
    (allByTestId("model-download")[0] as HTMLButtonElement).click();
    await flush();
    tab.modelProgress({ id: "whisper-small", stage: "download", bytes_done: 1, bytes_total: null, message: null, done: true, error: "every source failed" });
    const row = document.querySelector('[data-testid="model-row"][data-id="whisper-small"]')!;
    expect(row.textContent).toContain("every source failed");
    expect((byTestId("model-download", row) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("plugins", () => {
  it("says how to install one when there are none", () => {
    expect(byTestId("plugins-message")?.textContent).toBe("No plugins are installed. Install one with sotto plugins install FILE.");
  });

  it("lists plugins with their tools and turns one off", async () => {
    mocked.plugins.mockResolvedValue([{ id: "chat", name: "Chat", version: "0.3.1", enabled: true, tools: ["message_send", "message_read"] }]);
    await tab.load();
    const row = byTestId("plugin-row")!;
    expect(row.textContent).toContain("Chat");
    expect(row.textContent).toContain("Tools: message_send, message_read");
    const box = byTestId("plugin-enabled") as HTMLInputElement;
    expect(box.checked).toBe(true);
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    await flush();
    expect(mocked.pluginSetEnabled).toHaveBeenCalledWith({ id: "chat", enabled: false });
  });
});
