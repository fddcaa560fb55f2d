import { beforeEach, describe, expect, it } from "vitest";
import { attachHotkeyCapture, formatHotkey } from "../src/hotkey";

const press = (key: string, code: string, mods: KeyboardEventInit = {}) => new KeyboardEvent("keydown", { key, code, bubbles: true, cancelable: true, ...mods });

describe("formatHotkey", () => {
  it("writes modifiers in a fixed order, then the key", () => {
    expect(formatHotkey(press(" ", "Space", { ctrlKey: true, altKey: true }))).toBe("Ctrl+Alt+Space");
    expect(formatHotkey(press("K", "KeyK", { shiftKey: true, metaKey: true, ctrlKey: true }))).toBe("Ctrl+Shift+Super+K");
    expect(formatHotkey(press("F9", "F9"))).toBe("F9");
  });

  it("names keys by position, whatever the layout", () => {
    // "z" on a German layout sits where US keyboards have Y.
    expect(formatHotkey(press("z", "KeyY", { ctrlKey: true }))).toBe("Ctrl+Y");
    expect(formatHotkey(press("!", "Digit1", { shiftKey: true }))).toBe("Shift+1");
    expect(formatHotkey(press("`", "Backquote", { altKey: true }))).toBe("Alt+Backquote");
  });

  it("waits while only modifiers are held", () => {
    expect(formatHotkey(press("Control", "ControlLeft", { ctrlKey: true }))).toBeNull();
    expect(formatHotkey(press("Alt", "AltLeft", { ctrlKey: true, altKey: true }))).toBeNull();
  });

  it("falls back on the key when there is no code", () => {
    expect(formatHotkey(press(" ", "", { ctrlKey: true }))).toBe("Ctrl+Space");
    expect(formatHotkey(press("a", "", {}))).toBe("A");
  });
});

describe("attachHotkeyCapture", () => {
  let input: HTMLInputElement;
  let changes: number;

  beforeEach(() => {
    document.body.replaceChildren();
    input = document.createElement("input");
    document.body.append(input);
    changes = 0;
    attachHotkeyCapture(input, () => changes++);
  });

  it("records the combination instead of typing it", () => {
    const event = press("k", "KeyK", { ctrlKey: true, altKey: true });
    input.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(input.value).toBe("Ctrl+Alt+K");
    expect(changes).toBe(1);
  });

  it("Backspace or Delete clears; with a modifier they are a hotkey", () => {
    input.value = "Ctrl+Space";
    input.dispatchEvent(press("Backspace", "Backspace"));
    expect(input.value).toBe("");
    input.dispatchEvent(press("Delete", "Delete", { ctrlKey: true }));
    expect(input.value).toBe("Ctrl+Delete");
    input.dispatchEvent(press("Delete", "Delete"));
    expect(input.value).toBe("");
  });

  it("Tab still moves focus", () => {
    const tab = press("Tab", "Tab");
    input.dispatchEvent(tab);
    expect(tab.defaultPrevented).toBe(false);
    const back = press("Tab", "Tab", { shiftKey: true });
    input.dispatchEvent(back);
    expect(back.defaultPrevented).toBe(false);
    expect(input.value).toBe("");
  });

  it("a modifier alone changes nothing", () => {
    input.value = "F9";
    input.dispatchEvent(press("Shift", "ShiftLeft", { shiftKey: true }));
    expect(input.value).toBe("F9");
    expect(changes).toBe(0);
  });
});
