// A microphone level meter. Loudness comes in dBFS (-100 silence .. 0 full scale); speech sits
// roughly between -50 and -10, so the bar spans -60..0 to use its whole width for what matters.
import { h } from "./dom";

export const FLOOR_DBFS = -60;

/** -60 dBFS (or less) -> 0, 0 dBFS (or more) -> 100; anything not a number -> 0. */
export function levelPercent(dbfs: number): number {
  if (!Number.isFinite(dbfs)) return 0;
  const clamped = Math.min(0, Math.max(FLOOR_DBFS, dbfs));
  return Math.round(((clamped - FLOOR_DBFS) / -FLOOR_DBFS) * 100);
}

export interface LevelMeter {
  element: HTMLElement;
  set(dbfs: number): void;
  reset(): void;
}

export function createLevelMeter(testid: string, label = "Microphone level"): LevelMeter {
  const bar = h("span", { className: "level-bar" });
  // role=meter is announced with its value; aria-live is left off on purpose: ten updates a
  // second would drown a screen reader.
  const element = h(
    "span",
    { className: "level-meter", testid, attrs: { role: "meter", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100" } },
    bar,
  );
  function show(percent: number): void {
    bar.style.width = `${percent}%`;
    element.setAttribute("aria-valuenow", String(percent));
    element.dataset.level = String(percent);
  }
  show(0);
  return {
    element,
    set: (dbfs) => show(levelPercent(dbfs)),
    reset: () => show(0),
  };
}
