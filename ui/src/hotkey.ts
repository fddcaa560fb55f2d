// Hotkey fields: focus one and press a combination; it is written as "Ctrl+Alt+Space", the form
// the backend's global-shortcut parser reads (modifiers Ctrl, Alt, Shift, Super, then one key).
// Keys are named by their physical position (KeyboardEvent.code), so a hotkey means the same
// key whatever the keyboard layout.

const MODIFIER_KEYS = new Set(["Control", "Alt", "Shift", "Meta", "OS", "Super", "Hyper", "AltGraph", "CapsLock", "Fn"]);

/** The key's name without the "Key"/"Digit" prefixes ("KeyA" -> "A", "Digit1" -> "1"). */
function keyName(event: KeyboardEvent): string | null {
  const code = event.code;
  if (code) {
    if (/^Key[A-Z]$/.test(code)) return code.slice(3);
    if (/^Digit[0-9]$/.test(code)) return code.slice(5);
    return code;
  }
  // No code (some synthetic events): fall back on the key itself.
  if (!event.key || event.key === "Unidentified") return null;
  if (event.key === " ") return "Space";
  return event.key.length === 1 ? event.key.toUpperCase() : event.key;
}

/** The combination a key press makes, or null while only modifiers are held. */
export function formatHotkey(event: KeyboardEvent): string | null {
  if (MODIFIER_KEYS.has(event.key)) return null;
  const key = keyName(event);
  if (!key) return null;
  const parts: string[] = [];
  if (event.ctrlKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey) parts.push("Shift");
  if (event.metaKey) parts.push("Super");
  parts.push(key);
  return parts.join("+");
}

/**
 * Makes `input` record combinations instead of text. Tab and Shift+Tab still move focus (so the
 * form stays usable from the keyboard); Backspace or Delete alone clears the field.
 */
export function attachHotkeyCapture(input: HTMLInputElement, onChange?: () => void): void {
  input.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && !event.ctrlKey && !event.altKey && !event.metaKey) return;
    event.preventDefault();
    const plain = !event.ctrlKey && !event.altKey && !event.shiftKey && !event.metaKey;
    let next: string | null;
    if (plain && (event.key === "Backspace" || event.key === "Delete")) next = "";
    else next = formatHotkey(event);
    if (next === null || next === input.value) return;
    input.value = next;
    onChange?.();
  });
}
