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

const SVG = "http://www.w3.org/2000/svg";

/** A microphone drawn in SVG (an emoji would depend on the system's fonts). */
function micIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "mic-icon");
  for (const d of ["M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z", "M6 11a6 6 0 0 0 12 0", "M12 17v4", "M9 21h6"]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
  }
  return svg;
}

export function createMicControls(onError: (message: string) => void): MicControls {
  const button = h("button", {
    className: "mic-button",
    testid: "mic-button",
    attrs: { type: "button", "aria-pressed": "false", "aria-label": "Speak (hold, or press Space to start and again to stop)" },
  }, micIcon());
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
