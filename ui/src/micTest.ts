// "Test microphone": switches the backend's level test on and off and shows the level, so the
// user sees the chosen microphone works. Used by the Settings tab and the onboarding; whoever
// shows it must call `stop()` when it goes out of sight, or the microphone stays open.
import * as api from "./api";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";
import { h } from "./dom";
import { errorText } from "./format";
import { createLevelMeter } from "./level";

export interface MicTest {
  element: HTMLElement;
  voice(update: VoiceUpdate): void;
  /** Ends the test if it runs (safe to call at any time). */
  stop(): Promise<void>;
  running(): boolean;
}

export function createMicTest(options: { testid: string; onLevel?(dbfs: number): void }): MicTest {
  const meter = createLevelMeter(options.testid);
  const button = h("button", { testid: "mic-test", text: "Test microphone", attrs: { type: "button", "aria-pressed": "false" } });
  const message = h("span", { className: "meta", attrs: { role: "status" } });
  const element = h("div", { className: "mic-test" }, button, meter.element, message);
  let on = false;

  function show(next: boolean): void {
    on = next;
    button.textContent = next ? "Stop test" : "Test microphone";
    button.setAttribute("aria-pressed", String(next));
    if (!next) meter.reset();
  }

  async function set(next: boolean): Promise<void> {
    if (next === on) return;
    show(next);
    message.textContent = next ? "Say something…" : "";
    try {
      await api.micTest({ on: next });
    } catch (error) {
      show(false);
      message.textContent = `The microphone test did not ${next ? "start" : "stop"}: ${errorText(error)}`;
    }
  }

  button.addEventListener("click", () => void set(!on));

  return {
    element,
    voice(update) {
      if (!on || update.kind !== "level") return;
      meter.set(update.dbfs);
      options.onLevel?.(update.dbfs);
    },
    stop: () => set(false),
    running: () => on,
  };
}
