//! Push-to-talk endpointing: turns a continuous 16 kHz stream plus `start`/`stop` presses into
//! utterances.
//!
//! People start talking a moment before (or while) pressing the key, and keep going a moment
//! after releasing it. So the recorder always keeps the last `pre_roll` of audio in a ring
//! buffer; `start` makes that the beginning of the utterance, and `stop` keeps listening for
//! `tail` more before the utterance is handed out. This is pure logic: no clock, no IO; time
//! is counted in samples, so tests can drive it with synthetic chunks.

use std::collections::VecDeque;
use std::time::Duration;

use crate::resample::TARGET_RATE;

/// How the recorder behaves; [`RecorderConfig::default`] suits push-to-talk at 16 kHz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Rate of the samples that will be pushed.
    pub sample_rate: u32,
    /// Audio before `start` that belongs to the utterance (default 300 ms).
    pub pre_roll: Duration,
    /// Audio after `stop` that belongs to the utterance (default 200 ms).
    pub tail: Duration,
    /// An utterance is cut here even if `stop` never comes (default 60 s), so a stuck key
    /// cannot grow memory without bound.
    pub max_length: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            sample_rate: TARGET_RATE,
            pre_roll: Duration::from_millis(300),
            tail: Duration::from_millis(200),
            max_length: Duration::from_secs(60),
        }
    }
}

/// One push-to-talk utterance.
#[derive(Clone, PartialEq)]
pub struct Utterance {
    /// Pre-roll, then what was said while the key was held, then the tail.
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// How many of the first samples came from before `start`.
    pub pre_roll_samples: usize,
    /// How many of the last samples came from after `stop`.
    pub tail_samples: usize,
    pub end: UtteranceEnd,
}

/// A summary instead of every sample.
impl std::fmt::Debug for Utterance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Utterance")
            .field("samples", &format_args!("[{} samples]", self.samples.len()))
            .field("sample_rate", &self.sample_rate)
            .field("pre_roll_samples", &self.pre_roll_samples)
            .field("tail_samples", &self.tail_samples)
            .field("end", &self.end)
            .finish()
    }
}

impl Utterance {
    /// How long the utterance lasts.
    pub fn duration(&self) -> Duration {
        crate::decode::duration_of(self.samples.len() as u64, self.sample_rate)
    }
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtteranceEnd {
    /// `stop` was called and the tail was collected.
    Stopped,
    /// It reached `max_length` first.
    MaxLength,
    /// [`Recorder::finish`] cut it short (the stream ended, the app is closing).
    Finished,
    /// Hands-free: the voice activity detector heard silence for the hangover.
    Silence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Recording,
    Tail { remaining: usize },
}

/// The push-to-talk state machine. Feed it every chunk of the stream with [`Recorder::push`].
#[derive(Debug)]
pub struct Recorder {
    sample_rate: u32,
    pre_roll_capacity: usize,
    tail_length: usize,
    max_length: usize,
    state: State,
    ring: VecDeque<f32>,
    current: Vec<f32>,
    current_pre_roll: usize,
    current_tail: usize,
}

impl Recorder {
    pub fn new(config: RecorderConfig) -> Self {
        let samples = |d: Duration| {
            (d.as_secs_f64() * f64::from(config.sample_rate))
                .round()
                .min(usize::MAX as f64) as usize
        };
        let pre_roll_capacity = samples(config.pre_roll);
        Recorder {
            sample_rate: config.sample_rate,
            pre_roll_capacity,
            tail_length: samples(config.tail),
            // At least the pre-roll plus one sample, or every utterance would end at once.
            max_length: samples(config.max_length).max(pre_roll_capacity + 1),
            state: State::Idle,
            ring: VecDeque::with_capacity(pre_roll_capacity),
            current: Vec::new(),
            current_pre_roll: 0,
            current_tail: 0,
        }
    }

    /// True from `start` until the utterance is handed out (including the tail).
    pub fn is_recording(&self) -> bool {
        self.state != State::Idle
    }

    /// The utterance so far (pre-roll and what was said since `start`), for partial
    /// transcripts; `None` while idle.
    pub fn current(&self) -> Option<&[f32]> {
        (self.state != State::Idle).then_some(self.current.as_slice())
    }

    /// The key went down: the utterance begins with the pre-roll already heard.
    ///
    /// During the tail of the previous utterance, this continues that utterance instead (a
    /// quick release-and-press is one utterance, and nothing falls between two). Returns
    /// whether a new utterance began.
    pub fn start(&mut self) -> bool {
        match self.state {
            State::Idle => {
                self.current = self.ring.drain(..).collect();
                self.current_pre_roll = self.current.len();
                self.current_tail = 0;
                self.state = State::Recording;
                true
            }
            State::Tail { .. } => {
                self.current_tail = 0;
                self.state = State::Recording;
                false
            }
            State::Recording => false,
        }
    }

    /// The key went up: keep `tail` more audio, then [`Recorder::push`] returns the utterance.
    /// With a zero tail the utterance is returned here. Does nothing when not recording.
    pub fn stop(&mut self) -> Option<Utterance> {
        if self.state != State::Recording {
            return None;
        }
        if self.tail_length == 0 {
            return Some(self.take(UtteranceEnd::Stopped));
        }
        self.state = State::Tail {
            remaining: self.tail_length,
        };
        None
    }

    /// Ends the current utterance now with what has been collected (the stream stopped).
    pub fn finish(&mut self) -> Option<Utterance> {
        if self.state == State::Idle {
            return None;
        }
        Some(self.take(UtteranceEnd::Finished))
    }

    /// Feeds the next chunk of the stream; returns an utterance when one is complete.
    ///
    /// Samples after an utterance's end go to the pre-roll for the next one, so every sample
    /// belongs to at most one utterance and none is skipped inside one.
    pub fn push(&mut self, samples: &[f32]) -> Option<Utterance> {
        let mut rest = samples;
        let mut done = None;
        while !rest.is_empty() {
            match self.state {
                State::Idle => {
                    self.remember(rest);
                    rest = &[];
                }
                State::Recording => {
                    let room = self.max_length.saturating_sub(self.current.len());
                    let (now, later) = rest.split_at(room.min(rest.len()));
                    self.current.extend_from_slice(now);
                    rest = later;
                    if self.current.len() >= self.max_length {
                        done = Some(self.take(UtteranceEnd::MaxLength));
                    }
                }
                State::Tail { remaining } => {
                    let (now, later) = rest.split_at(remaining.min(rest.len()));
                    self.current.extend_from_slice(now);
                    self.current_tail += now.len();
                    rest = later;
                    let remaining = remaining - now.len();
                    self.state = State::Tail { remaining };
                    if remaining == 0 {
                        done = Some(self.take(UtteranceEnd::Stopped));
                    }
                }
            }
        }
        done
    }

    fn remember(&mut self, samples: &[f32]) {
        if self.pre_roll_capacity == 0 {
            return;
        }
        let keep = &samples[samples.len().saturating_sub(self.pre_roll_capacity)..];
        let overflow = (self.ring.len() + keep.len()).saturating_sub(self.pre_roll_capacity);
        self.ring.drain(..overflow);
        self.ring.extend(keep.iter().copied());
    }

    fn take(&mut self, end: UtteranceEnd) -> Utterance {
        self.state = State::Idle;
        self.ring.clear();
        Utterance {
            samples: std::mem::take(&mut self.current),
            sample_rate: self.sample_rate,
            pre_roll_samples: std::mem::take(&mut self.current_pre_roll),
            tail_samples: std::mem::take(&mut self.current_tail),
            end,
        }
    }
}
