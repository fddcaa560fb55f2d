//! The microphone in the desktop app. One listening session (`sotto::listener`, the same one
//! `sotto listen` uses) stays open while Sotto runs and is not muted, in push-to-talk mode:
//! audio is only kept between Start and Stop, but because the stream is already running, the
//! pre-roll holds the first syllable that a just-opened microphone would miss.
//!
//! Hotkeys, the tray and the window's microphone button all come here. What is heard becomes
//! a request through [`Assistant::submit_from`], continuing the history row the listener
//! wrote with the recording. Speech never reaches a confirmation: those are answered only in
//! the window (`confirm_answer`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use sotto::app::App;
use sotto::listener::{self, Control, Endpointing, ListenEvent};
use sotto_config::Settings;
use sotto_models::InstallState;
use sotto_window_api::{MicrophoneView, VoiceUpdate};
use tokio::sync::mpsc;

use crate::ui::Ui;
use crate::Assistant;

/// Level updates per second while recording (a meter needs no more).
const LEVEL_EVERY: Duration = Duration::from_millis(100);

pub struct Voice {
    assistant: Arc<Assistant>,
    ui: Arc<dyn Ui>,
    /// The settings in force (changed by the Settings tab).
    settings: Mutex<Settings>,
    /// The open session's controls; `None` when closed.
    session: Mutex<Option<mpsc::Sender<Control>>>,
    recording: AtomicBool,
    muted: AtomicBool,
    /// The Settings tab's microphone test: levels flow while this holds a capture.
    test: Mutex<Option<sotto_audio::Capture>>,
}

impl std::fmt::Debug for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Voice")
            .field("recording", &self.recording)
            .field("muted", &self.muted)
            .finish_non_exhaustive()
    }
}

impl Voice {
    pub fn new(assistant: Arc<Assistant>, ui: Arc<dyn Ui>) -> Arc<Voice> {
        let settings = assistant.app().settings.clone();
        Arc::new(Voice {
            assistant,
            ui,
            settings: Mutex::new(settings),
            session: Mutex::new(None),
            recording: AtomicBool::new(false),
            muted: AtomicBool::new(false),
            test: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// New settings: the session reopens with them (a new device, language, ...).
    pub fn use_settings(self: &Arc<Voice>, settings: Settings) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
        self.close();
        if !self.muted() {
            self.open();
        }
    }

    /// New settings that do not concern listening (hotkeys, models): kept for the next
    /// session without closing this one.
    pub fn keep_settings(&self, settings: Settings) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    pub fn muted(&self) -> bool {
        self.muted.load(Ordering::SeqCst)
    }

    pub fn recording(&self) -> bool {
        self.recording.load(Ordering::SeqCst)
    }

    /// Opens the microphone session unless it is open (or muted). Controls sent meanwhile
    /// wait in its channel, so a key pressed while the speech model loads is not lost.
    pub fn open(self: &Arc<Voice>) {
        if self.muted() {
            return;
        }
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if session.as_ref().is_some_and(|s| !s.is_closed()) {
            return;
        }
        let (controls_tx, controls) = mpsc::channel(16);
        *session = Some(controls_tx.clone());
        drop(session);
        let voice = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            let result = voice.run_session(controls).await;
            voice.recording.store(false, Ordering::SeqCst);
            // Only the current session's end is news: a closed one was replaced or muted,
            // and whoever closed it said so.
            let current = {
                let mut session = voice.session.lock().unwrap_or_else(|e| e.into_inner());
                let current = session
                    .as_ref()
                    .is_some_and(|s| s.same_channel(&controls_tx));
                if current {
                    *session = None;
                }
                current
            };
            if !current {
                if let Err(error) = result {
                    tracing::warn!("a closed listening session ended with: {error:#}");
                }
                return;
            }
            match result {
                Ok(()) if voice.muted() => voice.assistant.set_microphone(MicrophoneView::Muted),
                Ok(()) => voice.assistant.set_microphone(MicrophoneView::Closed),
                Err(error) => {
                    tracing::warn!("listening stopped: {error:#}");
                    voice.assistant.set_microphone(MicrophoneView::Unavailable {
                        message: format!("{error:#}"),
                    });
                    voice.assistant.set_listening(false, None);
                }
            }
        });
    }

    /// Closes the session; an utterance being recorded is finished and kept.
    fn close(&self) {
        if let Some(controls) = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = controls.try_send(Control::Quit);
        }
    }

    fn send(self: &Arc<Voice>, control: Control) -> Result<(), String> {
        if self.muted() {
            return Err("the microphone is muted: unmute it first (tray or window)".into());
        }
        self.open();
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        match session.as_ref() {
            Some(controls) => controls
                .try_send(control)
                .map_err(|_| "the microphone is not responding; try again".to_string()),
            None => Err("the microphone is not open".into()),
        }
    }

    /// Starts recording an utterance (hotkey down, the window's button).
    pub fn start(self: &Arc<Voice>) -> Result<(), String> {
        if self.recording.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.send(Control::Start).inspect_err(|_| {
            self.recording.store(false, Ordering::SeqCst);
        })?;
        self.assistant.set_listening(true, None);
        Ok(())
    }

    /// Ends the utterance: it is transcribed and carried out.
    pub fn stop(self: &Arc<Voice>) -> Result<(), String> {
        if !self.recording.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        self.send(Control::Stop)
    }

    /// Starts or stops, whichever is not happening (the toggle hotkey, the tray).
    pub fn toggle(self: &Arc<Voice>) -> Result<(), String> {
        if self.recording() {
            self.stop()
        } else {
            self.start()
        }
    }

    /// Muting closes the microphone (an utterance in progress is kept and carried out).
    pub fn set_muted(self: &Arc<Voice>, muted: bool) {
        self.muted.store(muted, Ordering::SeqCst);
        if muted {
            self.recording.store(false, Ordering::SeqCst);
            self.close();
            self.assistant.set_microphone(MicrophoneView::Muted);
            self.assistant
                .set_listening(false, Some("microphone muted".into()));
        } else {
            self.assistant.set_microphone(MicrophoneView::Closed);
            self.open();
        }
    }

    /// The microphone test: levels flow to the window while on, whether or not the speech
    /// model is there yet (so a new user can check the microphone before downloading).
    pub fn mic_test(&self, on: bool) -> Result<(), String> {
        let mut test = self.test.lock().unwrap_or_else(|e| e.into_inner());
        *test = None;
        if !on {
            return Ok(());
        }
        let device = Some(self.settings().config.speech.input_device).filter(|d| !d.is_empty());
        let (capture, events) = sotto_audio::Capture::start(sotto_audio::CaptureConfig {
            device,
            ..Default::default()
        })
        .map_err(|e| format!("the microphone cannot be opened: {e}"))?;
        *test = Some(capture);
        let ui = Arc::clone(&self.ui);
        std::thread::Builder::new()
            .name("sotto-mic-test".into())
            .spawn(move || {
                let mut last = Instant::now() - LEVEL_EVERY;
                // Ends when the capture is dropped (test off) and its channel closes.
                while let Ok(event) = events.recv() {
                    if let sotto_audio::CaptureEvent::Audio(chunk) = event {
                        if last.elapsed() >= LEVEL_EVERY {
                            last = Instant::now();
                            ui.voice(&VoiceUpdate::Level {
                                dbfs: chunk.level.rms_dbfs(),
                            });
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start the microphone test: {e}"))?;
        Ok(())
    }

    async fn run_session(self: &Arc<Voice>, controls: mpsc::Receiver<Control>) -> Result<()> {
        let app = App::from_settings(self.settings(), None)?;
        let model = installed_speech_model(&app).await?;
        let (mut engine, config) =
            listener::prepare(&app, Endpointing::PushToTalk, Some(&model)).await?;
        let store = self.assistant.app().store().await.ok();
        let (events_tx, mut events) = mpsc::channel(64);
        let listening = listener::listen(&mut engine, store, config, controls, events_tx);
        let forwarding = async {
            let mut last_level = Instant::now() - LEVEL_EVERY;
            while let Some(event) = events.recv().await {
                self.on_event(event, &mut last_level);
            }
        };
        let (listened, ()) = tokio::join!(listening, forwarding);
        listened
    }

    fn on_event(self: &Arc<Voice>, event: ListenEvent, last_level: &mut Instant) {
        match event {
            ListenEvent::DeviceReady { device, native } => self
                .assistant
                .set_microphone(MicrophoneView::Ready { device, native }),
            ListenEvent::DeviceLost { device, message } => {
                self.assistant.set_microphone(MicrophoneView::Unavailable {
                    message: format!(
                        "{device} stopped ({message}); Sotto listens again as soon as it is back"
                    ),
                })
            }
            ListenEvent::Dropped { chunks } => {
                tracing::warn!("{chunks} audio chunks dropped: processing fell behind")
            }
            ListenEvent::Level { rms_dbfs } => {
                if self.recording() && last_level.elapsed() >= LEVEL_EVERY {
                    *last_level = Instant::now();
                    self.ui.voice(&VoiceUpdate::Level { dbfs: rms_dbfs });
                }
            }
            ListenEvent::SpeechStarted => self.ui.voice(&VoiceUpdate::Started),
            ListenEvent::Partial { text } => {
                self.assistant.prepare_later(text.clone());
                self.ui.voice(&VoiceUpdate::Partial { text });
            }
            ListenEvent::Heard(heard) => {
                let utterance = heard.utterance;
                self.ui.voice(&VoiceUpdate::Heard {
                    utterance: utterance.map(|u| u.0),
                    text: heard.text.clone(),
                    audio_ms: heard.audio_ms,
                    transcribe_ms: heard.endpoint_ms + heard.transcribe_ms,
                });
                if heard.text.trim().is_empty() {
                    self.assistant
                        .set_listening(false, Some("heard nothing".into()));
                    return;
                }
                self.assistant.set_listening(false, None);
                if let Err(message) = self.assistant.submit_from(heard.text, utterance) {
                    self.ui.voice(&VoiceUpdate::Failed {
                        utterance: utterance.map(|u| u.0),
                        message,
                    });
                }
            }
            ListenEvent::Failed {
                utterance, message, ..
            } => {
                self.assistant.set_listening(false, None);
                self.ui.voice(&VoiceUpdate::Failed {
                    utterance: utterance.map(|u| u.0),
                    message: format!("{message} (the recording is kept in the history)"),
                });
            }
        }
    }
}

/// The speech model to listen with, if it is installed. The session does not download: a
/// missing model is a clear message pointing at the place that downloads it with progress
/// (Settings or first-run setup).
async fn installed_speech_model(app: &App) -> Result<String> {
    let id = sotto::engines::asr::choose_model(app, None).await?;
    if app.models.state(app.models.model(&id)?) != InstallState::Installed {
        anyhow::bail!(
            "the speech model {id} is not downloaded yet: download it in Settings → Models"
        );
    }
    Ok(id)
}

/// For tests: waits until the session is open and its microphone ready.
pub async fn wait_ready(assistant: &Assistant, timeout: Duration) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        match assistant.status().microphone {
            MicrophoneView::Ready { device, .. } => return Ok(device),
            MicrophoneView::Unavailable { message } => anyhow::bail!("{message}"),
            _ if Instant::now() > deadline => {
                anyhow::bail!("the microphone did not open in {timeout:?}")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
