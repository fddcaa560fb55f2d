//! The language model's side of shallow fusion: what a hypothesis has said so far, in words,
//! and what the n-gram model thinks of it. Pure (no whisper.cpp), so it is unit-tested with
//! small estimated models.
//!
//! Whisper emits sub-word tokens; a word is finished when the next token starts with a space
//! or the text ends. Each hypothesis therefore carries the language-model state after its
//! finished words and the bytes of the word it is spelling. A finished word is normalised with
//! the same tokenizer the model was estimated with and scored once. While a word is being
//! spelled, a lookahead (the best known word it can still become) keeps the beam from
//! dropping a rare name halfway through; it is replaced by the real score when the word ends,
//! so the sum over a whole hypothesis is exactly `alpha * ln p_LM(words) + beta * words`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sotto_ngram::{tokenize, LanguageModel, Mixture, Model};
use sotto_protocol::{ErrorKind, WorkerFailure};

/// log10 -> natural log.
const LN_10: f32 = std::f32::consts::LN_10;

/// Partial words shorter than this get no lookahead: their completions are too many to
/// score each step, and two letters say little about the word.
const LOOKAHEAD_MIN_CHARS: usize = 3;

/// What one hypothesis has said, as the language model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Track<S> {
    /// The model's state after the finished words.
    pub state: S,
    /// The bytes of the word being spelled (Whisper's tokens can split UTF-8 characters).
    pub partial: Vec<u8>,
    /// Natural-log LM probability of the finished words.
    pub finished: f32,
    /// Natural-log score of the best word the partial one can become (0 when none is asked).
    pub lookahead: f32,
    pub words: u32,
}

/// A language model with the weights it is fused with.
pub struct Fuser<'a, L: LanguageModel> {
    pub model: &'a L,
    pub alpha: f32,
    pub beta: f32,
}

impl<L: LanguageModel> Fuser<'_, L> {
    pub fn start(&self) -> Track<L::State> {
        Track {
            state: self.model.begin_sentence(),
            partial: Vec::new(),
            finished: 0.0,
            lookahead: 0.0,
            words: 0,
        }
    }

    /// The fusion term of a hypothesis: what is added to Whisper's log-probability.
    pub fn score(&self, track: &Track<L::State>) -> f32 {
        self.alpha * (track.finished + track.lookahead) + self.beta * track.words as f32
    }

    /// `track` after a text token whose bytes are `piece`.
    pub fn push(&self, track: &Track<L::State>, piece: &[u8]) -> Track<L::State> {
        let mut next = track.clone();
        next.partial.extend_from_slice(piece);
        // Everything up to the last separator (a space, or punctuation as in "e-mail" or
        // "\"quoted\"") is finished words: scored now, so a hypothesis cannot put off the
        // language model's verdict by gluing words together.
        if let Some(cut) = next.partial.iter().rposition(|&b| is_separator(b)) {
            let rest = next.partial.split_off(cut + 1);
            self.finish_word(&mut next);
            next.partial = rest;
        }
        next.lookahead = self.lookahead(&next);
        next
    }

    /// `track` when the text ends: the last word finished, then the end of the sentence.
    pub fn end(&self, track: &Track<L::State>) -> Track<L::State> {
        let mut next = track.clone();
        self.finish_word(&mut next);
        next.finished += LN_10 * self.model.end_sentence(&next.state);
        next
    }

    fn finish_word(&self, track: &mut Track<L::State>) {
        let text = String::from_utf8_lossy(&track.partial);
        for word in tokenize(&text) {
            let (log10_prob, state) = self.model.score_text_word(&track.state, &word);
            track.finished += LN_10 * log10_prob;
            track.state = state;
            track.words += 1;
        }
        track.partial.clear();
        track.lookahead = 0.0;
    }

    /// The optimistic score of the word being spelled: the best known word it can become,
    /// else `<unk>` (a name the model does not know costs what an unknown word costs).
    fn lookahead(&self, track: &Track<L::State>) -> f32 {
        let text = String::from_utf8_lossy(&track.partial);
        let words = tokenize(&text);
        // Only a single alphanumeric run gets a lookahead; "e-mail" or "3.5" are scored when
        // they are finished.
        let [word] = words.as_slice() else {
            return 0.0;
        };
        if word.chars().count() < LOOKAHEAD_MIN_CHARS {
            return 0.0;
        }
        let vocabulary = self.model.vocabulary();
        match self.model.best_completion(&track.state, word) {
            Some((_, log10_prob)) => LN_10 * log10_prob,
            None => LN_10 * self.model.score_word(&track.state, vocabulary.unk()).0,
        }
    }
}

/// Whether byte `b` ends a word: ASCII other than letters, digits and the apostrophe (bytes
/// of multi-byte characters are letters here; the tokenizer splits the rare non-ASCII
/// punctuation when the word is finished).
fn is_separator(b: u8) -> bool {
    b.is_ascii() && !b.is_ascii_alphanumeric() && b != b'\''
}

/// The models a decode was asked to fuse, loaded once and kept while their files are unchanged.
pub enum LoadedLm {
    Single(Model),
    Mixed(Box<Mixture>),
}

/// The files (with their modification times) and weight a [`LoadedLm`] was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct LmKey {
    files: Vec<(PathBuf, Option<SystemTime>)>,
    weight: f32,
}

impl LmKey {
    pub fn new(files: &[PathBuf], weight: f32) -> LmKey {
        LmKey {
            files: files
                .iter()
                .map(|f| {
                    let modified = std::fs::metadata(f).and_then(|m| m.modified()).ok();
                    (f.clone(), modified)
                })
                .collect(),
            weight,
        }
    }
}

pub fn load(files: &[PathBuf], weight: f32) -> Result<LoadedLm, WorkerFailure> {
    let read = |path: &Path| {
        Model::read_arpa_file(path).map_err(|e| WorkerFailure {
            kind: ErrorKind::Model,
            message: format!(
                "{} is not a usable language model ({e}); rebuild it with `sotto vocab build`",
                path.display()
            ),
        })
    };
    match files {
        [one] => Ok(LoadedLm::Single(read(one)?)),
        [first, second] => {
            let mixture =
                Mixture::new(read(first)?, read(second)?, f64::from(weight)).map_err(|e| {
                    WorkerFailure {
                        kind: ErrorKind::BadRequest,
                        message: e.to_string(),
                    }
                })?;
            Ok(LoadedLm::Mixed(Box::new(mixture)))
        }
        _ => Err(WorkerFailure {
            kind: ErrorKind::BadRequest,
            message: format!(
                "fusion takes one or two language models, got {}",
                files.len()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotto_ngram::{estimate_text, EstimateConfig};

    fn model() -> &'static Model {
        static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        MODEL.get_or_init(|| {
            let corpus = "create a note called groceries\nopen the groceries note\n\
                          call siobhan\ncreate a timer\nopen inkscape";
            estimate_text(corpus, &EstimateConfig::new(3))
                .unwrap()
                .model
        })
    }

    fn fuser(alpha: f32, beta: f32) -> Fuser<'static, Model> {
        Fuser {
            model: model(),
            alpha,
            beta,
        }
    }

    fn spell(f: &Fuser<'_, Model>, pieces: &[&str]) -> Track<<Model as LanguageModel>::State> {
        let mut track = f.start();
        for piece in pieces {
            track = f.push(&track, piece.as_bytes());
        }
        f.end(&track)
    }

    #[test]
    fn a_spelled_hypothesis_scores_what_the_model_gives_its_words() {
        let f = fuser(0.5, 0.25);
        let track = spell(
            &f,
            &[
                " Create", " a", " note", " called", " gro", "cer", "ies", ".",
            ],
        );
        assert_eq!(track.words, 5);
        let expected = LN_10 * f.model.score_text("create a note called groceries") as f32;
        assert!(
            (track.finished - expected).abs() < 1e-4,
            "{} vs {expected}",
            track.finished
        );
        assert_eq!(track.lookahead, 0.0);
        assert!((f.score(&track) - (0.5 * expected + 0.25 * 5.0)).abs() < 1e-4);
    }

    #[test]
    fn the_model_prefers_the_name_to_the_sound_alike() {
        let f = fuser(1.0, 0.0);
        let right = spell(&f, &[" create", " a", " note", " called", " groceries"]);
        let wrong = spell(
            &f,
            &[" create", " a", " note", " called", " grow", " series"],
        );
        assert!(f.score(&right) > f.score(&wrong) + 2.0);
    }

    #[test]
    fn a_word_being_spelled_gets_its_best_completion() {
        let f = fuser(1.0, 0.0);
        let track = f.push(&f.start(), b" Sio");
        let (_, best) = f.model.best_completion(&f.start().state, "sio").unwrap();
        assert!((track.lookahead - LN_10 * best).abs() < 1e-5);
        // Two letters: no lookahead yet; a prefix of nothing known: <unk>.
        assert_eq!(f.push(&f.start(), b" Si").lookahead, 0.0);
        let unknown = f.push(&f.start(), b" Xyz");
        assert!(unknown.lookahead < track.lookahead);
    }

    #[test]
    fn split_characters_and_punctuation_are_handled_when_the_word_ends() {
        let f = fuser(1.0, 0.0);
        // "Zoë" with the ë split across two tokens, then punctuation glued to it.
        let bytes = "Zoë".as_bytes();
        let track = spell(
            &f,
            &[
                " Zo",
                std::str::from_utf8(&bytes[2..]).unwrap_or(""),
                ",",
                " open",
            ],
        );
        assert_eq!(track.words, 2);
        let mut raw = f.start();
        raw = f.push(&raw, b" Zo");
        raw = f.push(&raw, &bytes[2..3]);
        raw = f.push(&raw, &bytes[3..]);
        let ended = f.end(&raw);
        assert_eq!(ended.words, 1);
        assert!(ended.finished.is_finite());
    }

    #[test]
    fn glued_words_are_scored_as_they_come() {
        let f = fuser(1.0, 0.0);
        let glued = f.push(&f.start(), b" text-mat-use");
        assert_eq!(glued.words, 2);
        assert_eq!(glued.partial, b"use");
        let quoted = f.push(&f.push(&f.start(), b" \"Open"), b"\"");
        assert_eq!(quoted.words, 1);
        assert!(quoted.partial.is_empty());
    }

    #[test]
    fn zero_weights_add_nothing() {
        let f = fuser(0.0, 0.0);
        let track = spell(&f, &[" grow", " series"]);
        assert_eq!(f.score(&track), 0.0);
    }
}
