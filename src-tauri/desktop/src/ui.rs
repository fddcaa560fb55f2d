//! Where the assistant's news goes: the window's events and the tray, behind one trait so
//! the assistant can be driven without a window (the tests record what it would show).

use sotto_window_api::{events, ConfirmClosed, ConfirmPrompt, RequestUpdate, StatusView};
use tauri::{AppHandle, Emitter};

/// Receives everything the window and the tray show. Calls must not block: they happen on
/// the assistant's tasks.
pub trait Ui: Send + Sync + 'static {
    fn status(&self, status: &StatusView);
    fn request(&self, update: &RequestUpdate);
    fn confirm(&self, prompt: &ConfirmPrompt);
    fn confirm_closed(&self, closed: &ConfirmClosed);
}

/// The real thing: Tauri events to every window, and the tray's icon and tooltip.
#[derive(Debug)]
pub struct TauriUi {
    pub handle: AppHandle,
}

impl TauriUi {
    fn emit<T: serde::Serialize + Clone>(&self, event: &str, payload: &T) {
        if let Err(e) = self.handle.emit(event, payload.clone()) {
            tracing::warn!("cannot send {event} to the window: {e}");
        }
    }
}

impl Ui for TauriUi {
    fn status(&self, status: &StatusView) {
        crate::tray::show_status(&self.handle, status);
        self.emit(events::STATUS, status);
    }

    fn request(&self, update: &RequestUpdate) {
        self.emit(events::REQUEST, update);
    }

    fn confirm(&self, prompt: &ConfirmPrompt) {
        // A question must be seen: bring the window forward even if it was hidden.
        crate::tray::show_window(&self.handle);
        self.emit(events::CONFIRM, prompt);
    }

    fn confirm_closed(&self, closed: &ConfirmClosed) {
        self.emit(events::CONFIRM_CLOSED, closed);
    }
}
