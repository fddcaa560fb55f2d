//! Sotto's desktop shell: the Tauri app. It stays thin: the pipeline is the `sotto` library
//! (the same one the command line uses); this crate turns its progress into the window's
//! events ([`ui`]), its questions into a dialog ([`confirm`]), and keeps the tray true
//! ([`tray`]). What the window and this crate say to each other is `sotto-window-api`.

pub mod assistant;
pub mod commands;
pub mod confirm;
pub mod tray;
pub mod ui;

use std::process::ExitCode;
use std::sync::Arc;

pub use assistant::Assistant;
use tauri::{Manager, WindowEvent};

/// What a second `sotto-desktop` (or `sotto toggle`) asks the running one to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Bring the window forward (the default).
    Show,
    /// Show the window if hidden, hide it if shown (bind this in a Wayland compositor).
    Toggle,
    Hide,
    Quit,
}

impl Action {
    /// The action named on a command line (`sotto-desktop toggle`); none named is Show.
    pub fn from_args(args: &[String]) -> Result<Action, String> {
        match args.get(1).map(String::as_str) {
            None | Some("show") => Ok(Action::Show),
            Some("toggle") => Ok(Action::Toggle),
            Some("hide") => Ok(Action::Hide),
            Some("quit") => Ok(Action::Quit),
            Some(other) => Err(format!(
                "unknown action {other:?}: sotto-desktop [show|toggle|hide|quit]"
            )),
        }
    }

    fn apply(self, app: &tauri::AppHandle) {
        match self {
            Action::Show => tray::show_window(app),
            Action::Toggle => tray::toggle_window(app),
            Action::Hide => {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.hide();
                }
            }
            Action::Quit => app.exit(0),
        }
    }
}

/// Runs the app until it quits.
pub fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let action = match Action::from_args(&args) {
        Ok(action) => action,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let app = match sotto::app::App::load(None) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(1);
        }
    };
    let built = tauri::Builder::default()
        // First, so a second instance forwards its action and exits before anything else.
        .plugin(tauri_plugin_single_instance::init(
            |app, argv, _cwd| match Action::from_args(&argv) {
                Ok(action) => action.apply(app),
                Err(e) => tracing::warn!("{e}"),
            },
        ))
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::submit,
            commands::cancel,
            commands::confirm_answer,
            commands::pending_confirmations,
            commands::history,
            commands::history_detail,
            commands::history_delete,
            commands::tools,
            commands::set_tool_setting,
        ])
        .setup(move |tauri_app| {
            let ui = Arc::new(ui::TauriUi {
                handle: tauri_app.handle().clone(),
            });
            let assistant = Assistant::new(app, ui);
            tauri_app.manage(Arc::clone(&assistant));
            if let Err(e) = tray::build(tauri_app) {
                tracing::warn!("no tray on this desktop ({e}); closing the window quits");
            }
            // Load the planner now: the first request should not wait for the model.
            tauri::async_runtime::spawn(async move {
                if let Err(e) = assistant.warm_up().await {
                    tracing::warn!("the planner did not start: {e:#}");
                }
            });
            if action != Action::Show {
                action.apply(tauri_app.handle());
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if tray::present(window.app_handle()) {
                    // Sotto lives in the tray: closing the window keeps it listening.
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!());
    match built {
        Ok(app) => {
            app.run(|_, _| {});
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: the desktop window could not start: {e}\n(is there a display? `sotto` works without one)"
            );
            ExitCode::from(1)
        }
    }
}
