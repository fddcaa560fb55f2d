import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConfirmReply } from "../src/bindings/ConfirmReply";
import { ARM_MS, createConfirmDialog, type ConfirmDialog } from "../src/confirm";
import { byTestId, key, prompt } from "./fixtures";

let answers: ConfirmReply[];
let dialog: ConfirmDialog;
let background: HTMLElement;
let input: HTMLInputElement;

beforeEach(() => {
  vi.useFakeTimers();
  document.body.replaceChildren();
  background = document.createElement("div");
  input = document.createElement("input");
  background.append(input);
  document.body.append(background);
  input.focus();
  answers = [];
  dialog = createConfirmDialog({
    answer: async (reply) => {
      answers.push(reply);
    },
    background,
  });
});

afterEach(() => {
  dialog.dispose();
  vi.useRealTimers();
});

const shown = () => byTestId("confirm-dialog");
const focused = () => (document.activeElement as HTMLElement | null)?.dataset.testid;

describe("confirmation dialog", () => {
  it("shows the tool, risk, reason and the exact arguments, with focus on Deny", () => {
    const args = '{\n  "to": "Ana",\n  "text": "hi   there"\n}';
    dialog.push(prompt("q1", { arguments: args }));
    expect(shown()).not.toBeNull();
    expect(byTestId("confirm-tool")?.textContent).toBe("message_send");
    expect(byTestId("confirm-arguments")?.tagName).toBe("PRE");
    expect(byTestId("confirm-arguments")?.textContent).toBe(args);
    expect(byTestId("confirm-risk")?.textContent).toBe("sends messages");
    expect(byTestId("confirm-reason")?.textContent).toBe("message_send always asks.");
    expect(shown()?.textContent).toContain("Sends a chat message.");
    expect(focused()).toBe("confirm-deny");
    expect(background.inert).toBe(true);
  });

  it.each([
    ["Escape", "deny"],
    ["n", "deny"],
    ["y", "allow-once"],
    ["a", "always-for-tool"],
  ])("key %s answers %s", (pressed, answer) => {
    dialog.push(prompt("q1", { can_always: true }));
    vi.advanceTimersByTime(ARM_MS);
    key(pressed);
    expect(answers).toEqual([{ id: "q1", answer }]);
    expect(shown()).toBeNull();
    expect(dialog.showing()).toBeNull();
    expect(background.inert).toBe(false);
    expect(document.activeElement).toBe(input);
  });

  it.each([
    ["confirm-allow-once", "allow-once"],
    ["confirm-always", "always-for-tool"],
    ["confirm-deny", "deny"],
  ])("button %s answers %s", (testid, answer) => {
    dialog.push(prompt("q1", { can_always: true }));
    byTestId(testid)?.click();
    expect(answers).toEqual([{ id: "q1", answer }]);
    expect(shown()).toBeNull();
  });

  it("ignores the allow keys right after it opens, but Deny works at once", () => {
    dialog.push(prompt("q1"));
    key("y");
    key("a");
    expect(answers).toEqual([]);
    expect(shown()).not.toBeNull();
    key("Escape");
    expect(answers).toEqual([{ id: "q1", answer: "deny" }]);
  });

  it("ignores keys with modifiers and held-down keys", () => {
    dialog.push(prompt("q1"));
    vi.advanceTimersByTime(ARM_MS);
    key("y", { ctrlKey: true });
    key("a", { metaKey: true });
    key("y", { repeat: true });
    expect(answers).toEqual([]);
    expect(shown()).not.toBeNull();
  });

  it("offers no Always where no setting can stop the question", () => {
    dialog.push(prompt("q1", { can_always: false }));
    expect(byTestId("confirm-always")).toBeNull();
    vi.advanceTimersByTime(ARM_MS);
    key("a");
    expect(answers).toEqual([]);
    expect(shown()).not.toBeNull();
    key("y");
    expect(answers).toEqual([{ id: "q1", answer: "allow-once" }]);
  });

  it("keeps Tab inside the dialog", () => {
    dialog.push(prompt("q1", { can_always: true }));
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      key("Tab");
      order.push(focused());
    }
    expect(order).toEqual(["confirm-always", "confirm-allow-once", "confirm-deny"]);
    key("Tab", { shiftKey: true });
    expect(focused()).toBe("confirm-allow-once");
  });

  it("counts down and closes without answering when time runs out", () => {
    dialog.push(prompt("q1", { timeout_secs: 3 }));
    expect(byTestId("confirm-countdown")?.textContent).toBe("Denied automatically in 3 s");
    vi.advanceTimersByTime(1000);
    expect(byTestId("confirm-countdown")?.textContent).toBe("Denied automatically in 2 s");
    vi.advanceTimersByTime(1900);
    expect(shown()).not.toBeNull();
    vi.advanceTimersByTime(200);
    expect(shown()).toBeNull();
    expect(answers).toEqual([]);
    expect(document.activeElement).toBe(input);
  });

  it("shows queued questions one at a time", () => {
    dialog.push(prompt("q1", { tool: "first" }));
    dialog.push(prompt("q2", { tool: "second" }));
    dialog.push(prompt("q3", { tool: "third" }));
    expect(document.querySelectorAll('[data-testid="confirm-dialog"]')).toHaveLength(1);
    expect(byTestId("confirm-tool")?.textContent).toBe("first");
    expect(byTestId("confirm-waiting")?.textContent).toBe("2 more waiting");
    key("n");
    expect(byTestId("confirm-tool")?.textContent).toBe("second");
    expect(focused()).toBe("confirm-deny");
    expect(byTestId("confirm-waiting")?.textContent).toBe("1 more waiting");
    vi.advanceTimersByTime(ARM_MS);
    key("y");
    expect(byTestId("confirm-tool")?.textContent).toBe("third");
    key("Escape");
    expect(shown()).toBeNull();
    expect(answers).toEqual([
      { id: "q1", answer: "deny" },
      { id: "q2", answer: "allow-once" },
      { id: "q3", answer: "deny" },
    ]);
    expect(document.activeElement).toBe(input);
  });

  it("closes on confirm-closed for the question shown, and drops a queued one", () => {
    dialog.push(prompt("q1", { tool: "first" }));
    dialog.push(prompt("q2", { tool: "second" }));
    dialog.push(prompt("q3", { tool: "third" }));
    dialog.closed({ id: "q2", answer: null });
    expect(byTestId("confirm-tool")?.textContent).toBe("first");
    expect(dialog.size()).toBe(2);
    dialog.closed({ id: "q1", answer: "allow-once" });
    expect(byTestId("confirm-tool")?.textContent).toBe("third");
    dialog.closed({ id: "unknown", answer: null });
    expect(dialog.showing()).toBe("q3");
    dialog.closed({ id: "q3", answer: null });
    expect(shown()).toBeNull();
    expect(answers).toEqual([]);
  });

  it("ignores a question it already has (pending list and event both deliver it)", () => {
    dialog.push(prompt("q1"));
    dialog.push(prompt("q1"));
    expect(dialog.size()).toBe(1);
    expect(document.querySelectorAll('[data-testid="confirm-dialog"]')).toHaveLength(1);
    key("Escape");
    expect(shown()).toBeNull();
  });

  it("skips a queued question whose time ran out while another was shown", () => {
    dialog.push(prompt("q1", { timeout_secs: 30 }));
    dialog.push(prompt("q2", { timeout_secs: 5 }));
    vi.advanceTimersByTime(6000);
    key("Escape");
    expect(shown()).toBeNull();
    expect(answers).toEqual([{ id: "q1", answer: "deny" }]);
  });

  it("reports an answer the backend refused", async () => {
    const errors: string[] = [];
    document.body.replaceChildren();
    const failing = createConfirmDialog({ answer: () => Promise.reject(new Error("closed already")), onError: (m) => errors.push(m) });
    failing.push(prompt("q9"));
    key("Escape");
    await vi.runAllTimersAsync();
    expect(errors).toEqual(["Could not send the answer: closed already"]);
    failing.dispose();
  });
});
