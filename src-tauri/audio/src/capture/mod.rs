//! Microphone capture with cpal: the device at its native rate and sample format, delivered as
//! 16 kHz mono chunks with a level reading, through a channel of [`CaptureEvent`]s.
//!
//! Three threads, each with one job:
//! - the audio callback (cpal's thread) only mixes each buffer down to mono `f32` and
//!   `try`-pushes it into a bounded queue ([`crate::queue`]): it never blocks and, once warm,
//!   never allocates; when the queue is full the chunk is dropped and counted;
//! - the capture thread owns the stream: it resamples to 16 kHz, measures the level, sends
//!   events, watches for errors and silence-from-a-dead-device, and reopens the device when it
//!   comes back;
//! - the caller reads events at its own pace. If it stalls, the capture thread waits on the
//!   (bounded) event channel, the queue fills, and drops are counted and reported: memory
//!   stays bounded and the audio thread is never held up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::ErrorKind;

use crate::level::Level;
use crate::queue::Received;
use crate::resample::{StreamResampler, TARGET_RATE};

mod device;

pub use device::list_input_devices;
use device::{open, Opened};

/// Events waiting for the caller (a few hundred ms of audio). Kept small on purpose: how far
/// the caller may fall behind is `queue_ms`'s job, and that is where drops are counted.
const EVENT_BOUND: usize = 32;
/// How often the capture thread looks at its flags while waiting for audio.
const POLL: Duration = Duration::from_millis(20);
/// Extra patience for a stream's first audio: sound servers start streams lazily, and a
/// Bluetooth headset may take seconds to switch to its microphone profile.
const STARTUP_GRACE: Duration = Duration::from_secs(3);
/// The smallest queue that makes sense: one typical callback.
const MIN_QUEUE_MS: u32 = 20;

/// What to capture and how patiently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    /// An input device's name or id (as [`list_input_devices`] shows them); `None` for the
    /// system's default input. A unique case-insensitive part of a name also matches.
    pub device: Option<String>,
    /// How much audio (in ms) may wait between the audio callback and the capture thread
    /// before chunks are dropped (at least 20 ms; default 1000 ms).
    pub queue_ms: u32,
    /// After the device is lost, try to reopen it this often; `None` gives up instead and
    /// closes the event channel (default every 1 s).
    pub reconnect_every: Option<Duration>,
    /// A running stream that delivers nothing for this long counts as lost (default 2 s;
    /// 3 s more before its first audio). Some backends (ALSA over a vanished sound server)
    /// go quiet instead of failing.
    pub stall_timeout: Duration,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            device: None,
            queue_ms: 1_000,
            reconnect_every: Some(Duration::from_secs(1)),
            stall_timeout: Duration::from_secs(2),
        }
    }
}

/// An input device, as the user may pick it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDevice {
    /// Human-readable name ("PulseAudio Sound Server", "USB Audio, USB Audio").
    pub name: String,
    /// The backend's stable id ("default", "pulse", "hw:CARD=1,DEV=0" on ALSA).
    pub id: String,
    /// Whether this is the system's default input.
    pub is_default: bool,
}

/// The device's own format, before Sotto converts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeFormat {
    pub sample_rate: u32,
    pub channels: u16,
    /// cpal's name for it: "i16", "u16", "f32", ...
    pub sample_format: String,
}

/// A piece of captured audio.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioChunk {
    /// Mono samples at 16 kHz.
    pub samples: Vec<f32>,
    /// Loudness of this chunk, for the level meter.
    pub level: Level,
    /// Chunks dropped since the stream opened because the consumer fell behind.
    pub dropped_chunks: u64,
}

/// What the capture thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureEvent {
    /// The device is open and audio will follow (again, after a [`CaptureEvent::DeviceLost`]).
    Started {
        device: String,
        format: NativeFormat,
    },
    /// 16 kHz mono audio.
    Audio(AudioChunk),
    /// The queue overflowed because events were not read fast enough: totals since the stream
    /// opened. The audio has a gap there.
    Dropped { chunks: u64, samples: u64 },
    /// The device stopped working (unplugged, sound server gone). With
    /// [`CaptureConfig::reconnect_every`] set, a `Started` follows when it is back.
    DeviceLost { device: String, message: String },
}

/// Why capture could not start. Messages say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error(
        "no microphone found ({detail}); plug one in, or choose an input device by name{}",
        choices(available)
    )]
    NoMicrophone {
        detail: String,
        available: Vec<String>,
    },
    #[error("no input device matches \"{name}\"{}", choices(available))]
    DeviceNotFound {
        name: String,
        available: Vec<String>,
    },
    #[error("\"{name}\" matches several input devices ({}); use the full name or the id", matches.join(", "))]
    AmbiguousDevice { name: String, matches: Vec<String> },
    #[error(
        "the microphone \"{device}\" is busy; close the program using it, or choose another device"
    )]
    Busy { device: String },
    #[error("no permission to use the microphone \"{device}\" ({detail}); on Linux, add your user to the `audio` group or allow microphone access in the system settings")]
    PermissionDenied { device: String, detail: String },
    #[error("the microphone \"{device}\" offers no format Sotto can read ({detail}); choose another device")]
    UnsupportedFormat { device: String, detail: String },
    #[error("cannot open the microphone \"{device}\": {detail}; check that it is plugged in and that the sound system is running")]
    Open { device: String, detail: String },
    #[error("cannot list the audio devices: {detail}; check that the sound system is running")]
    Devices { detail: String },
    #[error(
        "cannot start the capture thread: {0}; the system is out of resources, close some programs"
    )]
    Thread(#[source] std::io::Error),
}

fn choices(available: &[String]) -> String {
    if available.is_empty() {
        "; there are no input devices at all".to_owned()
    } else {
        format!("; available: {}", available.join(", "))
    }
}

/// A running capture. Dropping it stops the stream and the capture thread.
#[derive(Debug)]
pub struct Capture {
    flags: Arc<Flags>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Flags {
    stop: AtomicBool,
    restart: AtomicBool,
}

impl Capture {
    /// Opens the device and starts delivering events. Fails right away when the device cannot
    /// be opened; later failures arrive as [`CaptureEvent::DeviceLost`].
    pub fn start(config: CaptureConfig) -> Result<(Capture, Receiver<CaptureEvent>), CaptureError> {
        let device = config.device.clone();
        let (events, receiver) = mpsc::sync_channel(EVENT_BOUND);
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let flags = Arc::new(Flags::default());
        let supervisor = Supervisor {
            config,
            flags: Arc::clone(&flags),
            events,
        };
        let thread = std::thread::Builder::new()
            .name("sotto-capture".to_owned())
            .spawn(move || supervisor.run(ready_tx))
            .map_err(CaptureError::Thread)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok((
                Capture {
                    flags,
                    thread: Some(thread),
                },
                receiver,
            )),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                let detail = "the capture thread ended while opening the device".to_owned();
                let device = device.unwrap_or_else(|| "(default input)".to_owned());
                Err(CaptureError::Open { device, detail })
            }
        }
    }

    /// Closes and reopens the device now: after the user plugged it back in, or to follow a
    /// changed system default. Returns at once; a `Started` (or `DeviceLost`) event follows.
    pub fn restart(&self) {
        self.flags.restart.store(true, Ordering::Release);
    }

    /// Stops capturing; the same as dropping.
    pub fn stop(self) {}
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.flags.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

enum Outcome {
    Stopped,
    Restart,
    Lost { device: String, message: String },
}

struct Supervisor {
    config: CaptureConfig,
    flags: Arc<Flags>,
    events: SyncSender<CaptureEvent>,
}

impl Supervisor {
    fn run(self, ready: SyncSender<Result<(), CaptureError>>) {
        let mut ready = Some(ready);
        // One DeviceLost per outage, however many reopen attempts fail during it.
        let mut outage = false;
        loop {
            let opened = match open(&self.config) {
                Ok(opened) => opened,
                Err(error) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(error));
                        return;
                    }
                    if !outage {
                        outage = true;
                        let device = self.config.device.clone();
                        let device = device.unwrap_or_else(|| "(default input)".to_owned());
                        let message = error.to_string();
                        if !self.send(CaptureEvent::DeviceLost { device, message }) {
                            return;
                        }
                    }
                    if !self.wait_to_retry() {
                        return;
                    }
                    continue;
                }
            };
            outage = false;
            if let Some(ready) = ready.take() {
                let _ = ready.send(Ok(()));
            }
            match self.pump(opened) {
                Outcome::Stopped => return,
                Outcome::Restart => continue,
                Outcome::Lost { device, message } => {
                    outage = true;
                    if !self.send(CaptureEvent::DeviceLost { device, message }) {
                        return;
                    }
                    if !self.wait_to_retry() {
                        return;
                    }
                }
            }
        }
    }

    /// Sleeps until the next reopen attempt; false when capture should end instead.
    fn wait_to_retry(&self) -> bool {
        let Some(every) = self.config.reconnect_every else {
            return false;
        };
        let deadline = Instant::now() + every;
        while Instant::now() < deadline {
            if self.flags.stop.load(Ordering::Acquire) {
                return false;
            }
            if self.flags.restart.swap(false, Ordering::AcqRel) {
                return true;
            }
            std::thread::sleep(POLL);
        }
        !self.flags.stop.load(Ordering::Acquire)
    }

    fn pump(&self, opened: Opened) -> Outcome {
        // `_stream` lives until this function returns: dropping it stops the callback.
        let Opened {
            stream: _stream,
            queue,
            errors,
            device,
            format,
        } = opened;
        let lost = |message: String| Outcome::Lost {
            device: device.clone(),
            message,
        };
        let Ok(mut resampler) = StreamResampler::new(format.sample_rate, TARGET_RATE) else {
            return lost(format!(
                "the device reports an unusable rate of {} Hz",
                format.sample_rate
            ));
        };
        if !self.send(CaptureEvent::Started {
            device: device.clone(),
            format: format.clone(),
        }) {
            return Outcome::Stopped;
        }
        let mut last_audio = Instant::now();
        let mut started = false;
        let mut last_error: Option<String> = None;
        let mut reported_drops = 0;
        loop {
            if self.flags.stop.load(Ordering::Acquire) {
                return Outcome::Stopped;
            }
            if self.flags.restart.swap(false, Ordering::AcqRel) {
                return Outcome::Restart;
            }
            while let Ok(error) = errors.try_recv() {
                match error.kind() {
                    // cpal recovers from these by itself; the gap shows in the audio.
                    ErrorKind::Xrun | ErrorKind::RealtimeDenied => {}
                    ErrorKind::DeviceNotAvailable | ErrorKind::StreamInvalidated => {
                        return lost(format!("the microphone \"{device}\" is gone ({error}); plug it back in, or choose another device"));
                    }
                    _ => last_error = Some(error.to_string()),
                }
            }
            match queue.recv_timeout(POLL) {
                Received::Chunk(chunk) => {
                    last_audio = Instant::now();
                    started = true;
                    let samples = resampler.push(&chunk);
                    queue.recycle(chunk);
                    if !samples.is_empty() {
                        let level = Level::of(&samples);
                        let dropped_chunks = queue.dropped_chunks();
                        let chunk = AudioChunk {
                            samples,
                            level,
                            dropped_chunks,
                        };
                        if !self.send(CaptureEvent::Audio(chunk)) {
                            return Outcome::Stopped;
                        }
                    }
                }
                Received::Timeout => {
                    let grace = if started {
                        Duration::ZERO
                    } else {
                        STARTUP_GRACE
                    };
                    if last_audio.elapsed() >= self.config.stall_timeout + grace {
                        let why = last_error
                            .take()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default();
                        return lost(format!(
                            "the microphone \"{device}\" stopped delivering audio for {:.1} s{why}; check that it is plugged in and the sound system is running",
                            self.config.stall_timeout.as_secs_f64()
                        ));
                    }
                }
                Received::Closed => {
                    return lost(format!("the audio stream of \"{device}\" ended"));
                }
            }
            let dropped = queue.dropped_chunks();
            if dropped > reported_drops {
                reported_drops = dropped;
                let samples = queue.dropped_samples();
                if !self.send(CaptureEvent::Dropped {
                    chunks: dropped,
                    samples,
                }) {
                    return Outcome::Stopped;
                }
            }
        }
    }

    /// Delivers an event, waiting while the channel is full; false when nobody listens any
    /// more or capture is stopping.
    fn send(&self, mut event: CaptureEvent) -> bool {
        loop {
            match self.events.try_send(event) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if self.flags.stop.load(Ordering::Acquire) {
                        return false;
                    }
                    event = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
}
