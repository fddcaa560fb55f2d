import { beforeEach, describe, expect, it } from "vitest";
import type { RequestUpdate } from "../src/bindings/RequestUpdate";
import { createLivePanel, type LivePanel } from "../src/live";
import { allByTestId, byTestId } from "./fixtures";

let panel: LivePanel;

beforeEach(() => {
  document.body.replaceChildren();
  panel = createLivePanel();
  document.body.append(panel.element);
});

const U = 7;
const planned = (id: number, tool: string | null, args: Record<string, unknown> = {}): RequestUpdate => ({
  kind: "planned",
  utterance: U,
  step: { id, tool, args, deps: [] },
});

function apply(...updates: RequestUpdate[]): void {
  updates.forEach((update) => panel.apply(update));
}

function steps(): { id: string | undefined; status: string | undefined; text: string }[] {
  return allByTestId("live-step").map((el) => ({ id: el.dataset.stepId, status: el.dataset.status, text: el.textContent ?? "" }));
}

describe("live panel", () => {
  it("recorded shows the transcript", () => {
    apply({ kind: "recorded", utterance: U, text: "set a timer for ten minutes" });
    expect(byTestId("live-transcript")?.textContent).toContain("set a timer for ten minutes");
    expect(panel.utterance()).toBe(U);
    expect(steps()).toEqual([]);
  });

  it("planned adds one step per plan step, with the tool and its arguments", () => {
    apply({ kind: "recorded", utterance: U, text: "x" }, planned(1, "timer_set", { minutes: 10 }), planned(2, null, { text: "ok" }));
    const rows = steps();
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ["1", "planned"],
      ["2", "planned"],
    ]);
    expect(rows[0].text).toContain("timer_set");
    expect(rows[0].text).toContain('{"minutes":10}');
    expect(rows[1].text).toContain("reply");
  });

  it("started, finished and skipped set each step's status", () => {
    apply(
      { kind: "recorded", utterance: U, text: "x" },
      planned(1, "a_tool"),
      planned(2, "b_tool"),
      planned(3, "c_tool"),
      { kind: "started", utterance: U, id: 1, tool: "a_tool", args: {} },
    );
    expect(steps()[0].status).toBe("running");
    expect(steps()[0].text).toContain("running");
    apply(
      { kind: "finished", utterance: U, id: 1, tool: "a_tool", ok: true, summary: "due at 10:40", ms: 12, approval: "policy:read-only" },
      { kind: "finished", utterance: U, id: 2, tool: "b_tool", ok: false, summary: "disk full", ms: 1500, approval: null },
      { kind: "skipped", utterance: U, id: 3, tool: "c_tool", reason: "you said no" },
    );
    const [a, b, c] = steps();
    expect(a.status).toBe("ok");
    expect(a.text).toContain("✓");
    expect(a.text).toContain("12 ms");
    expect(a.text).toContain("due at 10:40 · allowed by policy:read-only");
    expect(b.status).toBe("failed");
    expect(b.text).toContain("✗");
    expect(b.text).toContain("1.50 s");
    expect(b.text).toContain("disk full");
    expect(b.text).not.toContain("allowed by");
    expect(c.status).toBe("skipped");
    expect(c.text).toContain("you said no");
  });

  it("a started step that was never planned still shows", () => {
    apply({ kind: "recorded", utterance: U, text: "x" }, { kind: "started", utterance: U, id: 4, tool: "timer_set", args: { minutes: 1 } });
    expect(steps()).toEqual([expect.objectContaining({ id: "4", status: "running" })]);
    expect(steps()[0].text).toContain('{"minutes":1}');
  });

  it("replanning shows a note and the new plan's steps as new rows", () => {
    apply(
      { kind: "recorded", utterance: U, text: "x" },
      planned(1, "first_try"),
      { kind: "replanning", utterance: U, feedback: "first_try failed: no such folder" },
      planned(1, "second_try"),
      { kind: "started", utterance: U, id: 1, tool: "second_try", args: {} },
    );
    expect(byTestId("live-replanning")?.textContent).toBe("Replanning: first_try failed: no such folder");
    const rows = allByTestId("live-step");
    expect(rows).toHaveLength(2);
    expect(rows[0].classList.contains("superseded")).toBe(true);
    expect(rows[0].dataset.status).toBe("planned");
    expect(rows[1].textContent).toContain("second_try");
    expect(rows[1].dataset.status).toBe("running");
  });

  it("done shows the reply and marks the reply step done", () => {
    apply(
      { kind: "recorded", utterance: U, text: "x" },
      planned(1, "timer_set"),
      planned(2, null),
      { kind: "done", utterance: U, reply: "Timer set for 10 minutes.", ok: true, plan_ms: 420, fast_path: "timer" },
    );
    expect(byTestId("reply")?.textContent).toBe("Timer set for 10 minutes.");
    expect(byTestId("reply")?.classList.contains("reply-not-ok")).toBe(false);
    expect(panel.element.textContent).toContain("planned in 420 ms · answered by the timer template");
    expect(steps().map((s) => s.status)).toEqual(["planned", "ok"]);
    expect(byTestId("request-error")).toBeNull();
  });

  it("a reply that is not ok is marked", () => {
    apply({ kind: "recorded", utterance: U, text: "x" }, { kind: "done", utterance: U, reply: "I could not.", ok: false, plan_ms: 10, fast_path: null });
    expect(byTestId("reply")?.classList.contains("reply-not-ok")).toBe(true);
    expect(panel.element.textContent).not.toContain("template");
  });

  it("failed shows the error", () => {
    apply({ kind: "recorded", utterance: U, text: "x" }, { kind: "failed", utterance: U, error: "the model crashed" });
    expect(byTestId("request-error")?.textContent).toBe("the model crashed");
    expect(byTestId("reply")).toBeNull();
  });

  it("failed marks a step still running as stopped", () => {
    apply(
      { kind: "recorded", utterance: U, text: "x" },
      planned(1, "a"),
      planned(2, "b"),
      { kind: "started", utterance: U, id: 1, tool: "a", args: {} },
      { kind: "failed", utterance: U, error: "cancelled" },
    );
    expect(steps().map((s) => s.status)).toEqual(["skipped", "planned"]);
    expect(steps()[0].text).toContain("stopped");
  });

  it("failed without an utterance (nothing recorded) still shows", () => {
    panel.start("hello");
    apply({ kind: "failed", utterance: null, error: "no microphone" });
    expect(byTestId("request-error")?.textContent).toBe("no microphone");
    expect(byTestId("live-transcript")?.textContent).toContain("hello");
  });

  it("a new request clears the previous one", () => {
    apply({ kind: "recorded", utterance: U, text: "first" }, planned(1, "a"), { kind: "done", utterance: U, reply: "A", ok: true, plan_ms: 1, fast_path: null });
    apply({ kind: "recorded", utterance: U + 1, text: "second" });
    expect(steps()).toEqual([]);
    expect(byTestId("reply")).toBeNull();
    expect(byTestId("live-transcript")?.textContent).toContain("second");
  });

  it("an update for a request it missed the start of replaces the old one", () => {
    apply({ kind: "recorded", utterance: U, text: "first" }, planned(1, "a"));
    apply({ kind: "planned", utterance: U + 5, step: { id: 1, tool: "b", args: {}, deps: [] } });
    expect(steps().map((s) => s.text)).toEqual([expect.stringContaining("b")]);
    expect(panel.utterance()).toBe(U + 5);
  });

  it("start shows the typed text at once and clears the last request", () => {
    apply({ kind: "recorded", utterance: U, text: "first" }, { kind: "failed", utterance: U, error: "boom" });
    panel.start("set a timer");
    expect(byTestId("request-error")).toBeNull();
    expect(byTestId("live-transcript")?.textContent).toContain("set a timer");
  });
});
