//! Word n-gram language models in pure Rust, for fusing into the speech decoder: read and write
//! ARPA files, read CMU Sphinx binary trie models (the general-English base, below), estimate
//! interpolated modified Kneser-Ney models from text, prune them, mix two of them, and score
//! word by word from a small `Copy` state.
//!
//! ```
//! use sotto_ngram::{estimate_text, EstimateConfig, LanguageModel, Model};
//!
//! let corpus = "create a note called groceries\nopen the groceries note\ncreate a timer";
//! let model = estimate_text(corpus, &EstimateConfig::new(3))?.model;
//!
//! // Word by word, as a decoder's beam does: one lookup per order, no allocation.
//! let vocabulary = model.vocabulary();
//! let mut state = model.begin_sentence();
//! let mut total = 0.0f64;
//! for word in ["create", "a", "note"] {
//!     let (log10_prob, next) = model.score_word(&state, vocabulary.id(word));
//!     total += f64::from(log10_prob);
//!     state = next;
//! }
//! total += f64::from(model.end_sentence(&state));
//! assert!((total - model.score_text("Create a note")).abs() < 1e-9);
//! assert!(model.score_text("create a note") > model.score_text("grow series"));
//!
//! // A word still being spelled: can it become a known word, and how likely is the best one?
//! assert!(vocabulary.has_prefix("groc"));
//! let (best, _) = model.best_completion(&state, "gro").unwrap();
//! assert_eq!(vocabulary.word(best), "groceries");
//!
//! // ARPA out and back in.
//! let again = Model::from_arpa_str(&model.to_arpa_string())?;
//! assert_eq!(again.to_arpa_string(), model.to_arpa_string());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # For the decoder
//!
//! Load or build the model once (a [`Model`], or a [`Mixture`] of the personal model and the
//! base) and write the fusion against [`LanguageModel`], so either works. Each beam
//! hypothesis carries an `L::State` (it is `Copy`) and the text of the word it is spelling.
//! When a token starts a new word (Whisper's leading space) or the hypothesis ends, the
//! finished word is normalised with [`tokenize`] (the same normaliser the model was built
//! with; it may yield zero or several words), each piece is looked up with
//! [`Vocabulary::id`] (unknown words become `<unk>`) and scored with
//! [`LanguageModel::score_word`]; at the end, [`LanguageModel::end_sentence`]. Scores are
//! log10: multiply by `ln 10` to add them to Whisper's natural-log probabilities (or fold the
//! factor into alpha). Hypotheses with equal states and equal text can be merged.
//! [`Vocabulary::has_prefix`] (a binary search) tells whether a partial word can still become
//! a known word; [`LanguageModel::best_completion`] scores the best such word, at one lookup
//! per completion, so only for prefixes of a few letters or more.
//!
//! # Design trade-offs
//!
//! - **Storage: one hash table per order**, keys reversed (predicted word first), so the
//!   hash of a `k+1`-gram extends the hash of the `k`-gram and scoring a word is at most
//!   `order` probes with one multiply each. A probe reads one 16-byte slot holding the 64-bit
//!   hash, the probability and the backoff; scoring trusts the hash, as KenLM does (insertion
//!   refuses two keys with one hash, so only an absent n-gram could be mistaken for a stored
//!   one, with probability 2^-64 per probe), and the word tuples are read only to build,
//!   write and prune. Measured on a 68k n-gram trigram model of 10,000 sentences of Debian's
//!   licence texts (CPU time on a busy 2-core machine; see "Figures" below): 60-80 ns per
//!   word, against 390-440 ns for the same algorithm over sorted arrays with binary search
//!   (the first version, which confirmed every hit on the stored key with 24-byte slots, took
//!   110-125 ns). The price is memory: about 80 bytes per n-gram (77 measured on
//!   a 451k n-gram 4-gram model: tables a quarter to half full, the keys kept for writing and
//!   pruning) where sorted arrays need about 20. Speed in the decoder's hot path wins for
//!   Sotto's models (a small personal model; a base pruned to a few hundred thousand
//!   n-grams); a multi-million n-gram base would want a more compact layout. Unigrams are an
//!   array indexed by word id. Weights are `f32`, as precise as ARPA files are written.
//! - **State minimisation** (as in KenLM): a [`State`] keeps only the context words a later
//!   lookup can use, so hypotheses whose histories the model cannot tell apart have equal
//!   states and a beam can merge them. The state also carries its contexts' backoff weights,
//!   so scoring never looks a context up twice.
//! - **Estimation holds every count in memory** (hash maps of fixed-size keys). Sotto's
//!   corpora are a user's commands, names and titles plus a base of at most a few million
//!   words: no need for KenLM's disk-based sorting.
//! - **Mixing happens at scoring time** ([`Mixture`]), which is exact and lets the personal
//!   model be rebuilt alone; it costs a second lookup per word.
//! - **Limits**: orders up to [`MAX_ORDER`] (6), which keeps [`State`] `Copy` at 44 bytes;
//!   fewer than 2^32 words and n-grams per order.
//!
//! # Figures
//!
//! From `examples/ngram.rs`, on sentences of Debian's licence texts:
//!
//! ```text
//! cat /usr/share/doc/*/copyright > /tmp/copyright.txt
//! cargo run -p sotto-ngram --release --example ngram -- \
//!     bench /tmp/copyright.txt --split sentences --sentences 10000 --model-sentences 10000 --order 3
//! ```
//!
//! | what (2 busy cores, CPU time)                        | order 3 | order 4 |
//! |------------------------------------------------------|---------|---------|
//! | estimate 10,000 sentences (204k words)               | 150 ms  | 200 ms  |
//! | n-grams in that model                                | 68k     | 108k    |
//! | read its ARPA file                                   | 41 ms   | 77 ms   |
//! | `score_word`                                         | 80 ns   | 104 ns  |
//! | `score_word`, same lookups over sorted arrays        | 390 ns  | 830 ns  |
//! | `score_word` on a [`Mixture`] with a small model     | 200 ns  | 250 ns  |
//!
//! With `--model-sentences 30000 --order 4` (451k n-grams): estimation 1.6 s, reading 0.4 s,
//! 137 ns per word, 35 MB of tables. `ngram speed MODEL CORPUS` times scoring alone: 61-72 ns
//! per word for the order-3 model over its own 10,000 sentences.
//!
//! # The general-English base
//!
//! Debian's `pocketsphinx-en-us` ships CMU's US English trigram model as a Sphinx binary trie,
//! `/usr/share/pocketsphinx/model/en-us/en-us.lm.bin` (BSD-2; 72,547 words, 3.8M n-grams, no
//! `<unk>`, so unknown words score -99 there). [`read_sphinx_trie_bytes`] and
//! [`Model::read_sphinx_trie_file`] read it; [`prune_entropy`] makes it small enough for
//! Sotto. `examples/ngram.rs` converts it:
//!
//! ```text
//! cargo run -p sotto-ngram --release --example ngram -- \
//!     sphinx /usr/share/pocketsphinx/model/en-us/en-us.lm.bin --target 300000 -o en-us.arpa
//! zcat /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz \
//!     | sed -n 's/^[^;][^:]*: //p' > prompts.txt
//! cargo run -p sotto-ngram --release --example ngram -- perplexity en-us.arpa prompts.txt
//! ```
//!
//! | what (CPU time)                        | full model          | pruned at 1.1e-6  |
//! |----------------------------------------|---------------------|-------------------|
//! | n-grams (orders 1, 2, 3)               | 72k, 2,052k, 1,670k | 72k, 168k, 65k    |
//! | read the 27 MB binary; prune           | 0.92 s              | 1.9 s             |
//! | tables in memory                       | 226 MB              | 19 MB             |
//! | its ARPA file; reading that            | 100 MB; 2.6 s       | 7.2 MB; 0.12 s    |
//! | perplexity on 460 Asterisk prompts     | 337                 | 497               |
//!
//! (The prompts of Debian's `asterisk-core-sounds-en` that have no unknown words.)
//!
//! # Invariants
//!
//! No IO except the explicit file functions ([`Model::read_arpa_file`],
//! [`Model::write_arpa_file`], [`Model::read_sphinx_trie_file`]); no panics on any ARPA or
//! Sphinx input (fuzzed); every model this crate makes (estimated, pruned, mixed) is
//! normalised: for every context the probabilities of the vocabulary without `<s>` sum to 1.

mod arpa;
mod estimate;
mod mix;
mod model;
mod prune;
mod sphinx;
mod table;
mod text;
mod vocab;

pub use arpa::{read_arpa_bytes, ArpaError, ArpaErrorKind, LOG_ZERO};
pub use estimate::{
    estimate, estimate_text, DiscountEstimate, Discounts, Estimate, EstimateConfig, EstimateError,
};
pub use mix::{Mixture, MixtureError, MixtureState};
pub use model::{LanguageModel, Model, Ngram, State, MAX_ORDER};
pub use prune::{prune_entropy, renormalize};
pub use sphinx::{read_sphinx_trie_bytes, SphinxError, SphinxErrorKind};
pub use text::tokenize;
pub use vocab::{Vocabulary, WordId, BOS, EOS, UNK};
