// The live panel: what the current request is doing, from the voice (level and what is heard so
// far) or the typed text, through the plan's steps, to the reply.
import type { RequestUpdate } from "./bindings/RequestUpdate";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";
import { h, setChildren } from "./dom";
import { formatMs } from "./format";
import { createLevelMeter } from "./level";
import { createStepList } from "./steps";

export type { StepStatus } from "./steps";

export interface LivePanel {
  element: HTMLElement;
  /** A typed request was sent: clear the panel and show its text. */
  start(text: string): void;
  apply(update: RequestUpdate): void;
  /** What the microphone hears: level and partial text while listening, then the transcript. */
  voice(update: VoiceUpdate): void;
  /** Hides the listening part (the assistant left the listening state). */
  stopListening(): void;
  /** The request could not be started (the submit command failed). */
  showError(message: string): void;
  /** With nothing running: show the last reply, if there is one. */
  showIdle(lastResult: string | null): void;
  /** The utterance shown, if known. */
  utterance(): number | null;
}

export function createLivePanel(): LivePanel {
  const heading = h("h2", { className: "panel-title", text: "Current request" });
  const transcript = h("p", { className: "transcript", testid: "live-transcript" });
  const steps = createStepList({ rowTestid: "live-step", details: true });
  const notes = h("div", { className: "notes" });
  const outcome = h("div", { className: "outcome" });
  const empty = h("p", { className: "empty", text: "Nothing running. Type a request above and press Enter, or hold the microphone button and speak." });
  const meter = createLevelMeter("level-meter");
  // Its own live region: the words heard so far are what a screen reader user wants to follow.
  const partial = h("p", { className: "partial", testid: "partial", attrs: { "aria-live": "polite" } });
  const listening = h("div", { className: "listening", testid: "listening" }, h("span", { className: "label", text: "Listening…" }), meter.element, partial);
  listening.hidden = true;
  const element = h(
    "section",
    { className: "panel live-panel", testid: "live-panel", attrs: { "aria-label": "Current request" } },
    heading,
    empty,
    listening,
    h("div", { attrs: { "aria-live": "polite" } }, transcript, steps.element, notes, outcome),
  );

  let current: number | null = null;
  let active = false; // something has been shown since the last reset

  function reset(): void {
    current = null;
    steps.reset();
    transcript.textContent = "";
    notes.replaceChildren();
    outcome.replaceChildren();
    empty.hidden = true;
    active = true;
  }

  function setTranscript(text: string): void {
    setChildren(transcript, h("span", { className: "label", text: "You said " }), h("q", { text }));
  }

  function showError(message: string): void {
    setChildren(outcome, h("p", { className: "request-error", testid: "request-error", attrs: { role: "alert" }, text: message }));
  }

  function stopListening(): void {
    listening.hidden = true;
    meter.reset();
  }

  function adopt(utterance: number | null): void {
    if (!active) reset();
    if (utterance === null) return;
    if (current === null) {
      current = utterance;
    } else if (current !== utterance) {
      // A request whose start this window missed: show it from here on.
      reset();
      current = utterance;
    }
  }

  return {
    element,
    start(text) {
      reset();
      setTranscript(text);
    },
    apply(update) {
      if (update.kind === "recorded") {
        reset();
        current = update.utterance;
        setTranscript(update.text);
        return;
      }
      adopt(update.utterance);
      steps.apply(update);
      switch (update.kind) {
        case "replanning":
          notes.appendChild(h("p", { className: "note", testid: "live-replanning" }, h("strong", { text: "Replanning: " }), update.feedback));
          break;
        case "done": {
          const details = [`planned in ${formatMs(update.plan_ms)}`];
          if (update.fast_path) details.push(`answered by the ${update.fast_path} template`);
          setChildren(
            outcome,
            h("p", { className: update.ok ? "reply" : "reply reply-not-ok", testid: "reply", text: update.reply }),
            h("p", { className: "meta", text: details.join(" · ") }),
          );
          break;
        }
        case "failed":
          showError(update.error);
          break;
      }
    },
    voice(update) {
      switch (update.kind) {
        case "started":
          reset();
          partial.textContent = "";
          meter.reset();
          listening.hidden = false;
          break;
        case "level":
          meter.set(update.dbfs);
          break;
        case "partial":
          listening.hidden = false;
          partial.textContent = update.text;
          break;
        case "heard":
          stopListening();
          reset();
          current = update.utterance;
          if (update.text.trim()) setTranscript(update.text);
          else showError("Nothing was heard. Hold the microphone button (or the push-to-talk key) while you speak.");
          break;
        case "failed":
          stopListening();
          adopt(update.utterance);
          showError(update.message);
          break;
      }
    },
    stopListening,
    showError,
    showIdle(lastResult) {
      if (active) return;
      if (lastResult) {
        empty.hidden = true;
        setChildren(outcome, h("p", { className: "meta", text: "Last reply" }), h("p", { className: "reply", text: lastResult }));
      } else {
        empty.hidden = false;
      }
    },
    utterance: () => current,
  };
}
