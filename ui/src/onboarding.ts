// First-run setup over the whole window: the microphone, the models, the hotkey. Finish and
// "Skip setup" both mark it done (onboarding_done), so it does not come back.
import * as api from "./api";
import type { ModelProgress } from "./bindings/ModelProgress";
import type { OnboardingView } from "./bindings/OnboardingView";
import type { SettingsView } from "./bindings/SettingsView";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";
import { h, setChildren } from "./dom";
import { errorText } from "./format";
import { createMicTest } from "./micTest";
import { createModelList } from "./models";

/** Above this, the test has clearly picked up a voice (or at least a sound), not just noise. */
export const HEARD_DBFS = -45;

const STEPS = ["Microphone", "Models", "Hotkey"];

export interface Onboarding {
  element: HTMLElement;
  voice(update: VoiceUpdate): void;
  modelProgress(progress: ModelProgress): void;
  /** The step on screen, 0-based. */
  step(): number;
  /** Puts focus on the step's title (once the view is in the document). */
  focus(): void;
}

export interface OnboardingOptions {
  view: OnboardingView;
  /** The view closed (finished or skipped); `error` if onboarding_done failed. */
  onClose(error: string | null): void;
}

export function createOnboarding(options: OnboardingOptions): Onboarding {
  const { view } = options;
  let step = 0;

  // Step 1: the microphone.
  const device = h("select", { testid: "onboarding-device", attrs: { id: "onboarding-device" } });
  const deviceError = h("p", { className: "request-error", attrs: { role: "alert" } });
  const heard = h("p", { className: "heard", testid: "onboarding-heard", attrs: { role: "status" } });
  const micTest = createMicTest({
    testid: "onboarding-level",
    onLevel(dbfs) {
      if (dbfs > HEARD_DBFS) heard.textContent = "We hear you.";
    },
  });
  let settings: SettingsView | null = null;
  void api.settings().then(
    (loaded) => {
      settings = loaded;
      const choices: [string, string][] = [["", "System default"], ...loaded.devices.map((d): [string, string] => [d.id, d.is_default ? `${d.name} (default)` : d.name])];
      setChildren(device, ...choices.map(([value, label]) => h("option", { attrs: { value }, text: label })));
      device.value = loaded.preferences.input_device;
    },
    (error: unknown) => (deviceError.textContent = `Could not list the microphones: ${errorText(error)}`),
  );
  // The test listens to the saved device, so a new choice is saved at once.
  device.addEventListener("change", () => {
    if (!settings) return;
    const preferences = { ...settings.preferences, input_device: device.value };
    heard.textContent = "";
    void micTest.stop().then(() =>
      api.savePreferences({ preferences }).then(
        (saved) => ((settings = saved), (deviceError.textContent = "")),
        (error: unknown) => (deviceError.textContent = `Could not choose this microphone: ${errorText(error)}`),
      ),
    );
  });
  const micStep = h(
    "div",
    {},
    h("p", { text: "Choose the microphone Sotto listens to, then test it: say a few words and watch the level." }),
    h("div", { className: "field" }, h("label", { text: "Microphone", attrs: { for: "onboarding-device" } }), device),
    deviceError,
    micTest.element,
    heard,
  );

  // Step 2: the models.
  const allSet = h("p", { className: "heard", testid: "onboarding-allset", attrs: { role: "status" } });
  const models = createModelList({
    load: async () => (await api.onboarding()).models,
    onChange(list) {
      allSet.textContent = list.every((m) => m.state === "installed") ? "All set: every model Sotto needs is here." : "";
    },
  });
  models.render(view.models);
  const modelStep = h(
    "div",
    {},
    h("p", { text: "Sotto runs on this computer: it needs these models for speech and planning. Nothing you say leaves the machine." }),
    models.element,
    allSet,
  );

  // Step 3: the hotkey, and how confirmations work.
  const hotkeyStep = h(
    "div",
    {},
    view.push_to_talk_key
      ? h("p", {}, "Hold ", h("kbd", { testid: "onboarding-ptt", text: view.push_to_talk_key }), " and speak; let go when you are done. You can also hold the microphone button in this window.")
      : h("p", { text: "No push-to-talk key is set: hold the microphone button in this window, or choose a key in Settings." }),
    view.hotkeys_note ? h("p", { className: "note", testid: "onboarding-hotkeys-note", text: view.hotkeys_note }) : null,
    h("p", { className: "note" }, h("strong", { text: "Confirmations are never given by voice. " }), "When Sotto asks before doing something (sending a message, deleting a file), you answer by clicking or with the keys in this window only, so nothing you or anyone near you says can approve it."),
  );

  const panes = [micStep, modelStep, hotkeyStep];
  const title = h("h2", { attrs: { id: "onboarding-title", tabindex: "-1" } });
  const counter = h("p", { className: "meta" });
  const body = h("div", { className: "onboarding-body", testid: "onboarding-step" }, ...panes);
  const back = h("button", { testid: "onboarding-back", text: "Back", attrs: { type: "button" }, onClick: () => go(step - 1) });
  const next = h("button", { className: "primary", testid: "onboarding-next", text: "Next", attrs: { type: "button" }, onClick: () => go(step + 1) });
  const finish = h("button", { className: "primary", testid: "onboarding-finish", text: "Finish", attrs: { type: "button" }, onClick: () => void close() });
  const skip = h("button", { className: "secondary", testid: "onboarding-skip", text: "Skip setup", attrs: { type: "button" }, onClick: () => void close() });
  const element = h(
    "div",
    { className: "onboarding", testid: "onboarding", attrs: { role: "dialog", "aria-modal": "true", "aria-labelledby": "onboarding-title" } },
    h(
      "div",
      { className: "onboarding-card" },
      h("p", { className: "panel-title", text: "Welcome to Sotto" }),
      title,
      counter,
      body,
      h("div", { className: "dialog-buttons" }, skip, h("span", { className: "spacer" }), back, next, finish),
    ),
  );

  function go(index: number): void {
    const target = Math.max(0, Math.min(STEPS.length - 1, index));
    // The test keeps the microphone open: it must not outlive its step.
    if (step === 0 && target !== 0) void micTest.stop();
    step = target;
    panes.forEach((pane, i) => (pane.hidden = i !== step));
    title.textContent = STEPS[step];
    counter.textContent = `Step ${step + 1} of ${STEPS.length}`;
    body.dataset.step = String(step + 1);
    back.hidden = step === 0;
    next.hidden = step === STEPS.length - 1;
    finish.hidden = step !== STEPS.length - 1;
    title.focus();
  }

  let closing = false;
  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    await micTest.stop();
    let error: string | null = null;
    try {
      await api.onboardingDone();
    } catch (e) {
      // Closing anyway: a setup that cannot be left is worse than seeing it again next time.
      error = `Could not save that setup is done: ${errorText(e)}`;
    }
    element.remove();
    options.onClose(error);
  }

  go(0);
  return {
    element,
    voice: (update) => micTest.voice(update),
    modelProgress: (progress) => models.progress(progress),
    step: () => step,
    focus: () => title.focus(),
  };
}
