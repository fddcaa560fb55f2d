//! CMU Sphinx's binary "trie" language models (what `sphinx_lm_convert -ofmt bin` writes, such
//! as PocketSphinx's `en-us.lm.bin`): reading untrusted files into a [`Model`]; every defect is a
//! [`SphinxError`] with its byte offset, never a panic.
//!
//! The layout, as sphinxbase 5prealpha writes it (its `ngram_model_trie.c`, `lm_trie.c` and
//! `lm_trie_quant.c`; everything little-endian, as the writer dumps its memory):
//!
//! ```text
//! "Trie Language Model"      19 bytes, no NUL
//! order                      u8
//! counts                     u32 per order, unigrams first
//! if order > 1:
//!   quantization             i32, 1 (16-bit bins; 0 was an unquantised format of 2015)
//!   bins                     per middle order: 65536 f32 probabilities, 65536 f32 backoffs;
//!                            then 65536 f32 probabilities of the highest order
//! unigrams                   counts[0] + 1 records of {prob f32, backoff f32, next u32}
//! if order > 1, per order 2..order, bit-packed records (LSB first), (count + 1) records,
//!   rounded up to bytes plus 8 bytes of padding:
//!   middle orders            {word, backoff bin (16), prob bin (16), next}
//!   the highest order        {word, prob bin (16)}
//! words                      i32 byte length, then counts[0] NUL-terminated words
//! ```
//!
//! It is a trie over *reversed* n-grams, like this crate's keys: unigram `w`'s children (records
//! `next[w]..next[w + 1]` of the bigram level, meant to be sorted by word) are the words seen
//! before `w`, and so on. Words take `bits(counts[0])` bits, `next` fields `bits(count of the
//! next order)`. Weights are logarithms to base 1.0001, sphinxbase's default `-logbase`; the
//! file does not say.
//!
//! Quirks of real files, all accepted:
//! - The trie needs every n-gram's *suffix*, so the writer inserts blank suffixes (backed-off
//!   probability, backoff 0) where the source model had none. When a word's first n-gram needs
//!   one whose word equals the last one inserted for the word before, the writer's stale
//!   comparison skips the blank and files the n-gram under the previous word: PocketSphinx's
//!   `en-us.lm.bin` stores "teased and bullied" as a second "teased and bullhorns" sibling
//!   (after "whips", so siblings are not always sorted). Sphinx reads these as misfiled too;
//!   here a misfiled n-gram that duplicates a real sibling is dropped (the first one wins).
//! - The writer counts n-grams before building the trie, blanks the bug skipped included:
//!   `en-us.lm.bin` declares 2,051,547 bigrams and links 2,051,541 (the rest are zero padding;
//!   sphinxbase's own `sphinx_lm_convert -ofmt arpa` aborts on such files). The counts read
//!   here are the records the trie links, at most the declared ones.
//! - Blank suffixes are read as ordinary n-grams (they score the same). Backoff models need
//!   every *context* stored instead: a missing one is added the same way.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::arpa::LOG_ZERO;
use crate::model::{Model, MAX_ORDER};
use crate::table::{InsertError, NgramTable, Weights};
use crate::vocab::{VocabularyBuilder, WordId, BOS, EOS, UNK};

/// The first bytes of every Sphinx trie file.
const MAGIC: &[u8] = b"Trie Language Model";
/// Quantisation bins per table (16-bit codes).
const BINS: usize = 1 << 16;
/// The base of the file's logarithms.
const LOG_BASE: f64 = 1.0001;

/// A Sphinx trie file that could not be read: where and why.
#[derive(Debug)]
pub struct SphinxError {
    /// The file, when read through [`Model::read_sphinx_trie_file`].
    pub path: Option<PathBuf>,
    /// Byte offset of the field or record at fault (0 for errors opening the file).
    pub offset: u64,
    /// What was wrong.
    pub kind: SphinxErrorKind,
}

impl fmt::Display for SphinxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        write!(f, "byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for SphinxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SphinxErrorKind::Io(error) => Some(error),
            _ => None,
        }
    }
}

/// The defects [`SphinxError`] reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SphinxErrorKind {
    #[error("reading failed: {0}")]
    Io(io::Error),
    #[error("not a Sphinx trie language model (no \"Trie Language Model\" header)")]
    NotSphinxTrie,
    #[error("the file ends inside the {what}: {needed} bytes needed, {available} left")]
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    #[error("order {order} is outside the supported 1..={MAX_ORDER}")]
    Order { order: u8 },
    #[error("quantisation type {kind} is not supported (only 1, 16-bit bins)")]
    Quantization { kind: i32 },
    #[error("the word list's length {length} is negative")]
    WordListLength { length: i32 },
    #[error("the word list holds {found} words, the header counts {declared}")]
    WordCount { declared: u32, found: usize },
    #[error("word {index} is not UTF-8")]
    WordNotUtf8 { index: usize },
    #[error("word {index} ({word:?}) is empty or contains whitespace")]
    BadWord { index: usize, word: String },
    #[error("the word {word:?} appears twice")]
    DuplicateWord { word: String },
    #[error("{count} bytes follow the word list")]
    TrailingBytes { count: u64 },
    #[error("the {order}-gram links are out of order or point past the {declared} declared (found {found})")]
    BadLink {
        order: usize,
        declared: u32,
        found: u64,
    },
    #[error("a {order}-gram uses word id {word}, beyond the {vocabulary} words")]
    WordOutOfRange {
        order: usize,
        word: u32,
        vocabulary: u32,
    },
    #[error("the {order}-gram {ngram:?} has {what} {value}")]
    BadWeight {
        order: usize,
        ngram: String,
        what: &'static str,
        value: f32,
    },
    #[error("the {order}-gram {ngram:?} has the same 64-bit hash as another (a crafted file?)")]
    HashCollision { order: usize, ngram: String },
}

fn error(offset: u64, kind: SphinxErrorKind) -> SphinxError {
    SphinxError {
        path: None,
        offset,
        kind,
    }
}

/// Reads the file's sections in turn.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn offset(&self) -> u64 {
        self.position as u64
    }

    fn take(&mut self, what: &'static str, len: u64) -> Result<&'a [u8], SphinxError> {
        let available = (self.bytes.len() - self.position) as u64;
        if len > available {
            let kind = SphinxErrorKind::Truncated {
                what,
                needed: len,
                available,
            };
            return Err(error(self.offset(), kind));
        }
        let start = self.position;
        self.position += len as usize;
        Ok(&self.bytes[start..self.position])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], SphinxError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(what, N as u64)?);
        Ok(out)
    }
}

fn u32_at(bytes: &[u8], index: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[index * 4..index * 4 + 4]);
    u32::from_le_bytes(word)
}

fn f32_at(bytes: &[u8], index: usize) -> f32 {
    f32::from_bits(u32_at(bytes, index))
}

/// The bits sphinxbase gives a field holding values up to `max`.
fn bits_for(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

/// One order's bit-packed records, as laid out in the file.
struct Packed<'a> {
    bytes: &'a [u8],
    /// File offset of `bytes`, for errors.
    start: u64,
    record_bits: u64,
    word_bits: u32,
    /// Bits of the backoff and probability codes (16 each in a middle order, 0 and 16 in the
    /// highest).
    backoff_bits: u32,
    prob_bits: u32,
    next_bits: u32,
}

impl Packed<'_> {
    fn new<'a>(
        cursor: &mut Cursor<'a>,
        records: u32,
        word_bits: u32,
        middle: bool,
        next_bits: u32,
    ) -> Result<Packed<'a>, SphinxError> {
        let backoff_bits = if middle { 16 } else { 0 };
        let record_bits = u64::from(word_bits + backoff_bits + 16 + next_bits);
        let len = ((u64::from(records) + 1) * record_bits).div_ceil(8) + 8;
        let start = cursor.offset();
        Ok(Packed {
            bytes: cursor.take("n-gram records", len)?,
            start,
            record_bits,
            word_bits,
            backoff_bits,
            prob_bits: 16,
            next_bits,
        })
    }

    fn offset(&self, record: u32) -> u64 {
        self.start + u64::from(record) * self.record_bits / 8
    }

    /// `width` bits starting `skip` bits into `record`.
    fn field(&self, record: u32, skip: u32, width: u32) -> Result<u32, SphinxError> {
        let bit = u64::from(record) * self.record_bits + u64::from(skip);
        let byte = (bit / 8) as usize;
        let Some(chunk) = self.bytes.get(byte..byte + 8) else {
            let kind = SphinxErrorKind::Truncated {
                what: "n-gram records",
                needed: 8,
                available: self.bytes.len().saturating_sub(byte) as u64,
            };
            return Err(error(self.offset(record), kind));
        };
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let value = (u64::from_le_bytes(word) >> (bit % 8)) & ((1u64 << width) - 1);
        Ok(value as u32)
    }

    fn word(&self, record: u32) -> Result<u32, SphinxError> {
        self.field(record, 0, self.word_bits)
    }

    /// The (probability, backoff) bin codes.
    fn codes(&self, record: u32) -> Result<(usize, usize), SphinxError> {
        let backoff = self.field(record, self.word_bits, self.backoff_bits)?;
        let prob = self.field(record, self.word_bits + self.backoff_bits, self.prob_bits)?;
        Ok((prob as usize, backoff as usize))
    }

    fn next(&self, record: u32) -> Result<u32, SphinxError> {
        let skip = self.word_bits + self.backoff_bits + self.prob_bits;
        self.field(record, skip, self.next_bits)
    }
}

/// Reads a Sphinx binary trie language model (see the module docs for the layout and its
/// quirks). Weights become log10 `f32`s; missing `<s>`, `</s>` or `<unk>` unigrams are added
/// with log10 probability -99, as [`Model::read_arpa`] does.
pub fn read_sphinx_trie_bytes(bytes: &[u8]) -> Result<Model, SphinxError> {
    let scale = LOG_BASE.log10();
    let to_log10 = |value: f32| (f64::from(value) * scale) as f32;
    if !bytes.starts_with(MAGIC) {
        return Err(error(0, SphinxErrorKind::NotSphinxTrie));
    }
    let mut cursor = Cursor {
        bytes,
        position: MAGIC.len(),
    };
    let [order] = cursor.array::<1>("header")?;
    if order == 0 || usize::from(order) > MAX_ORDER {
        return Err(error(cursor.offset() - 1, SphinxErrorKind::Order { order }));
    }
    let order = usize::from(order);
    let counts: Vec<u32> = (0..order)
        .map(|_| cursor.array::<4>("header").map(u32::from_le_bytes))
        .collect::<Result<_, _>>()?;

    // Bins, converted once: probabilities and backoffs per middle order, then the highest's
    // probabilities.
    let mut bins: Vec<Vec<f32>> = Vec::new();
    if order > 1 {
        let at = cursor.offset();
        let kind = i32::from_le_bytes(cursor.array::<4>("quantisation type")?);
        if kind != 1 {
            return Err(error(at, SphinxErrorKind::Quantization { kind }));
        }
        for _ in 0..2 * (order - 2) + 1 {
            let table = cursor.take("quantisation bins", BINS as u64 * 4)?;
            bins.push((0..BINS).map(|i| to_log10(f32_at(table, i))).collect());
        }
    }
    let unigrams_at = cursor.offset();
    let unigrams = cursor.take("unigrams", (u64::from(counts[0]) + 1) * 12)?;
    let word_bits = bits_for(counts[0]);
    let mut packed_levels: Vec<Packed> = Vec::new();
    for n in 2..=order {
        let middle = n < order;
        let next_bits = if middle { bits_for(counts[n]) } else { 0 };
        let packed = Packed::new(&mut cursor, counts[n - 1], word_bits, middle, next_bits)?;
        packed_levels.push(packed);
    }
    let mut vocabulary = read_words(&mut cursor, counts[0])?;
    if cursor.position < bytes.len() {
        let count = (bytes.len() - cursor.position) as u64;
        return Err(error(
            cursor.offset(),
            SphinxErrorKind::TrailingBytes { count },
        ));
    }

    // Unigrams, and the links to their children.
    let mut unigrams_read = Level {
        table: NgramTable::new(1),
        entries: (0..counts[0]).collect(),
        links: Vec::new(),
    };
    for index in 0..=counts[0] as usize {
        let at = unigrams_at + 12 * index as u64;
        if order > 1 {
            let link = u32_at(unigrams, 3 * index + 2);
            check_link(&unigrams_read.links, link, 2, counts[1])
                .map_err(|kind| error(at + 8, kind))?;
            unigrams_read.links.push(link);
        }
        if index < counts[0] as usize {
            let key = [WordId(index as u32)];
            let prob = to_log10(f32_at(unigrams, 3 * index));
            let backoff = to_log10(f32_at(unigrams, 3 * index + 1));
            weights(&vocabulary, &key, prob, Some(backoff))
                .and_then(|weights| {
                    insert(&mut unigrams_read.table, &key, weights, &vocabulary).map(|_| ())
                })
                .map_err(|kind| error(at, kind))?;
        }
    }
    for special in [BOS, EOS, UNK] {
        let (id, new) = vocabulary.intern(special);
        if new {
            let weights = Weights {
                prob: LOG_ZERO,
                backoff: 0.0,
            };
            // A new id is always the next unigram index.
            let _ = unigrams_read.table.insert(&[id], weights);
        }
    }

    let mut tables = Vec::with_capacity(order);
    let mut parents = unigrams_read;
    for (k, packed) in packed_levels.iter().enumerate() {
        let n = k + 2;
        let bins = if n < order {
            (&bins[2 * k][..], Some(&bins[2 * k + 1][..]))
        } else {
            (&bins[2 * k][..], None)
        };
        let declared_next = counts.get(n).copied().unwrap_or(0);
        let level = read_level(
            packed,
            &parents,
            bins,
            declared_next,
            &vocabulary,
            counts[0],
        )?;
        tables.push(std::mem::replace(&mut parents, level).table);
    }
    tables.push(parents.table);
    add_missing_contexts(&mut tables);
    Ok(Model::from_tables(vocabulary.finish(), tables))
}

/// One order as read from the trie.
struct Level {
    table: NgramTable,
    /// Record -> its entry in `table` (a duplicate record maps to the first one).
    entries: Vec<u32>,
    /// Where each record's children start in the next order, and where the last ones end
    /// (empty at the highest order).
    links: Vec<u32>,
}

/// Reads one order's records: the children of each record of `parents`.
fn read_level(
    packed: &Packed,
    parents: &Level,
    (prob_bins, backoff_bins): (&[f32], Option<&[f32]>),
    declared_next: u32,
    vocabulary: &VocabularyBuilder,
    words: u32,
) -> Result<Level, SphinxError> {
    let n = parents.table.order() + 1;
    let records = parents.links.last().copied().unwrap_or(0);
    let mut level = Level {
        table: NgramTable::new(n),
        entries: Vec::new(),
        links: Vec::new(),
    };
    let mut key: Vec<WordId> = Vec::with_capacity(n);
    for (parent, range) in parents.links.windows(2).enumerate() {
        let parent_key = parents.table.key(parents.entries[parent] as usize);
        for record in range[0]..range[1] {
            let at = packed.offset(record);
            let word = packed.word(record)?;
            if word >= words {
                let kind = SphinxErrorKind::WordOutOfRange {
                    order: n,
                    word,
                    vocabulary: words,
                };
                return Err(error(at, kind));
            }
            key.clear();
            key.extend_from_slice(parent_key);
            key.push(WordId(word));
            let (prob, backoff) = packed.codes(record)?;
            let backoff = backoff_bins.map(|bins| bins[backoff]);
            let entry = weights(vocabulary, &key, prob_bins[prob], backoff)
                .and_then(|weights| insert(&mut level.table, &key, weights, vocabulary))
                .map_err(|kind| error(at, kind))?;
            level.entries.push(entry as u32);
        }
    }
    if backoff_bins.is_some() {
        // Record `records` is the end marker: its link ends the last record's children.
        for record in 0..=records {
            let link = packed.next(record)?;
            check_link(&level.links, link, n + 1, declared_next)
                .map_err(|kind| error(packed.offset(record), kind))?;
            level.links.push(link);
        }
    }
    Ok(level)
}

/// Links must start at 0, never decrease, and stay within the declared count.
fn check_link(
    links: &[u32],
    link: u32,
    order: usize,
    declared: u32,
) -> Result<(), SphinxErrorKind> {
    let previous = links.last().copied();
    let in_order = previous.map_or(link == 0, |previous| link >= previous);
    if in_order && link <= declared {
        Ok(())
    } else {
        Err(SphinxErrorKind::BadLink {
            order,
            declared,
            found: u64::from(link),
        })
    }
}

/// The word list: `declared` NUL-terminated words, each usable in an ARPA file.
fn read_words(cursor: &mut Cursor, declared: u32) -> Result<VocabularyBuilder, SphinxError> {
    let at = cursor.offset();
    let length = i32::from_le_bytes(cursor.array::<4>("word list")?);
    let Ok(len) = u64::try_from(length) else {
        return Err(error(at, SphinxErrorKind::WordListLength { length }));
    };
    let start = cursor.offset();
    let text = cursor.take("word list", len)?;
    let found = text.iter().filter(|&&b| b == 0).count();
    if found != declared as usize || text.last().is_some_and(|&b| b != 0) {
        return Err(error(start, SphinxErrorKind::WordCount { declared, found }));
    }
    let mut vocabulary = VocabularyBuilder::default();
    let mut offset = start;
    for (index, bytes) in text.split(|&b| b == 0).take(found).enumerate() {
        let word = std::str::from_utf8(bytes)
            .map_err(|_| error(offset, SphinxErrorKind::WordNotUtf8 { index }))?;
        if word.is_empty() || word.contains(|c: char| c.is_ascii_whitespace()) {
            let word = word.to_owned();
            return Err(error(offset, SphinxErrorKind::BadWord { index, word }));
        }
        if !vocabulary.intern(word).1 {
            let word = word.to_owned();
            return Err(error(offset, SphinxErrorKind::DuplicateWord { word }));
        }
        offset += bytes.len() as u64 + 1;
    }
    Ok(vocabulary)
}

/// Checks a probability (finite, at most 0) and a backoff (finite).
fn weights(
    vocabulary: &VocabularyBuilder,
    key: &[WordId],
    prob: f32,
    backoff: Option<f32>,
) -> Result<Weights, SphinxErrorKind> {
    let bad = |what, value| SphinxErrorKind::BadWeight {
        order: key.len(),
        ngram: join_reversed(vocabulary, key),
        what,
        value,
    };
    if !prob.is_finite() {
        return Err(bad("a probability that is not finite:", prob));
    }
    if prob > 0.0 {
        return Err(bad("a log10 probability above 0:", prob));
    }
    let backoff = backoff.unwrap_or(0.0);
    if !backoff.is_finite() {
        return Err(bad("a backoff that is not finite:", backoff));
    }
    Ok(Weights { prob, backoff })
}

fn insert(
    table: &mut NgramTable,
    key: &[WordId],
    weights: Weights,
    vocabulary: &VocabularyBuilder,
) -> Result<usize, SphinxErrorKind> {
    match table.insert(key, weights) {
        Ok(index) => Ok(index),
        // The writer's misfiled n-grams (see the module docs) follow the real ones.
        Err(InsertError::Duplicate(first)) => Ok(first),
        Err(InsertError::HashCollision) => Err(SphinxErrorKind::HashCollision {
            order: key.len(),
            ngram: join_reversed(vocabulary, key),
        }),
    }
}

/// Adds every context that a stored n-gram needs and the trie did not hold, with its
/// backed-off probability and backoff 0: the model scores exactly as before.
fn add_missing_contexts(tables: &mut [NgramTable]) {
    let order = tables.len();
    let mut missing: Vec<Vec<Vec<WordId>>> = vec![Vec::new(); order];
    for k in (2..order).rev() {
        // `k` indexes the (k+1)-grams; their contexts are k-grams, at `k - 1`.
        let mut seen: HashSet<Vec<WordId>> = HashSet::new();
        let table = &tables[k];
        let keys = (0..table.len())
            .map(|i| table.key(i))
            .chain(missing[k].iter().map(Vec::as_slice));
        let mut found = Vec::new();
        for key in keys {
            let context = &key[1..];
            if tables[k - 1].find(context).is_none() && seen.insert(context.to_vec()) {
                found.push(context.to_vec());
            }
        }
        missing[k - 1] = found;
    }
    for k in 1..order {
        for key in std::mem::take(&mut missing[k]) {
            let prob = backed_off(&tables[..k], &key);
            let _ = tables[k].insert(&key, Weights { prob, backoff: 0.0 });
        }
    }
}

/// log10 p of the reversed `key`'s first word given the rest, by the backoff definition, when
/// `key` itself is not stored: `lower` holds the orders below `key.len()`.
fn backed_off(lower: &[NgramTable], key: &[WordId]) -> f32 {
    let context = &key[1..];
    let contexts = &lower[context.len() - 1];
    let backoff = contexts
        .find(context)
        .map_or(0.0, |i| contexts.weights(i).backoff);
    let shorter = &key[..key.len() - 1];
    let table = &lower[shorter.len() - 1];
    let prob = match table.find(shorter) {
        Some(index) => table.weights(index).prob,
        None if shorter.len() == 1 => LOG_ZERO,
        None => backed_off(&lower[..shorter.len() - 1], shorter),
    };
    backoff + prob
}

fn join_reversed(vocabulary: &VocabularyBuilder, key: &[WordId]) -> String {
    let words: Vec<&str> = key.iter().rev().map(|&w| vocabulary.word(w)).collect();
    words.join(" ")
}

impl Model {
    /// Reads a CMU Sphinx binary trie language model file (see [`read_sphinx_trie_bytes`]).
    pub fn read_sphinx_trie_file(path: impl AsRef<Path>) -> Result<Model, SphinxError> {
        let path = path.as_ref();
        let with_path = |mut error: SphinxError| {
            error.path = Some(path.to_owned());
            error
        };
        let bytes = std::fs::read(path).map_err(|e| with_path(error(0, SphinxErrorKind::Io(e))))?;
        read_sphinx_trie_bytes(&bytes).map_err(with_path)
    }
}
