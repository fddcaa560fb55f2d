// The first-run onboarding: its steps, the microphone test, the models, Finish and Skip.
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import type { OnboardingView } from "../src/bindings/OnboardingView";
import { createOnboarding, type Onboarding } from "../src/onboarding";
import { byTestId, flush, model, settingsView } from "./fixtures";

vi.mock("../src/api");
const mocked = vi.mocked(api);

let view: Onboarding;
const onClose = vi.fn();

function open(overrides: Partial<OnboardingView> = {}): void {
  view = createOnboarding({
    view: {
      done: false,
      models: [model("whisper-base", { recommended: true }), model("qwen-1.5b", { task: "planner", state: "missing", recommended: true })],
      push_to_talk_key: "Ctrl+Alt+Space",
      hotkeys_note: null,
      ...overrides,
    },
    onClose,
  });
  document.body.append(view.element);
  view.focus();
}

const step = () => byTestId("onboarding-step")!.dataset.step;
const click = (id: string) => (byTestId(id) as HTMLButtonElement).click();
const visible = (id: string) => !byTestId(id)!.hidden;

beforeEach(async () => {
  vi.resetAllMocks();
  document.body.replaceChildren();
  mocked.settings.mockResolvedValue(settingsView());
  mocked.micTest.mockResolvedValue(undefined);
  mocked.onboardingDone.mockResolvedValue(undefined);
  mocked.modelFetch.mockResolvedValue(undefined);
  open();
  await flush();
});

describe("onboarding", () => {
  it("goes through microphone, models and hotkey with Next and Back", () => {
    expect(byTestId("onboarding")?.getAttribute("role")).toBe("dialog");
    expect(step()).toBe("1");
    expect(document.activeElement?.id).toBe("onboarding-title");
    expect(visible("onboarding-back")).toBe(false);
    expect(visible("onboarding-finish")).toBe(false);
    click("onboarding-next");
    expect(step()).toBe("2");
    expect(byTestId("onboarding")?.textContent).toContain("Step 2 of 3");
    click("onboarding-back");
    expect(step()).toBe("1");
    click("onboarding-next");
    click("onboarding-next");
    expect(step()).toBe("3");
    expect(visible("onboarding-next")).toBe(false);
    expect(visible("onboarding-finish")).toBe(true);
    expect(byTestId("onboarding-ptt")?.textContent).toBe("Ctrl+Alt+Space");
    expect(byTestId("onboarding")?.textContent).toContain("never given by voice");
  });

  it("step 1: the microphone test says 'We hear you' above -45 dBFS, and stops on Next", async () => {
    click("mic-test");
    await flush();
    expect(mocked.micTest).toHaveBeenCalledWith({ on: true });
    view.voice({ kind: "level", dbfs: -50 });
    expect(byTestId("onboarding-heard")?.textContent).toBe("");
    expect(byTestId("onboarding-level")?.getAttribute("aria-valuenow")).toBe("17");
    view.voice({ kind: "level", dbfs: -40 });
    expect(byTestId("onboarding-heard")?.textContent).toBe("We hear you.");
    click("onboarding-next");
    await flush();
    expect(mocked.micTest).toHaveBeenLastCalledWith({ on: false });
    expect(mocked.micTest).toHaveBeenCalledTimes(2);
  });

  it("step 1: choosing a microphone saves it (the test listens to the saved one)", async () => {
    const select = byTestId("onboarding-device") as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["", "usb", "laptop"]);
    mocked.savePreferences.mockResolvedValue(settingsView());
    select.value = "laptop";
    select.dispatchEvent(new Event("change"));
    await flush();
    expect(mocked.savePreferences).toHaveBeenCalledWith({ preferences: expect.objectContaining({ input_device: "laptop", language: "en" }) });
  });

  it("step 2: downloads the missing model and says All set when everything is there", async () => {
    click("onboarding-next");
    expect(byTestId("onboarding-allset")?.textContent).toBe("");
    click("model-download");
    await flush();
    expect(mocked.modelFetch).toHaveBeenCalledWith({ id: "qwen-1.5b" });
    mocked.onboarding.mockResolvedValue({
      done: false,
      models: [model("whisper-base"), model("qwen-1.5b", { task: "planner" })],
      push_to_talk_key: "Ctrl+Alt+Space",
      hotkeys_note: null,
    });
    view.modelProgress({ id: "qwen-1.5b", stage: "download", bytes_done: 10, bytes_total: 100, message: null, done: false, error: null });
    expect(document.querySelector<HTMLElement>('[data-testid="model-progress"][data-id="qwen-1.5b"]')?.hidden).toBe(false);
    view.modelProgress({ id: "qwen-1.5b", stage: "download", bytes_done: 100, bytes_total: 100, message: "installed", done: true, error: null });
    await flush();
    expect(byTestId("onboarding-allset")?.textContent).toContain("All set");
  });

  it("step 3 shows the hotkeys note when there is one", async () => {
    document.body.replaceChildren();
    open({ hotkeys_note: "Wayland: global hotkeys need your desktop's permission." });
    await flush();
    expect(byTestId("onboarding-hotkeys-note")?.textContent).toBe("Wayland: global hotkeys need your desktop's permission.");
  });

  it("Finish calls onboarding_done and closes", async () => {
    click("onboarding-next");
    click("onboarding-next");
    click("onboarding-finish");
    await flush();
    expect(mocked.onboardingDone).toHaveBeenCalledTimes(1);
    expect(byTestId("onboarding")).toBeNull();
    expect(onClose).toHaveBeenCalledWith(null);
  });

  it("Skip from step 1 stops the microphone test, then calls onboarding_done", async () => {
    click("mic-test");
    await flush();
    click("onboarding-skip");
    await flush();
    expect(mocked.micTest).toHaveBeenLastCalledWith({ on: false });
    expect(mocked.onboardingDone).toHaveBeenCalledTimes(1);
    expect(byTestId("onboarding")).toBeNull();
  });

  it("closes even if onboarding_done fails, and says so", async () => {
    mocked.onboardingDone.mockRejectedValue("config.toml is read-only");
    click("onboarding-skip");
    await flush();
    expect(byTestId("onboarding")).toBeNull();
    expect(onClose).toHaveBeenCalledWith("Could not save that setup is done: config.toml is read-only");
  });
});
