//! Linear interpolation of two models at scoring time, for a personal vocabulary model mixed
//! with a general base.
//!
//! Chosen over a static merge because it is exact (a merged backoff model only approximates
//! the mixture), it costs two lookups per word, and the personal model can be rebuilt alone
//! when the user's names change, without touching the base.
//!
//! The two vocabularies differ. The mixture's vocabulary is their union; a word one model
//! does not know gets that model's `<unk>` probability shared equally between `<unk>` and all
//! such words, so each model stays a distribution over the union and so does the mixture.

use crate::model::{LanguageModel, Model, State};
use crate::vocab::{Vocabulary, WordId};

/// `weight * p_first + (1 - weight) * p_second`, over the union of their vocabularies.
#[derive(Clone, Debug)]
pub struct Mixture {
    models: [Model; 2],
    weights: [f64; 2],
    vocabulary: Vocabulary,
    /// Union id -> the id in each model (its `<unk>` when it does not know the word).
    ids: Vec<[WordId; 2]>,
    /// log10 of the share of `<unk>`'s probability each unknown word gets, per model.
    unk_share: [f32; 2],
}

/// A [`Mixture`]'s state: one [`State`] per model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MixtureState(pub [State; 2]);

/// Why a mixture could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MixtureError {
    #[error("the first model's weight must lie in [0, 1], got {weight}")]
    Weight { weight: f64 },
}

impl Mixture {
    /// Mixes `first` (with `weight`) and `second` (with `1 - weight`).
    pub fn new(first: Model, second: Model, weight: f64) -> Result<Mixture, MixtureError> {
        if !(0.0..=1.0).contains(&weight) {
            return Err(MixtureError::Weight { weight });
        }
        let vocabulary = Vocabulary::from_words(
            first
                .vocabulary()
                .iter()
                .chain(second.vocabulary().iter())
                .map(|(_, word)| word),
        );
        let ids: Vec<[WordId; 2]> = vocabulary
            .iter()
            .map(|(_, word)| [first.vocabulary().id(word), second.vocabulary().id(word)])
            .collect();
        let models = [first, second];
        let unk_share = [0, 1].map(|i| {
            let unk = models[i].vocabulary().unk();
            let sharing = ids.iter().filter(|pair| pair[i] == unk).count().max(1);
            -(sharing as f64).log10() as f32
        });
        Ok(Mixture {
            models,
            weights: [weight, 1.0 - weight],
            vocabulary,
            ids,
            unk_share,
        })
    }

    /// The two models.
    pub fn models(&self) -> &[Model; 2] {
        &self.models
    }

    /// The first model's weight.
    pub fn weight(&self) -> f64 {
        self.weights[0]
    }
}

impl LanguageModel for Mixture {
    type State = MixtureState;

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn begin_sentence(&self) -> MixtureState {
        MixtureState([0, 1].map(|i| self.models[i].begin_sentence()))
    }

    fn null_context(&self) -> MixtureState {
        MixtureState([0, 1].map(|i| self.models[i].null_context()))
    }

    fn score_word(&self, state: &MixtureState, word: WordId) -> (f32, MixtureState) {
        let pair = self.ids[self.vocabulary.clamp(word).index()];
        let mut total = 0.0f64;
        let mut next = *state;
        for (i, model) in self.models.iter().enumerate() {
            let (mut log_prob, model_next) = model.score_word(&state.0[i], pair[i]);
            if pair[i] == model.vocabulary().unk() {
                log_prob += self.unk_share[i];
            }
            total += self.weights[i] * 10f64.powf(f64::from(log_prob));
            next.0[i] = model_next;
        }
        (total.log10() as f32, next)
    }
}
