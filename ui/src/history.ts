// The History tab: a searchable list of past requests and the detail of the one selected.
import * as api from "./api";
import type { HistoryRow } from "./bindings/HistoryRow";
import { h, setChildren } from "./dom";
import { renderHistoryDetail } from "./historyDetail";
import { errorText, formatTime } from "./format";

export const SEARCH_DEBOUNCE_MS = 300;
export const HISTORY_LIMIT = 100;

export interface HistoryView {
  element: HTMLElement;
  /** Reloads the list with the current search (keeps the selection). */
  refresh(): Promise<void>;
  select(id: number): Promise<void>;
}

export function createHistory(): HistoryView {
  const search = h("input", {
    className: "history-search",
    testid: "history-search",
    attrs: { type: "search", placeholder: "Search history", "aria-label": "Search history", autocomplete: "off" },
  });
  const list = h("ul", { className: "history-list", testid: "history-list", attrs: { "aria-label": "Past requests" } });
  const listMessage = h("p", { className: "empty" });
  const detail = h("div", { className: "history-detail", testid: "history-detail", attrs: { "aria-live": "polite" } });
  detail.append(h("p", { className: "empty", text: "Select a request to see what Sotto did." }));
  const element = h(
    "div",
    { className: "history" },
    h("div", { className: "history-side" }, search, listMessage, list),
    detail,
  );

  let selected: number | null = null;
  let listSeq = 0;
  let detailSeq = 0;
  let debounce: ReturnType<typeof setTimeout> | null = null;

  search.addEventListener("input", () => {
    if (debounce !== null) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = null;
      void refresh();
    }, SEARCH_DEBOUNCE_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      list.querySelector<HTMLButtonElement>("button")?.focus();
    }
  });
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const buttons = Array.from(list.querySelectorAll<HTMLButtonElement>("button"));
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    event.preventDefault();
    const next = event.key === "ArrowDown" ? Math.min(buttons.length - 1, index + 1) : index - 1;
    if (next < 0) search.focus();
    else buttons[next].focus();
  });

  function rowElement(row: HistoryRow): HTMLLIElement {
    const transcript = row.transcript ?? "(no transcript)";
    const calls = `${row.calls} call${row.calls === 1 ? "" : "s"}`;
    const button = h(
      "button",
      {
        className: "history-row",
        testid: "history-row",
        attrs: { type: "button", "data-id": String(row.id), "aria-pressed": String(row.id === selected) },
        onClick: () => void select(row.id),
      },
      h("span", { className: "row-transcript", text: transcript }),
      h(
        "span",
        { className: "row-meta" },
        h("time", { attrs: { datetime: row.created_at }, text: formatTime(row.created_at) }),
        h("span", { className: `badge input-${row.input}`, text: row.input }),
        h("span", { className: `badge status-${row.status}`, text: row.status }),
        h("span", { className: "row-calls", text: calls }),
      ),
    );
    return h("li", {}, button);
  }

  async function refresh(): Promise<void> {
    const seq = ++listSeq;
    const query = search.value.trim();
    try {
      const rows = await api.history({ search: query === "" ? null : query, limit: HISTORY_LIMIT });
      if (seq !== listSeq) return; // a newer search answered first
      setChildren(list, ...rows.map(rowElement));
      listMessage.textContent = rows.length === 0 ? (query ? "Nothing matches." : "No requests yet.") : "";
    } catch (error) {
      if (seq !== listSeq) return;
      listMessage.textContent = `Could not load history: ${errorText(error)}`;
    }
  }

  function markSelected(): void {
    for (const button of list.querySelectorAll<HTMLButtonElement>("button[data-id]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.id) === selected));
    }
  }

  async function select(id: number): Promise<void> {
    selected = id;
    markSelected();
    const seq = ++detailSeq;
    try {
      const entry = await api.historyDetail({ id });
      if (seq !== detailSeq) return;
      setChildren(detail, renderHistoryDetail(entry, { onDelete: () => remove(id) }));
    } catch (error) {
      if (seq !== detailSeq) return;
      setChildren(detail, h("p", { className: "request-error", text: `Could not load this entry: ${errorText(error)}` }));
    }
  }

  async function remove(id: number): Promise<void> {
    try {
      await api.historyDelete({ id });
    } catch (error) {
      setChildren(detail, h("p", { className: "request-error", text: `Could not delete: ${errorText(error)}` }));
      return;
    }
    if (selected === id) {
      selected = null;
      detailSeq++;
      setChildren(detail, h("p", { className: "empty", text: "Entry deleted." }));
    }
    await refresh();
    search.focus();
  }

  return { element, refresh, select };
}
