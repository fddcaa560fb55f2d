//! Sample-rate conversion with rubato: whole buffers ([`resample`]) and streams
//! ([`StreamResampler`]), both ending at Whisper's 16 kHz in practice.
//!
//! Engine choice: rubato's synchronous FFT resampler when the two rates share a large common
//! factor (every standard rate against 16 kHz: 44.1 kHz needs blocks of 441 frames, 48 kHz of
//! 3), because it is fast and exact; the asynchronous sinc resampler otherwise (odd rates such
//! as 44 101 Hz), where an FFT block would have to span a whole second. Both paths trim the
//! resampler's start-up delay and pad the end so that `n` input samples become
//! `ceil(n * to / from)` output samples, aligned with the input.

use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    calculate_cutoff, Async, Fft, FixedAsync, FixedSync, Indexing, Resampler,
    SincInterpolationParameters, SincInterpolationType, WindowFunction,
};

use crate::decode::Audio;

/// The rate speech recognition wants.
pub const TARGET_RATE: u32 = 16_000;

/// Input frames per processing step for whole buffers.
const WHOLE_CHUNK: usize = 4096;
/// Input frames per processing step for streams: ~20 ms at 48 kHz, to keep latency low.
const STREAM_CHUNK: usize = 1024;
/// Above this many input frames in the smallest exact FFT block, use the sinc resampler.
const MAX_FFT_BLOCK: usize = 2048;

/// A resampler could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    #[error("cannot resample from {from} Hz to {to} Hz: a sample rate must be above zero; this is a bug in the caller")]
    ZeroRate { from: u32, to: u32 },
    #[error("cannot resample from {from} Hz to {to} Hz: {detail}")]
    Engine { from: u32, to: u32, detail: String },
}

/// Resamples a whole mono buffer from `from_rate` to `to_rate`.
///
/// The result has `ceil(len * to_rate / from_rate)` samples, aligned with the input (the
/// resampler's delay is trimmed, its tail flushed). A zero rate or empty input gives an empty
/// result; non-finite samples are treated as silence.
pub fn resample(samples: &[f32], from_rate: u32, to_rate: u32) -> Vec<f32> {
    if samples.is_empty() || from_rate == 0 || to_rate == 0 {
        return Vec::new();
    }
    let clean: Vec<f32> = samples
        .iter()
        .map(|&s| if s.is_finite() { s } else { 0.0 })
        .collect();
    if from_rate == to_rate {
        return clean;
    }
    let expected = expected_len(clean.len() as u64, from_rate, to_rate) as usize;
    let result = build_engine(from_rate, to_rate, WHOLE_CHUNK).and_then(|mut engine| {
        let input = InterleavedSlice::new(&clean[..], 1, clean.len()).map_err(engine_error)?;
        let output = engine
            .process_all(&input, clean.len(), None)
            .map_err(engine_error)?;
        Ok(output.take_data())
    });
    match result {
        Ok(mut out) => {
            out.resize(expected, 0.0);
            out
        }
        // Rubato only fails on inconsistent buffer sizes, which the code above rules out; if
        // it ever does, a linear interpolation is a worse answer but better than none.
        Err(_) => linear(&clean, from_rate, to_rate, expected),
    }
}

/// The audio as 16 kHz mono `f32`.
pub fn to_16k_mono(audio: &Audio) -> Vec<f32> {
    resample(&audio.samples, audio.sample_rate, TARGET_RATE)
}

/// The audio as 16 kHz mono `i16` (what whisper.cpp and WAV files take), clipped to full scale.
pub fn to_16k_mono_i16(audio: &Audio) -> Vec<i16> {
    to_16k_mono(audio).iter().map(|&s| f32_to_i16(s)).collect()
}

/// Converts one sample to `i16`, clipping at full scale; NaN becomes silence.
pub fn f32_to_i16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16
}

/// Resamples a stream pushed in chunks of any size, for the capture path.
///
/// Output is produced as soon as a processing block is full ([`StreamResampler::latency`]);
/// [`StreamResampler::flush`] returns the rest so that, over the whole stream, `n` pushed
/// samples give `ceil(n * to / from)` out, exactly what [`resample`] gives for the same audio.
pub struct StreamResampler {
    from_rate: u32,
    to_rate: u32,
    /// `None` when the rates are equal: samples pass through.
    engine: Option<Box<dyn Resampler<f32>>>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    /// Start-up delay (in output frames) still to drop.
    to_trim: usize,
    pushed: u64,
    produced: u64,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from_rate", &self.from_rate)
            .field("to_rate", &self.to_rate)
            .field("pending", &self.pending.len())
            .field("pushed", &self.pushed)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl StreamResampler {
    /// A resampler from `from_rate` to `to_rate`.
    pub fn new(from_rate: u32, to_rate: u32) -> Result<Self, ResampleError> {
        if from_rate == 0 || to_rate == 0 {
            return Err(ResampleError::ZeroRate {
                from: from_rate,
                to: to_rate,
            });
        }
        let engine = if from_rate == to_rate {
            None
        } else {
            Some(
                build_engine(from_rate, to_rate, STREAM_CHUNK).map_err(|detail| {
                    ResampleError::Engine {
                        from: from_rate,
                        to: to_rate,
                        detail,
                    }
                })?,
            )
        };
        let scratch = vec![0.0; engine.as_ref().map_or(0, |e| e.output_frames_max())];
        let to_trim = engine.as_ref().map_or(0, |e| e.output_delay());
        Ok(StreamResampler {
            from_rate,
            to_rate,
            engine,
            pending: Vec::new(),
            scratch,
            to_trim,
            pushed: 0,
            produced: 0,
        })
    }

    /// A resampler from `from_rate` to [`TARGET_RATE`].
    pub fn to_16k(from_rate: u32) -> Result<Self, ResampleError> {
        Self::new(from_rate, TARGET_RATE)
    }

    /// The input rate.
    pub fn from_rate(&self) -> u32 {
        self.from_rate
    }

    /// The output rate.
    pub fn to_rate(&self) -> u32 {
        self.to_rate
    }

    /// The longest a sample may wait inside before it comes out: a processing block, plus
    /// the filter's delay and the FFT's overlap (at most twice the reported delay).
    pub fn latency(&self) -> Duration {
        match &self.engine {
            None => Duration::ZERO,
            Some(e) => {
                let input = e.input_frames_max() as f64 / f64::from(self.from_rate);
                let delay = 2.0 * e.output_delay() as f64 / f64::from(self.to_rate);
                Duration::from_secs_f64(input + delay)
            }
        }
    }

    /// Feeds `input` and appends whatever output is ready to `out`.
    pub fn push_into(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.pushed += input.len() as u64;
        let clean = input.iter().map(|&s| if s.is_finite() { s } else { 0.0 });
        if self.engine.is_none() {
            let before = out.len();
            out.extend(clean);
            self.produced += (out.len() - before) as u64;
            return;
        }
        self.pending.extend(clean);
        let mut offset = 0;
        while let Some(engine) = &self.engine {
            let need = engine.input_frames_next();
            if self.pending.len() - offset < need {
                break;
            }
            let (used, made) = self.step(offset, None);
            self.emit(made, out);
            if used == 0 {
                // Only if rubato rejected its own buffer sizes: drop the input rather than
                // spin or grow without bound.
                offset = self.pending.len();
                break;
            }
            offset += used;
        }
        self.pending.drain(..offset);
    }

    /// Feeds `input` and returns whatever output is ready.
    pub fn push(&mut self, input: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        self.push_into(input, &mut out);
        out
    }

    /// Returns the rest of the stream (the partial block and the filter's tail) and makes the
    /// resampler ready for a new, unrelated stream.
    pub fn flush(&mut self) -> Vec<f32> {
        let mut out = Vec::new();
        let expected = expected_len(self.pushed, self.from_rate, self.to_rate);
        if self.engine.is_some() {
            let mut guard = 0;
            while self.produced < expected && guard < 64 {
                let partial = self.pending.len();
                let (used, made) = self.step(0, Some(partial));
                self.emit(made, &mut out);
                self.pending.drain(..used.min(partial));
                guard += 1;
            }
        }
        // The last block is padded with silence: keep only what the input accounts for.
        let surplus = self.produced.saturating_sub(expected) as usize;
        out.truncate(out.len().saturating_sub(surplus));
        self.reset();
        out
    }

    /// Drops all buffered audio and starts over.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.pushed = 0;
        self.produced = 0;
        if let Some(engine) = &mut self.engine {
            engine.reset();
            self.to_trim = engine.output_delay();
        }
    }

    /// Runs one block from `pending[offset..]` into `scratch`; returns (input used, output made).
    fn step(&mut self, offset: usize, partial: Option<usize>) -> (usize, usize) {
        let Some(engine) = &mut self.engine else {
            return (0, 0);
        };
        let need = engine.input_frames_next();
        let available = self.pending.len() - offset;
        let frames = need.min(available);
        let indexing = Indexing {
            partial_len: partial.map(|p| p.min(need)),
            ..Indexing::new()
        };
        let input = &self.pending[offset..offset + frames];
        let result = InterleavedSlice::new(input, 1, frames).and_then(|input| {
            let capacity = self.scratch.len();
            InterleavedSlice::new_mut(&mut self.scratch[..], 1, capacity).map(|out| (input, out))
        });
        let Ok((input, mut output)) = result else {
            return (0, 0);
        };
        // With `partial_len` set rubato reads only that many frames, so a short slice is fine.
        let indexing = if frames < need {
            Some(&indexing)
        } else {
            partial.map(|_| &indexing)
        };
        match engine.process_into_buffer(&input, &mut output, indexing) {
            Ok((used, made)) => (used.min(available), made),
            Err(_) => (available, 0),
        }
    }

    fn emit(&mut self, made: usize, out: &mut Vec<f32>) {
        let skip = self.to_trim.min(made);
        self.to_trim -= skip;
        out.extend_from_slice(&self.scratch[skip..made]);
        self.produced += (made - skip) as u64;
    }
}

fn build_engine(
    from_rate: u32,
    to_rate: u32,
    chunk: usize,
) -> Result<Box<dyn Resampler<f32>>, String> {
    let (from, to) = (from_rate as usize, to_rate as usize);
    let block = from / gcd(from, to);
    if block <= MAX_FFT_BLOCK {
        let sub_chunks = (chunk / 256).max(1);
        let engine = Fft::<f32>::new_custom(
            from,
            to,
            chunk,
            sub_chunks,
            1,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| e.to_string())?;
        return Ok(Box::new(engine));
    }
    let window = WindowFunction::BlackmanHarris2;
    let parameters = SincInterpolationParameters {
        sinc_len: 256,
        f_cutoff: Some(calculate_cutoff(256, window)),
        oversampling_factor: 256,
        interpolation: SincInterpolationType::Cubic,
        window,
    };
    let ratio = f64::from(to_rate) / f64::from(from_rate);
    let engine = Async::<f32>::new_sinc(ratio, 1.0, &parameters, chunk, 1, FixedAsync::Input)
        .map_err(|e| e.to_string())?;
    Ok(Box::new(engine))
}

fn engine_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn expected_len(input: u64, from_rate: u32, to_rate: u32) -> u64 {
    (input * u64::from(to_rate)).div_ceil(u64::from(from_rate))
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Plain linear interpolation: the fallback if rubato ever refuses a buffer.
fn linear(samples: &[f32], from_rate: u32, to_rate: u32, len: usize) -> Vec<f32> {
    let step = f64::from(from_rate) / f64::from(to_rate);
    (0..len)
        .map(|i| {
            let position = i as f64 * step;
            let index = position.floor() as usize;
            let fraction = (position - index as f64) as f32;
            let a = samples.get(index).copied().unwrap_or(0.0);
            let b = samples.get(index + 1).copied().unwrap_or(a);
            a + (b - a) * fraction
        })
        .collect()
}
