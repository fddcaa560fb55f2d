//! Modified Kneser-Ney estimation: a model computed by hand, discounts, normalisation, pruning.

mod common;

use common::{assert_normalised, command_corpus};
use sotto_ngram::{
    estimate, estimate_text, prune_entropy, Discounts, EstimateConfig, LanguageModel, Model,
};

fn ngram_prob(model: &Model, words: &[&str]) -> (f64, f64) {
    let vocabulary = model.vocabulary();
    let ids: Vec<_> = words.iter().map(|w| vocabulary.get(w).unwrap()).collect();
    let ngram = model
        .ngram(&ids)
        .unwrap_or_else(|| panic!("{words:?} is stored"));
    (
        10f64.powf(f64::from(ngram.log_prob)),
        10f64.powf(f64::from(ngram.backoff)),
    )
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual} != {expected}"
    );
}

/// The corpus "a b", "a b", "b" as a bigram model, worked by hand.
///
/// Padded: `<s> a b </s>` twice, `<s> b </s>` once.
///
/// Bigram counts (the highest order keeps raw counts): `<s> a` 2, `a b` 2, `b </s>` 3,
/// `<s> b` 1. Count-of-counts n1..n4 = 1, 2, 1, 0; Y = 1/(1+2*2) = 0.2;
/// D1 = 1 - 2*0.2*2/1 = 0.2; D2 = 2 - 3*0.2*1/2 = 1.7; D3+ = 3 - 4*0.2*0/1 = 3, not below 3:
/// degenerate, replaced by Y = 0.2.
///
/// Unigram adjusted counts are continuation counts (distinct left neighbours): a 1 (`<s>`),
/// b 2 (`a`, `<s>`), `</s>` 1 (`b`), `<unk>` 0; `<s>` is never predicted.
/// n1..n4 = 2, 1, 0, 0; Y = 2/(2+2) = 0.5; D1 = 1 - 2*0.5*1/2 = 0.5; D2 = 2 - 0 = 2 and D3+ =
/// 3 - 4*0.5*0/0 (NaN) are degenerate, replaced by Y = 0.5.
///
/// Unigrams, V = {a, b, </s>, <unk>}: A = 4, discounted mass 0.5+0.5+0.5 = 1.5, gamma = 0.375,
/// uniform share gamma/4 = 0.09375:
///   p(a) = (1-0.5)/4 + 0.09375 = 0.21875;  p(b) = (2-0.5)/4 + 0.09375 = 0.46875;
///   p(</s>) = 0.21875;  p(<unk>) = 0.09375.  (Sum 1.)
/// After `<s>`: A = 3, mass D2 + D1 = 1.9, gamma(<s>) = 1.9/3:
///   p(a|<s>) = (2-1.7)/3 + 1.9/3*0.21875 = 0.1 + 0.138541(6) = 0.238541(6)
///   p(b|<s>) = (1-0.2)/3 + 1.9/3*0.46875 = 0.26(6) + 0.296875 = 0.563541(6)
/// After `a`: A = 2, mass D2 = 1.7, gamma(a) = 0.85:
///   p(b|a) = (2-1.7)/2 + 0.85*0.46875 = 0.15 + 0.3984375 = 0.5484375
/// After `b`: A = 3, mass D3+ = 0.2, gamma(b) = 0.2/3:
///   p(</s>|b) = (3-0.2)/3 + 0.2/3*0.21875 = 0.93(3) + 0.0145833 = 0.947916(6)
#[test]
fn matches_a_bigram_model_computed_by_hand() {
    let estimate = estimate_text("a b\na b\nb", &EstimateConfig::new(2)).unwrap();
    let model = &estimate.model;

    let unigrams = &estimate.discounts[0];
    assert_eq!(unigrams.count_of_counts, [2, 1, 0, 0]);
    assert!(unigrams.fallback);
    assert_eq!(
        unigrams.discounts,
        Discounts {
            d1: 0.5,
            d2: 0.5,
            d3_plus: 0.5
        }
    );
    let bigrams = &estimate.discounts[1];
    assert_eq!(bigrams.count_of_counts, [1, 2, 1, 0]);
    assert!(bigrams.fallback);
    assert_close(bigrams.discounts.d1, 0.2, "D1");
    assert_close(bigrams.discounts.d2, 1.7, "D2");
    assert_close(bigrams.discounts.d3_plus, 0.2, "D3+");

    assert_eq!(model.counts(), [5, 4]);
    assert_close(ngram_prob(model, &["a"]).0, 0.21875, "p(a)");
    assert_close(ngram_prob(model, &["b"]).0, 0.46875, "p(b)");
    assert_close(ngram_prob(model, &["</s>"]).0, 0.21875, "p(</s>)");
    assert_close(ngram_prob(model, &["<unk>"]).0, 0.09375, "p(<unk>)");
    assert_eq!(
        model.ngram(&[model.vocabulary().bos()]).unwrap().log_prob,
        -99.0
    );

    assert_close(ngram_prob(model, &["<s>"]).1, 1.9 / 3.0, "gamma(<s>)");
    assert_close(ngram_prob(model, &["a"]).1, 0.85, "gamma(a)");
    assert_close(ngram_prob(model, &["b"]).1, 0.2 / 3.0, "gamma(b)");
    assert_close(ngram_prob(model, &["</s>"]).1, 1.0, "no backoff after </s>");

    assert_close(
        ngram_prob(model, &["<s>", "a"]).0,
        0.1 + 1.9 / 3.0 * 0.21875,
        "p(a|<s>)",
    );
    assert_close(
        ngram_prob(model, &["<s>", "b"]).0,
        0.8 / 3.0 + 1.9 / 3.0 * 0.46875,
        "p(b|<s>)",
    );
    assert_close(ngram_prob(model, &["a", "b"]).0, 0.5484375, "p(b|a)");
    assert_close(
        ngram_prob(model, &["b", "</s>"]).0,
        2.8 / 3.0 + 0.2 / 3.0 * 0.21875,
        "p(</s>|b)",
    );

    // Backed off: p(a|a) = gamma(a) p(a) = 0.85 * 0.21875.
    let v = model.vocabulary();
    let state = model.score_word(&model.begin_sentence(), v.id("a")).1;
    let (log_prob, _) = model.score_word(&state, v.id("a"));
    assert_close(10f64.powf(f64::from(log_prob)), 0.85 * 0.21875, "p(a|a)");
    // The sentence "a b": p(a|<s>) p(b|a) p(</s>|b).
    let expected = (0.1 + 1.9 / 3.0 * 0.21875) * 0.5484375 * (2.8 / 3.0 + 0.2 / 3.0 * 0.21875);
    assert_close(
        10f64.powf(model.score_text("a b")),
        expected,
        "p(<s> a b </s>)",
    );
    assert_normalised(model);
}

#[test]
fn discounts_follow_chen_and_goodman() {
    // Y = 10/20 = 0.5; D1 = 1 - 2*0.5*5/10 = 0.5; D2 = 2 - 3*0.5*3/5 = 1.1;
    // D3+ = 3 - 4*0.5*2/3 = 5/3.
    let estimate = Discounts::estimate([10, 5, 3, 2]);
    assert!(!estimate.fallback);
    assert_close(estimate.discounts.d1, 0.5, "D1");
    assert_close(estimate.discounts.d2, 1.1, "D2");
    assert_close(estimate.discounts.d3_plus, 5.0 / 3.0, "D3+");
    // Nothing to go on: 0.5 each.
    let empty = Discounts::estimate([0, 0, 0, 0]);
    assert!(empty.fallback);
    assert_eq!(
        empty.discounts,
        Discounts {
            d1: 0.5,
            d2: 0.5,
            d3_plus: 0.5
        }
    );
    // Only singletons: Y = 1, so D1 = 1 - 0 = 1 is not below 1 either: 0.5.
    assert_eq!(Discounts::estimate([7, 0, 0, 0]).discounts.d1, 0.5);
}

#[test]
fn fixed_discounts_are_used_and_checked() {
    let fixed = Discounts {
        d1: 0.3,
        d2: 0.6,
        d3_plus: 0.9,
    };
    let config = EstimateConfig {
        discounts: Some(vec![fixed; 2]),
        ..EstimateConfig::new(2)
    };
    let estimate = estimate_text("a b\na b\nb", &config).unwrap();
    assert_eq!(estimate.discounts[1].discounts, fixed);
    // p(b|a) = (2-0.6)/2 + 0.6/2 * p(b), p(b) = (2-0.6)/4 + (0.3+0.6+0.3)/4 /4.
    let p_b = 1.4 / 4.0 + 1.2 / 16.0;
    assert_close(
        ngram_prob(&estimate.model, &["a", "b"]).0,
        0.7 + 0.3 * p_b,
        "p(b|a)",
    );

    let bad = EstimateConfig {
        discounts: Some(vec![
            Discounts {
                d1: 1.0,
                d2: 0.6,
                d3_plus: 0.9
            };
            2
        ]),
        ..EstimateConfig::new(2)
    };
    let error = estimate_text("a b", &bad).unwrap_err();
    assert_eq!(
        error.to_string(),
        "order 1: discount 1 for count 1 is outside (0, 1)"
    );
    assert!(estimate_text("a", &EstimateConfig::new(0)).is_err());
    assert!(estimate_text("a", &EstimateConfig::new(7)).is_err());
}

#[test]
fn estimated_models_are_normalised_at_every_order() {
    let corpus = command_corpus(300).join("\n");
    for order in 1..=5 {
        let model = estimate_text(&corpus, &EstimateConfig::new(order))
            .unwrap()
            .model;
        assert_eq!(model.order(), order);
        assert_normalised(&model);
    }
}

#[test]
fn tiny_and_empty_corpora_still_make_normalised_models() {
    for corpus in ["", "hello", "a a a a", "a\nb\nc", "x y z"] {
        for order in 1..=4 {
            let model = estimate_text(corpus, &EstimateConfig::new(order))
                .unwrap()
                .model;
            assert_normalised(&model);
        }
    }
    // An empty corpus knows only the special words; `</s>` and `<unk>` share the mass.
    let model = estimate_text("", &EstimateConfig::new(3)).unwrap().model;
    assert_eq!(model.vocabulary().len(), 3);
}

#[test]
fn count_pruning_removes_rare_ngrams_and_stays_normalised() {
    let corpus = command_corpus(400).join("\n");
    let full = estimate_text(&corpus, &EstimateConfig::new(3))
        .unwrap()
        .model;
    let config = EstimateConfig {
        min_counts: vec![1, 2, 3],
        ..EstimateConfig::new(3)
    };
    let pruned = estimate_text(&corpus, &config).unwrap().model;
    let (full_counts, pruned_counts) = (full.counts(), pruned.counts());
    assert_eq!(full_counts[0], pruned_counts[0]);
    assert!(
        pruned_counts[1] < full_counts[1],
        "{pruned_counts:?} vs {full_counts:?}"
    );
    assert!(
        pruned_counts[2] < full_counts[2],
        "{pruned_counts:?} vs {full_counts:?}"
    );
    assert_normalised(&pruned);
    // Kept n-grams keep their probabilities.
    for ngram in pruned.ngrams(3) {
        assert_eq!(full.ngram(&ngram.words).unwrap().log_prob, ngram.log_prob);
    }
}

#[test]
fn entropy_pruning_removes_more_as_the_threshold_grows_and_stays_normalised() {
    let corpus = command_corpus(400).join("\n");
    let full = estimate_text(&corpus, &EstimateConfig::new(3))
        .unwrap()
        .model;
    let total = |m: &Model| m.counts().iter().sum::<usize>();
    let none = prune_entropy(&full, 0.0);
    assert_eq!(
        none.counts(),
        full.counts(),
        "a zero threshold removes nothing"
    );
    let light = prune_entropy(&full, 1e-6);
    let heavy = prune_entropy(&full, 1e-3);
    assert!(total(&light) < total(&full));
    assert!(
        total(&heavy) < total(&light),
        "{:?} vs {:?}",
        heavy.counts(),
        light.counts()
    );
    assert_eq!(heavy.counts()[0], full.counts()[0]);
    assert_normalised(&light);
    assert_normalised(&heavy);
    // Pruning costs some likelihood on the training text, not much at a light threshold.
    let log_likelihood = |m: &Model| corpus.lines().map(|s| m.score_text(s)).sum::<f64>();
    let (before, after) = (log_likelihood(&full), log_likelihood(&light));
    assert!(
        after <= before + 1e-6 && after > before * 1.05,
        "{before} -> {after}"
    );
}

#[test]
fn tokens_that_are_sentence_markers_are_dropped() {
    let sentences = vec![vec!["<s>", "a", "</s>", "b"]];
    let model = estimate(sentences, &EstimateConfig::new(2)).unwrap().model;
    let v = model.vocabulary();
    assert!(model.ngram(&[v.id("a"), v.id("b")]).is_some());
    assert!(model.ngram(&[v.id("a"), v.eos()]).is_none());
}
