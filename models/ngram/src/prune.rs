//! Pruning: removing n-grams, then recomputing backoff weights so every context's
//! distribution still sums to 1.
//!
//! After a removal the stored probabilities of the remaining n-grams are kept and each
//! context's backoff becomes `(1 - sum p(w|h)) / (1 - sum p(w|h'))` over the words `w` still
//! stored after `h` (what SRILM calls computing the BOWs), so the mass of the removed n-grams
//! is handed to the lower order.

use crate::arpa::LOG_ZERO;
use crate::model::{LanguageModel, Model};
use crate::table::NgramTable;
use crate::vocab::WordId;

/// Keeps the n-grams for which `keep(order, index)` holds (unigrams always, and every n-gram
/// that is the context of a kept longer one), then renormalises the backoffs.
pub(crate) fn retain(model: Model, keep: impl Fn(usize, usize) -> bool) -> Model {
    let order = model.order();
    let (vocabulary, tables) = model.into_parts();
    let mut kept: Vec<Vec<bool>> = tables
        .iter()
        .map(|table| {
            (0..table.len())
                .map(|index| table.order() == 1 || keep(table.order(), index))
                .collect()
        })
        .collect();
    for k in (1..order).rev() {
        // Contexts of kept k+1-grams stay.
        for index in 0..tables[k].len() {
            if kept[k][index] {
                if let Some(context) = tables[k - 1].find(&tables[k].key(index)[1..]) {
                    kept[k - 1][context] = true;
                }
            }
        }
    }
    let tables: Vec<NgramTable> = tables
        .iter()
        .zip(&kept)
        .map(|(table, kept)| {
            let mut filtered = NgramTable::new(table.order());
            for index in (0..table.len()).filter(|&i| kept[i]) {
                let _ = filtered.insert(table.key(index), table.weights(index));
            }
            filtered
        })
        .collect();
    let mut model = Model::from_tables(vocabulary, tables);
    renormalize(&mut model);
    model
}

/// Recomputes every backoff weight from the stored probabilities so that each context's
/// distribution sums to 1 (contexts with no stored continuation get backoff 0).
pub fn renormalize(model: &mut Model) {
    let order = model.order();
    for k in 1..=order {
        // Sums over the continuations of each (k-1)-gram context: stored p(w|h), and the
        // lower-order p(w|h') they replace.
        let (numerators, denominators) = {
            let tables = model.tables();
            let contexts = &tables[k - 1];
            let mut numerators = vec![0.0f64; contexts.len()];
            let mut denominators = vec![0.0f64; contexts.len()];
            if k < order {
                let table = &tables[k];
                for index in 0..table.len() {
                    let key = table.key(index);
                    let Some(context) = contexts.find(&key[1..]) else {
                        continue;
                    };
                    numerators[context] += 10f64.powf(f64::from(table.weights(index).prob));
                    denominators[context] +=
                        10f64.powf(f64::from(model.log_prob_reversed(&key[..key.len() - 1])));
                }
            }
            (numerators, denominators)
        };
        let table = &mut model.tables_mut()[k - 1];
        for index in 0..table.len() {
            let backoff = if !table.is_extended(index) {
                0.0
            } else {
                backoff_weight(numerators[index], denominators[index])
            };
            table.set_backoff(index, backoff);
        }
    }
}

/// log10 of `(1 - numerator) / (1 - denominator)`, guarded against rounding at the edges.
fn backoff_weight(numerator: f64, denominator: f64) -> f32 {
    let left = 1.0 - numerator;
    let right = 1.0 - denominator;
    if left <= 1e-12 {
        LOG_ZERO
    } else if right <= 1e-12 {
        0.0
    } else {
        (left / right).log10() as f32
    }
}

/// Relative-entropy pruning (Stolcke 1998): removes every n-gram whose removal alone would
/// raise the model's perplexity by less than `threshold` relatively (e.g. `1e-8`; SRILM's
/// `-prune`), computed against the unpruned model, highest order first; then renormalises.
/// An n-gram that is the context of a kept longer one is kept. Unigrams are never removed.
pub fn prune_entropy(model: &Model, threshold: f64) -> Model {
    let order = model.order();
    let tables = model.tables();
    // Per context (an index into the order below): the stored mass 1 - sum p(w|h) left for
    // backing off, and 1 - sum p(w|h') of the same words at the lower order.
    let mut left: Vec<Vec<f64>> = Vec::with_capacity(order);
    let mut right: Vec<Vec<f64>> = Vec::with_capacity(order);
    for k in 0..order {
        let contexts = &tables[k];
        let mut l = vec![1.0f64; contexts.len()];
        let mut r = vec![1.0f64; contexts.len()];
        if k + 1 < order {
            let table = &tables[k + 1];
            for index in 0..table.len() {
                let key = table.key(index);
                if let Some(context) = contexts.find(&key[1..]) {
                    l[context] -= 10f64.powf(f64::from(table.weights(index).prob));
                    r[context] -=
                        10f64.powf(f64::from(model.log_prob_reversed(&key[..key.len() - 1])));
                }
            }
        }
        left.push(l);
        right.push(r);
    }

    let ln10 = std::f64::consts::LN_10;
    let mut pruned: Vec<Vec<bool>> = tables.iter().map(|t| vec![false; t.len()]).collect();
    for k in (1..order).rev() {
        // Which k+1-grams (index k) are contexts of kept k+2-grams.
        let mut needed = vec![false; tables[k].len()];
        if k + 1 < order {
            for (index, &gone) in pruned[k + 1].iter().enumerate() {
                if !gone {
                    if let Some(context) = tables[k].find(&tables[k + 1].key(index)[1..]) {
                        needed[context] = true;
                    }
                }
            }
        }
        let table = &tables[k];
        let contexts = &tables[k - 1];
        for index in 0..table.len() {
            if needed[index] {
                continue;
            }
            let key = table.key(index);
            let Some(context) = contexts.find(&key[1..]) else {
                continue;
            };
            let log_p = f64::from(table.weights(index).prob) * ln10;
            let log_q = f64::from(model.log_prob_reversed(&key[..key.len() - 1])) * ln10;
            let log_alpha = f64::from(contexts.weights(context).backoff) * ln10;
            let numerator = left[k - 1][context];
            let denominator = right[k - 1][context];
            let p = log_p.exp();
            let new_alpha = (numerator + p) / (denominator + log_q.exp());
            if !(new_alpha > 0.0 && new_alpha.is_finite()) {
                continue;
            }
            let log_new_alpha = new_alpha.ln();
            let history: Vec<WordId> = key[1..].iter().rev().copied().collect();
            let p_history = history_probability(model, &history);
            let backed_off = if numerator > 0.0 {
                numerator * (log_new_alpha - log_alpha)
            } else {
                0.0
            };
            let delta = -p_history * (p * (log_q + log_new_alpha - log_p) + backed_off);
            if delta.is_finite() && delta.exp_m1() < threshold {
                pruned[k][index] = true;
            }
        }
    }
    retain(model.clone(), |order, index| !pruned[order - 1][index])
}

/// P(history) under the model, the weight of a context in the entropy sum: the chain rule
/// from `<s>` when the history starts with it, from the unigram otherwise.
fn history_probability(model: &Model, history: &[WordId]) -> f64 {
    let bos = model.vocabulary().bos();
    let (mut state, words) = match history.split_first() {
        Some((&first, rest)) if first == bos => (model.begin_sentence(), rest),
        _ => (model.null_context(), history),
    };
    let mut log_p = 0.0f64;
    for &word in words {
        let (score, next) = model.score_word(&state, word);
        log_p += f64::from(score);
        state = next;
    }
    10f64.powf(log_p)
}
