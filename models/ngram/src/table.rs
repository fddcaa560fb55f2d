//! Storage for the n-grams of one order: flat arrays plus an open-addressing hash index over
//! them, keyed by word-id tuples.
//!
//! Keys are stored *reversed* (the predicted word first, then its context from the nearest word
//! back). That makes the hash of the `k+1`-gram an extension of the hash of the `k`-gram, so
//! scoring one word walks the orders up with one mixing step per order (KenLM's trick), and a
//! context of length `k` is itself the reversed key of a `k`-gram.

use std::hash::{BuildHasher, Hasher};

use crate::WordId;

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

/// A found n-gram as scoring sees it: 16 bytes in the hash table itself, so that a lookup
/// touches one cache line. Scoring trusts the 64-bit hash (as KenLM does): insertion refuses
/// two keys with the same hash, so a stored n-gram can only be confused with an absent one
/// whose hash is equal, a 2^-64 chance per probe.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    /// Never 0 (`FREE`'s mark): [`slot_hash`] sets the low bit.
    hash: u64,
    prob: f32,
    /// The backoff; -0.0 marks a context with backoff 0 that a state must still keep.
    backoff: f32,
}

impl Slot {
    #[inline]
    pub(crate) fn prob(&self) -> f32 {
        self.prob
    }

    #[inline]
    pub(crate) fn backoff(&self) -> f32 {
        self.backoff + 0.0
    }

    /// Whether a scoring state must keep this n-gram as context: a longer n-gram extends it,
    /// or its backoff is not 0.
    #[inline]
    pub(crate) fn keeps(&self) -> bool {
        self.backoff.to_bits() != 0
    }

    fn set(&mut self, weights: Weights, extended: bool) {
        self.prob = weights.prob;
        self.backoff = if weights.backoff == 0.0 {
            if extended {
                -0.0
            } else {
                0.0
            }
        } else {
            weights.backoff
        };
    }
}

const FREE: Slot = Slot {
    hash: 0,
    prob: 0.0,
    backoff: 0.0,
};

/// The hash a slot stores for a key hash: never 0.
#[inline]
pub(crate) fn slot_hash(hash: u64) -> u64 {
    hash | 1
}

/// Why an n-gram could not be inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertError {
    /// The key is already stored, at this index.
    Duplicate(usize),
    /// Another key has the same 64-bit hash.
    HashCollision,
}

/// The n-grams of one order. Order 1 is indexed by word id directly (entry `i` is word `i`,
/// `slots[i]` its data); higher orders are an open-addressing table, never more than half
/// full, with linear probing.
#[derive(Clone, Debug)]
pub(crate) struct NgramTable {
    order: usize,
    /// Reversed keys, `order` ids each, in insertion order.
    keys: Vec<WordId>,
    /// Whether some n-gram of the next order has this one as its context.
    extended: Vec<bool>,
    /// Entry index -> its slot (the identity for order 1).
    slot_of: Vec<u32>,
    /// Slot -> entry index (unused for order 1): to confirm keys when building.
    entry_of: Vec<u32>,
    slots: Vec<Slot>,
    shift: u32,
}

impl NgramTable {
    pub(crate) fn new(order: usize) -> Self {
        NgramTable {
            order,
            keys: Vec::new(),
            extended: Vec::new(),
            slot_of: Vec::new(),
            entry_of: Vec::new(),
            slots: Vec::new(),
            shift: 64,
        }
    }

    pub(crate) fn order(&self) -> usize {
        self.order
    }

    pub(crate) fn len(&self) -> usize {
        self.extended.len()
    }

    /// The reversed key of entry `index`.
    pub(crate) fn key(&self, index: usize) -> &[WordId] {
        &self.keys[index * self.order..(index + 1) * self.order]
    }

    pub(crate) fn weights(&self, index: usize) -> Weights {
        let slot = &self.slots[self.slot_of[index] as usize];
        Weights {
            prob: slot.prob(),
            backoff: slot.backoff(),
        }
    }

    pub(crate) fn set_backoff(&mut self, index: usize, backoff: f32) {
        let mut weights = self.weights(index);
        weights.backoff = backoff;
        let extended = self.extended[index];
        self.slots[self.slot_of[index] as usize].set(weights, extended);
    }

    pub(crate) fn is_extended(&self, index: usize) -> bool {
        self.extended[index]
    }

    pub(crate) fn mark_extended(&mut self, index: usize) {
        let weights = self.weights(index);
        self.extended[index] = true;
        self.slots[self.slot_of[index] as usize].set(weights, true);
    }

    /// Scoring's lookup: the slot of the reversed `key` whose [`hash_key`] is `hash`, matched
    /// by hash alone (`key` is read only for order 1, where it is the index).
    #[inline]
    pub(crate) fn lookup(&self, hash: u64, key: &[WordId]) -> Option<&Slot> {
        if self.order == 1 {
            return self.slots.get(key[0].index());
        }
        if self.slots.is_empty() {
            return None;
        }
        let hash = slot_hash(hash);
        let mask = self.slots.len() - 1;
        let mut position = (hash >> self.shift) as usize;
        loop {
            let slot = &self.slots[position];
            if slot.hash == hash {
                return Some(slot);
            }
            if slot.hash == 0 {
                return None;
            }
            position = (position + 1) & mask;
        }
    }

    /// The entry index of the reversed `key`, confirmed on the stored key.
    pub(crate) fn find(&self, key: &[WordId]) -> Option<usize> {
        if self.order == 1 {
            return (key[0].index() < self.len()).then_some(key[0].index());
        }
        let position = self.position(slot_hash(hash_key(key)))?;
        let index = self.entry_of[position] as usize;
        (self.key(index) == key).then_some(index)
    }

    /// Where the slot with `hash` is, if stored.
    fn position(&self, hash: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut position = (hash >> self.shift) as usize;
        loop {
            match self.slots[position].hash {
                0 => return None,
                h if h == hash => return Some(position),
                _ => position = (position + 1) & mask,
            }
        }
    }

    /// Adds an n-gram (reversed `key`) and returns its index. For order 1 the key must be the
    /// next word id in sequence.
    pub(crate) fn insert(
        &mut self,
        key: &[WordId],
        weights: Weights,
    ) -> Result<usize, InsertError> {
        debug_assert_eq!(key.len(), self.order);
        let index = self.len();
        let hash = slot_hash(hash_key(key));
        let mut slot = FREE;
        slot.hash = hash;
        slot.set(weights, false);
        if self.order == 1 {
            if key[0].index() < index {
                return Err(InsertError::Duplicate(key[0].index()));
            }
            debug_assert_eq!(key[0].index(), index);
            self.slot_of.push(index as u32);
            self.slots.push(slot);
        } else {
            if let Some(position) = self.position(hash) {
                let existing = self.entry_of[position] as usize;
                return Err(if self.key(existing) == key {
                    InsertError::Duplicate(existing)
                } else {
                    InsertError::HashCollision
                });
            }
            if (index + 1) * 2 > self.slots.len() {
                self.grow();
            }
            let position = self.place(slot, index);
            self.slot_of.push(position as u32);
        }
        self.keys.extend_from_slice(key);
        self.extended.push(false);
        Ok(index)
    }

    fn place(&mut self, slot: Slot, index: usize) -> usize {
        let mask = self.slots.len() - 1;
        let mut position = (slot.hash >> self.shift) as usize;
        while self.slots[position].hash != 0 {
            position = (position + 1) & mask;
        }
        self.slots[position] = slot;
        self.entry_of[position] = index as u32;
        position
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![FREE; capacity]);
        let old_entries = std::mem::replace(&mut self.entry_of, vec![u32::MAX; capacity]);
        self.shift = 64 - capacity.trailing_zeros();
        for (slot, index) in old.into_iter().zip(old_entries) {
            if slot.hash != 0 {
                self.slot_of[index as usize] = self.place(slot, index as usize) as u32;
            }
        }
    }

    /// Returns the spare capacity of the per-entry arrays (grown by doubling while building).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.extended.shrink_to_fit();
        self.slot_of.shrink_to_fit();
    }

    /// Bytes held, for reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.capacity() * size_of::<WordId>()
            + self.extended.capacity()
            + (self.slot_of.capacity() + self.entry_of.capacity()) * 4
            + self.slots.capacity() * size_of::<Slot>()
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
