// Backend data (tool output above all) may hold hostile markup: it must show as text.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { createConfirmDialog } from "../src/confirm";
import { createHeader } from "../src/header";
import { createHistory } from "../src/history";
import { createLivePanel } from "../src/live";
import { createSettings } from "../src/settings";
import { createTools } from "../src/tools";
import { byTestId, detail, flush, HOSTILE, model, prompt, row, settingsView, status, tool } from "./fixtures";

vi.mock("../src/api");
const mocked = vi.mocked(api);

const alert = vi.fn();

beforeEach(() => {
  vi.resetAllMocks();
  document.body.replaceChildren();
  window.alert = alert;
});

afterEach(() => {
  // Nothing may have become markup anywhere on the page.
  expect(document.querySelectorAll("img")).toHaveLength(0);
  expect(alert).not.toHaveBeenCalled();
});

function expectShownAsText(element: Element | null | undefined): void {
  expect(element?.textContent).toContain(HOSTILE);
  expect(element?.querySelector("img")).toBeNull();
}

describe("hostile text is shown as text", () => {
  it("in the live panel", () => {
    const panel = createLivePanel();
    document.body.append(panel.element);
    const U = 1;
    panel.apply({ kind: "recorded", utterance: U, text: HOSTILE });
    panel.apply({ kind: "planned", utterance: U, step: { id: 1, tool: HOSTILE, args: { html: HOSTILE }, deps: [] } });
    panel.apply({ kind: "finished", utterance: U, id: 1, tool: HOSTILE, ok: true, summary: HOSTILE, ms: 1, approval: HOSTILE });
    panel.apply({ kind: "skipped", utterance: U, id: 2, tool: HOSTILE, reason: HOSTILE });
    panel.apply({ kind: "replanning", utterance: U, feedback: HOSTILE });
    panel.apply({ kind: "done", utterance: U, reply: HOSTILE, ok: true, plan_ms: 1, fast_path: HOSTILE });
    expectShownAsText(byTestId("live-transcript"));
    expectShownAsText(document.querySelector('[data-testid="live-step"] .step-tool'));
    expectShownAsText(document.querySelector('[data-testid="live-step"] .step-note'));
    expectShownAsText(byTestId("live-replanning"));
    expect(byTestId("reply")?.textContent).toBe(HOSTILE);
    panel.apply({ kind: "failed", utterance: U, error: HOSTILE });
    expect(byTestId("request-error")?.textContent).toBe(HOSTILE);
  });

  it("in the confirmation dialog", () => {
    const dialog = createConfirmDialog({ answer: async () => {} });
    dialog.push(prompt("q1", { tool: HOSTILE, description: HOSTILE, risk: HOSTILE, reason: HOSTILE, arguments: HOSTILE }));
    expect(byTestId("confirm-tool")?.textContent).toBe(HOSTILE);
    expect(byTestId("confirm-arguments")?.textContent).toBe(HOSTILE);
    expect(byTestId("confirm-risk")?.textContent).toBe(HOSTILE);
    expect(byTestId("confirm-reason")?.textContent).toBe(HOSTILE);
    expectShownAsText(byTestId("confirm-dialog"));
    dialog.dispose();
  });

  it("in the history list and detail", async () => {
    mocked.history.mockResolvedValue([row(1, { transcript: HOSTILE, input: HOSTILE, status: HOSTILE })]);
    const entry = detail(1, { error: HOSTILE });
    entry.row.transcript = HOSTILE;
    entry.plans[0].text = HOSTILE;
    entry.plans[0].calls[0] = { ...entry.plans[0].calls[0], tool: HOSTILE, decision: HOSTILE, result: HOSTILE, arguments: { x: HOSTILE } };
    entry.plans[0].calls[1] = { ...entry.plans[0].calls[1], error: HOSTILE };
    mocked.historyDetail.mockResolvedValue(entry);
    const view = createHistory();
    document.body.append(view.element);
    await view.refresh();
    expectShownAsText(byTestId("history-row"));
    await view.select(1);
    expect(byTestId("detail-transcript")?.textContent).toBe(HOSTILE);
    expect(byTestId("detail-error")?.textContent).toBe(HOSTILE);
    expect(byTestId("detail-result")?.textContent).toBe(HOSTILE);
    expect(document.querySelector(".plan-text")?.textContent).toBe(HOSTILE);
  });

  it("in the tools list", async () => {
    mocked.tools.mockResolvedValue([tool(HOSTILE, { description: HOSTILE, risk: HOSTILE, setting: HOSTILE, capabilities: [HOSTILE], plugin: HOSTILE })]);
    const view = createTools();
    document.body.append(view.element);
    await view.load();
    expectShownAsText(byTestId("tool-row"));
    expect(byTestId("tool-row")?.querySelector(".description")?.textContent).toBe(HOSTILE);
  });

  it("in the header", () => {
    const header = createHeader();
    document.body.append(header.element);
    header.setStatus(status({ state: "error", detail: HOSTILE, microphone: { kind: "unavailable", message: HOSTILE } }));
    expectShownAsText(byTestId("mic-state"));
    expectShownAsText(header.element);
  });

  it("in an error message from a failed command", async () => {
    mocked.tools.mockRejectedValue(new Error(HOSTILE));
    const view = createTools();
    document.body.append(view.element);
    await view.load();
    expectShownAsText(view.element);
  });

  it("in the Settings tab: devices, models, plugins and the save error", async () => {
    mocked.settings.mockResolvedValue(settingsView({ devices: [{ id: HOSTILE, name: HOSTILE, is_default: false }], hotkeys_note: HOSTILE, config_file: HOSTILE }));
    mocked.models.mockResolvedValue([model(HOSTILE, { description: HOSTILE })]);
    mocked.plugins.mockResolvedValue([{ id: "p", name: HOSTILE, version: HOSTILE, enabled: true, tools: [HOSTILE] }]);
    mocked.savePreferences.mockRejectedValue(HOSTILE);
    const tab = createSettings();
    document.body.append(tab.element);
    await tab.load();
    expectShownAsText(byTestId("pref-device"));
    expectShownAsText(byTestId("hotkeys-note"));
    expectShownAsText(byTestId("model-row"));
    expectShownAsText(byTestId("plugin-row"));
    (byTestId("settings-form") as HTMLFormElement).requestSubmit();
    await flush();
    expect(byTestId("settings-error")?.textContent).toBe(HOSTILE);
  });
});
