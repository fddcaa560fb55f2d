//! The backoff model and its incremental scoring.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::table::{hash_start, mix, NgramTable};
use crate::text::tokenize;
use crate::vocab::{Vocabulary, WordId};

/// The highest order a [`Model`] can have. It bounds [`State`], which is `Copy` and holds at
/// most `MAX_ORDER - 1` context words.
pub const MAX_ORDER: usize = 6;

/// A word n-gram language model in ARPA's backoff form: every stored n-gram has a log10
/// probability, every stored context a log10 backoff weight, and
/// `log p(w | h) = prob(h w)` when `h w` is stored, `backoff(h) + log p(w | h')` otherwise
/// (`h'` is `h` without its oldest word, a missing backoff is 0).
#[derive(Clone)]
pub struct Model {
    vocabulary: Vocabulary,
    /// `tables[k - 1]` holds the `k`-grams; `tables[0]` every vocabulary word.
    tables: Vec<NgramTable>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("order", &self.order())
            .field("counts", &self.counts())
            .field("vocabulary", &self.vocabulary.len())
            .finish()
    }
}

/// One stored n-gram, words in reading order (oldest first).
#[derive(Clone, Debug, PartialEq)]
pub struct Ngram {
    /// The words, oldest first; the last one is the predicted word.
    pub words: Vec<WordId>,
    /// log10 probability of the last word given the others.
    pub log_prob: f32,
    /// log10 backoff weight of these words as a context (0 when none).
    pub backoff: f32,
}

/// What the scorer remembers of a history: its most recent words, at most `order - 1` and no
/// more than the model can use (the longest context it stores, minus words that no stored
/// n-gram extends and whose backoff is 0), with the backoff weights of those contexts.
///
/// Two histories with equal states score every continuation alike, so a beam search can
/// recombine hypotheses whose states are equal. `Copy`, 44 bytes, no allocation.
#[derive(Clone, Copy)]
pub struct State {
    len: u8,
    /// Most recent first.
    words: [WordId; MAX_ORDER - 1],
    /// `backoffs[j]`: the backoff of the context `words[..=j]` (0 when it is not stored).
    backoffs: [f32; MAX_ORDER - 1],
}

impl State {
    const EMPTY: State = State {
        len: 0,
        words: [WordId(0); MAX_ORDER - 1],
        backoffs: [0.0; MAX_ORDER - 1],
    };

    /// The context words the state keeps, most recent first.
    pub fn words(&self) -> &[WordId] {
        &self.words[..self.len as usize]
    }
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.words() == other.words()
    }
}

impl Eq for State {}

impl Hash for State {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.words().hash(state);
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.words().iter().map(|w| w.0))
            .finish()
    }
}

/// What a decoder needs from a language model, so that it can fuse a single [`Model`] or a
/// [`Mixture`](crate::Mixture) alike.
pub trait LanguageModel {
    /// The scorer's memory of a history; cheap to copy, equal states score alike.
    type State: Copy + Eq + Hash + fmt::Debug;

    /// The words the model knows; ids given to [`Self::score_word`] come from here.
    fn vocabulary(&self) -> &Vocabulary;

    /// The state after `<s>`.
    fn begin_sentence(&self) -> Self::State;

    /// A state with no context at all (for text that does not start a sentence).
    fn null_context(&self) -> Self::State;

    /// log10 p(`word` | `state`) and the state after `word`. Unknown or foreign ids score as
    /// `<unk>`.
    fn score_word(&self, state: &Self::State, word: WordId) -> (f32, Self::State);

    /// log10 p(`</s>` | `state`).
    fn end_sentence(&self, state: &Self::State) -> f32 {
        self.score_word(state, self.vocabulary().eos()).0
    }

    /// `word` given as text: looked up (unknown words become `<unk>`), then scored.
    fn score_text_word(&self, state: &Self::State, word: &str) -> (f32, Self::State) {
        self.score_word(state, self.vocabulary().id(word))
    }

    /// log10 probability of a whole sentence: `<s>`, the words, `</s>`.
    fn score_sentence(&self, words: &[WordId]) -> f64 {
        let mut state = self.begin_sentence();
        let mut total = 0.0f64;
        for &word in words {
            let (log_prob, next) = self.score_word(&state, word);
            total += f64::from(log_prob);
            state = next;
        }
        total + f64::from(self.end_sentence(&state))
    }

    /// [`Self::score_sentence`] of `text` after [`tokenize`].
    fn score_text(&self, text: &str) -> f64 {
        let vocabulary = self.vocabulary();
        let words: Vec<WordId> = tokenize(text).iter().map(|w| vocabulary.id(w)).collect();
        self.score_sentence(&words)
    }

    /// The best-scoring known word that starts with `prefix`, with its log10 probability:
    /// an optimistic score for a word still being spelled out. `None` when no known word
    /// starts with `prefix`. Costs one [`Self::score_word`] per completion, so callers should
    /// ask only for prefixes a few characters long or longer (see
    /// [`Vocabulary::completions`]).
    fn best_completion(&self, state: &Self::State, prefix: &str) -> Option<(WordId, f32)> {
        self.vocabulary()
            .completions(prefix)
            .iter()
            .map(|&id| (id, self.score_word(state, id).0))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

impl Model {
    /// Assembles a model; computes which n-grams are contexts of longer ones. The caller
    /// guarantees every stored n-gram's context is stored.
    pub(crate) fn from_tables(vocabulary: Vocabulary, mut tables: Vec<NgramTable>) -> Model {
        for order in 2..=tables.len() {
            let (lower, upper) = tables.split_at_mut(order - 1);
            let contexts = &mut lower[order - 2];
            let table = &upper[0];
            for index in 0..table.len() {
                if let Some(context) = contexts.find(&table.key(index)[1..]) {
                    contexts.mark_extended(context);
                }
            }
        }
        for table in &mut tables {
            table.shrink_to_fit();
        }
        Model { vocabulary, tables }
    }

    pub(crate) fn tables(&self) -> &[NgramTable] {
        &self.tables
    }

    pub(crate) fn tables_mut(&mut self) -> &mut [NgramTable] {
        &mut self.tables
    }

    pub(crate) fn into_parts(self) -> (Vocabulary, Vec<NgramTable>) {
        (self.vocabulary, self.tables)
    }

    /// The model's order (the longest n-gram it may hold).
    pub fn order(&self) -> usize {
        self.tables.len()
    }

    /// The words the model knows.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// How many n-grams of each order, unigrams first.
    pub fn counts(&self) -> Vec<usize> {
        self.tables.iter().map(NgramTable::len).collect()
    }

    /// Approximate heap bytes of the n-gram tables.
    pub fn heap_bytes(&self) -> usize {
        self.tables.iter().map(NgramTable::heap_bytes).sum()
    }

    /// The stored n-gram `words` (oldest first), if any.
    pub fn ngram(&self, words: &[WordId]) -> Option<Ngram> {
        let table = self.tables.get(words.len().checked_sub(1)?)?;
        let key: Vec<WordId> = words.iter().rev().copied().collect();
        let index = table.find(&key)?;
        let weights = table.weights(index);
        Some(Ngram {
            words: words.to_vec(),
            log_prob: weights.prob,
            backoff: weights.backoff,
        })
    }

    /// Every stored n-gram of `order` (1-based), in storage order.
    pub fn ngrams(&self, order: usize) -> impl Iterator<Item = Ngram> + '_ {
        let table = order.checked_sub(1).and_then(|k| self.tables.get(k));
        table.into_iter().flat_map(|table| {
            (0..table.len()).map(move |index| {
                let weights = table.weights(index);
                Ngram {
                    words: table.key(index).iter().rev().copied().collect(),
                    log_prob: weights.prob,
                    backoff: weights.backoff,
                }
            })
        })
    }

    /// log10 p(`word` | `context`) straight from the backoff definition, recursing on the
    /// context (oldest word first; only the last `order - 1` words count). The reference the
    /// incremental scorer is tested against; slower than [`LanguageModel::score_word`].
    pub fn log_prob(&self, context: &[WordId], word: WordId) -> f32 {
        let word = self.vocabulary.clamp(word);
        let keep = context.len().min(self.order() - 1);
        let context = &context[context.len() - keep..];
        let mut key: Vec<WordId> = Vec::with_capacity(keep + 1);
        key.push(word);
        key.extend(context.iter().rev());
        self.log_prob_reversed(&key)
    }

    /// log10 p of the reversed `key`'s first word given the rest, by the backoff definition.
    pub(crate) fn log_prob_reversed(&self, key: &[WordId]) -> f32 {
        let table = &self.tables[key.len() - 1];
        if let Some(index) = table.find(key) {
            return table.weights(index).prob;
        }
        if key.len() == 1 {
            // Unreachable for a clamped id (every word is a unigram); a foreign model state.
            return self.unigram_prob(self.vocabulary.unk());
        }
        let context = &key[1..];
        let backoff = self.tables[context.len() - 1]
            .find(context)
            .map_or(0.0, |index| {
                self.tables[context.len() - 1].weights(index).backoff
            });
        backoff + self.log_prob_reversed(&key[..key.len() - 1])
    }

    fn unigram_prob(&self, word: WordId) -> f32 {
        self.tables[0]
            .find(&[word])
            .map_or(f32::NEG_INFINITY, |i| self.tables[0].weights(i).prob)
    }

    fn state_of(&self, word: WordId) -> State {
        let mut state = State::EMPTY;
        if self.order() > 1 {
            if let Some(slot) = self.tables[0].lookup(0, &[word]) {
                if slot.keeps() {
                    state.len = 1;
                    state.words[0] = word;
                    state.backoffs[0] = slot.backoff();
                }
            }
        }
        state
    }
}

impl LanguageModel for Model {
    type State = State;

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn begin_sentence(&self) -> State {
        self.state_of(self.vocabulary.bos())
    }

    fn null_context(&self) -> State {
        State::EMPTY
    }

    #[inline]
    fn score_word(&self, state: &State, word: WordId) -> (f32, State) {
        let word = self.vocabulary.clamp(word);
        let order = self.tables.len();
        let context_len = (state.len as usize).min(order - 1);
        // The reversed key of the longest n-gram we may look for: the word, then its context.
        let mut key = [WordId(0); MAX_ORDER];
        key[0] = word;
        key[1..=context_len].copy_from_slice(&state.words[..context_len]);

        let Some(unigram) = self.tables[0].lookup(0, &key[..1]) else {
            return (self.unigram_prob(self.vocabulary.unk()), State::EMPTY);
        };
        let mut log_prob = unigram.prob();
        let mut matched = 1;
        let mut next = State::EMPTY;
        next.words[0] = word;
        next.backoffs[0] = unigram.backoff();
        let mut next_len = usize::from(order > 1 && unigram.keeps());

        let mut hash = mix(hash_start(), word);
        for k in 1..=context_len {
            hash = mix(hash, key[k]);
            let found = self.tables[k].lookup(hash, &key[..=k]);
            if let Some(slot) = found {
                log_prob = slot.prob();
                matched = k + 1;
                if k + 1 < order {
                    next.words[k] = key[k];
                    next.backoffs[k] = slot.backoff();
                    if slot.keeps() {
                        next_len = k + 1;
                    }
                }
            } else if k + 1 < order {
                next.words[k] = key[k];
                next.backoffs[k] = 0.0;
            }
        }
        // The matched n-gram's context has `matched - 1` words; every longer context of the
        // history backs off.
        for &backoff in &state.backoffs[matched - 1..context_len] {
            log_prob += backoff;
        }
        next.len = next_len as u8;
        (log_prob, next)
    }
}
