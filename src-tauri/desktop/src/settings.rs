//! The Settings tab and first-run setup: preferences saved to `config.toml` (comments kept)
//! and applied at once where they can be (microphone, language, hotkeys, autostart,
//! notifications); models downloaded with progress; plugins switched on and off.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use sotto::app::App;
use sotto_config::{Config, DesktopConfig};
use sotto_models::{FetchEvent, InstallState, Stage, Task};
use sotto_window_api::{
    InputDeviceView, ModelProgress, ModelView, OnboardingView, PluginView, Preferences,
    SettingsView,
};

use crate::ui::Ui;
use crate::voice::Voice;
use crate::Assistant;

/// What applying the desktop preferences does outside this crate's reach (hotkeys and
/// autostart need the running Tauri app); returns problems in words.
pub type ApplyDesktop = Box<dyn Fn(&DesktopConfig) -> Vec<String> + Send + Sync>;

/// The file whose presence means first-run setup was finished or skipped.
const ONBOARDED: &str = "onboarded";

pub struct SettingsService {
    assistant: Arc<Assistant>,
    voice: Arc<Voice>,
    ui: Arc<dyn Ui>,
    /// The configuration Sotto started with: model changes need a restart.
    started_with: Config,
    notify_results: Arc<AtomicBool>,
    apply_desktop: ApplyDesktop,
    /// What the last application of the desktop preferences could not do.
    desktop_problems: Mutex<Vec<String>>,
    /// Models being downloaded, so a second click does not start a second download.
    downloading: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for SettingsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsService").finish_non_exhaustive()
    }
}

impl SettingsService {
    pub fn new(
        assistant: Arc<Assistant>,
        voice: Arc<Voice>,
        ui: Arc<dyn Ui>,
        notify_results: Arc<AtomicBool>,
        apply_desktop: ApplyDesktop,
    ) -> Arc<SettingsService> {
        let started_with = voice.settings().config;
        notify_results.store(started_with.desktop.notifications, Ordering::Relaxed);
        Arc::new(SettingsService {
            assistant,
            voice,
            ui,
            started_with,
            notify_results,
            apply_desktop,
            desktop_problems: Mutex::new(Vec::new()),
            downloading: Mutex::new(HashSet::new()),
        })
    }

    /// Applies the desktop preferences Sotto started with (hotkeys, autostart).
    pub fn apply_startup(&self) {
        self.apply_desktop_preferences(&self.started_with.desktop);
    }

    /// Applies hotkeys and autostart, keeping what did not work for the Settings tab.
    fn apply_desktop_preferences(&self, desktop: &DesktopConfig) {
        let problems = (self.apply_desktop)(desktop);
        for problem in &problems {
            tracing::warn!("{problem}");
        }
        *self
            .desktop_problems
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = problems;
    }

    pub fn view(&self) -> SettingsView {
        let settings = self.voice.settings();
        let devices = match sotto_audio::list_input_devices() {
            Ok(devices) => devices
                .into_iter()
                .map(|d| InputDeviceView {
                    id: d.id,
                    name: d.name,
                    is_default: d.is_default,
                })
                .collect(),
            Err(e) => {
                tracing::warn!("cannot list input devices: {e}");
                Vec::new()
            }
        };
        let mut notes: Vec<String> = hotkeys_note().into_iter().collect();
        notes.extend(
            self.desktop_problems
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        SettingsView {
            preferences: preferences(&settings.config),
            devices,
            hotkeys_note: (!notes.is_empty()).then(|| notes.join("\n")),
            config_file: settings.config_file.display().to_string(),
            restart_needed: settings.config.models != self.started_with.models,
        }
    }

    /// Validates and saves the preferences, then applies them. On an error nothing is saved.
    pub fn save(&self, preferences: &Preferences) -> Result<SettingsView> {
        let settings = self.voice.settings();
        let config = updated_config(&settings.config, preferences)?;
        sotto_config::save(&settings.config_file, &config)?;
        let speech_changed = config.speech != settings.config.speech;
        let desktop_changed = config.desktop != settings.config.desktop;
        self.notify_results
            .store(config.desktop.notifications, Ordering::Relaxed);
        if desktop_changed {
            self.apply_desktop_preferences(&config.desktop);
        }
        let new_settings = settings.with_config(config);
        if speech_changed {
            self.voice.use_settings(new_settings);
        } else {
            self.voice.keep_settings(new_settings);
        }
        Ok(self.view())
    }

    /// Every catalog model, with its state and whether Sotto uses it.
    pub async fn models(&self) -> Result<Vec<ModelView>> {
        let app = App::from_settings(self.voice.settings(), None)?;
        let recommended = sotto::cli::models::recommended_choices(&app).await;
        let configured = &app.settings.config.models;
        Ok(app
            .models
            .catalog()
            .models
            .iter()
            .map(|model| {
                let recommended_id = recommended
                    .iter()
                    .find(|r| r.task == model.task)
                    .and_then(|r| r.chosen.clone());
                // As the engines choose: the configured model, else the recommended one
                // (the voice activity model's default is fixed, not recommended).
                let in_use = match model.task {
                    Task::Vad => sotto::engines::asr::vad_id(&app) == model.id,
                    Task::Asr | Task::Planner => {
                        let configured = match model.task {
                            Task::Asr => &configured.asr,
                            _ => &configured.planner,
                        };
                        if configured.is_empty() {
                            recommended_id.as_deref() == Some(model.id.as_str())
                        } else {
                            configured == &model.id
                        }
                    }
                };
                model_view(
                    &app,
                    model,
                    recommended_id.as_deref() == Some(&model.id),
                    in_use,
                )
            })
            .collect())
    }

    /// Starts downloading `id` (and importing it, for faster-whisper speech models); progress
    /// goes to the window as `sotto:model` events, ending with `done`.
    pub fn fetch_model(self: &Arc<SettingsService>, id: String) -> Result<(), String> {
        if !self
            .downloading
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone())
        {
            return Err(format!("{id} is already being downloaded"));
        }
        let service = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            let result = service.fetch_and_import(&id).await;
            service
                .downloading
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            let (message, error) = match &result {
                Ok(()) => (Some("installed".to_string()), None),
                Err(e) => (None, Some(format!("{e:#}"))),
            };
            service.ui.model(&ModelProgress {
                id: id.clone(),
                stage: "done".into(),
                bytes_done: 0,
                bytes_total: None,
                message,
                done: true,
                error,
            });
            if result.is_ok() {
                // A session that had no speech model can open now.
                service.voice.open();
            }
        });
        Ok(())
    }

    async fn fetch_and_import(&self, id: &str) -> Result<()> {
        let app = App::from_settings(self.voice.settings(), None)?;
        let model = app.models.model(id)?.clone();
        let ui = Arc::clone(&self.ui);
        let progress = |event: FetchEvent| ui.model(&progress_of(id, event));
        app.models.fetch(id, false, &progress).await?;
        if model.task == Task::Asr {
            let (id, ui) = (id.to_string(), Arc::clone(&self.ui));
            tokio::task::spawn_blocking(move || {
                sotto::engines::asr::whisper_file(&app, &id, || {
                    ui.model(&ModelProgress {
                        id: id.clone(),
                        stage: "import".into(),
                        bytes_done: 0,
                        bytes_total: None,
                        message: Some("converting to whisper.cpp format (once)".into()),
                        done: false,
                        error: None,
                    })
                })
            })
            .await
            .context("the import stopped")??;
        }
        Ok(())
    }

    pub async fn plugins(&self) -> Result<Vec<PluginView>> {
        let store = self.assistant.app().store().await?;
        Ok(store
            .plugins()
            .await?
            .into_iter()
            .map(|p| PluginView {
                id: p.id,
                name: p.name,
                version: p.version,
                enabled: p.enabled,
                tools: p.tools,
            })
            .collect())
    }

    /// Switches a plugin on or off; its tools join or leave the planner's at once.
    pub async fn set_plugin_enabled(&self, id: &str, enabled: bool) -> Result<()> {
        let store = self.assistant.app().store().await?;
        if !store.set_plugin_enabled(id, enabled).await? {
            anyhow::bail!("there is no plugin called {id:?}");
        }
        self.assistant.tools_changed();
        Ok(())
    }

    pub async fn onboarding(&self) -> Result<OnboardingView> {
        let settings = self.voice.settings();
        // What Sotto needs: the models it uses now and the ones recommended for this machine.
        let needed: Vec<ModelView> = self
            .models()
            .await?
            .into_iter()
            .filter(|m| m.in_use || m.recommended)
            .collect();
        Ok(OnboardingView {
            done: settings.dirs.data.join(ONBOARDED).exists(),
            models: needed,
            push_to_talk_key: settings.config.desktop.push_to_talk_key.clone(),
            hotkeys_note: hotkeys_note(),
        })
    }

    pub fn onboarding_done(&self) -> Result<()> {
        let data = self.voice.settings().dirs.data;
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let marker = data.join(ONBOARDED);
        std::fs::write(&marker, "first-run setup finished\n")
            .with_context(|| format!("cannot write {}", marker.display()))
    }

    pub fn onboarded(&self) -> bool {
        self.voice.settings().dirs.data.join(ONBOARDED).exists()
    }
}

fn hotkeys_note() -> Option<String> {
    crate::hotkeys::environment_note()
}

pub fn preferences(config: &Config) -> Preferences {
    Preferences {
        input_device: config.speech.input_device.clone(),
        language: config.speech.language.clone(),
        partials: config.speech.partials,
        keep_recordings: config.speech.keep_recordings,
        name_fusion: config.speech.fusion.enabled,
        keep_audio_days: config.history.keep_audio_days,
        push_to_talk_key: config.desktop.push_to_talk_key.clone(),
        toggle_key: config.desktop.toggle_key.clone(),
        autostart: config.desktop.autostart,
        notifications: config.desktop.notifications,
        asr_model: config.models.asr.clone(),
        planner_model: config.models.planner.clone(),
    }
}

/// `current` with the preferences applied, checked: key combinations must parse and be
/// different, the language must be a code, models must exist for their task.
pub fn updated_config(current: &Config, preferences: &Preferences) -> Result<Config> {
    let mut config = current.clone();
    let p = preferences;
    config.speech.input_device = p.input_device.trim().to_string();
    config.speech.language = p.language.trim().to_ascii_lowercase();
    config.speech.partials = p.partials;
    config.speech.keep_recordings = p.keep_recordings;
    config.speech.fusion.enabled = p.name_fusion;
    config.history.keep_audio_days = p.keep_audio_days;
    let push = crate::hotkeys::parse(&p.push_to_talk_key).map_err(anyhow::Error::msg)?;
    let toggle = crate::hotkeys::parse(&p.toggle_key).map_err(anyhow::Error::msg)?;
    if push.is_some() && push == toggle {
        anyhow::bail!("push-to-talk and toggle need different keys");
    }
    config.desktop.push_to_talk_key = p.push_to_talk_key.trim().to_string();
    config.desktop.toggle_key = p.toggle_key.trim().to_string();
    config.desktop.autostart = p.autostart;
    config.desktop.notifications = p.notifications;
    let catalog = sotto_models::Catalog::builtin();
    for (id, task) in [(&p.asr_model, Task::Asr), (&p.planner_model, Task::Planner)] {
        let id = id.trim();
        if !id.is_empty() && catalog.get(id).is_none_or(|m| m.task != task) {
            anyhow::bail!("{id:?} is not a {task} model in the catalog");
        }
    }
    config.models.asr = p.asr_model.trim().to_string();
    config.models.planner = p.planner_model.trim().to_string();
    config
        .validate(std::path::Path::new("the settings"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(config)
}

fn model_view(
    app: &App,
    model: &sotto_models::Model,
    recommended: bool,
    in_use: bool,
) -> ModelView {
    ModelView {
        id: model.id.clone(),
        task: model.task.as_str().to_string(),
        description: model.description.clone(),
        size_bytes: model.size(),
        state: match app.models.state(model) {
            InstallState::Installed => "installed",
            InstallState::Partial => "partial",
            InstallState::Missing => "missing",
        }
        .to_string(),
        recommended,
        in_use,
    }
}

fn progress_of(id: &str, event: FetchEvent) -> ModelProgress {
    let mut progress = ModelProgress {
        id: id.to_string(),
        stage: "download".into(),
        bytes_done: 0,
        bytes_total: None,
        message: None,
        done: false,
        error: None,
    };
    match event {
        FetchEvent::SourceStarted {
            source,
            index,
            count,
            ..
        } => progress.message = Some(format!("trying source {index}/{count}: {source}")),
        FetchEvent::Progress {
            stage, done, total, ..
        } => {
            progress.stage = match stage {
                Stage::Download => "download",
                Stage::Unpack => "unpack",
                Stage::Verify => "verify",
            }
            .into();
            progress.bytes_done = done;
            progress.bytes_total = total;
        }
        FetchEvent::SourceFailed { source, error, .. } => {
            progress.message = Some(format!("{source} failed: {error}; trying the next"))
        }
        FetchEvent::Installed { bytes, .. } => {
            progress.stage = "verify".into();
            progress.bytes_done = bytes;
            progress.bytes_total = Some(bytes);
            progress.message = Some(format!("installed ({})", sotto_models::human_bytes(bytes)));
        }
    }
    progress
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_round_trip_through_the_configuration() {
        let config = Config::default();
        let mut p = preferences(&config);
        p.input_device = " Headset ".into();
        p.language = "DE".into();
        p.toggle_key = "Super+Shift+L".into();
        p.autostart = true;
        p.name_fusion = true;
        let updated = updated_config(&config, &p).unwrap();
        assert_eq!(updated.speech.input_device, "Headset");
        assert!(updated.speech.fusion.enabled);
        assert_eq!(updated.speech.language, "de");
        assert!(updated.desktop.autostart);
        let back = preferences(&updated);
        assert_eq!(back.toggle_key, "Super+Shift+L");
        assert_eq!(back.push_to_talk_key, config.desktop.push_to_talk_key);
    }

    #[test]
    fn bad_preferences_are_refused_with_what_is_wrong() {
        let config = Config::default();
        type Change = fn(&mut Preferences);
        let cases: [(&str, Change); 5] = [
            ("Ctrl+Banana", |p| p.push_to_talk_key = "Ctrl+Banana".into()),
            ("different keys", |p| {
                p.toggle_key = p.push_to_talk_key.clone()
            }),
            ("speech.language", |p| p.language = "english".into()),
            ("not a planner model", |p| {
                p.planner_model = "no-such-model".into()
            }),
            ("not a asr model", |p| {
                p.asr_model = sotto::engines::asr::DEFAULT_VAD.into()
            }),
        ];
        for (expected, change) in cases {
            let mut p = preferences(&config);
            change(&mut p);
            let err = format!("{:#}", updated_config(&config, &p).unwrap_err());
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
    }
}
