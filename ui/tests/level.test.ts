import { describe, expect, it } from "vitest";
import { createLevelMeter, levelPercent } from "../src/level";

describe("level meter", () => {
  it("maps -60..0 dBFS to 0..100 %, clamped", () => {
    expect(levelPercent(-60)).toBe(0);
    expect(levelPercent(-30)).toBe(50);
    expect(levelPercent(-15)).toBe(75);
    expect(levelPercent(0)).toBe(100);
    expect(levelPercent(-100)).toBe(0);
    expect(levelPercent(3)).toBe(100);
    expect(levelPercent(Number.NaN)).toBe(0);
    expect(levelPercent(Number.NEGATIVE_INFINITY)).toBe(0);
  });

  it("shows the level as the bar's width and as the meter's value", () => {
    const meter = createLevelMeter("m", "Level");
    expect(meter.element.getAttribute("role")).toBe("meter");
    expect(meter.element.getAttribute("aria-label")).toBe("Level");
    expect(meter.element.getAttribute("aria-valuenow")).toBe("0");
    meter.set(-21);
    expect(meter.element.getAttribute("aria-valuenow")).toBe("65");
    expect((meter.element.firstElementChild as HTMLElement).style.width).toBe("65%");
    meter.reset();
    expect(meter.element.dataset.level).toBe("0");
  });
});
