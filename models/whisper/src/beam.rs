//! Sotto's own beam search over Whisper's decoder, with the language model's score added
//! exactly (see `fusion`). whisper.cpp's beam search renormalises whatever its logits filter
//! adds, so an exact fusion needs the search on this side.
//!
//! whisper.cpp's public API decodes one sequence at a time, keeping one key/value cache.
//! [`Decoder`] hides that: it is asked for the next-token logits of a whole token sequence and
//! re-evaluates only what differs from the sequence it evaluated last. The beams are visited
//! in token order each step, so neighbours share the longest prefixes.

use crate::fusion::{Fuser, Track};
use sotto_ngram::LanguageModel;

/// Something that gives the next-token logits after a token sequence.
pub trait Decoder {
    fn logits(&mut self, sequence: &[i32]) -> Result<&[f32], String>;
}

/// Token ids that matter to the search.
#[derive(Debug, Clone, Copy)]
pub struct Vocab {
    /// End of text; text tokens are the ids below it.
    pub eot: i32,
    /// The token of a lone space, suppressed as the first token (as Whisper does).
    pub space: Option<i32>,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub beam_size: usize,
    pub max_tokens: usize,
    /// Hypotheses scoring this far (natural log) below the step's best are dropped: when the
    /// model is sure, the beam narrows and each step costs fewer decoder evaluations.
    pub prune: f32,
}

/// What [`Settings::prune`] is: e^-8 is about 1/3000. Measured on 80 Asterisk prompts and the
/// names set's tuning half (beam 4): the same WER as no pruning, p50 319 -> 235 ms (fused).
pub const DEFAULT_PRUNE: f32 = 8.0;

/// The chosen hypothesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub tokens: Vec<i32>,
    /// Whisper's own log-probability of the text tokens (without the language model and
    /// without end-of-text).
    pub acoustic: f32,
    /// How many decoder evaluations the search asked for (for measuring).
    pub evaluations: usize,
}

struct Hypothesis<S> {
    tokens: Vec<i32>,
    /// Whisper's log-probability of the tokens, end-of-text included.
    acoustic: f32,
    /// The same without end-of-text: what Whisper's own confidence is computed from.
    text: f32,
    track: Track<S>,
    total: f32,
}

/// Beam search from `prompt` (the start-of-transcript tokens). `piece` gives a text token's
/// bytes. Hypotheses are ranked by Whisper's log-probability plus the fusion score; finished
/// ones by that sum over their length, as Whisper ranks its own.
pub fn search<L: LanguageModel>(
    decoder: &mut dyn Decoder,
    prompt: &[i32],
    vocab: Vocab,
    piece: &dyn Fn(i32) -> Vec<u8>,
    fuser: &Fuser<'_, L>,
    settings: Settings,
) -> Result<Found, String> {
    let beam = settings.beam_size.max(1);
    let mut live = vec![Hypothesis {
        tokens: Vec::new(),
        acoustic: 0.0,
        text: 0.0,
        track: fuser.start(),
        total: 0.0,
    }];
    let mut finished: Vec<(f32, Hypothesis<L::State>)> = Vec::new();
    let mut evaluations = 0;
    let mut sequence = Vec::with_capacity(prompt.len() + settings.max_tokens + 1);
    for step in 0..settings.max_tokens {
        live.sort_by(|a, b| a.tokens.cmp(&b.tokens));
        let mut candidates: Vec<Hypothesis<L::State>> = Vec::new();
        for hypothesis in &live {
            sequence.clear();
            sequence.extend_from_slice(prompt);
            sequence.extend_from_slice(&hypothesis.tokens);
            let logits = decoder.logits(&sequence)?;
            evaluations += 1;
            let allowed = |id: usize| {
                let id = id as i32;
                id <= vocab.eot && !(step == 0 && (id == vocab.eot || Some(id) == vocab.space))
            };
            let log_probs = log_softmax(logits, &allowed);
            for (id, log_prob) in top_k(&log_probs, candidates_per_beam(beam)) {
                let id = id as i32;
                if loops(&hypothesis.tokens, id) {
                    continue;
                }
                let acoustic = hypothesis.acoustic + log_prob;
                let text = hypothesis.text + if id == vocab.eot { 0.0 } else { log_prob };
                let track = if id == vocab.eot {
                    fuser.end(&hypothesis.track)
                } else {
                    fuser.push(&hypothesis.track, &piece(id))
                };
                let mut tokens = hypothesis.tokens.clone();
                tokens.push(id);
                candidates.push(Hypothesis {
                    total: acoustic + fuser.score(&track),
                    tokens,
                    acoustic,
                    text,
                    track,
                });
            }
        }
        if candidates.is_empty() {
            // Every continuation closes a loop: what is live stops here, cut.
            break;
        }
        candidates.sort_by(|a, b| b.total.total_cmp(&a.total));
        live.clear();
        let best = candidates.first().map_or(f32::NEG_INFINITY, |c| c.total);
        for candidate in candidates {
            if live.len() >= beam || candidate.total < best - settings.prune {
                break;
            }
            if candidate.tokens.last() == Some(&vocab.eot) {
                if finished.len() < beam {
                    let length = candidate.tokens.len() as f32;
                    finished.push((candidate.total / length, candidate));
                }
            } else {
                live.push(candidate);
            }
        }
        if finished.len() >= beam || live.is_empty() {
            break;
        }
    }
    // Hypotheses cut by the token limit are runaways (a word said over and over has a high
    // mean log-probability): they count only when nothing finished.
    let cut = if finished.is_empty() {
        live
    } else {
        Vec::new()
    };
    for hypothesis in cut {
        let track = fuser.end(&hypothesis.track);
        let total = hypothesis.acoustic + fuser.score(&track);
        let length = hypothesis.tokens.len().max(1) as f32;
        finished.push((total / length, hypothesis));
    }
    let (_, best) = finished
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .ok_or("the beam search found nothing")?;
    let mut tokens = best.tokens;
    if tokens.last() == Some(&vocab.eot) {
        tokens.pop();
    }
    Ok(Found {
        tokens,
        acoustic: best.text,
        evaluations,
    })
}

/// How many of each hypothesis' likeliest next tokens are scored with the language model.
/// Whisper's own choice; measured on the names set, 12 or 30 scored no better.
fn candidates_per_beam(beam: usize) -> usize {
    beam + 1
}

/// Whether `tokens` followed by `next` ends in a loop: one token four times in a row, or a
/// block of two to eight tokens three times. A fitted audio context makes Whisper repeat
/// itself ("re-e-e-e-e", "Open game Open game Open game"); a person says "no no no", not more.
fn loops(tokens: &[i32], next: i32) -> bool {
    let n = tokens.len() + 1;
    let at = |i: usize| if i == n - 1 { next } else { tokens[i] };
    (1..=8).any(|period| {
        let copies = if period == 1 { 4 } else { 3 };
        n >= period * copies && (n - period * (copies - 1)..n).all(|i| at(i) == at(i - period))
    })
}

/// Natural-log softmax over the allowed ids; the others get negative infinity.
fn log_softmax(logits: &[f32], allowed: &dyn Fn(usize) -> bool) -> Vec<f32> {
    let max = logits
        .iter()
        .enumerate()
        .filter(|&(i, _)| allowed(i))
        .map(|(_, &l)| l)
        .fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits
        .iter()
        .enumerate()
        .filter(|&(i, _)| allowed(i))
        .map(|(_, &l)| f64::from(l - max).exp())
        .sum();
    let log_sum = max + sum.ln() as f32;
    logits
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if allowed(i) {
                l - log_sum
            } else {
                f32::NEG_INFINITY
            }
        })
        .collect()
}

/// The `k` largest finite values with their indices, largest first.
fn top_k(values: &[f32], k: usize) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() || (best.len() == k && v <= best[k - 1].1) {
            continue;
        }
        let at = best.partition_point(|&(_, b)| b >= v);
        best.insert(at, (i, v));
        best.truncate(k);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotto_ngram::{estimate_text, EstimateConfig, Model};

    /// A decoder over a tiny vocabulary whose preferences are a table: what comes after a
    /// sequence. The real decoder is whisper.cpp (tested through the worker); this tests the
    /// search's bookkeeping.
    struct Table {
        vocab: Vec<&'static str>,
        /// (suffix of the sequence, preferred next tokens with logits).
        rules: Vec<Rule>,
        buffer: Vec<f32>,
    }

    /// After a sequence ending in these tokens, these next tokens with these logits.
    type Rule = (Vec<i32>, Vec<(i32, f32)>);

    impl Decoder for Table {
        fn logits(&mut self, sequence: &[i32]) -> Result<&[f32], String> {
            self.buffer = vec![-10.0; self.vocab.len()];
            let rule = self
                .rules
                .iter()
                .filter(|(suffix, _)| sequence.ends_with(suffix))
                .max_by_key(|(suffix, _)| suffix.len());
            if let Some((_, next)) = rule {
                for &(id, logit) in next {
                    self.buffer[id as usize] = logit;
                }
            }
            Ok(&self.buffer)
        }
    }

    // Ids: 0 " call", 1 " shiv", 2 " on", 3 " siob", 4 "han", 5 eot, 6 sot.
    fn table() -> Table {
        Table {
            vocab: vec![" call", " shiv", " on", " siob", "han", "<eot>", "<sot>"],
            rules: vec![
                (vec![6], vec![(0, 5.0)]),
                // The acoustics slightly prefer "shiv on" to "siobhan".
                (vec![0], vec![(1, 3.0), (3, 2.5)]),
                (vec![1], vec![(2, 5.0)]),
                (vec![2], vec![(5, 5.0)]),
                (vec![3], vec![(4, 5.0)]),
                (vec![4], vec![(5, 5.0)]),
            ],
            buffer: Vec::new(),
        }
    }

    fn run(alpha: f32) -> Vec<i32> {
        let mut decoder = table();
        let names = decoder.vocab.clone();
        let model: Model = estimate_text(
            "call siobhan\ncall bob\ncall siobhan now",
            &EstimateConfig::new(2),
        )
        .unwrap()
        .model;
        let fuser = Fuser {
            model: &model,
            alpha,
            beta: 0.0,
        };
        let piece = move |id: i32| names[id as usize].as_bytes().to_vec();
        search(
            &mut decoder,
            &[6],
            Vocab {
                eot: 5,
                space: None,
            },
            &piece,
            &fuser,
            Settings {
                beam_size: 3,
                max_tokens: 10,
                prune: DEFAULT_PRUNE,
            },
        )
        .unwrap()
        .tokens
    }

    #[test]
    fn without_the_model_the_acoustics_win_and_with_it_the_name_does() {
        assert_eq!(run(0.0), vec![0, 1, 2]);
        assert_eq!(run(0.5), vec![0, 3, 4]);
    }

    #[test]
    fn a_decoder_that_can_only_repeat_itself_gives_what_it_had() {
        // Ids: 0 " no", 1 " yes", 2 eot, 3 sot. After "no", only "no" again is possible.
        let mut decoder = Table {
            vocab: vec![" no", " yes", "<eot>", "<sot>"],
            rules: vec![(
                vec![],
                vec![(0, 5.0), (1, f32::NEG_INFINITY), (2, f32::NEG_INFINITY)],
            )],
            buffer: Vec::new(),
        };
        let model: Model = estimate_text("no\n", &EstimateConfig::new(2))
            .unwrap()
            .model;
        let fuser = Fuser {
            model: &model,
            alpha: 0.0,
            beta: 0.0,
        };
        let names = decoder.vocab.clone();
        let piece = move |id: i32| names[id as usize].as_bytes().to_vec();
        let found = search(
            &mut decoder,
            &[3],
            Vocab {
                eot: 2,
                space: None,
            },
            &piece,
            &fuser,
            Settings {
                beam_size: 1,
                max_tokens: 10,
                prune: DEFAULT_PRUNE,
            },
        )
        .unwrap();
        assert_eq!(found.tokens, vec![0, 0, 0]);
    }

    #[test]
    fn loops_are_seen_at_the_end() {
        assert!(loops(&[1, 2, 2, 2], 2));
        assert!(!loops(&[1, 2, 2], 2));
        assert!(!loops(&[5, 7, 8, 7, 8], 7));
        assert!(loops(&[5, 7, 8, 7, 8, 7], 8));
        assert!(!loops(&[1, 2, 3, 4], 5));
        assert!(!loops(&[], 1));
    }

    #[test]
    fn top_k_keeps_the_largest_in_order() {
        let values = [1.0, f32::NEG_INFINITY, 3.0, 2.0, 3.0, -1.0];
        assert_eq!(top_k(&values, 3), vec![(2, 3.0), (4, 3.0), (3, 2.0)]);
        assert_eq!(top_k(&values, 0), vec![]);
    }

    #[test]
    fn log_softmax_is_a_distribution_over_the_allowed() {
        let lp = log_softmax(&[1.0, 2.0, 3.0, 100.0], &|i| i < 3);
        let total: f32 = lp[..3].iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert_eq!(lp[3], f32::NEG_INFINITY);
    }
}
