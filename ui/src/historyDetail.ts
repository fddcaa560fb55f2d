// One history entry in full: what was said, each plan, each call and its result.
import * as api from "./api";
import type { CallView } from "./bindings/CallView";
import type { HistoryDetail } from "./bindings/HistoryDetail";
import type { PlanView } from "./bindings/PlanView";
import { h, setChildren } from "./dom";
import { formatJson, formatMs, formatTime } from "./format";

export interface DetailActions {
  onDelete(): Promise<void>;
}

export function renderHistoryDetail(entry: HistoryDetail, actions: DetailActions): HTMLElement {
  const { row } = entry;
  const facts = [formatTime(row.created_at), row.input, row.status];
  if (entry.audio_ms !== null) facts.push(`${formatMs(entry.audio_ms)} of audio`);
  return h(
    "article",
    { className: "detail", attrs: { "data-id": String(row.id) } },
    h("h3", { className: "detail-transcript", testid: "detail-transcript", text: row.transcript ?? "(no transcript)" }),
    h("p", { className: "meta", text: facts.join(" · ") }),
    entry.audio_path ? h("audio", { className: "detail-audio", testid: "detail-audio", attrs: { controls: "", preload: "none", src: api.audioSrc(entry.audio_path) } }) : null,
    entry.error ? h("p", { className: "request-error", testid: "detail-error", text: entry.error }) : null,
    ...entry.plans.map((plan, index) => renderPlan(plan, index, entry.plans.length)),
    entry.plans.length === 0 ? h("p", { className: "empty", text: "No plan was made." }) : null,
    deleteControls(actions),
  );
}

function renderPlan(plan: PlanView, index: number, count: number): HTMLElement {
  const title = count > 1 ? `Plan ${index + 1} of ${count}` : "Plan";
  return h(
    "section",
    { className: "plan", testid: "detail-plan" },
    h("h4", {}, title, plan.duration_ms !== null ? h("span", { className: "meta", text: ` · ${formatMs(plan.duration_ms)}` }) : null),
    h("pre", { className: "plan-text", text: plan.text }),
    plan.calls.length > 0 ? h("ol", { className: "calls" }, ...plan.calls.map(renderCall)) : null,
  );
}

function renderCall(call: CallView): HTMLElement {
  const failed = call.error !== null;
  return h(
    "li",
    { className: failed ? "call call-failed" : "call", testid: "detail-call" },
    h(
      "div",
      { className: "call-head" },
      h("span", { className: "step-tool", text: call.tool }),
      h("span", { className: "badge", text: call.decision }),
      h("span", { className: "meta", text: formatMs(call.duration_ms) }),
    ),
    h("p", { className: "label", text: "Arguments" }),
    h("pre", { className: "call-args", text: formatJson(call.arguments) }),
    failed
      ? h("p", { className: "request-error", text: call.error ?? "" })
      : h("div", {}, h("p", { className: "label", text: "Result" }), h("pre", { className: "call-result", testid: "detail-result", text: formatJson(call.result) })),
  );
}

/** Delete, asked again inline (never window.confirm). */
function deleteControls(actions: DetailActions): HTMLElement {
  const area = h("div", { className: "delete-area" });
  const start = h("button", { className: "danger-quiet", testid: "history-delete", text: "Delete", attrs: { type: "button" } });
  const showStart = () => {
    setChildren(area, start);
  };
  start.addEventListener("click", () => {
    const keep = h("button", { className: "secondary", text: "Keep", attrs: { type: "button" }, onClick: () => (showStart(), start.focus()) });
    const confirm = h("button", {
      className: "danger",
      testid: "history-delete-confirm",
      text: "Delete",
      attrs: { type: "button" },
      onClick: () => {
        confirm.disabled = true;
        keep.disabled = true;
        void actions.onDelete();
      },
    });
    setChildren(area, h("span", { className: "delete-question", attrs: { role: "alert" }, text: "Delete this entry?" }), confirm, keep);
    keep.focus();
  });
  showStart();
  return area;
}
