//! Hands-free endpointing: a voice activity detector decides where an utterance begins and
//! ends, so nobody has to hold a key.
//!
//! The detector itself (Silero, in the speech worker) is not called from here: this is the
//! pure state machine around it. The caller pushes the 16 kHz stream, now and then asks for
//! [`HandsFree::vad_window`] (the last couple of seconds), runs the detector on it, and hands
//! the speech segments it found back to [`HandsFree::observe`]. Time is counted in samples
//! since the stream began, so tests drive it with synthetic segments and no clock.
//!
//! An utterance starts at the first speech (minus a pre-roll, so a soft first syllable the
//! detector missed is kept) and ends once no speech was seen for `hangover`; it keeps a short
//! `tail` of the silence after the last word, as push-to-talk does.

use std::ops::Range;
use std::time::Duration;

use crate::recorder::{Utterance, UtteranceEnd};
use crate::resample::TARGET_RATE;

/// How hands-free endpointing behaves; the defaults suit spoken commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandsFreeConfig {
    pub sample_rate: u32,
    /// Audio kept from before the first detected speech (default 300 ms).
    pub pre_roll: Duration,
    /// Silence after the last speech that ends the utterance (default 700 ms). Shorter cuts
    /// people off mid-sentence when they pause; longer makes every answer wait.
    pub hangover: Duration,
    /// Silence kept after the last speech (default 200 ms, at most `hangover`).
    pub tail: Duration,
    /// Speech shorter than this does not start an utterance (a cough, a click; default 200 ms).
    pub min_speech: Duration,
    /// An utterance is cut here even if the speaking never stops (default 30 s: Whisper's
    /// window, and a bound on memory).
    pub max_length: Duration,
    /// How much recent audio [`HandsFree::vad_window`] hands out (default 2 s): enough for the
    /// detector's context, small enough to be cheap to run several times a second.
    pub vad_window: Duration,
}

impl Default for HandsFreeConfig {
    fn default() -> Self {
        HandsFreeConfig {
            sample_rate: TARGET_RATE,
            pre_roll: Duration::from_millis(300),
            hangover: Duration::from_millis(700),
            tail: Duration::from_millis(200),
            min_speech: Duration::from_millis(200),
            max_length: Duration::from_secs(30),
            vad_window: Duration::from_secs(2),
        }
    }
}

/// What an observation changed.
#[derive(Debug, Clone, PartialEq)]
pub enum HandsFreeEvent {
    /// Speech began; the utterance starts at this sample (pre-roll included).
    Started { at_sample: u64 },
    /// The utterance is complete.
    Ended {
        utterance: Utterance,
        /// Sample position of the end of the last speech: when the person stopped talking.
        speech_end_sample: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Speaking {
        start: u64,
        speech_start: u64,
        last_speech_end: u64,
    },
}

/// The hands-free state machine.
#[derive(Debug)]
pub struct HandsFree {
    sample_rate: u32,
    pre_roll: u64,
    hangover: u64,
    tail: u64,
    min_speech: u64,
    max_length: u64,
    vad_window: u64,
    /// Samples from absolute position `base` on.
    buffer: Vec<f32>,
    base: u64,
    state: State,
}

impl HandsFree {
    pub fn new(config: HandsFreeConfig) -> HandsFree {
        let samples =
            |d: Duration| (d.as_secs_f64() * f64::from(config.sample_rate)).round() as u64;
        let hangover = samples(config.hangover).max(1);
        HandsFree {
            sample_rate: config.sample_rate,
            pre_roll: samples(config.pre_roll),
            hangover,
            tail: samples(config.tail).min(hangover),
            min_speech: samples(config.min_speech),
            max_length: samples(config.max_length).max(1),
            vad_window: samples(config.vad_window).max(1),
            buffer: Vec::new(),
            base: 0,
            state: State::Waiting,
        }
    }

    /// Samples pushed since the stream began.
    pub fn position(&self) -> u64 {
        self.base + self.buffer.len() as u64
    }

    /// Whether an utterance is in progress.
    pub fn is_speaking(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// Appends the next chunk of the stream. While waiting, only the audio a future
    /// utterance could need is kept.
    pub fn push(&mut self, samples: &[f32]) {
        self.buffer.extend_from_slice(samples);
        if self.state == State::Waiting {
            let keep = (self.pre_roll + self.vad_window) as usize;
            self.discard_before(self.position().saturating_sub(keep as u64));
        }
    }

    /// The most recent audio for the detector: its absolute start and the samples.
    pub fn vad_window(&self) -> (u64, &[f32]) {
        let start = self
            .position()
            .saturating_sub(self.vad_window)
            .max(self.base);
        (start, self.slice(start..self.position()))
    }

    /// The utterance so far (for partial transcripts), or `None` while waiting.
    pub fn current(&self) -> Option<&[f32]> {
        match self.state {
            State::Speaking { start, .. } => Some(self.slice(start..self.position())),
            State::Waiting => None,
        }
    }

    /// Takes the detector's verdict on the window that started at `window_start` and had
    /// `window_len` samples: `segments` are its speech, in ms from the window's start. A window
    /// can hold the end of one utterance and the start of the next (a backlog being caught
    /// up), so several events may come out, in order.
    pub fn observe(
        &mut self,
        window_start: u64,
        window_len: u64,
        segments: &[Range<u64>],
    ) -> Vec<HandsFreeEvent> {
        let window_end = (window_start + window_len).min(self.position());
        let to_samples = |ms: u64| window_start + ms * u64::from(self.sample_rate) / 1000;
        let mut speech: Vec<Range<u64>> = segments
            .iter()
            .map(|s| to_samples(s.start)..to_samples(s.end).min(window_end))
            .filter(|s| s.end > s.start)
            .collect();
        speech.sort_by_key(|s| s.start);
        let mut events = Vec::new();
        for segment in speech {
            match self.state {
                State::Waiting => events.extend(self.begin(segment)),
                State::Speaking {
                    start,
                    speech_start,
                    last_speech_end,
                } => {
                    if segment.start >= last_speech_end + self.hangover {
                        // A pause long enough to end the utterance, inside the window.
                        let end = last_speech_end + self.tail;
                        events.push(self.take(start, end, last_speech_end, UtteranceEnd::Silence));
                        events.extend(self.begin(segment));
                    } else {
                        self.state = State::Speaking {
                            start,
                            speech_start,
                            last_speech_end: last_speech_end.max(segment.end),
                        };
                    }
                }
            }
        }
        if let State::Speaking {
            start,
            last_speech_end,
            ..
        } = self.state
        {
            if window_end.saturating_sub(start) >= self.max_length {
                let end = (start + self.max_length).min(self.position());
                events.push(self.take(start, end, last_speech_end, UtteranceEnd::MaxLength));
            } else if window_end.saturating_sub(last_speech_end) >= self.hangover {
                let end = (last_speech_end + self.tail).min(self.position());
                events.push(self.take(start, end, last_speech_end, UtteranceEnd::Silence));
            }
        }
        events
    }

    /// Starts an utterance at `segment` while waiting, if it is speech enough. Speech before
    /// the last utterance's end was part of that one; a blip still going on at the window's
    /// end is looked at again, longer, in the next window.
    fn begin(&mut self, segment: Range<u64>) -> Option<HandsFreeEvent> {
        let segment = segment.start.max(self.base)..segment.end;
        if segment.end <= segment.start || segment.end - segment.start < self.min_speech {
            return None;
        }
        let start = segment.start.saturating_sub(self.pre_roll).max(self.base);
        self.state = State::Speaking {
            start,
            speech_start: segment.start,
            last_speech_end: segment.end,
        };
        Some(HandsFreeEvent::Started { at_sample: start })
    }

    /// Ends the utterance in progress with what has been heard (the stream stopped).
    pub fn finish(&mut self) -> Option<Utterance> {
        let State::Speaking {
            start,
            last_speech_end,
            ..
        } = self.state
        else {
            return None;
        };
        match self.take(
            start,
            self.position(),
            last_speech_end,
            UtteranceEnd::Finished,
        ) {
            HandsFreeEvent::Ended { utterance, .. } => Some(utterance),
            HandsFreeEvent::Started { .. } => None,
        }
    }

    fn take(&mut self, start: u64, end: u64, speech_end: u64, how: UtteranceEnd) -> HandsFreeEvent {
        let pre_roll = match self.state {
            State::Speaking { speech_start, .. } => speech_start.saturating_sub(start),
            State::Waiting => 0,
        };
        let samples = self.slice(start..end).to_vec();
        let utterance = Utterance {
            pre_roll_samples: pre_roll as usize,
            tail_samples: end.saturating_sub(speech_end.min(end)) as usize,
            samples,
            sample_rate: self.sample_rate,
            end: how,
        };
        self.state = State::Waiting;
        // What follows the utterance stays: it may be the pre-roll of the next one.
        self.discard_before(end);
        HandsFreeEvent::Ended {
            utterance,
            speech_end_sample: speech_end,
        }
    }

    fn slice(&self, range: Range<u64>) -> &[f32] {
        let from = range.start.saturating_sub(self.base) as usize;
        let to = (range.end.saturating_sub(self.base) as usize).min(self.buffer.len());
        &self.buffer[from.min(to)..to]
    }

    fn discard_before(&mut self, position: u64) {
        let drop = position
            .saturating_sub(self.base)
            .min(self.buffer.len() as u64);
        if drop > 0 {
            self.buffer.drain(..drop as usize);
            self.base += drop;
        }
    }
}
