//! The CMU Sphinx binary trie reader: PocketSphinx's US English model (Debian's
//! `pocketsphinx-en-us`, which `.ci/setup` installs) against the scores sphinxbase itself gives,
//! small tries written here in the same layout, and broken files (errors, never panics).

use std::sync::OnceLock;

use proptest::prelude::*;
use sotto_ngram::{
    estimate_text, prune_entropy, read_sphinx_trie_bytes, EstimateConfig, LanguageModel, Model,
    SphinxErrorKind, WordId,
};

const EN_US: &str = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
/// log10 of sphinxbase's log base, 1.0001: its integer scores times this are log10.
const LOG10_OF_BASE: f64 = 4.342_727_686_266_964e-5;

fn fixture(name: &str) -> String {
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    std::fs::read_to_string(format!("{dir}/tests/fixtures/{name}")).unwrap()
}

fn en_us_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        std::fs::read(EN_US).unwrap_or_else(|e| {
            panic!("{EN_US}: {e} (.ci/setup installs the Debian package pocketsphinx-en-us)")
        })
    })
}

fn en_us_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| read_sphinx_trie_bytes(en_us_bytes()).unwrap())
}

fn ids(model: &Model, words: &[&str]) -> Vec<WordId> {
    let vocabulary = model.vocabulary();
    words
        .iter()
        .map(|w| {
            vocabulary
                .get(w)
                .unwrap_or_else(|| panic!("{w:?} is unknown"))
        })
        .collect()
}

/// One test reads the 27 MB model (nextest runs every test in a process of its own).
#[test]
fn en_us() {
    counts_are_the_trie_records();
    unigrams_match_sphinx_arpa_output();
    scores_match_sphinx_lm_eval();
    prefers_english();
    misfiled_trigrams_read_as_stored();
}

fn counts_are_the_trie_records() {
    let bytes = en_us_bytes();
    assert!(bytes.starts_with(b"Trie Language Model"));
    assert_eq!(bytes[19], 3, "a trigram model");
    let declared: Vec<usize> = (0..3)
        .map(|i| u32::from_le_bytes(bytes[20 + 4 * i..24 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    assert_eq!(declared, [72547, 2051547, 1669625]);
    let model = en_us_model();
    // <unk> added; the writer declared 6 bigrams more than it linked (see the module docs).
    assert_eq!(
        model.counts(),
        [declared[0] + 1, declared[1] - 6, declared[2]]
    );
    let unk = model.ngram(&[model.vocabulary().unk()]).unwrap();
    assert_eq!(unk.log_prob, -99.0);
}

fn unigrams_match_sphinx_arpa_output() {
    // Lines sphinx_lm_convert wrote (4 decimals) before it aborted; see tests/fixtures/README.md.
    let model = en_us_model();
    let lines = fixture("en-us-sphinx-unigrams.arpa");
    for line in lines.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let ngram = model.ngram(&ids(model, &[fields[1]])).unwrap();
        let prob: f32 = fields[0].parse().unwrap();
        let backoff: f32 = fields[2].parse().unwrap();
        assert!((ngram.log_prob - prob).abs() < 6e-5, "{line}: {ngram:?}");
        assert!((ngram.backoff - backoff).abs() < 6e-5, "{line}: {ngram:?}");
    }
    assert_eq!(lines.lines().count(), 11);
}

fn scores_match_sphinx_lm_eval() {
    let model = en_us_model();
    let recorded = fixture("en-us-sphinx-eval.txt");
    let (mut words, mut sentences) = (0, 0);
    let mut total = 0.0f64;
    for line in recorded.lines() {
        if let Some(rest) = line.strip_prefix("log P(") {
            // "log P(word|older newer ) = -1234": sphinxbase's integer log-1.0001 score.
            let (query, score) = rest.split_once(") = ").unwrap();
            let (word, history) = query.split_once('|').unwrap();
            let history: Vec<&str> = history.split_whitespace().collect();
            let expected = score.parse::<f64>().unwrap() * LOG10_OF_BASE;
            let ours = f64::from(model.log_prob(&ids(model, &history), ids(model, &[word])[0]));
            // Sphinx truncates its score to an integer: up to one unit (4.3e-5) apart.
            assert!((ours - expected).abs() < 7e-5, "{line}: ours {ours}");
            words += 1;
        } else if let Some(input) = line.strip_prefix("input: ") {
            let text = input.trim_start_matches("<s> ").trim_end_matches(" </s>");
            total = model.score_text(text);
        } else if let Some(score) = line.strip_prefix("lm score: ") {
            let expected = score.parse::<f64>().unwrap() * LOG10_OF_BASE;
            assert!((total - expected).abs() < 1e-3, "{line}: ours {total}");
            sentences += 1;
        }
    }
    assert_eq!((words, sentences), (64, 8));
}

fn prefers_english() {
    let model = en_us_model();
    let sentence = model.score_text("the cat sat on the mat");
    let scrambled = model.score_text("mat the on sat cat the");
    assert!(sentence.is_finite() && scrambled.is_finite());
    assert!(sentence > scrambled + 5.0, "{sentence} vs {scrambled}");
    assert!(
        model.score_text("set a timer for ten minutes")
            > model.score_text("timer ten a set minutes for")
    );
}

fn misfiled_trigrams_read_as_stored() {
    // The writer filed "teased and bullied" under "bullhorns" (see the module docs), after the
    // real sibling "whips and bullhorns". Sphinx's own lookup misses the real one (it backs off
    // to -7.4242) and finds the misfiled one; this reader keeps both as stored.
    let model = en_us_model();
    let score = |words: &[&str]| {
        let ids = ids(model, words);
        model.log_prob(&ids[..ids.len() - 1], ids[ids.len() - 1])
    };
    assert!((score(&["whips", "and", "bullhorns"]) - -1.8837).abs() < 1e-4);
    assert!((score(&["teased", "and", "bullhorns"]) - -1.0451).abs() < 1e-4);
    assert!((score(&["teased", "and", "bullied"]) - -5.6088).abs() < 1e-4);
}

#[test]
fn en_us_truncations_are_errors() {
    let bytes = en_us_bytes();
    // Inside the header, the bins, the unigrams, the bigram and trigram records, the words.
    for len in [
        0, 10, 19, 22, 40, 500_000, 1_000_000, 5_000_000, 20_000_000, 27_000_000,
    ] {
        let error = read_sphinx_trie_bytes(&bytes[..len]).unwrap_err();
        let expected = if len < 19 {
            matches!(error.kind, SphinxErrorKind::NotSphinxTrie)
        } else {
            matches!(error.kind, SphinxErrorKind::Truncated { .. })
        };
        assert!(expected, "{len}: {error}");
    }
    let error = read_sphinx_trie_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(error.to_string().contains("word list"), "{error}");
}

/// One n-gram: word ids oldest first, log10 probability, log10 backoff.
type Entry = (Vec<u32>, f32, f32);

/// A model's n-grams in the trie layout sphinxbase writes (one bin per distinct weight, so
/// nothing is lost but the change of log base). `ngrams[k]` holds the (k+1)-grams as
/// [`Entry`]s; every n-gram's suffix must be present.
fn write_trie(words: &[&str], ngrams: &[Vec<Entry>]) -> Vec<u8> {
    let order = ngrams.len();
    let base = |log10: f32| ((f64::from(log10) / LOG10_OF_BASE) as f32).to_le_bytes();
    let bits = |max: usize| usize::BITS - max.leading_zeros();
    let mut out = b"Trie Language Model".to_vec();
    out.push(order as u8);
    for level in ngrams {
        out.extend((level.len() as u32).to_le_bytes());
    }
    // Each order reversed and sorted: a parent's children are contiguous, sorted by word.
    let sorted: Vec<Vec<Entry>> = ngrams
        .iter()
        .map(|level| {
            let mut level: Vec<_> = level
                .iter()
                .map(|(w, p, b)| (w.iter().rev().copied().collect::<Vec<u32>>(), *p, *b))
                .collect();
            level.sort_by(|a, b| a.0.cmp(&b.0));
            level
        })
        .collect();
    let mut bins: Vec<Vec<f32>> = Vec::new();
    if order > 1 {
        out.extend(1i32.to_le_bytes());
        for (k, level) in sorted.iter().enumerate().skip(1) {
            let columns: &[fn(&Entry) -> f32] = if k + 1 < order {
                &[|g| g.1, |g| g.2]
            } else {
                &[|g| g.1]
            };
            for column in columns {
                let mut values: Vec<f32> = level.iter().map(column).collect();
                values.sort_by(f32::total_cmp);
                values.dedup();
                let last = values.last().copied().unwrap_or(0.0);
                values.resize(1 << 16, last);
                out.extend(values.iter().flat_map(|&v| base(v)));
                bins.push(values);
            }
        }
    }
    let code = |bin: &[f32], value: f32| bin.iter().position(|&v| v == value).unwrap() as u64;
    // Where a record's children start: the first (k+2)-gram whose key extends its key.
    let first_child = |k: usize, key: &[u32]| -> u64 {
        sorted.get(k + 1).map_or(0, |next| {
            next.partition_point(|g| g.0[..k + 1] < *key) as u64
        })
    };
    for (i, (key, prob, backoff)) in sorted[0].iter().enumerate() {
        assert_eq!(key[0] as usize, i, "unigrams are the words in order");
        out.extend(base(*prob));
        out.extend(base(*backoff));
        out.extend((first_child(0, key) as u32).to_le_bytes());
    }
    out.extend([0; 8]);
    out.extend((sorted.get(1).map_or(0, Vec::len) as u32).to_le_bytes());
    let word_bits = bits(words.len());
    for k in 1..order {
        let middle = k + 1 < order;
        let next_bits = if middle { bits(sorted[k + 1].len()) } else { 0 };
        let mut fields: Vec<(u64, u32)> = Vec::new();
        for (key, prob, backoff) in &sorted[k] {
            fields.push((u64::from(*key.last().unwrap()), word_bits));
            if middle {
                fields.push((code(&bins[2 * k - 2 + 1], *backoff), 16));
                fields.push((code(&bins[2 * k - 2], *prob), 16));
                fields.push((first_child(k, key), next_bits));
            } else {
                fields.push((code(&bins[2 * k - 2], *prob), 16));
            }
        }
        // The end record: its link ends the last record's children.
        let end_link = if middle {
            sorted[k + 1].len() as u64
        } else {
            0
        };
        fields.extend([(0, word_bits), (0, 32), (end_link, next_bits)]);
        if !middle {
            fields.truncate(fields.len() - 3);
            fields.extend([(0, word_bits), (0, 16)]);
        }
        let record_bits = u64::from(word_bits + if middle { 32 + next_bits } else { 16 });
        let len = ((sorted[k].len() as u64 + 1) * record_bits).div_ceil(8) + 8;
        let mut packed = vec![0u8; len as usize];
        let mut bit = 0usize;
        for (value, width) in fields {
            for i in 0..width {
                if value >> i & 1 == 1 {
                    packed[(bit + i as usize) / 8] |= 1 << ((bit + i as usize) % 8);
                }
            }
            bit += width as usize;
        }
        out.extend(packed);
    }
    let text: Vec<u8> = words.iter().flat_map(|w| w.bytes().chain([0])).collect();
    out.extend((text.len() as i32).to_le_bytes());
    out.extend(text);
    out
}

/// `model`'s n-grams as `write_trie` takes them.
fn ngrams_of(model: &Model) -> Vec<Vec<Entry>> {
    (1..=model.order())
        .map(|order| {
            model
                .ngrams(order)
                .map(|g| (g.words.iter().map(|w| w.0).collect(), g.log_prob, g.backoff))
                .collect()
        })
        .collect()
}

fn words_of(model: &Model) -> Vec<&str> {
    model.vocabulary().iter().map(|(_, word)| word).collect()
}

fn small_model(order: usize) -> Model {
    let corpus = "create a note called groceries\nopen the groceries note\nset a timer for ten minutes\ncall alice\nopen a note";
    estimate_text(corpus, &EstimateConfig::new(order))
        .unwrap()
        .model
}

/// Asserts that `read` holds `model`'s n-grams with their weights (up to the change of log
/// base and back), and `extra` more per order.
fn assert_same(model: &Model, read: &Model, extra: &[usize]) {
    let counts: Vec<usize> = model
        .counts()
        .iter()
        .zip(extra)
        .map(|(a, b)| a + b)
        .collect();
    assert_eq!(read.counts(), counts);
    let (from, to) = (model.vocabulary(), read.vocabulary());
    for order in 1..=model.order() {
        for ngram in model.ngrams(order) {
            let words: Vec<WordId> = ngram.words.iter().map(|&w| to.id(from.word(w))).collect();
            let got = read.ngram(&words).unwrap();
            assert!(
                (got.log_prob - ngram.log_prob).abs() < 1e-4,
                "{ngram:?} {got:?}"
            );
            assert!(
                (got.backoff - ngram.backoff).abs() < 1e-4,
                "{ngram:?} {got:?}"
            );
        }
    }
}

#[test]
fn written_tries_read_back() {
    for order in 1..=4 {
        let model = small_model(order);
        let bytes = write_trie(&words_of(&model), &ngrams_of(&model));
        let read = read_sphinx_trie_bytes(&bytes).unwrap();
        assert_same(&model, &read, &[0; 4]);
        let text = "open a note called groceries";
        assert!((read.score_text(text) - model.score_text(text)).abs() < 1e-3);
    }
}

#[test]
fn missing_contexts_are_added_with_backed_off_weights() {
    let model = small_model(3);
    let mut ngrams = ngrams_of(&model);
    // Drop a bigram that is a trigram's context (which backoff needs) but no trigram's suffix
    // (which the trie needs).
    let dropped = ngrams[1]
        .iter()
        .map(|g| g.0.clone())
        .find(|bigram| {
            ngrams[2].iter().any(|t| t.0[..2] == bigram[..])
                && !ngrams[2].iter().any(|t| t.0[1..] == bigram[..])
        })
        .unwrap();
    ngrams[1].retain(|g| g.0 != dropped);
    let bytes = write_trie(&words_of(&model), &ngrams);
    let read = read_sphinx_trie_bytes(&bytes).unwrap();
    assert_eq!(read.counts(), model.counts());
    let [first, second] = [dropped[0], dropped[1]].map(WordId);
    let added = read.ngram(&[first, second]).unwrap();
    let backoff = read.ngram(&[first]).unwrap().backoff;
    let lower = read.ngram(&[second]).unwrap().log_prob;
    assert!(
        (added.log_prob - (backoff + lower)).abs() < 1e-6,
        "{added:?}"
    );
    assert_eq!(added.backoff, 0.0);
    // The file without the bigram backs off there, and so does the model read from it.
    let original = model.ngram(&[first, second]).unwrap();
    assert!((read.log_prob(&[first], second) - added.log_prob).abs() < 1e-6);
    assert!(
        original.log_prob != added.log_prob,
        "the dropped bigram had its own weight"
    );
}

#[test]
fn duplicate_siblings_keep_the_first() {
    let model = small_model(3);
    let mut ngrams = ngrams_of(&model);
    let first = ngrams[2][0].clone();
    let mut second = first.clone();
    second.1 = -3.5;
    ngrams[2].push(second);
    let read = read_sphinx_trie_bytes(&write_trie(&words_of(&model), &ngrams)).unwrap();
    assert_same(&model, &read, &[0; 3]);
}

#[test]
fn defects_are_named() {
    let model = small_model(3);
    let good = write_trie(&words_of(&model), &ngrams_of(&model));
    let check = |edit: &dyn Fn(&mut Vec<u8>), expected: &str| {
        let mut bytes = good.clone();
        edit(&mut bytes);
        let error = read_sphinx_trie_bytes(&bytes).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    };
    check(&|b| b[0] = b'X', "not a Sphinx trie");
    check(&|b| b[19] = 0, "order 0");
    check(&|b| b[19] = 7, "order 7");
    check(&|b| b[32] = 0, "quantisation type 0");
    check(&|b| b.push(0), "1 bytes follow");
    check(&|b| b[20] += 1, "the file ends inside");
    let words_at = good.len() - words_of(&model).iter().map(|w| w.len() + 1).sum::<usize>();
    check(&|b| b[words_at] = b' ', "contains whitespace");
    check(&|b| b[words_at] = 0xff, "not UTF-8");
    // The first unigram's probability, +1 in log base 1.0001 units... times a million.
    let unigrams_at = 20 + 12 + 4 + 3 * (1 << 18);
    check(
        &|b| b[unigrams_at..unigrams_at + 4].copy_from_slice(&1e6f32.to_le_bytes()),
        "above 0",
    );
    check(
        &|b| b[unigrams_at..unigrams_at + 4].copy_from_slice(&f32::NAN.to_le_bytes()),
        "not finite",
    );
    check(&|b| b[unigrams_at + 8] = 1, "links are out of order");
}

/// Reads `bytes`; when that succeeds, the model must be usable.
fn read_and_use(bytes: &[u8]) {
    let Ok(model) = read_sphinx_trie_bytes(bytes) else {
        return;
    };
    let vocabulary = model.vocabulary();
    let mut state = model.begin_sentence();
    for (id, _) in vocabulary.iter().take(8) {
        let (score, next) = model.score_word(&state, id);
        assert!(!score.is_nan());
        state = next;
    }
    let again = Model::from_arpa_str(&model.to_arpa_string()).expect("what we write reads back");
    assert_eq!(again.counts(), model.counts());
    assert_eq!(prune_entropy(&model, 1e-4).counts()[0], model.counts()[0]);
}

fn valid_trie() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let model = small_model(3);
        write_trie(&words_of(&model), &ngrams_of(&model))
    })
}

/// Offsets worth mutating: everything but the bins (256 KiB of floats that are read only
/// through the codes) is small.
fn interesting_offset(at: usize) -> usize {
    let bytes = valid_trie();
    let bins = 36..36 + 3 * (1 << 18);
    let outside = bytes.len() - bins.len();
    let at = at % outside;
    if at < bins.start {
        at
    } else {
        at + bins.len()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn truncations_never_panic(at in any::<usize>()) {
        let bytes = valid_trie();
        let at = interesting_offset(at).min(bytes.len());
        prop_assert!(read_sphinx_trie_bytes(&bytes[..at]).is_err());
    }

    #[test]
    fn bit_flips_never_panic(flips in prop::collection::vec((any::<usize>(), 0..8u8), 1..6)) {
        let mut bytes = valid_trie().to_vec();
        for (at, bit) in flips {
            bytes[interesting_offset(at)] ^= 1 << bit;
        }
        read_and_use(&bytes);
    }

    #[test]
    fn overwritten_bytes_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = valid_trie().to_vec();
        for (at, byte) in edits {
            bytes[interesting_offset(at)] = byte;
        }
        read_and_use(&bytes);
    }

    #[test]
    fn random_bytes_after_the_header_never_panic(order in 0..8u8, rest in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"Trie Language Model".to_vec();
        bytes.push(order);
        bytes.extend(rest);
        read_and_use(&bytes);
    }
}
