// The overlay page: a spoken request from listening to the reply.
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import type { RequestUpdate } from "../src/bindings/RequestUpdate";
import type { StatusView } from "../src/bindings/StatusView";
import type { VoiceUpdate } from "../src/bindings/VoiceUpdate";
import { createOverlay, startOverlay, type Overlay } from "../src/overlay";
import { allByTestId, byTestId, flush, HOSTILE, status } from "./fixtures";

vi.mock("../src/api");
const mocked = vi.mocked(api);

let overlay: Overlay;
const U = 12;

beforeEach(() => {
  vi.resetAllMocks();
  document.body.replaceChildren();
  overlay = createOverlay();
  document.body.append(overlay.element);
});

const text = (id: string) => byTestId(id)?.textContent;
const voice = (...updates: VoiceUpdate[]) => updates.forEach((u) => overlay.voice(u));
const request = (...updates: RequestUpdate[]) => updates.forEach((u) => overlay.request(u));

describe("overlay", () => {
  it("follows a spoken request: level, partial, heard, steps, reply", () => {
    overlay.status(status({ state: "listening" }));
    voice({ kind: "started" }, { kind: "level", dbfs: -6 }, { kind: "partial", text: "set a" });
    expect(text("overlay-state")).toBe("Listening");
    expect(byTestId("overlay-level")?.hidden).toBe(false);
    expect(byTestId("overlay-level")?.getAttribute("aria-valuenow")).toBe("90");
    expect(text("overlay-text")).toBe("set a");
    expect(byTestId("overlay-text")?.classList.contains("partial")).toBe(true);

    voice({ kind: "heard", utterance: U, text: "set a timer for ten minutes", audio_ms: 1500, transcribe_ms: 90 });
    overlay.status(status({ state: "thinking" }));
    expect(byTestId("overlay-level")?.hidden).toBe(true);
    expect(text("overlay-text")).toBe("set a timer for ten minutes");
    expect(byTestId("overlay-text")?.classList.contains("partial")).toBe(false);

    request(
      { kind: "recorded", utterance: U, text: "set a timer for ten minutes" },
      { kind: "planned", utterance: U, step: { id: 1, tool: "timer_set", args: { minutes: 10 }, deps: [] } },
      { kind: "planned", utterance: U, step: { id: 2, tool: null, args: { text: "ok" }, deps: [1] } },
      { kind: "started", utterance: U, id: 1, tool: "timer_set", args: { minutes: 10 } },
    );
    expect(text("overlay-text")).toBe("set a timer for ten minutes");
    const steps = () => allByTestId("overlay-step").map((s) => [s.textContent, s.dataset.status]);
    expect(steps()).toEqual([
      ["…timer_setrunning", "running"],
      ["·replywaiting", "planned"],
    ]);
    // Compact: no arguments in the overlay.
    expect(byTestId("overlay-steps")?.textContent).not.toContain("minutes");

    request(
      { kind: "finished", utterance: U, id: 1, tool: "timer_set", ok: true, summary: "due 10:40", ms: 3, approval: null },
      { kind: "done", utterance: U, reply: "Timer set for 10 minutes.", ok: true, plan_ms: 300, fast_path: null },
    );
    overlay.status(status({ state: "idle", last_result: "Timer set for 10 minutes." }));
    expect(steps().map(([, s]) => s)).toEqual(["ok", "ok"]);
    expect(text("overlay-reply")).toBe("Timer set for 10 minutes.");
    expect(text("overlay-state")).toBe("Ready");
  });

  it("a typed request replaces the last one", () => {
    voice({ kind: "started" }, { kind: "heard", utterance: 1, text: "first", audio_ms: 1, transcribe_ms: 1 });
    request({ kind: "recorded", utterance: 1, text: "first" }, { kind: "done", utterance: 1, reply: "One.", ok: true, plan_ms: 1, fast_path: null });
    request({ kind: "recorded", utterance: 2, text: "second" });
    expect(text("overlay-text")).toBe("second");
    expect(text("overlay-reply")).toBe("");
  });

  it("shows a failed transcription and a failed request as errors, as text", () => {
    voice({ kind: "started" }, { kind: "failed", utterance: null, message: HOSTILE });
    expect(text("overlay-reply")).toBe(HOSTILE);
    expect(byTestId("overlay-reply")?.classList.contains("request-error")).toBe(true);
    voice({ kind: "started" });
    request({ kind: "failed", utterance: 3, error: "the planner crashed" });
    expect(text("overlay-reply")).toBe("the planner crashed");
    expect(document.querySelector("img")).toBeNull();
  });

  it("startOverlay listens to status, voice and request events, then reads the status", async () => {
    let emitStatus!: (s: StatusView) => void;
    let emitVoice!: (v: VoiceUpdate) => void;
    mocked.onStatus.mockImplementation(async (h) => ((emitStatus = h), () => {}));
    mocked.onVoice.mockImplementation(async (h) => ((emitVoice = h), () => {}));
    mocked.onRequest.mockImplementation(async () => () => {});
    mocked.status.mockResolvedValue(status({ state: "acting" }));
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    const stop = await startOverlay(root);
    await flush();
    expect(text("overlay-state")).toBe("Acting");
    emitStatus(status({ state: "listening" }));
    emitVoice({ kind: "partial", text: "hello" });
    expect(text("overlay-text")).toBe("hello");
    stop();
  });
});
