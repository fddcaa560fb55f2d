//! The vocabulary: words interned to dense integer ids, the three special words, and prefix
//! queries for a decoder that sees words grow piece by piece.

use std::collections::HashMap;

use crate::table::FxBuildHasher;

/// Sentence start. Never predicted, only a context.
pub const BOS: &str = "<s>";
/// Sentence end. Predicted like a word.
pub const EOS: &str = "</s>";
/// Every word the model does not know.
pub const UNK: &str = "<unk>";

/// A word's id in one model's [`Vocabulary`]. Ids are dense (`0..vocabulary.len()`); an id
/// from another model, or out of range, is scored as `<unk>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct WordId(pub u32);

impl WordId {
    /// The id as an index into per-word arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Words interned to ids. Always holds `<s>`, `</s>` and `<unk>`.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    words: Vec<Box<str>>,
    ids: HashMap<Box<str>, WordId, FxBuildHasher>,
    bos: WordId,
    eos: WordId,
    unk: WordId,
    /// Every id, sorted by its word: a flat "trie" for prefix queries (a binary search finds
    /// the range of words sharing a prefix). Built once; the vocabulary never changes after.
    sorted: Vec<WordId>,
}

impl Vocabulary {
    /// Builds a vocabulary from words in id order (duplicates keep their first id). The
    /// special words are appended when absent.
    pub(crate) fn from_words<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut builder = VocabularyBuilder::default();
        for word in words {
            builder.intern(word.as_ref());
        }
        builder.finish()
    }

    /// The number of words, special words included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Never true: the special words are always present.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The id of `word`, or `None` when the model does not know it.
    pub fn get(&self, word: &str) -> Option<WordId> {
        self.ids.get(word).copied()
    }

    /// The id of `word`, `<unk>`'s id when unknown.
    pub fn id(&self, word: &str) -> WordId {
        self.get(word).unwrap_or(self.unk)
    }

    /// The text of `id`; `<unk>` for an id out of range.
    pub fn word(&self, id: WordId) -> &str {
        self.words.get(id.index()).map_or(UNK, |w| w)
    }

    /// `<s>`'s id.
    pub fn bos(&self) -> WordId {
        self.bos
    }

    /// `</s>`'s id.
    pub fn eos(&self) -> WordId {
        self.eos
    }

    /// `<unk>`'s id.
    pub fn unk(&self) -> WordId {
        self.unk
    }

    /// `id` itself when it belongs to this vocabulary, otherwise `<unk>`.
    pub fn clamp(&self, id: WordId) -> WordId {
        if id.index() < self.words.len() {
            id
        } else {
            self.unk
        }
    }

    /// Every word with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (WordId, &str)> + '_ {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| (WordId(i as u32), &**w))
    }

    /// The ids of the words that start with `prefix`, in the words' byte order. An empty slice
    /// means no known word can grow out of `prefix`: a decoder can stop hoping for a known word.
    /// Special words (`<s>`, `</s>`, `<unk>`) are not included.
    pub fn completions(&self, prefix: &str) -> &[WordId] {
        let start = self.sorted.partition_point(|&id| self.word(id) < prefix);
        let len = self.sorted[start..].partition_point(|&id| self.word(id).starts_with(prefix));
        &self.sorted[start..start + len]
    }

    /// Whether some known word starts with `prefix` (or is `prefix`).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        !self.completions(prefix).is_empty()
    }
}

/// Interns words one by one; `finish` adds the special words and the prefix index.
#[derive(Debug, Default)]
pub(crate) struct VocabularyBuilder {
    words: Vec<Box<str>>,
    ids: HashMap<Box<str>, WordId, FxBuildHasher>,
}

impl VocabularyBuilder {
    /// The id of `word`, new or existing, and whether it was new.
    pub(crate) fn intern(&mut self, word: &str) -> (WordId, bool) {
        if let Some(&id) = self.ids.get(word) {
            return (id, false);
        }
        let id = WordId(self.words.len() as u32);
        self.words.push(word.into());
        self.ids.insert(word.into(), id);
        (id, true)
    }

    pub(crate) fn get(&self, word: &str) -> Option<WordId> {
        self.ids.get(word).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.words.len()
    }

    pub(crate) fn word(&self, id: WordId) -> &str {
        self.words.get(id.index()).map_or(UNK, |w| w)
    }

    pub(crate) fn finish(mut self) -> Vocabulary {
        let bos = self.intern(BOS).0;
        let eos = self.intern(EOS).0;
        let unk = self.intern(UNK).0;
        let mut sorted: Vec<WordId> = (0..self.words.len() as u32)
            .map(WordId)
            .filter(|&id| id != bos && id != eos && id != unk)
            .collect();
        sorted.sort_by(|a, b| self.words[a.index()].cmp(&self.words[b.index()]));
        Vocabulary {
            words: self.words,
            ids: self.ids,
            bos,
            eos,
            unk,
            sorted,
        }
    }
}
