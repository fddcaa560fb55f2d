//! Sotto's audio toolkit: from files and microphones to the 16 kHz mono samples speech
//! recognition takes.
//!
//! - [`decode_file`]: WAV (any rate, bit depth, channel count), FLAC, MP3, OGG Vorbis and AAC
//!   in MP4 to mono `f32` at the file's own rate ([`Audio`]), with one error per way a file
//!   can be wrong ([`AudioError`]). Damaged files are errors that still carry what could be
//!   decoded.
//! - [`resample`] / [`to_16k_mono_i16`]: whole-buffer conversion with rubato;
//!   [`StreamResampler`] does the same for a stream pushed in chunks of any size.
//! - [`Capture`]: the microphone through cpal at its native format, mixed down in the audio
//!   callback, handed over through a bounded queue that never blocks the callback (drops are
//!   counted and reported), resampled on a capture thread; device loss and return are events.
//! - [`Recorder`]: push-to-talk endpointing with pre-roll and tail; [`HandsFree`]: the same
//!   decided by a voice activity detector, with a configurable hangover.
//!
//! Design trade-off: capture hands out plain `std::sync::mpsc` channels and threads rather
//! than async streams, because the audio callback is a real-time thread that must not touch an
//! executor, and a blocking receiver is easy to bridge to any runtime (or a Tauri channel) at
//! the edge. This crate knows nothing about Tauri, the store or the speech engines.
//!
//! ```no_run
//! # fn main() -> Result<(), sotto_audio::AudioError> {
//! let audio = sotto_audio::decode_file("command.flac")?;
//! println!("{} Hz, {} channel(s), {:.2} s", audio.sample_rate, audio.source_channels,
//!     audio.duration().as_secs_f64());
//! let pcm: Vec<i16> = sotto_audio::to_16k_mono_i16(&audio); // what whisper.cpp takes
//! # let _ = pcm; Ok(()) }
//! ```

mod capture;
mod decode;
mod hands_free;
mod level;
mod queue;
mod recorder;
mod resample;

pub use capture::{
    list_input_devices, AudioChunk, Capture, CaptureConfig, CaptureError, CaptureEvent,
    InputDevice, NativeFormat,
};
pub use decode::{decode_file, Audio, AudioError};
pub use hands_free::{HandsFree, HandsFreeConfig, HandsFreeEvent};
pub use level::{Level, SILENCE_DBFS};
pub use recorder::{Recorder, RecorderConfig, Utterance, UtteranceEnd};
pub use resample::{
    f32_to_i16, resample, to_16k_mono, to_16k_mono_i16, ResampleError, StreamResampler, TARGET_RATE,
};
