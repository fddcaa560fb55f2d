//! Property tests: random corpora give normalised models, ARPA write -> read is the identity,
//! incremental scoring equals the backoff definition, pruning keeps models normalised.

mod common;

use common::{
    assert_incremental_equals_definition, assert_normalised, state_after, total_probability,
};
use proptest::prelude::*;
use sotto_ngram::{estimate, prune_entropy, EstimateConfig, Mixture, Model, WordId};

/// Sentences over a small alphabet, so n-grams repeat and every count-of-count case occurs.
fn corpus() -> impl Strategy<Value = Vec<Vec<String>>> {
    let word =
        prop::sample::select(vec!["a", "b", "c", "d", "e", "on", "off"]).prop_map(String::from);
    prop::collection::vec(prop::collection::vec(word, 0..8), 0..16)
}

fn model_of(corpus: &[Vec<String>], order: usize) -> Model {
    estimate(corpus, &EstimateConfig::new(order)).unwrap().model
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_corpora_give_normalised_models(corpus in corpus(), order in 1usize..=4) {
        assert_normalised(&model_of(&corpus, order));
    }

    #[test]
    fn pruned_models_stay_normalised(corpus in corpus(), order in 2usize..=4, exponent in 1i32..8) {
        let model = model_of(&corpus, order);
        let pruned = prune_entropy(&model, 10f64.powi(-exponent));
        assert_normalised(&pruned);
        let count_pruned = estimate(&corpus, &EstimateConfig { min_counts: vec![1, 2, 2, 2], ..EstimateConfig::new(order) })
            .unwrap()
            .model;
        assert_normalised(&count_pruned);
    }

    #[test]
    fn mixtures_of_random_models_are_normalised(
        first in corpus(),
        second in corpus(),
        orders in (1usize..=3, 1usize..=3),
        weight in 0.0f64..=1.0,
        context in prop::collection::vec(prop::sample::select(vec!["a", "b", "on", "zebra"]), 0..4),
    ) {
        let mixture = Mixture::new(model_of(&first, orders.0), model_of(&second, orders.1), weight).unwrap();
        let state = state_after(&mixture, &context);
        let total = total_probability(&mixture, &state);
        prop_assert!((total - 1.0).abs() < 1e-6, "{}", total);
    }

    #[test]
    fn write_then_read_is_the_identity(corpus in corpus(), order in 1usize..=5) {
        let model = model_of(&corpus, order);
        let text = model.to_arpa_string();
        let again = Model::from_arpa_str(&text).unwrap();
        prop_assert_eq!(again.to_arpa_string(), text);
        prop_assert_eq!(again.counts(), model.counts());
        for k in 1..=order {
            let ours: Vec<_> = model.ngrams(k).collect();
            let theirs: Vec<_> = again.ngrams(k).collect();
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn incremental_equals_batch(
        corpus in corpus(),
        order in 1usize..=5,
        sentence in prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "on", "zebra", "</s>", "<s>"]), 0..12),
    ) {
        let model = model_of(&corpus, order);
        let v = model.vocabulary();
        let words: Vec<WordId> = sentence.iter().map(|w| v.id(w)).collect();
        assert_incremental_equals_definition(&model, &words);
    }
}
