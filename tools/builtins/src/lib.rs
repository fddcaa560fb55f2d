//! Sotto's built-in desktop tools, each a [`sotto_tools::TypedTool`] whose argument and
//! result schemas come from its Rust types.
//!
//! | tool | risk | capabilities |
//! |---|---|---|
//! | `date_time`, `calculator`, `convert_units` | read-only | none |
//! | `note_create`, `note_append` | changes local data | Sotto's `notes` folder |
//! | `note_read`, `note_list`, `note_search` | read-only | Sotto's `notes` folder (read) |
//! | `find_files` | read-only | folders the user granted (read) |
//! | `open_path` | reaches outside | granted folders (read), `xdg-open` |
//! | `open_url`, `web_search`, `compose_email` | reaches outside | `xdg-open` |
//! | `open_app` | reaches outside | XDG `applications` folders (read), installed apps |
//! | `timer_start`, `timer_cancel`, `reminder_set` | changes local data | Sotto's `timers` folder |
//! | `timer_list` | read-only | Sotto's `timers` folder (read) |
//! | `volume` | changes local data | audio, `pactl` |
//! | `contacts_import` | changes local data | granted folders (read), Sotto's `contacts` folder |
//! | `contact_lookup` | read-only | Sotto's `contacts` folder (read) |
//! | `calendar_add`, `calendar_export` | changes local data | Sotto's `calendar` (and `calendar-export`) folders |
//! | `calendar_list` | read-only | Sotto's `calendar` folder (read) |
//! | `lock_screen` | changes local data | `loginctl`, `xdg-screensaver` |
//! | `media_control` | changes local data | audio, `playerctl` |
//! | `clipboard_read` / `clipboard_write` | read-only / changes local data | clipboard, `xclip` or `wl-copy`/`wl-paste` |
//! | `summarize_document` | read-only | granted folders (read), `pdftotext`, the local language model |
//! | `type_text` | changes local data | `xdotool`, or `wtype`/`ydotool` on Wayland |
//!
//! Tools reach files and programs only through their [`sotto_tools::ToolContext`]; none of
//! them reads the process environment, opens a path by itself or starts a shell.
//!
//! ```
//! let mut registry = sotto_tools::Registry::new();
//! sotto_builtins::register_all(&mut registry).unwrap();
//! assert!(registry.get("calculator").is_some());
//! ```

mod apps;
mod audio;
mod calc;
mod calendar;
mod clipboard;
mod contacts;
mod datetime;
pub mod desktop;
mod documents;
mod files;
mod notes;
mod reminders;
mod session;
mod timers;
mod typing;
mod units;
mod web;

use std::sync::Arc;

use sotto_tools::{builtin, Registry, RegistryError, Tool};

pub use apps::OpenApp;
pub use audio::{parse_mute, parse_percent, Volume, VolumeAction};
pub use calc::{evaluate, format_number, Calculator};
pub use calendar::{parse_events, CalendarAdd, CalendarExport, CalendarList};
pub use clipboard::{clipboard_reader, clipboard_writer, ClipboardRead, ClipboardWrite};
pub use contacts::{parse_vcards, ContactLookup, ContactsImport};
pub use datetime::DateTime;
pub use documents::{DocumentSummary, SummarizeDocument};
pub use files::{FindFiles, OpenPath};
pub use notes::{NoteAppend, NoteCreate, NoteList, NoteRead, NoteSearch};
pub use reminders::{fire_due, ReminderSet, NOTIFIER};
pub use session::{LockScreen, MediaAction, MediaControl};
pub use timers::{Timer, TimerBook, TimerCancel, TimerKind, TimerList, TimerStart};
pub use typing::{TypeText, MAX_TYPED_CHARS};
pub use units::{convert, ConvertUnits, Unit};
pub use web::{mailto, ComposeEmail, OpenUrl, SearchEngine, WebSearch};

/// Every built-in tool.
pub fn all() -> Vec<Arc<dyn Tool>> {
    vec![
        builtin(DateTime),
        builtin(Calculator),
        builtin(ConvertUnits),
        builtin(NoteCreate),
        builtin(NoteAppend),
        builtin(NoteRead),
        builtin(NoteList),
        builtin(NoteSearch),
        builtin(FindFiles),
        builtin(OpenPath),
        builtin(OpenUrl),
        builtin(WebSearch),
        builtin(ComposeEmail),
        builtin(OpenApp),
        builtin(TimerStart),
        builtin(TimerList),
        builtin(TimerCancel),
        builtin(ReminderSet),
        builtin(Volume),
        builtin(ContactsImport),
        builtin(ContactLookup),
        builtin(CalendarAdd),
        builtin(CalendarList),
        builtin(CalendarExport),
        builtin(ClipboardRead),
        builtin(ClipboardWrite),
        builtin(LockScreen),
        builtin(MediaControl),
        builtin(SummarizeDocument),
        builtin(TypeText),
    ]
}

/// Registers every built-in tool.
pub fn register_all(registry: &mut Registry) -> Result<(), RegistryError> {
    all()
        .into_iter()
        .try_for_each(|tool| registry.register(tool))
}
