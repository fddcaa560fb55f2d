// The whole window with the backend mocked: commands sent, events shown.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { startApp, type App } from "../src/app";
import type { ConfirmClosed } from "../src/bindings/ConfirmClosed";
import type { ConfirmPrompt } from "../src/bindings/ConfirmPrompt";
import type { RequestUpdate } from "../src/bindings/RequestUpdate";
import type { StatusView } from "../src/bindings/StatusView";
import type { VoiceUpdate } from "../src/bindings/VoiceUpdate";
import { allByTestId, byTestId, flush, key, prompt, row, settingsView, status, tool } from "./fixtures";

vi.mock("../src/api");
const mocked = vi.mocked(api);

let emitStatus: (s: StatusView) => void;
let emitRequest: (u: RequestUpdate) => void;
let emitConfirm: (p: ConfirmPrompt) => void;
let emitClosed: (c: ConfirmClosed) => void;
let emitVoice: (v: VoiceUpdate) => void; // set by the onVoice mock
let app: App;
let root: HTMLElement;

const idle: StatusView = status();

beforeEach(async () => {
  vi.resetAllMocks();
  document.body.replaceChildren();
  root = document.createElement("div");
  document.body.append(root);
  mocked.onStatus.mockImplementation(async (h) => ((emitStatus = h), () => {}));
  mocked.onRequest.mockImplementation(async (h) => ((emitRequest = h), () => {}));
  mocked.onConfirm.mockImplementation(async (h) => ((emitConfirm = h), () => {}));
  mocked.onConfirmClosed.mockImplementation(async (h) => ((emitClosed = h), () => {}));
  mocked.status.mockResolvedValue(idle);
  mocked.pendingConfirmations.mockResolvedValue([]);
  mocked.history.mockResolvedValue([row(1)]);
  mocked.tools.mockResolvedValue([tool("timer_set"), tool("message_send", { risk: "sends", setting: "always-ask", set_by_user: true, plugin: "chat", always_asks: "sends messages or posts on your behalf" })]);
  mocked.submit.mockResolvedValue(undefined);
  mocked.prepare.mockResolvedValue(undefined);
  mocked.cancel.mockResolvedValue(undefined);
  mocked.confirmAnswer.mockResolvedValue(undefined);
  mocked.onVoice.mockImplementation(async (h) => ((emitVoice = h), () => {}));
  mocked.onModel.mockImplementation(async () => () => {});
  mocked.onboarding.mockResolvedValue({ done: true, models: [], push_to_talk_key: "Ctrl+Space", hotkeys_note: null });
  mocked.listenStart.mockResolvedValue(undefined);
  mocked.listenStop.mockResolvedValue(undefined);
  mocked.setMuted.mockResolvedValue(undefined);
});

afterEach(() => {
  app?.confirm.dispose();
  app?.stop();
});

async function start(): Promise<void> {
  app = await startApp(root);
  await flush();
}

function submit(text: string): void {
  const input = byTestId("command-input") as HTMLInputElement;
  input.value = text;
  input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  // jsdom does not turn Enter into a submit; the form's submit event is what the browser sends.
  input.form!.requestSubmit();
}

const busy = () => ({
  run: (byTestId("command-submit") as HTMLButtonElement).disabled,
  cancel: !byTestId("command-cancel")!.hidden,
});

describe("the window", () => {
  it("shows the state in words", async () => {
    await start();
    expect(byTestId("state")?.textContent).toBe("Ready");
    const words: [StatusView["state"], string][] = [
      ["listening", "Listening"],
      ["thinking", "Thinking"],
      ["acting", "Acting"],
      ["needs-confirmation", "Needs your OK"],
      ["error", "Error"],
      ["idle", "Ready"],
    ];
    for (const [state, word] of words) {
      emitStatus(status({ state, detail: `detail ${state}` }));
      expect(byTestId("state")?.textContent).toBe(word);
      expect(byTestId("state-detail")?.textContent).toBe(`detail ${state}`);
    }
  });

  it("submits the typed text and is busy until the request is done", async () => {
    await start();
    expect(busy()).toEqual({ run: false, cancel: false });
    submit("  set a timer for ten minutes ");
    expect(mocked.submit).toHaveBeenCalledWith({ text: "set a timer for ten minutes" });
    expect((byTestId("command-input") as HTMLInputElement).value).toBe("");
    expect(busy()).toEqual({ run: true, cancel: true });
    expect(byTestId("live-transcript")?.textContent).toContain("set a timer for ten minutes");
    submit("again");
    expect(mocked.submit).toHaveBeenCalledTimes(1);
    emitRequest({ kind: "recorded", utterance: 5, text: "set a timer for ten minutes" });
    emitRequest({ kind: "done", utterance: 5, reply: "Timer set.", ok: true, plan_ms: 3, fast_path: null });
    expect(busy()).toEqual({ run: false, cancel: false });
    expect(byTestId("reply")?.textContent).toBe("Timer set.");
  });

  it("lets the planner get ready when typing pauses, never for one word or a submitted text", async () => {
    vi.useFakeTimers();
    try {
      await start();
      const input = byTestId("command-input") as HTMLInputElement;
      const type = (text: string) => {
        input.value = text;
        input.dispatchEvent(new Event("input"));
      };
      type("set");
      vi.advanceTimersByTime(1000);
      expect(mocked.prepare).not.toHaveBeenCalled();
      type("set a");
      vi.advanceTimersByTime(100);
      type("set a timer for");
      vi.advanceTimersByTime(1000);
      expect(mocked.prepare).toHaveBeenCalledTimes(1);
      expect(mocked.prepare).toHaveBeenCalledWith({ text: "set a timer for" });
      type("set a timer for ten minutes");
      submit("set a timer for ten minutes");
      vi.advanceTimersByTime(1000);
      expect(mocked.prepare).toHaveBeenCalledTimes(1);
      type("not while busy");
      vi.advanceTimersByTime(1000);
      expect(mocked.prepare).toHaveBeenCalledTimes(1);
      emitRequest({ kind: "done", utterance: 5, reply: "Timer set.", ok: true, plan_ms: 3, fast_path: null });
      mocked.prepare.mockRejectedValue("no planner");
      type("and then another");
      vi.advanceTimersByTime(1000);
      expect(mocked.prepare).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("ignores an empty command", async () => {
    await start();
    submit("   ");
    expect(mocked.submit).not.toHaveBeenCalled();
  });

  it("shows why a submit failed and gives the text back", async () => {
    mocked.submit.mockRejectedValue("the planner is not installed");
    await start();
    submit("hello");
    await flush();
    expect(byTestId("request-error")?.textContent).toBe("Could not start: the planner is not installed");
    expect((byTestId("command-input") as HTMLInputElement).value).toBe("hello");
    expect(busy().run).toBe(false);
  });

  it("Cancel stops the request", async () => {
    await start();
    submit("long job");
    byTestId("command-cancel")!.click();
    await flush();
    expect(mocked.cancel).toHaveBeenCalledTimes(1);
    expect(busy()).toEqual({ run: false, cancel: false });
  });

  it("is busy while the backend works on a voice request", async () => {
    await start();
    emitStatus(status({ state: "listening" }));
    expect(busy().run).toBe(true);
    emitStatus(idle);
    expect(busy().run).toBe(false);
  });

  it("refreshes the history when a request is recorded and when it is done", async () => {
    await start();
    const before = mocked.history.mock.calls.length;
    emitRequest({ kind: "recorded", utterance: 2, text: "x" });
    expect(mocked.history.mock.calls.length).toBe(before + 1);
    emitRequest({ kind: "planned", utterance: 2, step: { id: 1, tool: "t", args: {}, deps: [] } });
    expect(mocked.history.mock.calls.length).toBe(before + 1);
    emitRequest({ kind: "done", utterance: 2, reply: "ok", ok: true, plan_ms: 1, fast_path: null });
    expect(mocked.history.mock.calls.length).toBe(before + 2);
    await flush();
    expect(allByTestId("history-row").map((el) => el.dataset.id)).toEqual(["1"]);
  });

  it("asks the questions already open when it loads", async () => {
    mocked.pendingConfirmations.mockResolvedValue([prompt("old-1")]);
    await start();
    expect(byTestId("confirm-dialog")?.dataset.id).toBe("old-1");
    expect(root.inert).toBe(true);
  });

  it("opens the dialog on sotto:confirm, sends the answer, closes on sotto:confirm-closed", async () => {
    await start();
    emitConfirm(prompt("q1"));
    expect(byTestId("confirm-dialog")).not.toBeNull();
    byTestId("confirm-deny")!.click();
    expect(mocked.confirmAnswer).toHaveBeenCalledWith({ reply: { id: "q1", answer: "deny" } });
    expect(byTestId("confirm-dialog")).toBeNull();
    emitConfirm(prompt("q2"));
    emitClosed({ id: "q2", answer: null });
    expect(byTestId("confirm-dialog")).toBeNull();
    expect(mocked.confirmAnswer).toHaveBeenCalledTimes(1);
    expect(root.inert).toBe(false);
  });

  it("lists the tools on the Tools tab", async () => {
    await start();
    expect(mocked.tools).not.toHaveBeenCalled();
    byTestId("tab-tools")!.click();
    await flush();
    const rows = allByTestId("tool-row");
    expect(rows).toHaveLength(2);
    expect(rows[1].textContent).toContain("message_send");
    expect(rows[1].textContent).toContain("sends");
    expect(rows[1].textContent).toContain("always-ask");
    expect(rows[1].textContent).toContain("your setting");
    expect(rows[1].textContent).toContain("plugin chat");
    expect(rows[0].textContent).toContain("built in");
    expect(rows[0].textContent).toContain("may read the clock");
    expect(byTestId("tools-list")!.closest("[role=tabpanel]")!.hasAttribute("hidden")).toBe(false);
    expect(byTestId("history-list")!.closest("[role=tabpanel]")!.hasAttribute("hidden")).toBe(true);
  });

  it("changes a tool's setting from the Tools tab, and back to the default", async () => {
    mocked.setToolSetting.mockResolvedValue(undefined);
    await start();
    byTestId("tab-tools")!.click();
    await flush();
    const selects = allByTestId("tool-setting") as HTMLSelectElement[];
    expect(selects[0].value).toBe(""); // timer_set: the default
    expect(selects[1].value).toBe("always-ask"); // message_send: the user's
    expect(allByTestId("tool-row")[1].textContent).toContain("Asks every time");
    expect(allByTestId("tool-row")[0].textContent).not.toContain("Asks every time");
    selects[0].value = "never";
    selects[0].dispatchEvent(new Event("change"));
    await flush();
    expect(mocked.setToolSetting).toHaveBeenCalledWith("timer_set", "never");
    expect(mocked.tools).toHaveBeenCalledTimes(2); // reloaded after the change
    const again = allByTestId("tool-setting") as HTMLSelectElement[];
    again[1].value = "";
    again[1].dispatchEvent(new Event("change"));
    await flush();
    expect(mocked.setToolSetting).toHaveBeenLastCalledWith("message_send", null);
  });

  it("says so when the backend cannot be reached", async () => {
    mocked.status.mockRejectedValue(new Error("no backend"));
    await start();
    expect(byTestId("notice")?.textContent).toBe("Could not reach Sotto: no backend");
    expect(byTestId("notice")?.hidden).toBe(false);
  });

  it("shows the microphone in the header: its name, Muted, or why it cannot be used", async () => {
    await start();
    expect(byTestId("mic-state")?.textContent).toBe("USB Mic");
    emitStatus(status({ muted: true, microphone: { kind: "muted" } }));
    expect(byTestId("mic-state")?.textContent).toBe("Muted");
    emitStatus(status({ microphone: { kind: "unavailable", message: "no input device: plug in a microphone" } }));
    expect(byTestId("mic-state")?.textContent).toBe("no input device: plug in a microphone");
    expect((byTestId("mic-button") as HTMLButtonElement).disabled).toBe(true);
  });
});

function pointer(type: string, target: HTMLElement): void {
  const init = { bubbles: true, cancelable: true, button: 0, pointerId: 1 };
  const event = typeof PointerEvent === "function" ? new PointerEvent(type, init) : new MouseEvent(type, init);
  target.dispatchEvent(event);
}

describe("the microphone", () => {
  it("hold the button: pointerdown starts listening, pointerup stops", async () => {
    await start();
    const button = byTestId("mic-button")!;
    pointer("pointerdown", button);
    expect(mocked.listenStart).toHaveBeenCalledTimes(1);
    expect(button.getAttribute("aria-pressed")).toBe("true");
    pointer("pointerup", button);
    expect(mocked.listenStop).toHaveBeenCalledTimes(1);
    expect(button.getAttribute("aria-pressed")).toBe("false");
    pointer("pointerup", button); // a second release stops nothing
    expect(mocked.listenStop).toHaveBeenCalledTimes(1);
  });

  it("Space or Enter on the focused button toggles listening", async () => {
    await start();
    const button = byTestId("mic-button")!;
    button.focus();
    key(" ");
    expect(mocked.listenStart).toHaveBeenCalledTimes(1);
    key(" ", { repeat: true }); // a held key repeats: not a second press
    expect(mocked.listenStop).not.toHaveBeenCalled();
    key("Enter");
    expect(mocked.listenStop).toHaveBeenCalledTimes(1);
  });

  it("a failed start says why and leaves the button up", async () => {
    mocked.listenStart.mockRejectedValue("the speech model is still loading");
    await start();
    pointer("pointerdown", byTestId("mic-button")!);
    await flush();
    expect(byTestId("notice")?.textContent).toBe("Could not start listening: the speech model is still loading");
    expect(byTestId("mic-button")!.getAttribute("aria-pressed")).toBe("false");
  });

  it("the mute toggle follows the status and sends set_muted", async () => {
    await start();
    const mute = byTestId("mute-toggle") as HTMLButtonElement;
    expect(mute.getAttribute("aria-pressed")).toBe("false");
    mute.click();
    await flush();
    expect(mocked.setMuted).toHaveBeenCalledWith({ muted: true });
    expect(mute.getAttribute("aria-pressed")).toBe("true");
    expect(mute.textContent).toBe("Unmute");
    expect((byTestId("mic-button") as HTMLButtonElement).disabled).toBe(true);
    emitStatus(status({ muted: false }));
    expect(mute.getAttribute("aria-pressed")).toBe("false");
    mute.click();
    await flush();
    expect(mocked.setMuted).toHaveBeenLastCalledWith({ muted: true });
  });

  it("while listening shows the level and the partial text, then what was heard", async () => {
    await start();
    emitStatus(status({ state: "listening" }));
    emitVoice({ kind: "started" });
    const meter = byTestId("level-meter")!;
    expect(byTestId("listening")!.hidden).toBe(false);
    emitVoice({ kind: "level", dbfs: -30 });
    expect(meter.getAttribute("aria-valuenow")).toBe("50");
    emitVoice({ kind: "partial", text: "set a timer" });
    expect(byTestId("partial")?.textContent).toBe("set a timer");
    expect(byTestId("partial")?.getAttribute("aria-live")).toBe("polite");
    emitVoice({ kind: "heard", utterance: 9, text: "set a timer for ten minutes", audio_ms: 1800, transcribe_ms: 120 });
    expect(byTestId("listening")!.hidden).toBe(true);
    expect(byTestId("live-transcript")?.textContent).toContain("set a timer for ten minutes");
    emitRequest({ kind: "recorded", utterance: 9, text: "set a timer for ten minutes" });
    emitRequest({ kind: "planned", utterance: 9, step: { id: 1, tool: "timer_set", args: { minutes: 10 }, deps: [] } });
    expect(allByTestId("live-step")).toHaveLength(1);
  });

  it("a failed transcription shows its message", async () => {
    await start();
    emitVoice({ kind: "started" });
    emitVoice({ kind: "failed", utterance: 3, message: "the speech model crashed" });
    expect(byTestId("request-error")?.textContent).toBe("the speech model crashed");
    expect(byTestId("listening")!.hidden).toBe(true);
  });

  it("level events of a microphone test do not open the listening part", async () => {
    await start();
    emitVoice({ kind: "level", dbfs: -10 });
    expect(byTestId("listening")!.hidden).toBe(true);
  });
});

describe("first run", () => {
  it("shows the onboarding over the window until it is finished", async () => {
    mocked.onboarding.mockResolvedValue({ done: false, models: [], push_to_talk_key: "Ctrl+Space", hotkeys_note: null });
    mocked.settings.mockResolvedValue(settingsView());
    mocked.onboardingDone.mockResolvedValue(undefined);
    mocked.micTest.mockResolvedValue(undefined);
    await start();
    expect(byTestId("onboarding")).not.toBeNull();
    expect((root.querySelector("main") as HTMLElement).inert).toBe(true);
    byTestId("onboarding-skip")!.click();
    await flush();
    expect(mocked.onboardingDone).toHaveBeenCalledTimes(1);
    expect(byTestId("onboarding")).toBeNull();
    expect((root.querySelector("main") as HTMLElement).inert).toBe(false);
    expect(document.activeElement).toBe(byTestId("command-input"));
  });

  it("does not show it once done", async () => {
    await start();
    expect(byTestId("onboarding")).toBeNull();
  });
});
