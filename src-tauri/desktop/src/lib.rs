//! Sotto's desktop shell: the Tauri app. It stays thin: the pipeline is the `sotto` library
//! (the same one the command line uses); this crate turns its progress into the window's
//! events ([`ui`]), its questions into a dialog ([`confirm`]), the microphone and hotkeys
//! into requests ([`voice`], [`hotkeys`]), preferences into `config.toml` ([`settings`]),
//! and keeps the tray true ([`tray`]). What the window and this crate say to each other is
//! `sotto-window-api`.

pub mod assistant;
pub mod commands;
pub mod confirm;
pub mod hotkeys;
pub mod settings;
pub mod tray;
pub mod ui;
pub mod voice;

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use assistant::Assistant;
use settings::SettingsService;
use tauri::{Manager, WindowEvent};
use tauri_plugin_autostart::ManagerExt;
use voice::Voice;

/// What autostart passes, so Sotto starts in the tray instead of opening its window.
const IN_TRAY: &str = "--in-tray";

/// What a second `sotto-desktop` (or `sotto toggle`) asks the running one to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Bring the window forward (the default).
    Show,
    /// Start listening, or stop and send what was said (bind this in a Wayland compositor).
    Toggle,
    /// Start recording an utterance; `listen-stop` ends it.
    ListenStart,
    ListenStop,
    /// Show the window if hidden, hide it if shown.
    ToggleWindow,
    Hide,
    /// Start without opening the window (login autostart).
    InTray,
    Quit,
}

impl Action {
    /// The action named on a command line (`sotto-desktop toggle`); none named is Show.
    pub fn from_args(args: &[String]) -> Result<Action, String> {
        match args.get(1).map(String::as_str) {
            None | Some("show") => Ok(Action::Show),
            Some("toggle") => Ok(Action::Toggle),
            Some("listen-start") => Ok(Action::ListenStart),
            Some("listen-stop") => Ok(Action::ListenStop),
            Some("toggle-window") => Ok(Action::ToggleWindow),
            Some("hide") => Ok(Action::Hide),
            Some(IN_TRAY) => Ok(Action::InTray),
            Some("quit") => Ok(Action::Quit),
            Some(other) => Err(format!(
                "unknown action {other:?}: sotto-desktop \
                 [show|toggle|listen-start|listen-stop|toggle-window|hide|quit|{IN_TRAY}]"
            )),
        }
    }

    fn apply(self, app: &tauri::AppHandle) {
        match self {
            Action::Show => tray::show_window(app),
            Action::Toggle | Action::ListenStart | Action::ListenStop => {
                let Some(voice) = app.try_state::<Arc<Voice>>() else {
                    return;
                };
                let result = match self {
                    Action::ListenStart => voice.start(),
                    Action::ListenStop => voice.stop(),
                    _ => voice.toggle(),
                };
                if let Err(e) = result {
                    tracing::warn!("{e}");
                }
            }
            Action::ToggleWindow => tray::toggle_window(app),
            Action::Hide | Action::InTray => {
                if let Some(window) = app.get_webview_window(tray::MAIN_WINDOW) {
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
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![IN_TRAY]),
        ))
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::submit,
            commands::prepare,
            commands::cancel,
            commands::confirm_answer,
            commands::pending_confirmations,
            commands::history,
            commands::history_detail,
            commands::history_delete,
            commands::tools,
            commands::set_tool_setting,
            commands::listen_start,
            commands::listen_stop,
            commands::set_muted,
            commands::mic_test,
            commands::settings,
            commands::save_preferences,
            commands::models,
            commands::model_fetch,
            commands::plugins,
            commands::plugin_set_enabled,
            commands::onboarding,
            commands::onboarding_done,
        ])
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            let notify_results = Arc::new(AtomicBool::new(true));
            let ui: Arc<dyn ui::Ui> = Arc::new(ui::TauriUi::new(
                handle.clone(),
                Arc::clone(&notify_results),
            ));
            let data_dir = app.settings.dirs.data.clone();
            let assistant = Assistant::new(app, Arc::clone(&ui));
            let voice = Voice::new(Arc::clone(&assistant), Arc::clone(&ui));
            let service = SettingsService::new(
                Arc::clone(&assistant),
                Arc::clone(&voice),
                ui,
                notify_results,
                apply_desktop(handle.clone(), Arc::clone(&voice)),
            );
            tauri_app.manage(Arc::clone(&assistant));
            tauri_app.manage(Arc::clone(&voice));
            tauri_app.manage(Arc::clone(&service));
            if let Err(e) = tray::build(tauri_app) {
                tracing::warn!("no tray on this desktop ({e}); closing the window quits");
            }
            service.apply_startup();
            ring_timers(data_dir);
            prune_recordings(Arc::clone(&voice), Arc::clone(&assistant));
            if service.onboarded() {
                // The microphone opens now (push-to-talk needs it running for its pre-roll)
                // and the planner loads, so the first request waits for neither. Before
                // first-run setup is done, the window's setup does this.
                voice.open();
                assistant.warm_up_later(false);
            } else {
                tray::show_window(tauri_app.handle());
            }
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

/// Applies hotkeys and autostart from the desktop preferences; returns what did not work.
fn apply_desktop(handle: tauri::AppHandle, voice: Arc<Voice>) -> settings::ApplyDesktop {
    Box::new(move |desktop| {
        let mut problems = hotkeys::register(&handle, desktop, &voice);
        let autolaunch = handle.autolaunch();
        let changed = match (desktop.autostart, autolaunch.is_enabled()) {
            (true, Ok(false)) => autolaunch.enable(),
            (false, Ok(true)) => autolaunch.disable(),
            (_, Err(e)) => Err(e),
            _ => Ok(()),
        };
        if let Err(e) = changed {
            problems.push(format!("cannot change starting at login: {e}"));
        }
        problems
    })
}

/// Timers and reminders ring (as desktop notifications) while the app runs; when another
/// Sotto process already rings them, this one waits to take over.
fn ring_timers(data_dir: std::path::PathBuf) {
    let keeper = sotto::timekeeper::Timekeeper {
        data_dir,
        env: sotto_sandbox::HostEnv::from_process(),
    };
    tauri::async_runtime::spawn(async move {
        let stop = sotto_executor::CancellationToken::new();
        let result = keeper
            .run(stop, false, |event| {
                if let sotto::timekeeper::TimeEvent::Failed(error) = event {
                    tracing::warn!("cannot ring a timer (kept; trying again): {error}");
                }
            })
            .await;
        if let Err(e) = result {
            tracing::warn!("timers will not ring while the app runs: {e:#}");
        }
    });
}

/// Recordings older than the user keeps them go now and every few hours while Sotto runs
/// (`[history] keep_audio_days`; transcripts stay).
fn prune_recordings(voice: Arc<Voice>, assistant: Arc<Assistant>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let settings = voice.settings();
            let pruned = async {
                let store = assistant.app().store().await?;
                sotto::history::prune_recordings(
                    store,
                    &settings.recordings_dir,
                    settings.config.history.keep_audio_days,
                )
                .await
            };
            match pruned.await {
                Ok(pruned) => {
                    pruned.problems.iter().for_each(|p| tracing::warn!("{p}"));
                    if pruned.recordings > 0 {
                        tracing::info!("deleted {} old recording(s)", pruned.recordings);
                    }
                }
                Err(e) => tracing::warn!("old recordings were not deleted: {e:#}"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(6 * 3600)).await;
        }
    });
}
