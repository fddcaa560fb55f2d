//! Estimation from text: interpolated modified Kneser-Ney (Chen & Goodman 1998), written out
//! as a backoff model.
//!
//! Per order `k`, with adjusted counts `a` (raw counts at the highest order and for n-grams
//! that start with `<s>`, otherwise the number of distinct words seen to their left):
//!
//! ```text
//! p(w | h) = (a(h w) - D(a(h w))) / A(h) + gamma(h) * p(w | h')      A(h) = sum_w a(h w)
//! gamma(h) = (D1 N1(h) + D2 N2(h) + D3+ N3+(h)) / A(h)               Ni(h): words after h with a = i
//! p(w)     = (a(w) - D(a(w))) / A + gamma * 1 / |V|                  V: the vocabulary without <s>
//! ```
//!
//! For an unseen `w`, `p(w | h) = gamma(h) p(w | h')`, so `gamma(h)` is exactly the backoff
//! weight and the ARPA form (stored probabilities for seen n-grams, backoff weights for
//! contexts) is the same distribution. Discounts come from the count-of-counts `n1..n4` of the
//! adjusted counts of each order: `Y = n1 / (n1 + 2 n2)`, `D1 = 1 - 2Y n2/n1`,
//! `D2 = 2 - 3Y n3/n2`, `D3+ = 3 - 4Y n4/n3`.

use std::collections::HashMap;

use crate::arpa::LOG_ZERO;
use crate::model::{Model, MAX_ORDER};
use crate::prune::retain;
use crate::table::{FxBuildHasher, NgramTable, Weights};
use crate::text::tokenize;
use crate::vocab::{VocabularyBuilder, WordId, BOS, EOS, UNK};

/// How to estimate a model.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimateConfig {
    /// The model's order, 1 to [`MAX_ORDER`].
    pub order: usize,
    /// Count pruning: `min_counts[k - 1]` is the smallest adjusted count a `k`-gram needs to be
    /// kept (orders past the end of the list, and unigrams, are never pruned). An n-gram that
    /// is the context of a kept longer one is kept too. Backoffs are renormalised afterwards.
    pub min_counts: Vec<u64>,
    /// Fixed discounts per order (index 0 = unigrams) instead of those estimated from the
    /// count-of-counts.
    pub discounts: Option<Vec<Discounts>>,
}

impl EstimateConfig {
    /// An unpruned model of `order` with estimated discounts.
    pub fn new(order: usize) -> Self {
        EstimateConfig {
            order,
            min_counts: Vec::new(),
            discounts: None,
        }
    }
}

/// The three modified Kneser-Ney discounts of one order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Discounts {
    /// Subtracted from n-grams seen once.
    pub d1: f64,
    /// Subtracted from n-grams seen twice.
    pub d2: f64,
    /// Subtracted from n-grams seen three times or more.
    pub d3_plus: f64,
}

/// Discounts as estimated, and whether a fallback replaced a degenerate value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiscountEstimate {
    /// The discounts used.
    pub discounts: Discounts,
    /// `n1..n4`: how many n-grams of the order have adjusted count 1, 2, 3, 4.
    pub count_of_counts: [u64; 4],
    /// True when Chen & Goodman's formula gave a value outside `(0, i)` for some `Di` (tiny
    /// corpora: some `n_i` is 0) and that value was replaced (see [`Discounts::estimate`]).
    pub fallback: bool,
}

impl Discounts {
    /// Chen & Goodman's estimate from the count-of-counts `n = [n1, n2, n3, n4]`. Each `Di`
    /// must lie in `(0, i)` (so a discounted count stays positive); one that does not (a zero
    /// `n_i`, or a corpus too small for the estimate) is replaced by Ney's single discount
    /// `Y = n1 / (n1 + 2 n2)` when `n1` and `n2` are positive, else by 0.5.
    pub fn estimate(n: [u64; 4]) -> DiscountEstimate {
        let [n1, n2, n3, n4] = n.map(|c| c as f64);
        let y = n1 / (n1 + 2.0 * n2);
        let fallback_value = if n1 > 0.0 && n2 > 0.0 { y } else { 0.5 };
        let mut fallback = false;
        let mut check = |value: f64, limit: f64| {
            if value.is_finite() && value > 0.0 && value < limit {
                value
            } else {
                fallback = true;
                fallback_value
            }
        };
        let discounts = Discounts {
            d1: check(1.0 - 2.0 * y * n2 / n1, 1.0),
            d2: check(2.0 - 3.0 * y * n3 / n2, 2.0),
            d3_plus: check(3.0 - 4.0 * y * n4 / n3, 3.0),
        };
        DiscountEstimate {
            discounts,
            count_of_counts: n,
            fallback,
        }
    }

    /// The discount for an n-gram with adjusted count `count` (0 for unseen).
    pub fn for_count(&self, count: u64) -> f64 {
        match count {
            0 => 0.0,
            1 => self.d1,
            2 => self.d2,
            _ => self.d3_plus,
        }
    }
}

/// Why a model could not be estimated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EstimateError {
    #[error("order {order} is out of range: 1 to {MAX_ORDER}")]
    Order { order: usize },
    #[error("fixed discounts given for {given} orders, the model has {order}")]
    DiscountOrders { given: usize, order: usize },
    #[error("order {order}: discount {value} for count {count} is outside (0, {count})")]
    Discount {
        order: usize,
        count: u64,
        value: f64,
    },
    #[error("two {order}-grams have the same 64-bit hash; this model cannot be stored")]
    HashCollision { order: usize },
    #[error("the corpus has more distinct words than word ids")]
    Vocabulary,
}

/// An estimated model with the discounts that made it.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// The model.
    pub model: Model,
    /// Per order, unigrams first.
    pub discounts: Vec<DiscountEstimate>,
}

/// An n-gram as a fixed-size key (unused tail = 0); the order is known from the map it is in.
type Key = [WordId; MAX_ORDER];
type Counts = HashMap<Key, u64, FxBuildHasher>;

/// Estimates a modified Kneser-Ney model from `sentences` of words (already tokenized; see
/// [`tokenize`]). `<s>` and `</s>` are added around each sentence; tokens equal to them are
/// dropped. A `<unk>` token is counted like a word.
pub fn estimate<I, S, W>(sentences: I, config: &EstimateConfig) -> Result<Estimate, EstimateError>
where
    I: IntoIterator<Item = S>,
    S: IntoIterator<Item = W>,
    W: AsRef<str>,
{
    let order = config.order;
    if !(1..=MAX_ORDER).contains(&order) {
        return Err(EstimateError::Order { order });
    }
    if let Some(fixed) = &config.discounts {
        if fixed.len() != order {
            return Err(EstimateError::DiscountOrders {
                given: fixed.len(),
                order,
            });
        }
        for (k, d) in fixed.iter().enumerate() {
            for (count, value) in [(1, d.d1), (2, d.d2), (3, d.d3_plus)] {
                if !(value > 0.0 && value < count as f64) {
                    return Err(EstimateError::Discount {
                        order: k + 1,
                        count,
                        value,
                    });
                }
            }
        }
    }

    let mut vocabulary = VocabularyBuilder::default();
    vocabulary.intern(UNK);
    let bos = vocabulary.intern(BOS).0;
    let eos = vocabulary.intern(EOS).0;

    // Raw counts of every order.
    let mut raw: Vec<Counts> = vec![Counts::default(); order];
    let mut sentence: Vec<WordId> = Vec::new();
    for words in sentences {
        sentence.clear();
        sentence.push(bos);
        for word in words {
            let word = word.as_ref();
            if word == BOS || word == EOS {
                continue;
            }
            if vocabulary.len() >= u32::MAX as usize - 1 {
                return Err(EstimateError::Vocabulary);
            }
            sentence.push(vocabulary.intern(word).0);
        }
        sentence.push(eos);
        for (k, counts) in raw.iter_mut().enumerate() {
            for window in sentence.windows(k + 1) {
                let mut key = [WordId(0); MAX_ORDER];
                key[..=k].copy_from_slice(window);
                *counts.entry(key).or_insert(0) += 1;
            }
        }
    }

    // Adjusted counts: continuation counts below the highest order, except for n-grams that
    // start with `<s>` (nothing precedes them).
    let mut adjusted: Vec<Counts> = raw.clone();
    for k in (0..order - 1).rev() {
        let counts = &mut adjusted[k];
        for (key, count) in counts.iter_mut() {
            if key[0] != bos {
                *count = 0;
            }
        }
        for key in raw[k + 1].keys() {
            let mut suffix = [WordId(0); MAX_ORDER];
            suffix[..=k].copy_from_slice(&key[1..=k + 1]);
            if suffix[0] != bos {
                *counts
                    .get_mut(&suffix)
                    .expect("a suffix of a seen n-gram was seen") += 1;
            }
        }
    }
    // `<s>` is never predicted: it takes no part in the unigram distribution.
    let mut bos_key = [WordId(0); MAX_ORDER];
    bos_key[0] = bos;
    adjusted[0].remove(&bos_key);
    let vocabulary = vocabulary.finish();

    // Discounts per order.
    let discounts: Vec<DiscountEstimate> = match &config.discounts {
        Some(fixed) => fixed
            .iter()
            .zip(&adjusted)
            .map(|(&discounts, counts)| DiscountEstimate {
                discounts,
                count_of_counts: count_of_counts(counts),
                fallback: false,
            })
            .collect(),
        None => adjusted
            .iter()
            .map(|counts| Discounts::estimate(count_of_counts(counts)))
            .collect(),
    };

    // Context statistics per order: A(h) and the discounted mass D1 N1 + D2 N2 + D3+ N3+.
    let mut gammas: Vec<HashMap<Key, (f64, f64), FxBuildHasher>> = Vec::with_capacity(order);
    for (k, counts) in adjusted.iter().enumerate() {
        let d = discounts[k].discounts;
        let mut stats: HashMap<Key, (f64, f64), FxBuildHasher> = HashMap::default();
        for (key, &count) in counts {
            let mut context = [WordId(0); MAX_ORDER];
            context[..k].copy_from_slice(&key[..k]);
            let entry = stats.entry(context).or_insert((0.0, 0.0));
            entry.0 += count as f64;
            entry.1 += d.for_count(count);
        }
        gammas.push(stats);
    }

    // Interpolated probabilities, lowest order first (each order needs the one below).
    let vocabulary_size = (vocabulary.len() - 1) as f64; // without <s>
    let mut probs: Vec<HashMap<Key, f64, FxBuildHasher>> = Vec::with_capacity(order);
    for (k, counts) in adjusted.iter().enumerate() {
        let d = discounts[k].discounts;
        let mut order_probs: HashMap<Key, f64, FxBuildHasher> = HashMap::default();
        let mut add = |key: Key, count: u64| {
            let mut context = [WordId(0); MAX_ORDER];
            context[..k].copy_from_slice(&key[..k]);
            // No context stats only for the unigrams of an empty corpus: uniform.
            let (total, mass) = gammas[k].get(&context).copied().unwrap_or((0.0, 0.0));
            let lower = if k == 0 {
                1.0 / vocabulary_size
            } else {
                let mut suffix = [WordId(0); MAX_ORDER];
                suffix[..k].copy_from_slice(&key[1..=k]);
                probs[k - 1][&suffix]
            };
            let p = if total > 0.0 {
                (count as f64 - d.for_count(count)) / total + mass / total * lower
            } else {
                lower
            };
            order_probs.insert(key, p);
        };
        for (&key, &count) in counts {
            add(key, count);
        }
        if k == 0 {
            // Words never predicted (`<unk>` when unseen) get their share of the uniform part.
            for (id, _) in vocabulary.iter() {
                let mut key = [WordId(0); MAX_ORDER];
                key[0] = id;
                if id != bos && !counts.contains_key(&key) {
                    add(key, 0);
                }
            }
        }
        probs.push(order_probs);
    }

    // The backoff model: tables in a deterministic order (ids, then sorted keys).
    let mut tables: Vec<NgramTable> = Vec::with_capacity(order);
    let mut adjusted_by_index: Vec<Vec<u64>> = Vec::with_capacity(order);
    for k in 0..order {
        let mut keys: Vec<Key> = if k == 0 {
            vocabulary
                .iter()
                .map(|(id, _)| {
                    let mut key = [WordId(0); MAX_ORDER];
                    key[0] = id;
                    key
                })
                .collect()
        } else {
            probs[k].keys().copied().collect()
        };
        keys.sort_unstable();
        let mut table = NgramTable::new(k + 1);
        let mut table_counts = Vec::with_capacity(keys.len());
        for key in keys {
            let prob = if k == 0 && key[0] == bos {
                LOG_ZERO
            } else {
                probs[k][&key].log10() as f32
            };
            let backoff = match gammas.get(k + 1).and_then(|g| g.get(&key)) {
                Some(&(total, mass)) if total > 0.0 => (mass / total).log10() as f32,
                _ => 0.0,
            };
            let reversed: Vec<WordId> = key[..=k].iter().rev().copied().collect();
            // Keys are distinct and unigrams come in id order: only a 64-bit hash collision
            // can make insertion fail.
            if table.insert(&reversed, Weights { prob, backoff }).is_err() {
                return Err(EstimateError::HashCollision { order: k + 1 });
            }
            table_counts.push(adjusted[k].get(&key).copied().unwrap_or(0));
        }
        tables.push(table);
        adjusted_by_index.push(table_counts);
    }
    let mut model = Model::from_tables(vocabulary, tables);

    if config.min_counts.iter().skip(1).any(|&min| min > 1) {
        model = retain(model, |order, index| {
            let min = config.min_counts.get(order - 1).copied().unwrap_or(0);
            order == 1 || adjusted_by_index[order - 1][index] >= min
        });
    }
    Ok(Estimate { model, discounts })
}

/// [`estimate`] over the lines of `text`, each line a sentence, tokenized with [`tokenize`];
/// lines without words are skipped.
pub fn estimate_text(text: &str, config: &EstimateConfig) -> Result<Estimate, EstimateError> {
    let sentences = text.lines().map(tokenize).filter(|words| !words.is_empty());
    estimate(sentences, config)
}

fn count_of_counts(counts: &Counts) -> [u64; 4] {
    let mut n = [0u64; 4];
    for &count in counts.values() {
        if (1..=4).contains(&count) {
            n[count as usize - 1] += 1;
        }
    }
    n
}
