//! Where the assistant's news goes: the window's events and the tray, behind one trait so
//! the assistant can be driven without a window (the tests record what it would show).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sotto_window_api::{
    events, ConfirmClosed, ConfirmPrompt, ModelProgress, RequestUpdate, StatusView, VoiceUpdate,
};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

/// Receives everything the window and the tray show. Calls must not block: they happen on
/// the assistant's tasks.
pub trait Ui: Send + Sync + 'static {
    fn status(&self, status: &StatusView);
    fn request(&self, update: &RequestUpdate);
    fn confirm(&self, prompt: &ConfirmPrompt);
    fn confirm_closed(&self, closed: &ConfirmClosed);
    fn voice(&self, update: &VoiceUpdate);
    fn model(&self, progress: &ModelProgress);
}

/// The overlay's window label (see `tauri.conf.json`).
pub const OVERLAY: &str = "overlay";
/// How long the overlay stays up after the result, so it can be read.
const OVERLAY_LINGER: Duration = Duration::from_secs(5);

/// The real thing: Tauri events to every window, the tray's icon and tooltip, the overlay
/// while a spoken request is heard and carried out, and notifications.
#[derive(Debug)]
pub struct TauriUi {
    pub handle: AppHandle,
    /// A notification with each result while the main window is hidden (a preference).
    pub notify_results: Arc<AtomicBool>,
    overlay: Arc<OverlayState>,
}

#[derive(Debug, Default)]
struct OverlayState {
    /// Counts showings, so a hide scheduled for an earlier one does not hide a newer one.
    generation: AtomicU64,
    /// The overlay is up for a spoken request (typed ones have the window).
    active: AtomicBool,
}

impl TauriUi {
    pub fn new(handle: AppHandle, notify_results: Arc<AtomicBool>) -> TauriUi {
        TauriUi {
            handle,
            notify_results,
            overlay: Default::default(),
        }
    }

    fn emit<T: serde::Serialize + Clone>(&self, event: &str, payload: &T) {
        if let Err(e) = self.handle.emit(event, payload.clone()) {
            tracing::warn!("cannot send {event} to the window: {e}");
        }
    }

    fn show_overlay(&self) {
        self.overlay.generation.fetch_add(1, Ordering::SeqCst);
        self.overlay.active.store(true, Ordering::SeqCst);
        if let Some(overlay) = self.handle.get_webview_window(OVERLAY) {
            place_overlay(&overlay);
            // Shown without taking the focus: the person may be typing elsewhere.
            let _ = overlay.show();
        }
    }

    /// Hides the overlay after it has been read, unless something newer showed it again.
    fn hide_overlay_later(&self) {
        if !self.overlay.active.swap(false, Ordering::SeqCst) {
            return;
        }
        let generation = self.overlay.generation.load(Ordering::SeqCst);
        let handle = self.handle.clone();
        let overlay = Arc::clone(&self.overlay);
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(OVERLAY_LINGER).await;
            if overlay.generation.load(Ordering::SeqCst) == generation {
                if let Some(overlay) = handle.get_webview_window(OVERLAY) {
                    let _ = overlay.hide();
                }
            }
        });
    }

    fn main_window_seen(&self) -> bool {
        self.handle
            .get_webview_window(crate::tray::MAIN_WINDOW)
            .is_some_and(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false))
    }

    fn notify(&self, title: &str, body: &str) {
        let shown = self
            .handle
            .notification()
            .builder()
            .title(title)
            .body(body)
            .show();
        if let Err(e) = shown {
            tracing::warn!("cannot show a notification: {e}");
        }
    }
}

/// Bottom centre of the screen the pointer is on (else the primary one), above the panel.
fn place_overlay(overlay: &tauri::WebviewWindow) {
    let monitor = overlay
        .cursor_position()
        .ok()
        .and_then(|p| overlay.monitor_from_point(p.x, p.y).ok().flatten())
        .or_else(|| overlay.primary_monitor().ok().flatten());
    let (Some(monitor), Ok(size)) = (monitor, overlay.outer_size()) else {
        return;
    };
    let area = monitor.work_area();
    let x = area.position.x + (area.size.width as i32 - size.width as i32) / 2;
    let y = area.position.y + area.size.height as i32 - size.height as i32 - 48;
    let _ = overlay.set_position(tauri::PhysicalPosition::new(x, y));
}

impl Ui for TauriUi {
    fn status(&self, status: &StatusView) {
        crate::tray::show_status(&self.handle, status);
        self.emit(events::STATUS, status);
    }

    fn request(&self, update: &RequestUpdate) {
        self.emit(events::REQUEST, update);
        match update {
            RequestUpdate::Done { reply, ok, .. } => {
                if self.notify_results.load(Ordering::Relaxed) && !self.main_window_seen() {
                    self.notify(if *ok { "Sotto" } else { "Sotto: not done" }, reply);
                }
                self.hide_overlay_later();
            }
            RequestUpdate::Failed { error, .. } => {
                if self.notify_results.load(Ordering::Relaxed) && !self.main_window_seen() {
                    self.notify("Sotto: something went wrong", error);
                }
                self.hide_overlay_later();
            }
            _ => {}
        }
    }

    fn confirm(&self, prompt: &ConfirmPrompt) {
        // A question must be seen: bring the window forward even if it was hidden.
        crate::tray::show_window(&self.handle);
        self.emit(events::CONFIRM, prompt);
    }

    fn confirm_closed(&self, closed: &ConfirmClosed) {
        self.emit(events::CONFIRM_CLOSED, closed);
    }

    fn voice(&self, update: &VoiceUpdate) {
        self.emit(events::VOICE, update);
        match update {
            VoiceUpdate::Started => self.show_overlay(),
            VoiceUpdate::Heard { text, .. } if text.trim().is_empty() => self.hide_overlay_later(),
            VoiceUpdate::Failed { .. } => self.hide_overlay_later(),
            _ => {}
        }
    }

    fn model(&self, progress: &ModelProgress) {
        self.emit(events::MODEL, progress);
    }
}
