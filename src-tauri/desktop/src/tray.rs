//! The tray icon: its picture and tooltip follow the assistant's state, its menu holds the
//! last result and the quick actions. A desktop without a tray (no StatusNotifier host) still
//! gets the window; closing the window then quits instead of hiding.

use sotto_window_api::{AssistantState, StatusView};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

const TRAY_ID: &str = "sotto";
pub const MAIN_WINDOW: &str = "main";

/// The menu items that follow the state (updated in place).
pub struct TrayItems {
    last: MenuItem<Wry>,
    listen: MenuItem<Wry>,
    mute: CheckMenuItem<Wry>,
}

impl std::fmt::Debug for TrayItems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrayItems").finish_non_exhaustive()
    }
}

fn icon(state: AssistantState) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match state {
        AssistantState::Idle => include_bytes!("../icons/tray-idle.png"),
        AssistantState::Listening => include_bytes!("../icons/tray-listening.png"),
        AssistantState::Thinking => include_bytes!("../icons/tray-thinking.png"),
        AssistantState::Acting => include_bytes!("../icons/tray-acting.png"),
        AssistantState::NeedsConfirmation => include_bytes!("../icons/tray-needs-confirmation.png"),
        AssistantState::Error => include_bytes!("../icons/tray-error.png"),
    };
    Image::from_bytes(bytes).ok()
}

/// Builds the tray. An error means this desktop has none.
pub fn build(app: &tauri::App) -> tauri::Result<()> {
    let last = MenuItem::with_id(app, "last", "No requests yet", false, None::<&str>)?;
    let listen = MenuItem::with_id(app, "listen", "Start listening", true, None::<&str>)?;
    let mute = CheckMenuItem::with_id(
        app,
        "mute",
        "Mute the microphone",
        true,
        false,
        None::<&str>,
    )?;
    let open = MenuItem::with_id(app, "open", "Open Sotto", true, None::<&str>)?;
    let cancel = MenuItem::with_id(
        app,
        "cancel",
        "Cancel the current request",
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit Sotto", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &last,
            &PredefinedMenuItem::separator(app)?,
            &listen,
            &mute,
            &open,
            &cancel,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Sotto: ready")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => show_window(app),
            "listen" => {
                if let Some(voice) = app.try_state::<std::sync::Arc<crate::voice::Voice>>() {
                    if let Err(e) = voice.toggle() {
                        tracing::warn!("{e}");
                    }
                }
            }
            "mute" => {
                if let Some(voice) = app.try_state::<std::sync::Arc<crate::voice::Voice>>() {
                    voice.set_muted(!voice.muted());
                }
            }
            "cancel" => {
                if let Some(assistant) = app.try_state::<std::sync::Arc<crate::Assistant>>() {
                    assistant.cancel();
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_window(tray.app_handle());
            }
        });
    if let Some(icon) = icon(AssistantState::Idle) {
        builder = builder.icon(icon);
    }
    builder.build(app)?;
    app.manage(TrayItems { last, listen, mute });
    Ok(())
}

/// Shows the state in the tray (if there is one).
pub fn show_status(app: &AppHandle, status: &StatusView) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let _ = tray.set_icon(icon(status.state));
    let tooltip = match &status.detail {
        Some(detail) => format!("Sotto: {} ({detail})", status.state.describe()),
        None => format!("Sotto: {}", status.state.describe()),
    };
    let _ = tray.set_tooltip(Some(tooltip));
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    if let Some(last) = &status.last_result {
        let line: String = last.chars().take(60).collect();
        let _ = items.last.set_text(format!("Last: {line}"));
    }
    let _ = items
        .listen
        .set_text(if status.state == AssistantState::Listening {
            "Stop listening"
        } else {
            "Start listening"
        });
    let _ = items.listen.set_enabled(!status.muted);
    let _ = items.mute.set_checked(status.muted);
}

pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Shows the window if hidden, hides it if shown.
pub fn toggle_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        if window.is_visible().unwrap_or(false) {
            let _ = window.hide();
        } else {
            show_window(app);
        }
    }
}

/// Whether this desktop has the tray (so a closed window can hide instead of quitting).
pub fn present(app: &AppHandle) -> bool {
    app.try_state::<TrayItems>().is_some()
}
