// The microphone button (hold to talk; Space or Enter toggles) and the mute toggle.
//
// Hold-to-talk uses pointer capture, so releasing the button anywhere (even outside the window's
// button) still ends the recording: a recording that never stops would keep the microphone on.
import * as api from "./api";
import type { StatusView } from "./bindings/StatusView";
import { h } from "./dom";
import { errorText } from "./format";

export interface MicControls {
  /** The microphone button, beside the command box. */
  button: HTMLButtonElement;
  /** The mute toggle, in the header. */
  mute: HTMLButtonElement;
  setStatus(status: StatusView): void;
  /** Whether this window started a recording that it has not stopped yet. */
  recording(): boolean;
}

export function createMicControls(onError: (message: string) => void): MicControls {
  const button = h("button", {
    className: "mic-button",
    testid: "mic-button",
    attrs: { type: "button", "aria-pressed": "false", "aria-label": "Speak (hold, or press Space to start and again to stop)" },
  }, h("span", { className: "mic-icon", attrs: { "aria-hidden": "true" }, text: "🎙" }));
  const mute = h("button", { className: "mute-toggle", testid: "mute-toggle", attrs: { type: "button", "aria-pressed": "false" }, text: "Mute" });

  let recording = false;
  let muted = false;
  let sawListening = false; // the backend reported listening since our start

  function setRecording(on: boolean): void {
    recording = on;
    button.setAttribute("aria-pressed", String(on));
    button.classList.toggle("recording", on);
  }

  function start(): void {
    if (recording || button.disabled) return;
    setRecording(true);
    sawListening = false;
    api.listenStart().catch((error: unknown) => {
      setRecording(false);
      onError(`Could not start listening: ${errorText(error)}`);
    });
  }

  function stop(): void {
    if (!recording) return;
    setRecording(false);
    api.listenStop().catch((error: unknown) => onError(`Could not stop listening: ${errorText(error)}`));
  }

  button.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault(); // keeps focus where it was and stops text selection while held
    try {
      button.setPointerCapture(event.pointerId);
    } catch {
      // No capture (an already released pointer): pointerup on the button still stops.
    }
    start();
  });
  button.addEventListener("pointerup", stop);
  button.addEventListener("pointercancel", stop);
  button.addEventListener("lostpointercapture", stop);
  button.addEventListener("keydown", (event) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    if (event.repeat) return;
    if (recording) stop();
    else start();
  });
  // Space would otherwise "click" on keyup; nothing listens to click, but keep it quiet.
  button.addEventListener("keyup", (event) => {
    if (event.key === " ") event.preventDefault();
  });

  mute.addEventListener("click", () => {
    const next = !muted;
    mute.disabled = true;
    api
      .setMuted({ muted: next })
      .then(() => showMuted(next))
      .catch((error: unknown) => onError(`Could not ${next ? "mute" : "unmute"} the microphone: ${errorText(error)}`))
      .finally(() => (mute.disabled = false));
  });

  function showMuted(on: boolean): void {
    muted = on;
    mute.setAttribute("aria-pressed", String(on));
    mute.textContent = on ? "Unmute" : "Mute";
    mute.title = on ? "The microphone is off; hotkeys do nothing until you unmute" : "Turn the microphone off";
    updateButton(null);
  }

  let unavailable: string | null = null;
  function updateButton(status: StatusView | null): void {
    if (status) unavailable = status.microphone.kind === "unavailable" ? status.microphone.message : null;
    button.disabled = muted || unavailable !== null;
    button.title = muted ? "The microphone is muted" : (unavailable ?? "Hold to speak");
    if (button.disabled) setRecording(false);
  }

  return {
    button,
    mute,
    setStatus(status) {
      showMuted(status.muted);
      updateButton(status);
      if (status.state === "listening") sawListening = true;
      else if (sawListening && recording) {
        // The backend ended the recording itself (silence, an error): nothing to stop.
        setRecording(false);
        sawListening = false;
      }
    },
    recording: () => recording,
  };
}
