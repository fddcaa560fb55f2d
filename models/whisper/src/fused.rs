//! Decoding with a language model fused in, both ways the worker offers: Sotto's own beam
//! search over whisper.cpp's decoder (`FusionMethod::Beam`, exact) and whisper.cpp's beam
//! search with the language model added to the logits through its filter callback
//! (`FusionMethod::LogitBias`, renormalised by whisper.cpp, so only an approximation).

use sotto_ngram::LanguageModel;
use sotto_whisper_filter::full_with_filter;
use whisper_rs::{FullParams, WhisperContext, WhisperError, WhisperState, WhisperTokenData};

use crate::beam::{self, Decoder, Settings, Vocab};
use crate::fusion::{Fuser, LoadedLm};

/// Whisper's text tokens' bytes, by id (ids below end-of-text), read once per model.
pub struct Pieces(Vec<Vec<u8>>);

impl Pieces {
    pub fn new(context: &WhisperContext) -> Pieces {
        let eot = context.token_eot();
        Pieces(
            (0..eot)
                .map(|id| {
                    context
                        .token_to_bytes(id)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default()
                })
                .collect(),
        )
    }

    pub fn get(&self, id: i32) -> &[u8] {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.0.get(i))
            .map_or(&[], Vec::as_slice)
    }
}

/// whisper.cpp's decoder over one state, re-evaluating only what a sequence does not share
/// with the one evaluated before it.
struct StateDecoder<'a> {
    state: &'a mut WhisperState,
    threads: usize,
    cached: Vec<i32>,
}

impl Decoder for StateDecoder<'_> {
    fn logits(&mut self, sequence: &[i32]) -> Result<&[f32], String> {
        let Some(last) = sequence.len().checked_sub(1) else {
            return Err("nothing to decode".into());
        };
        let shared = self
            .cached
            .iter()
            .zip(sequence)
            .take_while(|(a, b)| a == b)
            .count()
            .min(last);
        self.cached.clear();
        // whisper.cpp keeps only the last position's logits, and its API hands out the
        // first row: the new tokens but the last go in one call, the last in its own.
        if last > shared {
            self.state
                .decode(&sequence[shared..last], shared, self.threads)
                .map_err(|e| format!("decoding failed: {e}"))?;
        }
        self.state
            .decode(&sequence[last..], last, self.threads)
            .map_err(|e| format!("decoding failed: {e}"))?;
        self.cached.extend_from_slice(sequence);
        self.state
            .get_logits()
            .map_err(|e| format!("no logits: {e}"))
    }
}

/// What Sotto's beam search needs from the engine for one utterance, after whisper.cpp has
/// encoded its audio (the encoder's output stays in `state`).
pub struct BeamJob<'a> {
    pub context: &'a WhisperContext,
    pub state: &'a mut WhisperState,
    pub pieces: &'a Pieces,
    pub threads: usize,
    pub prompt: Vec<i32>,
    pub settings: Settings,
}

/// The text and mean token log-probability of the best hypothesis.
pub fn beam_search(
    job: BeamJob<'_>,
    lm: &LoadedLm,
    alpha: f32,
    beta: f32,
) -> Result<(String, f32), String> {
    let vocab = Vocab {
        eot: job.context.token_eot(),
        space: job
            .context
            .tokenize(" ", 4)
            .ok()
            .and_then(|t| (t.len() == 1).then(|| t[0])),
    };
    let mut decoder = StateDecoder {
        state: job.state,
        threads: job.threads,
        cached: Vec::new(),
    };
    let pieces = job.pieces;
    let piece = |id: i32| pieces.get(id).to_vec();
    let prompt = &job.prompt;
    let mut search = |model: &dyn Searchable| {
        model.search(
            &mut decoder,
            prompt,
            vocab,
            &piece,
            (alpha, beta),
            job.settings,
        )
    };
    let found = match lm {
        LoadedLm::Single(model) => search(model),
        LoadedLm::Mixed(mixture) => search(&**mixture),
    }?;
    tracing::debug!(evaluations = found.evaluations, "fused beam search");
    let bytes: Vec<u8> = found
        .tokens
        .iter()
        .flat_map(|&id| pieces.get(id).iter().copied())
        .collect();
    let mean = if found.tokens.is_empty() {
        0.0
    } else {
        found.acoustic / found.tokens.len() as f32
    };
    Ok((String::from_utf8_lossy(&bytes).into_owned(), mean))
}

/// A loaded model the search can run with, whatever its type.
trait Searchable {
    fn search(
        &self,
        decoder: &mut dyn Decoder,
        prompt: &[i32],
        vocab: Vocab,
        piece: &dyn Fn(i32) -> Vec<u8>,
        weights: (f32, f32),
        settings: Settings,
    ) -> Result<beam::Found, String>;
}

impl<L: LanguageModel> Searchable for L {
    fn search(
        &self,
        decoder: &mut dyn Decoder,
        prompt: &[i32],
        vocab: Vocab,
        piece: &dyn Fn(i32) -> Vec<u8>,
        (alpha, beta): (f32, f32),
        settings: Settings,
    ) -> Result<beam::Found, String> {
        let fuser = Fuser {
            model: self,
            alpha,
            beta,
        };
        beam::search(decoder, prompt, vocab, piece, &fuser, settings)
    }
}

/// How many of a step's best tokens get the language model's score added by the callback
/// (the rest are too unlikely for whisper.cpp's beam to pick).
const BIASED_TOKENS: usize = 12;

/// The language model as a logits filter.
struct LogitBias<'a, L: LanguageModel> {
    fuser: Fuser<'a, L>,
    pieces: &'a Pieces,
    eot: i32,
}

impl<'a, L: LanguageModel> LogitBias<'a, L> {
    fn apply(&self, tokens: &[WhisperTokenData], logits: &mut [f32]) {
        let mut track = self.fuser.start();
        for token in tokens.iter().filter(|t| t.id < self.eot) {
            track = self.fuser.push(&track, self.pieces.get(token.id));
        }
        let base = self.fuser.score(&track);
        let limit = (self.eot as usize + 1).min(logits.len());
        let mut best: Vec<usize> = (0..limit).filter(|&i| logits[i].is_finite()).collect();
        let k = BIASED_TOKENS.min(best.len());
        if k == 0 {
            return;
        }
        best.select_nth_unstable_by(k - 1, |&a, &b| logits[b].total_cmp(&logits[a]));
        for &id in &best[..k] {
            let next = if id as i32 == self.eot {
                self.fuser.end(&track)
            } else {
                self.fuser.push(&track, self.pieces.get(id as i32))
            };
            logits[id] += self.fuser.score(&next) - base;
        }
    }
}

/// `state.full(params, samples)` with the language model added to the logits of each step.
pub fn full_with_logit_bias(
    state: &mut WhisperState,
    params: FullParams<'_, '_>,
    samples: &[f32],
    lm: &LoadedLm,
    weights: (f32, f32),
    pieces: &Pieces,
    eot: i32,
) -> Result<(), WhisperError> {
    match lm {
        LoadedLm::Single(model) => {
            full_biased_by(state, params, samples, model, weights, pieces, eot)
        }
        LoadedLm::Mixed(mixture) => {
            full_biased_by(state, params, samples, &**mixture, weights, pieces, eot)
        }
    }
}

/// [`full_with_logit_bias`] for one type of model.
fn full_biased_by<L: LanguageModel>(
    state: &mut WhisperState,
    params: FullParams<'_, '_>,
    samples: &[f32],
    model: &L,
    (alpha, beta): (f32, f32),
    pieces: &Pieces,
    eot: i32,
) -> Result<(), WhisperError> {
    let bias = LogitBias {
        fuser: Fuser { model, alpha, beta },
        pieces,
        eot,
    };
    full_with_filter(state, params, samples, &|tokens, logits| {
        bias.apply(tokens, logits)
    })
}
