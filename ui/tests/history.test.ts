import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import type { HistoryRow } from "../src/bindings/HistoryRow";
import { createHistory, HISTORY_LIMIT, SEARCH_DEBOUNCE_MS, type HistoryView } from "../src/history";
import { allByTestId, byTestId, detail, flush, row } from "./fixtures";

vi.mock("../src/api");
const mocked = vi.mocked(api);

let view: HistoryView;
let rows: HistoryRow[];

beforeEach(() => {
  vi.useFakeTimers();
  vi.resetAllMocks();
  rows = [row(3, { transcript: "set a timer", input: "voice", calls: 2 }), row(2), row(1)];
  mocked.history.mockImplementation(async ({ search }) => rows.filter((r) => !search || (r.transcript ?? "").includes(search)));
  mocked.historyDetail.mockImplementation(async ({ id }) => detail(id));
  mocked.historyDelete.mockResolvedValue(undefined);
  mocked.audioSrc.mockImplementation((path) => `asset://localhost/${encodeURIComponent(path)}`);
  document.body.replaceChildren();
  view = createHistory();
  document.body.append(view.element);
});

afterEach(() => {
  vi.useRealTimers();
});

function type(text: string): void {
  const input = byTestId("history-search") as HTMLInputElement;
  input.value = text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

const ids = () => allByTestId("history-row").map((el) => el.dataset.id);

describe("history list", () => {
  it("lists rows newest first with transcript, input, status and calls", async () => {
    await view.refresh();
    expect(mocked.history).toHaveBeenCalledWith({ search: null, limit: HISTORY_LIMIT });
    expect(ids()).toEqual(["3", "2", "1"]);
    const first = allByTestId("history-row")[0];
    expect(first.textContent).toContain("set a timer");
    expect(first.textContent).toContain("voice");
    expect(first.textContent).toContain("done");
    expect(first.textContent).toContain("2 calls");
    expect(allByTestId("history-row")[1].textContent).toContain("1 call");
    expect(allByTestId("history-row")[1].textContent).not.toContain("1 calls");
  });

  it("debounces the search: one call, with the last text, after the pause", async () => {
    type("s");
    type("se");
    type("set");
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1);
    expect(mocked.history).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    await flush();
    expect(mocked.history).toHaveBeenCalledTimes(1);
    expect(mocked.history).toHaveBeenCalledWith({ search: "set", limit: HISTORY_LIMIT });
    expect(ids()).toEqual(["3"]);
  });

  it("an empty or blank search asks for everything", async () => {
    type("   ");
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    await flush();
    expect(mocked.history).toHaveBeenCalledWith({ search: null, limit: HISTORY_LIMIT });
  });

  it("ignores an older search that answers after a newer one", async () => {
    const resolvers: ((rows: HistoryRow[]) => void)[] = [];
    mocked.history.mockImplementation(() => new Promise((resolve) => resolvers.push(resolve)));
    const older = view.refresh();
    const newer = view.refresh();
    resolvers[1]([row(9)]);
    resolvers[0]([row(8)]);
    await Promise.all([older, newer]);
    expect(ids()).toEqual(["9"]);
  });

  it("says when nothing matches", async () => {
    type("zzz");
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    await flush();
    expect(ids()).toEqual([]);
    expect(view.element.textContent).toContain("Nothing matches.");
  });
});

describe("history detail", () => {
  it("selecting a row shows its plans and calls", async () => {
    await view.refresh();
    allByTestId("history-row")[1].click();
    await flush();
    expect(mocked.historyDetail).toHaveBeenCalledWith({ id: 2 });
    const pane = byTestId("history-detail")!;
    expect(allByTestId("history-row")[1].getAttribute("aria-pressed")).toBe("true");
    expect(allByTestId("history-row")[0].getAttribute("aria-pressed")).toBe("false");
    expect(byTestId("detail-transcript", pane)?.textContent).toBe("request 2");
    expect(pane.querySelector(".plan-text")?.textContent).toBe('1. timer_set {"minutes": 10}');
    expect(pane.textContent).toContain("420 ms");
    const calls = allByTestId("detail-call", pane);
    expect(calls).toHaveLength(2);
    expect(calls[0].textContent).toContain("timer_set");
    expect(calls[0].textContent).toContain("policy:allow");
    expect(calls[0].textContent).toContain("3 ms");
    expect(calls[0].querySelector(".call-args")?.textContent).toBe('{\n  "minutes": 10\n}');
    expect(calls[0].querySelector(".call-result")?.textContent).toBe('{\n  "due": "10:40"\n}');
    expect(calls[1].textContent).toContain("no such folder");
    expect(calls[1].textContent).toContain("1.20 s");
    expect(calls[1].querySelector(".call-result")).toBeNull();
    expect(byTestId("detail-audio", pane)).toBeNull();
  });

  it("plays the recording when there is one", async () => {
    mocked.historyDetail.mockResolvedValue(detail(3, { audio_path: "/home/u/.local/share/sotto/3.wav", audio_ms: 1800, error: "half done" }));
    await view.select(3);
    const audio = byTestId("detail-audio") as HTMLAudioElement;
    expect(audio.tagName).toBe("AUDIO");
    expect(audio.hasAttribute("controls")).toBe(true);
    expect(mocked.audioSrc).toHaveBeenCalledWith("/home/u/.local/share/sotto/3.wav");
    expect(audio.getAttribute("src")).toBe("asset://localhost/%2Fhome%2Fu%2F.local%2Fshare%2Fsotto%2F3.wav");
    expect(byTestId("history-detail")?.textContent).toContain("1.80 s of audio");
    expect(byTestId("detail-error")?.textContent).toBe("half done");
  });

  it("shows only the last selected entry when answers arrive out of order", async () => {
    const resolvers = new Map<number, () => void>();
    mocked.historyDetail.mockImplementation(({ id }) => new Promise((resolve) => resolvers.set(id, () => resolve(detail(id)))));
    const first = view.select(1);
    const second = view.select(2);
    resolvers.get(2)!();
    resolvers.get(1)!();
    await Promise.all([first, second]);
    expect(byTestId("detail-transcript")?.textContent).toBe("request 2");
  });

  it("delete asks inline, Keep backs out", async () => {
    await view.select(2);
    byTestId("history-delete")!.click();
    expect(byTestId("history-detail")?.textContent).toContain("Delete this entry?");
    expect(byTestId("history-delete-confirm")).not.toBeNull();
    const keep = Array.from(document.querySelectorAll("button")).find((b) => b.textContent === "Keep")!;
    expect(document.activeElement).toBe(keep);
    keep.click();
    expect(byTestId("history-delete-confirm")).toBeNull();
    expect(mocked.historyDelete).not.toHaveBeenCalled();
  });

  it("delete removes the entry and refreshes the list", async () => {
    await view.refresh();
    await view.select(2);
    byTestId("history-delete")!.click();
    rows = rows.filter((r) => r.id !== 2);
    byTestId("history-delete-confirm")!.click();
    await flush();
    await flush();
    expect(mocked.historyDelete).toHaveBeenCalledWith({ id: 2 });
    expect(ids()).toEqual(["3", "1"]);
    expect(byTestId("detail-transcript")).toBeNull();
    expect(byTestId("history-detail")?.textContent).toContain("Entry deleted.");
  });
});
