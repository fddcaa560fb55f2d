//! Live listening: microphone -> endpointing -> speech worker -> a stored, transcribed
//! utterance. The CLI's `sotto listen` and the desktop shell both drive this; it reports
//! through [`ListenEvent`]s and never prints.
//!
//! Nothing heard is lost: an utterance's audio is written to disk (and its row to the
//! history) before it is transcribed, so a crashed worker or a full disk afterwards leaves a
//! recording that can be transcribed again. Only a user who turned recordings off gets
//! transcripts without audio.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sotto_audio::{
    Capture, CaptureConfig, CaptureEvent, HandsFree, HandsFreeConfig, HandsFreeEvent, Recorder,
    RecorderConfig, Utterance,
};
use sotto_protocol::asr::{AudioContext, DecodeOptions};
use sotto_store::{Input, NewUtterance, Store, UtteranceId};
use tokio::sync::mpsc;

use crate::engines::asr::AsrEngine;

/// How to listen.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    pub capture: CaptureConfig,
    pub mode: Endpointing,
    /// Transcribe the utterance so far this often while the person speaks; `None` for no
    /// partial transcripts.
    pub partial_every: Option<Duration>,
    pub options: DecodeOptions,
    /// Where recordings go; `None` keeps no audio.
    pub recordings_dir: Option<PathBuf>,
    /// The speech model's id, recorded with each transcript.
    pub model_id: String,
}

/// Who decides where an utterance ends.
#[derive(Debug, Clone)]
pub enum Endpointing {
    /// The voice activity detector, after a silence of `hangover`.
    HandsFree { hangover: Duration },
    /// [`Control::Start`] and [`Control::Stop`] (a held key, a button).
    PushToTalk,
}

/// What the user does while listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Push-to-talk: the key went down.
    Start,
    /// Push-to-talk: the key went up.
    Stop,
    /// Stop listening (an utterance in progress is finished and kept).
    Quit,
}

/// What happened, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenEvent {
    /// The microphone is open.
    DeviceReady {
        device: String,
        native: String,
    },
    /// The microphone stopped; listening resumes when it is back.
    DeviceLost {
        device: String,
        message: String,
    },
    /// Audio was dropped because processing fell behind.
    Dropped {
        chunks: u64,
    },
    /// Loudness of the latest audio, for a level meter.
    Level {
        rms_dbfs: f32,
    },
    SpeechStarted,
    /// What has been heard so far of the utterance in progress.
    Partial {
        text: String,
    },
    /// A finished utterance.
    Heard(Heard),
    /// An utterance whose transcription failed. Its recording (if kept) and history row stay.
    Failed {
        utterance: Option<UtteranceId>,
        audio_path: Option<PathBuf>,
        message: String,
    },
}

/// A transcribed utterance and how long each stage took.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub utterance: Option<UtteranceId>,
    pub text: String,
    pub audio_ms: u64,
    pub audio_path: Option<PathBuf>,
    /// From the end of speech (key release, or the last word hands-free) to the endpoint.
    pub endpoint_ms: u64,
    /// From the endpoint to the final transcript: saving, storing and decoding.
    pub transcribe_ms: u64,
    pub decode_ms: u64,
    pub fell_back: bool,
}

/// The speech engine and listening configuration the user's settings describe: the speech
/// model (`model`, else the configured or recommended one, fetched and imported on first
/// use), the voice activity model (needed hands-free), the microphone, partial transcripts
/// and recordings. Callers adjust the returned configuration for their own flags.
pub async fn prepare(
    app: &crate::app::App,
    mode: Endpointing,
    model: Option<&str>,
) -> Result<(AsrEngine, ListenConfig)> {
    use crate::engines::asr;
    let speech = &app.settings.config.speech;
    let id = asr::choose_model(app, model).await?;
    let model_file = asr::model_file(app, &id).await?;
    let vad = match mode {
        Endpointing::PushToTalk => asr::vad_file(app),
        Endpointing::HandsFree { .. } => Some(asr::vad_model_file(app).await?),
    };
    let engine = AsrEngine::new(model_file, vad, Duration::from_secs(600));
    let config = ListenConfig {
        capture: CaptureConfig {
            device: Some(speech.input_device.clone()).filter(|d| !d.is_empty()),
            ..CaptureConfig::default()
        },
        mode,
        partial_every: speech.partials.then_some(PARTIAL_EVERY),
        options: asr::live_options(app).await,
        recordings_dir: speech
            .keep_recordings
            .then(|| app.settings.recordings_dir.clone()),
        model_id: id,
    };
    Ok((engine, config))
}

/// How often the detector looks at the stream (hands-free).
const VAD_EVERY_SAMPLES: usize = 16_000 / 5;
/// How much backlog one detector run covers when catching up; less than the detector's
/// window (2 s), so consecutive windows overlap and no speech falls between them.
const CATCH_UP_SAMPLES: usize = 16_000 * 3 / 2;

/// Listens until [`Control::Quit`], the control channel closing, or the microphone failing
/// to open. Events go to `events`; a closed event channel also stops listening.
pub async fn listen(
    engine: &mut AsrEngine,
    store: Option<&Store>,
    config: ListenConfig,
    mut controls: mpsc::Receiver<Control>,
    events: mpsc::Sender<ListenEvent>,
) -> Result<()> {
    // Start the worker and load its models before the microphone opens, so the first words
    // are not waiting on a model load (seconds on a busy machine).
    engine
        .detect_speech(vec![0; 1600])
        .await
        .context("the speech worker could not start")?;
    let (_capture, capture_events) = Capture::start(config.capture.clone())?;
    // The capture channel blocks; a thread bridges it into the runtime. Unbounded on purpose:
    // when decoding falls behind (a busy machine), audio waits here (64 KB a second) instead
    // of being dropped, and the loop below catches up by taking all of it at once.
    let (audio_tx, mut audio) = mpsc::unbounded_channel::<CaptureEvent>();
    std::thread::Builder::new()
        .name("sotto-capture-bridge".into())
        .spawn(move || {
            while let Ok(event) = capture_events.recv() {
                if audio_tx.send(event).is_err() {
                    break;
                }
            }
        })
        .context("cannot start the capture bridge thread")?;

    let endpointer = match &config.mode {
        Endpointing::HandsFree { hangover } => {
            Endpointer::HandsFree(HandsFree::new(HandsFreeConfig {
                hangover: *hangover,
                ..HandsFreeConfig::default()
            }))
        }
        Endpointing::PushToTalk => Endpointer::PushToTalk {
            recorder: Recorder::new(RecorderConfig::default()),
            released: None,
        },
    };
    let mut session = Session {
        engine,
        store,
        config: &config,
        events: &events,
        endpointer,
        since_vad: 0,
        last_partial_len: 0,
    };
    loop {
        tokio::select! {
            // Controls first: a Quit must not wait behind a stream that is always ready.
            biased;
            control = controls.recv() => {
                tracing::debug!(?control, "listen control");
                // Audio still waiting was heard before the key went up (or before quitting):
                // it belongs to the utterance.
                for _ in 0..audio.len() {
                    let Ok(event) = audio.try_recv() else { break };
                    session.on_capture(event).await?;
                }
                if !session.on_control(control.unwrap_or(Control::Quit)).await? {
                    return Ok(());
                }
            }
            event = audio.recv() => {
                let Some(event) = event else {
                    // The capture thread ended (it gave up on the device).
                    session.finish_current().await?;
                    anyhow::bail!("the microphone stopped and did not come back");
                };
                session.on_capture(event).await?;
                // What is already waiting is taken now, so a slow moment is caught up with
                // one detector run per 1.5 s of backlog instead of one per 200 ms (and no
                // partials until it is). Only what was waiting: controls are looked at again
                // before anything that arrives meanwhile.
                for _ in 0..audio.len() {
                    let Ok(event) = audio.try_recv() else { break };
                    session.on_capture(event).await?;
                    if session.since_vad >= CATCH_UP_SAMPLES {
                        session.after_audio(true).await?;
                    }
                }
                session.after_audio(false).await?;
            }
        }
    }
}

/// One listening session's state.
struct Session<'a> {
    engine: &'a mut AsrEngine,
    store: Option<&'a Store>,
    config: &'a ListenConfig,
    events: &'a mpsc::Sender<ListenEvent>,
    endpointer: Endpointer,
    /// Samples since the detector last ran (hands-free).
    since_vad: usize,
    /// Length of the utterance when the last partial was made.
    last_partial_len: usize,
}

impl Session<'_> {
    /// Returns false when listening should stop.
    async fn on_control(&mut self, control: Control) -> Result<bool> {
        match (control, &mut self.endpointer) {
            (Control::Start, Endpointer::PushToTalk { recorder, .. }) => {
                if recorder.start() {
                    self.last_partial_len = 0;
                    send(self.events, ListenEvent::SpeechStarted).await?;
                }
            }
            (Control::Stop, Endpointer::PushToTalk { recorder, released }) => {
                *released = Some(Instant::now());
                if let Some(utterance) = recorder.stop() {
                    self.finish(utterance, Duration::ZERO).await?;
                }
            }
            (Control::Start | Control::Stop, Endpointer::HandsFree(_)) => {}
            (Control::Quit, _) => {
                self.finish_current().await?;
                tracing::debug!("listening stops");
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn on_capture(&mut self, event: CaptureEvent) -> Result<()> {
        match event {
            CaptureEvent::Started { device, format } => {
                let native = format!(
                    "{} Hz, {} channel(s), {}",
                    format.sample_rate, format.channels, format.sample_format
                );
                send(self.events, ListenEvent::DeviceReady { device, native }).await
            }
            CaptureEvent::DeviceLost { device, message } => {
                send(self.events, ListenEvent::DeviceLost { device, message }).await
            }
            CaptureEvent::Dropped { chunks, .. } => {
                send(self.events, ListenEvent::Dropped { chunks }).await
            }
            CaptureEvent::Audio(chunk) => {
                let _ = self.events.try_send(ListenEvent::Level {
                    rms_dbfs: chunk.level.rms_dbfs(),
                });
                match &mut self.endpointer {
                    Endpointer::PushToTalk { recorder, released } => {
                        if let Some(utterance) = recorder.push(&chunk.samples) {
                            // The tail after the key release is part of the utterance; the
                            // wait for it counts as endpointing.
                            let waited = released.take().map(|t| t.elapsed()).unwrap_or_default();
                            self.finish(utterance, waited).await?;
                        }
                    }
                    Endpointer::HandsFree(hands_free) => {
                        hands_free.push(&chunk.samples);
                        self.since_vad += chunk.samples.len();
                    }
                }
                Ok(())
            }
        }
    }

    /// Runs the detector (hands-free) or a partial transcript once the waiting audio is in;
    /// no partials while `catching_up`.
    async fn after_audio(&mut self, catching_up: bool) -> Result<()> {
        match &mut self.endpointer {
            Endpointer::PushToTalk { recorder, released } => match recorder.current() {
                Some(so_far)
                    if !catching_up
                        && released.is_none()
                        && partial_due(self.config, self.last_partial_len, so_far.len()) =>
                {
                    let so_far = so_far.to_vec();
                    self.partial(&so_far).await
                }
                _ => Ok(()),
            },
            Endpointer::HandsFree(hands_free) => {
                if self.since_vad < VAD_EVERY_SAMPLES {
                    return Ok(());
                }
                self.since_vad = 0;
                let (start, window) = hands_free.vad_window();
                let len = window.len() as u64;
                let pcm: Vec<i16> = window.iter().map(|&s| sotto_audio::f32_to_i16(s)).collect();
                let segments = self.engine.detect_speech(pcm).await?;
                let ranges: Vec<_> = segments.iter().map(|s| s.start_ms..s.end_ms).collect();
                let observed = hands_free.observe(start, len, &ranges);
                let position = hands_free.position();
                if observed.is_empty() {
                    return match hands_free.current() {
                        Some(so_far)
                            if !catching_up
                                && partial_due(
                                    self.config,
                                    self.last_partial_len,
                                    so_far.len(),
                                ) =>
                        {
                            let so_far = so_far.to_vec();
                            self.partial(&so_far).await
                        }
                        _ => Ok(()),
                    };
                }
                for event in observed {
                    match event {
                        HandsFreeEvent::Started { .. } => {
                            self.last_partial_len = 0;
                            send(self.events, ListenEvent::SpeechStarted).await?;
                        }
                        HandsFreeEvent::Ended {
                            utterance,
                            speech_end_sample,
                        } => {
                            let behind = position.saturating_sub(speech_end_sample);
                            let waited = Duration::from_millis(behind * 1000 / 16_000);
                            self.finish(utterance, waited).await?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Transcribes the utterance so far. A failed partial is skipped: the final transcript is
    /// what counts.
    async fn partial(&mut self, so_far: &[f32]) -> Result<()> {
        self.last_partial_len = so_far.len();
        let pcm = so_far.iter().map(|&s| sotto_audio::f32_to_i16(s)).collect();
        let options = partial_options(&self.config.options);
        match self.engine.transcribe(pcm, options).await {
            Ok(t) if !t.text.is_empty() => {
                send(self.events, ListenEvent::Partial { text: t.text }).await
            }
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::debug!("partial transcript skipped: {error:#}");
                Ok(())
            }
        }
    }

    async fn finish(&mut self, utterance: Utterance, endpoint_wait: Duration) -> Result<()> {
        finish(
            self.engine,
            self.store,
            self.config,
            utterance,
            endpoint_wait,
            self.events,
        )
        .await
    }

    /// Keeps an utterance in progress when listening stops.
    async fn finish_current(&mut self) -> Result<()> {
        match self.endpointer.finish() {
            Some(utterance) => self.finish(utterance, Duration::ZERO).await,
            None => Ok(()),
        }
    }
}

/// How much more audio makes the next partial transcript (with `speech.partials` on).
pub const PARTIAL_EVERY: Duration = Duration::from_millis(1000);

/// How partial transcripts are decoded, given the final decode's options: greedy, the
/// context scaled, no language model. A partial is a glimpse; the final decode is the one
/// that gets them.
pub fn partial_options(options: &DecodeOptions) -> DecodeOptions {
    DecodeOptions {
        audio_context: AudioContext::Scaled,
        beam_size: 1,
        fusion: None,
        ..options.clone()
    }
}

/// Whether `partial_every` more audio arrived since the last partial transcript.
fn partial_due(config: &ListenConfig, last_partial_len: usize, len: usize) -> bool {
    config
        .partial_every
        .is_some_and(|every| len >= last_partial_len + (every.as_secs_f64() * 16_000.0) as usize)
}

enum Endpointer {
    HandsFree(HandsFree),
    PushToTalk {
        recorder: Recorder,
        released: Option<Instant>,
    },
}

impl Endpointer {
    fn finish(&mut self) -> Option<Utterance> {
        match self {
            Endpointer::HandsFree(hands_free) => hands_free.finish(),
            Endpointer::PushToTalk { recorder, .. } => recorder.finish(),
        }
    }
}

async fn send(events: &mpsc::Sender<ListenEvent>, event: ListenEvent) -> Result<()> {
    events
        .send(event)
        .await
        .map_err(|_| anyhow::anyhow!("nobody is listening to the listener any more"))
}

/// Saves, records and transcribes one utterance, and reports it. Failures to transcribe are
/// reported as [`ListenEvent::Failed`], not returned: listening goes on.
async fn finish(
    engine: &mut AsrEngine,
    store: Option<&Store>,
    config: &ListenConfig,
    utterance: Utterance,
    endpoint_wait: Duration,
    events: &mpsc::Sender<ListenEvent>,
) -> Result<()> {
    let endpointed = Instant::now();
    let samples: Vec<i16> = utterance
        .samples
        .iter()
        .map(|&s| sotto_audio::f32_to_i16(s))
        .collect();
    let audio_ms = samples.len() as u64 * 1000 / 16_000;
    let mut problems = Vec::new();
    let audio_path = match &config.recordings_dir {
        Some(dir) => match save_recording(dir, &samples) {
            Ok(path) => Some(path),
            Err(error) => {
                problems.push(format!("the recording could not be saved: {error:#}"));
                None
            }
        },
        None => None,
    };
    let relative = audio_path.as_ref().and_then(|p| {
        config
            .recordings_dir
            .as_ref()
            .and_then(|dir| p.strip_prefix(dir).ok())
            .map(|p| p.to_string_lossy().into_owned())
    });
    let id = match store {
        Some(store) => match store
            .record_utterance(&NewUtterance {
                input: Some(Input::Voice),
                audio_path: relative,
                audio_ms: Some(audio_ms as i64),
                language: config.options.language.clone(),
                ..NewUtterance::default()
            })
            .await
        {
            Ok(id) => Some(id),
            Err(error) => {
                problems.push(format!("the history could not be written: {error:#}"));
                None
            }
        },
        None => None,
    };
    let options = DecodeOptions {
        audio_context: AudioContext::Scaled,
        ..config.options.clone()
    };
    match engine.transcribe(samples, options).await {
        Ok(transcript) => {
            let transcribe_ms = endpointed.elapsed().as_millis() as u64;
            let endpoint_ms = endpoint_wait.as_millis() as u64;
            if let (Some(store), Some(id)) = (store, id) {
                let stored = async {
                    store
                        .set_transcript(id, &transcript.text, &config.model_id)
                        .await?;
                    store
                        .record_timing(id, "endpoint", endpoint_ms as f64)
                        .await?;
                    store
                        .record_timing(id, "transcript", (endpoint_ms + transcribe_ms) as f64)
                        .await?;
                    store
                        .record_timing(id, "decode_ms", transcript.decode_ms as f64)
                        .await
                }
                .await;
                if let Err(error) = stored {
                    problems.push(format!("the transcript could not be stored: {error:#}"));
                }
            }
            for message in problems {
                tracing::warn!("{message}");
            }
            send(
                events,
                ListenEvent::Heard(Heard {
                    utterance: id,
                    text: transcript.text,
                    audio_ms,
                    audio_path,
                    endpoint_ms,
                    transcribe_ms,
                    decode_ms: transcript.decode_ms,
                    fell_back: transcript.fell_back,
                }),
            )
            .await
        }
        Err(error) => {
            let message = format!("{error:#}");
            if let (Some(store), Some(id)) = (store, id) {
                let _ = store.set_status(id, "failed", Some(&message)).await;
            }
            send(
                events,
                ListenEvent::Failed {
                    utterance: id,
                    audio_path,
                    message,
                },
            )
            .await
        }
    }
}

/// Writes 16 kHz mono PCM as a WAV file under `dir` (durably: written, synced, then renamed),
/// named by the time it was heard.
pub fn save_recording(dir: &Path, samples: &[i16]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the recordings folder {}", dir.display()))?;
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!(
        "{}-{:03}-{}",
        since_epoch.as_secs(),
        since_epoch.subsec_millis(),
        std::process::id()
    );
    let path = dir.join(format!("{name}.wav"));
    let partial = dir.join(format!("{name}.wav.part"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let written = (|| -> Result<()> {
        let file = std::fs::File::create(&partial)?;
        let mut writer = hound::WavWriter::new(std::io::BufWriter::new(file), spec)?;
        for &sample in samples {
            writer.write_sample(sample)?;
        }
        writer.finalize()?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, &path)?;
        Ok(())
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(error.context(format!("cannot write {}", path.display())));
    }
    Ok(path)
}
