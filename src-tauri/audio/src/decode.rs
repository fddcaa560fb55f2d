//! Decoding audio files (WAV, FLAC, MP3, OGG Vorbis, AAC in MP4) to mono `f32` with symphonia.
//!
//! Damage policy: a file that is truncated or has corrupt packets is an error, never silently
//! shortened audio. The part that could be decoded travels inside the error
//! ([`AudioError::partial`]), so a caller that prefers "something" over "nothing" (say, a
//! recording cut off by a crash) can still use it, knowingly.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Decoded audio: mono samples at the source's own sample rate.
#[derive(Clone, PartialEq)]
pub struct Audio {
    /// Mono samples (the average of all source channels), nominally in `[-1, 1]`; float files
    /// may exceed that and are not clipped here.
    pub samples: Vec<f32>,
    /// Samples per second, as stored in the source (no resampling happened yet).
    pub sample_rate: u32,
    /// How many channels the source had before they were mixed down to one.
    pub source_channels: u16,
}

/// A summary: a second of audio is tens of thousands of numbers nobody wants in a log.
impl std::fmt::Debug for Audio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audio")
            .field("samples", &format_args!("[{} samples]", self.samples.len()))
            .field("sample_rate", &self.sample_rate)
            .field("source_channels", &self.source_channels)
            .field("duration", &self.duration())
            .finish()
    }
}

impl Audio {
    /// How long the audio lasts (zero for a zero sample rate).
    pub fn duration(&self) -> Duration {
        duration_of(self.samples.len() as u64, self.sample_rate)
    }
}

/// Why a file could not be turned into [`Audio`]. Every message names the file, says what is
/// wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("{}: no such file; check the path", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read {}: {source}; check that it is a file you may read", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is empty: it contains no audio samples; record it again or pick another file", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{} is not a recognised audio file; use WAV, FLAC, MP3, OGG Vorbis or AAC (MP4/M4A)",
        path.display()
    )]
    NotAudio { path: PathBuf },
    #[error("{} is an audio file Sotto cannot decode ({detail}); convert it to WAV or FLAC", path.display())]
    Unsupported { path: PathBuf, detail: String },
    #[error(
        "{} is truncated: it ends after {:.2} s{}; re-export or re-record it (what is there \
         can still be used)",
        path.display(),
        partial.duration().as_secs_f64(),
        expected.map(|e| format!(" of the {:.2} s its header announces", e.as_secs_f64())).unwrap_or_default()
    )]
    Truncated {
        path: PathBuf,
        expected: Option<Duration>,
        partial: Box<Audio>,
    },
    #[error(
        "{} is corrupt ({detail}){}; re-export or re-record it",
        path.display(),
        match partial { Some(p) => format!("; {:.2} s of it could be decoded", p.duration().as_secs_f64()), None => String::new() }
    )]
    Corrupt {
        path: PathBuf,
        detail: String,
        partial: Option<Box<Audio>>,
    },
}

impl AudioError {
    /// The audio that could be decoded before the damage, for truncated and corrupt files.
    pub fn partial(&self) -> Option<&Audio> {
        match self {
            AudioError::Truncated { partial, .. } => Some(partial),
            AudioError::Corrupt { partial, .. } => partial.as_deref(),
            _ => None,
        }
    }

    /// Like [`AudioError::partial`], by value.
    pub fn into_partial(self) -> Option<Audio> {
        match self {
            AudioError::Truncated { partial, .. } => Some(*partial),
            AudioError::Corrupt { partial, .. } => partial.map(|p| *p),
            _ => None,
        }
    }
}

/// Decodes a whole audio file to mono `f32` at its own sample rate.
///
/// The format is recognised from the bytes (the extension is only a hint), so a WAV file named
/// `.mp3` still decodes. See the module docs for how damaged files are reported.
pub fn decode_file(path: impl AsRef<Path>) -> Result<Audio, AudioError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => AudioError::NotFound {
            path: path.to_owned(),
        },
        _ => AudioError::Unreadable {
            path: path.to_owned(),
            source,
        },
    })?;
    let metadata = file.metadata().map_err(|source| AudioError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    if metadata.is_dir() {
        let source = io::Error::other("it is a directory");
        return Err(AudioError::Unreadable {
            path: path.to_owned(),
            source,
        });
    }
    if metadata.len() == 0 {
        return Err(AudioError::Empty {
            path: path.to_owned(),
        });
    }

    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| probe_error(path, e))?;
    Decoding::new(path, format)?.run()
}

fn probe_error(path: &Path, error: SymphoniaError) -> AudioError {
    let path = path.to_owned();
    match error {
        // The probe says Unsupported when no reader recognises the bytes (also when its
        // search for a header reaches the end of a short file): this is not audio.
        SymphoniaError::Unsupported(_) => AudioError::NotAudio { path },
        // A reader recognised a header and ran out of bytes while reading it.
        SymphoniaError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            let detail = "it ends before the audio starts".to_owned();
            AudioError::Corrupt {
                path,
                detail,
                partial: None,
            }
        }
        SymphoniaError::IoError(source) => AudioError::Unreadable { path, source },
        other => AudioError::Corrupt {
            path,
            detail: other.to_string(),
            partial: None,
        },
    }
}

/// One file being decoded: the demuxer, the decoder of its audio track and what came out.
struct Decoding<'a> {
    path: &'a Path,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    sample_rate: u32,
    channels: u16,
    expected_frames: Option<u64>,
    mono: Vec<f32>,
    planes: Vec<Vec<f32>>,
}

/// How the packet loop ended.
enum End {
    Clean,
    /// The container promised more bytes than the file has.
    Truncated,
    /// The demuxer or decoder gave up; the string says why.
    Corrupt(String),
}

impl<'a> Decoding<'a> {
    fn new(path: &'a Path, format: Box<dyn FormatReader>) -> Result<Self, AudioError> {
        let unsupported = |detail: &str| AudioError::Unsupported {
            path: path.to_owned(),
            detail: detail.to_owned(),
        };
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported("it has no audio track"))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| unsupported("its audio track has no codec parameters"))?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymphoniaError::Unsupported(what) => unsupported(what),
                other => AudioError::Corrupt {
                    path: path.to_owned(),
                    detail: other.to_string(),
                    partial: None,
                },
            })?;
        // Containers usually state rate and layout up front; a few (ADTS AAC) only know them
        // once the first packet is decoded, so missing values are filled in from the buffers.
        let sample_rate = params.sample_rate.unwrap_or(0);
        let channels = params.channels.as_ref().map_or(0, |c| c.count()) as u16;
        Ok(Decoding {
            path,
            track_id: track.id,
            expected_frames: track.num_frames,
            format,
            decoder,
            sample_rate,
            channels,
            mono: Vec::new(),
            planes: Vec::new(),
        })
    }

    fn run(mut self) -> Result<Audio, AudioError> {
        let mut end = End::Clean;
        let mut bad_packets = 0usize;
        let mut first_bad: Option<String> = None;
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    end = End::Truncated;
                    break;
                }
                // A chained OGG stream switching to a new logical stream: Sotto reads the first.
                Err(SymphoniaError::ResetRequired) => break,
                Err(other) => {
                    end = End::Corrupt(other.to_string());
                    break;
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    let spec = buffer.spec();
                    if self.sample_rate == 0 {
                        self.sample_rate = spec.rate();
                    }
                    if self.channels == 0 {
                        self.channels = spec.channels().count() as u16;
                    }
                    buffer.copy_to_vecs_planar::<f32>(&mut self.planes);
                    mix_down(&self.planes, buffer.frames(), &mut self.mono);
                }
                // One bad packet: skip it, remember it, keep going (what players do), but the
                // file still counts as corrupt below.
                Err(SymphoniaError::DecodeError(why)) => {
                    bad_packets += 1;
                    first_bad.get_or_insert_with(|| why.to_owned());
                }
                Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    end = End::Truncated;
                    break;
                }
                Err(other) => {
                    end = End::Corrupt(other.to_string());
                    break;
                }
            }
        }
        if let (End::Clean, Some(why)) = (&end, first_bad) {
            end = End::Corrupt(format!("{bad_packets} undecodable packet(s), first: {why}"));
        }
        let decoded = self.mono.len() as u64;
        if let (End::Clean, Some(expected)) = (&end, self.expected_frames.filter(|&e| e > decoded))
        {
            // The demuxer skipped damaged frames and resynchronised (FLAC does): frames are
            // missing from the middle, not the end.
            let rate = self.sample_rate;
            end = End::Corrupt(format!(
                "only {:.2} s of the {:.2} s its header announces could be decoded",
                duration_of(decoded, rate).as_secs_f64(),
                duration_of(expected, rate).as_secs_f64()
            ));
        }
        self.finish(end)
    }

    fn finish(self, end: End) -> Result<Audio, AudioError> {
        let path = self.path.to_owned();
        if self.sample_rate == 0 {
            let detail = "no sample rate in the stream".to_owned();
            return Err(AudioError::Corrupt {
                path,
                detail,
                partial: None,
            });
        }
        let audio = Audio {
            samples: self.mono,
            sample_rate: self.sample_rate,
            source_channels: self.channels.max(1),
        };
        let partial = (!audio.samples.is_empty()).then(|| Box::new(audio.clone()));
        match end {
            End::Clean if audio.samples.is_empty() => Err(AudioError::Empty { path }),
            End::Clean => Ok(audio),
            End::Truncated => match partial {
                Some(partial) => {
                    let expected = self
                        .expected_frames
                        .map(|f| duration_of(f, audio.sample_rate));
                    Err(AudioError::Truncated {
                        path,
                        expected,
                        partial,
                    })
                }
                None => {
                    let detail = "the file ends before its first complete packet".to_owned();
                    Err(AudioError::Corrupt {
                        path,
                        detail,
                        partial: None,
                    })
                }
            },
            End::Corrupt(detail) => Err(AudioError::Corrupt {
                path,
                detail,
                partial,
            }),
        }
    }
}

/// Appends the average of `planes` (one `Vec` per channel) to `mono`. Non-finite samples,
/// which no decoder should produce but a hostile file might, become silence.
fn mix_down(planes: &[Vec<f32>], frames: usize, mono: &mut Vec<f32>) {
    let planes: Vec<&[f32]> = planes
        .iter()
        .filter(|p| p.len() >= frames)
        .map(|p| &p[..frames])
        .collect();
    if planes.is_empty() {
        return;
    }
    let scale = 1.0 / planes.len() as f32;
    mono.reserve(frames);
    for i in 0..frames {
        let sample = planes.iter().map(|p| p[i]).sum::<f32>() * scale;
        mono.push(if sample.is_finite() { sample } else { 0.0 });
    }
}

pub(crate) fn duration_of(frames: u64, rate: u32) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    Duration::from_secs(frames / u64::from(rate))
        + Duration::from_nanos((frames % u64::from(rate)) * 1_000_000_000 / u64::from(rate))
}
