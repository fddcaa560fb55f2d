//! Global hotkeys: push-to-talk (hold) and toggle, from the user's preferences. Where the
//! desktop does not let an app grab keys (Wayland), the documented fallback is binding
//! `sotto-desktop toggle` in the compositor; it reaches the running instance.

use std::str::FromStr;
use std::sync::Arc;

use sotto_config::DesktopConfig;
use tauri::AppHandle;
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

use crate::voice::Voice;

/// Checks a key combination as typed in the settings ("Ctrl+Alt+Space"); empty is none.
pub fn parse(keys: &str) -> Result<Option<Shortcut>, String> {
    let keys = keys.trim();
    if keys.is_empty() {
        return Ok(None);
    }
    Shortcut::from_str(keys).map(Some).map_err(|e| {
        format!("{keys:?} is not a key combination ({e}); write it like Ctrl+Alt+Space")
    })
}

/// Why hotkeys cannot work on this desktop, if they cannot, and what to do instead.
pub fn environment_note() -> Option<String> {
    let wayland = std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland")
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    wayland.then(|| {
        "Wayland does not let apps grab keys everywhere. Bind a shortcut in your desktop's \
         keyboard settings to the command `sotto-desktop toggle` (start/stop listening)."
            .to_string()
    })
}

/// Registers the configured hotkeys (replacing earlier ones). Returns what could not be
/// registered, in words; the others work.
pub fn register(app: &AppHandle, desktop: &DesktopConfig, voice: &Arc<Voice>) -> Vec<String> {
    let shortcuts = app.global_shortcut();
    if let Err(e) = shortcuts.unregister_all() {
        tracing::warn!("cannot release the old hotkeys: {e}");
    }
    let mut problems = Vec::new();
    let mut bind = |keys: &str, what: &str, hold: bool| {
        let shortcut = match parse(keys) {
            Ok(Some(shortcut)) => shortcut,
            Ok(None) => return,
            Err(e) => {
                problems.push(e);
                return;
            }
        };
        let voice = Arc::clone(voice);
        let registered = shortcuts.on_shortcut(shortcut, move |_, _, event| {
            let result = match (hold, event.state) {
                (true, ShortcutState::Pressed) => voice.start(),
                (true, ShortcutState::Released) => voice.stop(),
                (false, ShortcutState::Pressed) => voice.toggle(),
                (false, ShortcutState::Released) => Ok(()),
            };
            if let Err(e) = result {
                tracing::warn!("hotkey: {e}");
            }
        });
        if let Err(e) = registered {
            problems.push(format!(
                "the {what} key {keys} cannot be used ({e}); another program may hold it"
            ));
        }
    };
    bind(&desktop.push_to_talk_key, "push-to-talk", true);
    bind(&desktop.toggle_key, "toggle", false);
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_combinations_parse_as_the_settings_write_them() {
        assert!(parse("Ctrl+Alt+Space").unwrap().is_some());
        assert!(parse("Super+Shift+L").unwrap().is_some());
        assert!(parse("  ").unwrap().is_none());
        let err = parse("Ctrl+Banana").unwrap_err();
        assert!(
            err.contains("Ctrl+Banana") && err.contains("Ctrl+Alt+Space"),
            "{err}"
        );
    }
}
