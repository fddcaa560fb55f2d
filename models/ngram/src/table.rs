//! Storage for the n-grams of one order: flat arrays plus an open-addressing hash index over
//! them, keyed by word-id tuples.
//!
//! Keys are stored *reversed* (the predicted word first, then its context from the nearest word
//! back). That makes the hash of the `k+1`-gram an extension of the hash of the `k`-gram, so
//! scoring one word walks the orders up with one mixing step per order (KenLM's trick), and a
//! context of length `k` is itself the reversed key of a `k`-gram.

use std::hash::{BuildHasher, Hasher};

use crate::WordId;

const EMPTY: u32 = u32::MAX;
const SEED: u64 = 0x243f_6a88_85a3_08d3;
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// One step of the key hash: the hash of `key` extended by `word`.
#[inline]
pub(crate) fn mix(hash: u64, word: WordId) -> u64 {
    (hash.rotate_left(5) ^ u64::from(word.0)).wrapping_mul(MULTIPLIER)
}

/// The hash of a whole (reversed) key.
#[inline]
pub(crate) fn hash_key(key: &[WordId]) -> u64 {
    key.iter().fold(SEED, |h, &w| mix(h, w))
}

#[inline]
pub(crate) fn hash_start() -> u64 {
    SEED
}

/// The probability and backoff of one n-gram, as log10.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Weights {
    pub(crate) prob: f32,
    pub(crate) backoff: f32,
}

/// The n-grams of one order. Order 1 is indexed by word id directly (entry `i` is word `i`).
#[derive(Clone, Debug)]
pub(crate) struct NgramTable {
    order: usize,
    /// Reversed keys, `order` ids each.
    keys: Vec<WordId>,
    weights: Vec<Weights>,
    /// Whether some n-gram of the next order has this one as its context.
    extended: Vec<bool>,
    /// Entry index + 0, or `EMPTY`; never more than half full. Unused for order 1.
    slots: Vec<u32>,
    shift: u32,
}

impl NgramTable {
    pub(crate) fn new(order: usize) -> Self {
        NgramTable {
            order,
            keys: Vec::new(),
            weights: Vec::new(),
            extended: Vec::new(),
            slots: Vec::new(),
            shift: 64,
        }
    }

    pub(crate) fn order(&self) -> usize {
        self.order
    }

    pub(crate) fn len(&self) -> usize {
        self.weights.len()
    }

    /// The reversed key of entry `index`.
    pub(crate) fn key(&self, index: usize) -> &[WordId] {
        &self.keys[index * self.order..(index + 1) * self.order]
    }

    pub(crate) fn weights(&self, index: usize) -> Weights {
        self.weights[index]
    }

    pub(crate) fn set_backoff(&mut self, index: usize, backoff: f32) {
        self.weights[index].backoff = backoff;
    }

    pub(crate) fn is_extended(&self, index: usize) -> bool {
        self.extended[index]
    }

    pub(crate) fn mark_extended(&mut self, index: usize) {
        self.extended[index] = true;
    }

    /// The entry for the reversed `key` whose hash is `hash`.
    #[inline]
    pub(crate) fn find_hashed(&self, hash: u64, key: &[WordId]) -> Option<usize> {
        if self.order == 1 {
            let index = key[0].index();
            return (index < self.weights.len()).then_some(index);
        }
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = (hash >> self.shift) as usize;
        loop {
            let entry = self.slots[slot];
            if entry == EMPTY {
                return None;
            }
            if self.key(entry as usize) == key {
                return Some(entry as usize);
            }
            slot = (slot + 1) & mask;
        }
    }

    pub(crate) fn find(&self, key: &[WordId]) -> Option<usize> {
        self.find_hashed(hash_key(key), key)
    }

    /// Adds an n-gram (reversed `key`) and returns its index, or `Err(existing index)` when the
    /// key is already present. For order 1 the key must be the next word id in sequence.
    pub(crate) fn insert(&mut self, key: &[WordId], weights: Weights) -> Result<usize, usize> {
        debug_assert_eq!(key.len(), self.order);
        if self.order == 1 {
            let index = key[0].index();
            if index < self.weights.len() {
                return Err(index);
            }
            debug_assert_eq!(index, self.weights.len());
        } else {
            if let Some(existing) = self.find(key) {
                return Err(existing);
            }
            if (self.len() + 1) * 2 > self.slots.len() {
                self.grow();
            }
        }
        let index = self.weights.len();
        self.keys.extend_from_slice(key);
        self.weights.push(weights);
        self.extended.push(false);
        if self.order > 1 {
            self.place(index);
        }
        Ok(index)
    }

    fn place(&mut self, index: usize) {
        let mask = self.slots.len() - 1;
        let mut slot = (hash_key(self.key(index)) >> self.shift) as usize;
        while self.slots[slot] != EMPTY {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = index as u32;
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(16);
        self.slots = vec![EMPTY; capacity];
        self.shift = 64 - capacity.trailing_zeros();
        for index in 0..self.len() {
            self.place(index);
        }
    }

    /// Bytes held, for reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 4
            + self.weights.capacity() * 8
            + self.extended.capacity()
            + self.slots.capacity() * 4
    }
}

/// A fast, deterministic hasher for the estimator's count maps (keys are small integers).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FxBuildHasher;

#[derive(Clone, Copy, Debug)]
pub(crate) struct FxHasher(u64);

impl BuildHasher for FxBuildHasher {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(SEED)
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(MULTIPLIER);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(MULTIPLIER);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(MULTIPLIER);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}
