//! whisper.cpp and Silero VAD behind the worker's requests: loading, transcription with a
//! scaled audio context and a hallucination fallback, speech detection.

use std::path::Path;
use std::time::Instant;

use sotto_protocol::asr::{
    glossary_prompt, AudioContext, DecodeOptions, Fusion, FusionMethod, Pcm, SpeechSegment,
    Transcript, SAMPLE_RATE,
};
use sotto_protocol::{ErrorKind, WorkerFailure};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperVadContext,
    WhisperVadContextParams, WhisperVadParams,
};

use crate::beam::{self, Settings};
use crate::decode;
use crate::fused::{self, BeamJob, Pieces};
use crate::fusion::{self, LmKey, LoadedLm};
use crate::names;

pub struct Engine {
    context: WhisperContext,
    /// Reused across utterances: creating one allocates ~190 MB of compute buffers, which
    /// cost more than decoding a short command. `no_context` keeps utterances independent.
    state: whisper_rs::WhisperState,
    vad: Option<WhisperVadContext>,
    threads: i32,
    /// The text tokens' bytes, for fusion.
    pieces: Pieces,
    /// The language model fusion last asked for, kept while its files are unchanged.
    lm: Option<(LmKey, LoadedLm)>,
    pub load_ms: u64,
}

fn failure(kind: ErrorKind, message: impl Into<String>) -> WorkerFailure {
    WorkerFailure {
        kind,
        message: message.into(),
    }
}

impl Engine {
    pub fn load(
        model: &Path,
        vad_model: Option<&Path>,
        threads: u32,
    ) -> Result<Engine, WorkerFailure> {
        let started = Instant::now();
        let model_str = path_str(model)?;
        if !model.is_file() {
            return Err(failure(
                ErrorKind::Model,
                format!("no model file at {}", model.display()),
            ));
        }
        let context =
            WhisperContext::new_with_params(model_str, WhisperContextParameters::default())
                .map_err(|e| {
                    failure(
                        ErrorKind::Model,
                        format!(
                            "{} is not a usable whisper.cpp model ({e}); run `sotto models verify`",
                            model.display()
                        ),
                    )
                })?;
        let threads = threads.clamp(1, 64) as i32;
        let vad = match vad_model {
            None => None,
            Some(path) => {
                if !path.is_file() {
                    return Err(failure(
                        ErrorKind::Model,
                        format!("no VAD model file at {}", path.display()),
                    ));
                }
                let mut params = WhisperVadContextParams::new();
                params.set_n_threads(threads);
                Some(
                    WhisperVadContext::new(path_str(path)?, params).map_err(|e| {
                        failure(
                            ErrorKind::Model,
                            format!("{} is not a usable Silero VAD model ({e})", path.display()),
                        )
                    })?,
                )
            }
        };
        let state = context.create_state().map_err(|e| {
            failure(
                ErrorKind::Engine,
                format!("cannot create a decoder state: {e}"),
            )
        })?;
        Ok(Engine {
            pieces: Pieces::new(&context),
            context,
            state,
            vad,
            threads,
            lm: None,
            load_ms: started.elapsed().as_millis() as u64,
        })
    }

    pub fn multilingual(&self) -> bool {
        self.context.is_multilingual()
    }

    pub fn transcribe(
        &mut self,
        id: u64,
        audio: &Pcm,
        options: &DecodeOptions,
    ) -> Result<Transcript, WorkerFailure> {
        let samples = to_f32(audio)?;
        let audio_ms = samples.len() as u64 * 1000 / SAMPLE_RATE as u64;
        let language = match (&options.language, self.multilingual()) {
            (Some(lang), true) => Some(lang.clone()),
            (None, true) => None, // detect
            (Some(lang), false) if lang != "en" => {
                return Err(failure(ErrorKind::BadRequest, format!("this model only understands English, not {lang:?}; choose a multilingual model")));
            }
            (_, false) => Some("en".to_string()),
        };
        let started = Instant::now();
        let mut fell_back = false;
        // The scaled decode, when it is asked for and kept.
        let mut kept = None;
        if matches!(
            options.audio_context,
            AudioContext::Scaled | AudioContext::ScaledUnchecked
        ) {
            let padded = decode::with_lead_in(&samples);
            let padded_ms = audio_ms + decode::LEAD_IN_MS;
            let audio_ctx = decode::scaled_audio_ctx(padded_ms);
            let (mut text, mean_logprob) = self.run(&Window {
                samples: &padded,
                audio_ms: padded_ms,
                audio_ctx,
                language: language.as_deref(),
                options,
            })?;
            if options.audio_context == AudioContext::Scaled {
                if let Some(first) = decode::first_of_repeats(&text) {
                    tracing::info!(audio_ctx, %text, "scaled decode repeats itself; keeping the first saying");
                    text = first.to_string();
                }
                if decode::looks_hallucinated(&text, audio_ms) {
                    tracing::info!(audio_ctx, %text, "scaled decode looks like a repetition loop; redoing with the full window");
                    fell_back = true;
                } else if decode::unsure(mean_logprob) {
                    tracing::info!(audio_ctx, %text, mean_logprob, "scaled decode is unsure; redoing with the full window");
                    fell_back = true;
                }
            }
            if !fell_back {
                kept = Some((text, mean_logprob, audio_ctx));
            }
        }
        let (text, mean_logprob, audio_ctx) = match kept {
            Some(scaled) => scaled,
            None => {
                let (text, mean_logprob) = self.run(&Window {
                    samples: &samples,
                    audio_ms,
                    audio_ctx: decode::FULL_AUDIO_CTX,
                    language: language.as_deref(),
                    options,
                })?;
                (text, mean_logprob, decode::FULL_AUDIO_CTX)
            }
        };
        Ok(Transcript {
            id,
            text: text.trim().to_string(),
            language,
            audio_ms,
            decode_ms: started.elapsed().as_millis() as u64,
            audio_ctx,
            fell_back,
            mean_logprob,
        })
    }

    fn run(&mut self, window: &Window<'_>) -> Result<(String, f32), WorkerFailure> {
        let Some(fusion) = &window.options.fusion else {
            return self.run_whisper(window, None);
        };
        if !fusion.names.is_empty() {
            return self.run_gated(window, fusion);
        }
        self.load_lm(fusion)?;
        match fusion.method {
            FusionMethod::LogitBias => self.run_whisper(window, Some(fusion)),
            FusionMethod::Beam => self.run_beam(window, fusion, Encoded::No),
        }
    }

    /// Gated fusion: Whisper alone first; then, only if its transcript sounds like some of the
    /// user's names, the fused search with those names first in the glossary prompt, on the
    /// audio Whisper has already encoded.
    fn run_gated(
        &mut self,
        window: &Window<'_>,
        fusion: &Fusion,
    ) -> Result<(String, f32), WorkerFailure> {
        let alone = DecodeOptions {
            fusion: None,
            ..window.options.clone()
        };
        let plain = self.run_whisper(
            &Window {
                options: &alone,
                ..*window
            },
            None,
        )?;
        let suspected = names::suspected(&fusion.names, &plain.0, fusion.name_match);
        if suspected.is_empty() {
            return Ok(plain);
        }
        tracing::info!(heard = %plain.0, ?suspected, "a name may be misheard; decoding again with the language model");
        self.load_lm(fusion)?;
        // The suspected names first, then the rest of the user's: on the names set's tuning
        // half, the suspected ones alone measured 30.5-47.0% WER over five runs, all the
        // names 32.5-35.1%. Whisper's prompt holds only the first ~150 tokens.
        let prompt = glossary_prompt(
            suspected
                .iter()
                .copied()
                .chain(fusion.names.iter().map(String::as_str)),
        );
        let fused = DecodeOptions {
            initial_prompt: prompt,
            ..window.options.clone()
        };
        let window = Window {
            options: &fused,
            ..*window
        };
        let fused = match fusion.method {
            FusionMethod::LogitBias => self.run_whisper(&window, Some(fusion)),
            FusionMethod::Beam => self.run_beam(&window, fusion, Encoded::Yes),
        }?;
        if names::runs_on(&plain.0, &fused.0) {
            tracing::info!(heard = %plain.0, fused = %fused.0, "the fused decode runs on past what Whisper heard; keeping Whisper's");
            return Ok(plain);
        }
        if names::loses_a_name(&fusion.names, &plain.0, &fused.0) {
            tracing::info!(heard = %plain.0, fused = %fused.0, "the fused decode loses a name Whisper heard; keeping Whisper's");
            return Ok(plain);
        }
        Ok(fused)
    }

    /// Loads the models `fusion` names unless they are loaded and unchanged on disk.
    fn load_lm(&mut self, fusion: &Fusion) -> Result<(), WorkerFailure> {
        let key = LmKey::new(&fusion.models, fusion.weight);
        if self.lm.as_ref().is_some_and(|(loaded, _)| *loaded == key) {
            return Ok(());
        }
        self.lm = None;
        let started = Instant::now();
        let lm = fusion::load(&fusion.models, fusion.weight)?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "language model loaded for fusion"
        );
        self.lm = Some((key, lm));
        Ok(())
    }

    /// Sotto's beam search with the language model: whisper.cpp encodes the audio (and
    /// decodes one token, which is thrown away), then the search drives its decoder.
    fn run_beam(
        &mut self,
        window: &Window<'_>,
        fusion: &Fusion,
        encoded: Encoded,
    ) -> Result<(String, f32), WorkerFailure> {
        let options = window.options;
        if encoded == Encoded::No {
            // The prompt is left out: whisper.cpp would decode it only to throw the token
            // away, and the search decodes it again (measured: ~240 ms for a 130-token
            // glossary).
            let encode_only = DecodeOptions {
                beam_size: 1,
                fusion: None,
                initial_prompt: None,
                ..options.clone()
            };
            let encode = Window {
                options: &encode_only,
                ..*window
            };
            let mut params = params(self.threads, &encode);
            params.set_max_tokens(1);
            params.set_temperature_inc(0.0);
            self.state
                .full(params, window.samples)
                .map_err(|e| failure(ErrorKind::Engine, format!("encoding failed: {e}")))?;
        }
        let mut prompt = Vec::new();
        if let Some(text) = options.initial_prompt.as_deref().filter(|p| !p.is_empty()) {
            let tokens = self.context.tokenize(text, 1024).map_err(|e| {
                failure(
                    ErrorKind::BadRequest,
                    format!("cannot tokenize the prompt: {e}"),
                )
            })?;
            // As whisper.cpp does: the previous-text marker, then at most the last half of the
            // decoder's context.
            prompt.push(self.context.token_prev());
            let keep = tokens.len().min(MAX_PROMPT_TOKENS);
            prompt.extend_from_slice(&tokens[tokens.len() - keep..]);
        }
        prompt.push(self.context.token_sot());
        if self.multilingual() {
            prompt.push(
                self.context
                    .token_lang(self.state.full_lang_id_from_state()),
            );
            prompt.push(self.context.token_transcribe());
        }
        prompt.push(self.context.token_not());
        let Some((_, lm)) = self.lm.as_ref() else {
            return Err(failure(ErrorKind::Engine, "no language model loaded"));
        };
        let job = BeamJob {
            context: &self.context,
            state: &mut self.state,
            pieces: &self.pieces,
            threads: self.threads as usize,
            prompt,
            settings: Settings {
                beam_size: options.beam_size.clamp(1, 8) as usize,
                max_tokens: decode::max_tokens(window.audio_ms) as usize,
                prune: beam::DEFAULT_PRUNE,
            },
        };
        fused::beam_search(job, lm, fusion.alpha, fusion.beta)
            .map_err(|e| failure(ErrorKind::Engine, e))
    }
}

/// Whether the decoder state already holds the encoder's output for this window (the search
/// then skips encoding it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoded {
    Yes,
    No,
}

/// One decode's input: the audio, the encoder window it is decoded in, and how.
#[derive(Clone, Copy)]
struct Window<'a> {
    samples: &'a [f32],
    audio_ms: u64,
    /// The encoder's context in frames ([`decode::FULL_AUDIO_CTX`] is Whisper's 30 s).
    audio_ctx: u32,
    language: Option<&'a str>,
    options: &'a DecodeOptions,
}

/// whisper.cpp's parameters for one decode of `window`.
fn params<'a>(threads: i32, window: &Window<'a>) -> FullParams<'a, 'a> {
    let &Window {
        audio_ms,
        audio_ctx,
        language,
        options,
        ..
    } = window;
    let strategy = if options.beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: options.beam_size.min(8) as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    };
    let mut params = FullParams::new(strategy);
    params.set_n_threads(threads);
    params.set_language(language);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_no_timestamps(true);
    params.set_single_segment(audio_ms <= 30_000);
    params.set_no_context(true);
    params.set_suppress_blank(true);
    if audio_ctx < decode::FULL_AUDIO_CTX {
        params.set_audio_ctx(audio_ctx as i32);
    }
    params.set_max_tokens(decode::max_tokens(audio_ms) as i32);
    if let Some(prompt) = options.initial_prompt.as_deref().filter(|p| !p.is_empty()) {
        params.set_initial_prompt(prompt);
    }
    params
}

impl Engine {
    /// whisper.cpp's own decode (greedy or its beam search), with the language model added
    /// to the logits when `fusion` is given.
    fn run_whisper(
        &mut self,
        window: &Window<'_>,
        fusion: Option<&Fusion>,
    ) -> Result<(String, f32), WorkerFailure> {
        let params = params(self.threads, window);
        let samples = window.samples;
        let decoded = match (fusion, self.lm.as_ref()) {
            (Some(fusion), Some((_, lm))) => fused::full_with_logit_bias(
                &mut self.state,
                params,
                samples,
                lm,
                (fusion.alpha, fusion.beta),
                &self.pieces,
                self.context.token_eot(),
            ),
            _ => self.state.full(params, samples),
        };
        decoded.map_err(|e| failure(ErrorKind::Engine, format!("decoding failed: {e}")))?;
        let mut text = String::new();
        // Text tokens have ids below end-of-text; the rest are markers and timestamps.
        let first_special = self.context.token_eot();
        let (mut logprob_sum, mut tokens) = (0.0f32, 0u32);
        for segment in self.state.as_iter() {
            text.push_str(
                &segment
                    .to_str_lossy()
                    .map_err(|e| failure(ErrorKind::Engine, e.to_string()))?,
            );
            for i in 0..segment.n_tokens() {
                if let Some(token) = segment.get_token(i) {
                    let data = token.token_data();
                    if data.id < first_special {
                        logprob_sum += data.plog;
                        tokens += 1;
                    }
                }
            }
        }
        let mean_logprob = if tokens == 0 {
            0.0
        } else {
            logprob_sum / tokens as f32
        };
        Ok((text, mean_logprob))
    }

    pub fn detect_speech(&mut self, audio: &Pcm) -> Result<Vec<SpeechSegment>, WorkerFailure> {
        let samples = to_f32(audio)?;
        let Some(vad) = self.vad.as_mut() else {
            return Err(failure(ErrorKind::NotLoaded, "no VAD model loaded"));
        };
        let segments = vad
            .segments_from_samples(WhisperVadParams::new(), &samples)
            .map_err(|e| failure(ErrorKind::Engine, format!("speech detection failed: {e}")))?;
        // whisper.cpp reports centiseconds.
        Ok(segments
            .map(|s| SpeechSegment {
                start_ms: (s.start * 10.0) as u64,
                end_ms: (s.end * 10.0) as u64,
            })
            .collect())
    }
}

/// The most prompt tokens whisper.cpp puts before the transcript (half its text context).
const MAX_PROMPT_TOKENS: usize = 223;

fn path_str(path: &Path) -> Result<&str, WorkerFailure> {
    path.to_str().ok_or_else(|| {
        failure(
            ErrorKind::Model,
            format!("model path {} is not valid UTF-8", path.display()),
        )
    })
}

fn to_f32(audio: &Pcm) -> Result<Vec<f32>, WorkerFailure> {
    if audio.sample_rate != SAMPLE_RATE {
        return Err(failure(
            ErrorKind::Audio,
            format!(
                "audio must be {SAMPLE_RATE} Hz, got {} Hz",
                audio.sample_rate
            ),
        ));
    }
    if audio.samples.is_empty() {
        return Err(failure(ErrorKind::Audio, "the audio is empty"));
    }
    Ok(audio.samples.iter().map(|&s| s as f32 / 32768.0).collect())
}
