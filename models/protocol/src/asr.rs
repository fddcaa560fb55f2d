//! Messages between the app and `sotto-asr`, the speech worker. Since version 1.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::WorkerFailure;

/// The sample rate every worker expects; the app resamples before sending.
pub const SAMPLE_RATE: u32 = 16_000;

/// App -> `sotto-asr`. Since version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AsrRequest {
    /// Load (or switch to) a whisper.cpp model, and optionally a Silero VAD model.
    Load {
        model: PathBuf,
        vad_model: Option<PathBuf>,
        threads: u32,
    },
    /// Transcribe one utterance.
    Transcribe {
        id: u64,
        audio: Pcm,
        options: DecodeOptions,
    },
    /// Find the speech in audio with the VAD model.
    DetectSpeech { id: u64, audio: Pcm },
    /// Finish the current request, then exit.
    Shutdown,
}

/// 16 kHz mono signed 16-bit samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pcm {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

/// How much of Whisper's 30 s window the encoder looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioContext {
    /// The whole 30 s window (1500 frames): slowest, the reference for accuracy.
    Full,
    /// Scaled to the utterance (plus a margin), with a fallback to the full window when the
    /// result looks like a repetition hallucination.
    Scaled,
    /// Scaled with no fallback: fast and unsafe (runaway repetitions on real speech). Only
    /// for measuring what the fallback is worth; workers older than this refuse it.
    ScaledUnchecked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodeOptions {
    /// ISO 639-1 code; `None` lets a multilingual model detect it.
    pub language: Option<String>,
    /// Words to bias recognition toward (tool names, app names, contacts).
    pub initial_prompt: Option<String>,
    pub audio_context: AudioContext,
    /// 1 for greedy decoding.
    pub beam_size: u32,
    /// Fuse an n-gram language model into a beam search (`None`: Whisper alone). Since
    /// protocol 3; a request without it decodes as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fusion: Option<Fusion>,
}

/// Shallow fusion of word n-gram models into the decode: each hypothesis is scored as
/// Whisper's log-probability + `alpha` * the language model's (natural) log-probability of its
/// completed words + `beta` * its word count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    /// ARPA files: one model, or two mixed linearly (the personal model first).
    pub models: Vec<PathBuf>,
    /// The first model's share of the mixture (ignored for one model).
    pub weight: f32,
    pub alpha: f32,
    pub beta: f32,
    pub method: FusionMethod,
    /// The user's names and terms, for a gated decode: Whisper first decodes alone (with
    /// `DecodeOptions::initial_prompt`), and only when that transcript has words that sound
    /// like some of these names is the utterance decoded again, fused, with those names first
    /// in the prompt and the others after them ([`glossary_prompt`]). Empty: every utterance
    /// is fused, prompted with `initial_prompt`. Since protocol 3 (a request without it fuses
    /// every utterance).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// How alike (0-1) a transcript's words and a name must sound for the gated decode to
    /// fuse: the share of their phonetic codes in common.
    #[serde(default)]
    pub name_match: f32,
}

/// Whisper's prompt naming `words`, or `None` for an empty list: "Glossary: Siobhan,
/// Inkscape." Each word once (ignoring case), within about 150 tokens (600 characters), in
/// the order given.
///
/// Whisper continues the style and spelling of the text before the audio, so a glossary line
/// makes rare names come out as written ("Siobhan", not "Shiv on"). The prompt shares the
/// decoder's 448-token context with the transcript, and each prompt token costs the decoder
/// about 1.2 ms on 2 cores (whisper.cpp computes the vocabulary's logits for every token of a
/// batch, not only the last).
pub fn glossary_prompt<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<String> {
    const MAX_CHARS: usize = 600;
    let mut seen = std::collections::HashSet::new();
    let mut prompt = String::from("Glossary:");
    let mut any = false;
    for word in words {
        let word = word.trim();
        if word.is_empty() || !seen.insert(word.to_lowercase()) {
            continue;
        }
        if prompt.len() + word.len() + 3 > MAX_CHARS {
            break;
        }
        prompt.push_str(if any { ", " } else { " " });
        prompt.push_str(word);
        any = true;
    }
    any.then(|| prompt + ".")
}

/// How the language model enters the decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FusionMethod {
    /// Sotto's own beam search: scores are added exactly, per completed word, with cached
    /// language-model states.
    Beam,
    /// whisper.cpp's beam search with the scores added to the logits through its filter
    /// callback: cheaper, but whisper.cpp renormalises after the filter, which dilutes them.
    LogitBias,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            language: Some("en".into()),
            initial_prompt: None,
            audio_context: AudioContext::Scaled,
            beam_size: 1,
            fusion: None,
        }
    }
}

/// `sotto-asr` -> app. Since version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AsrResponse {
    Loaded {
        model: PathBuf,
        load_ms: u64,
        multilingual: bool,
    },
    Transcript(Transcript),
    Speech {
        id: u64,
        segments: Vec<SpeechSegment>,
    },
    Failed {
        id: Option<u64>,
        failure: WorkerFailure,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub id: u64,
    pub text: String,
    pub language: Option<String>,
    pub audio_ms: u64,
    pub decode_ms: u64,
    /// Encoder frames used (1500 = the full window).
    pub audio_ctx: u32,
    /// The scaled decode looked like a hallucination and was redone on the full window.
    pub fell_back: bool,
    /// Mean log-probability of the kept decode's text tokens (0 when it has none): how sure
    /// the model was. Whisper distrusts a decode below -1.0.
    #[serde(default)]
    pub mean_logprob: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeechSegment {
    pub start_ms: u64,
    pub end_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::glossary_prompt;

    #[test]
    fn the_glossary_lists_each_word_once_within_budget() {
        assert_eq!(glossary_prompt([]), None);
        assert_eq!(glossary_prompt([" ", ""]), None);
        assert_eq!(
            glossary_prompt(["Siobhan", "Inkscape", "siobhan", " Joaquin "]).as_deref(),
            Some("Glossary: Siobhan, Inkscape, Joaquin.")
        );
        let many: Vec<String> = (0..500).map(|i| format!("Name{i}")).collect();
        let prompt = glossary_prompt(many.iter().map(String::as_str)).unwrap();
        assert!(prompt.len() <= 601, "{}", prompt.len());
        assert!(prompt.ends_with('.'));
    }
}
