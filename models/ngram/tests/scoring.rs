//! Incremental scoring: equal to the backoff definition, minimal states, mixtures, prefixes.

mod common;

use common::{
    assert_incremental_equals_definition, command_corpus, state_after, total_probability,
};
use sotto_ngram::{estimate_text, EstimateConfig, LanguageModel, Mixture, Model, State, WordId};

fn model(order: usize) -> Model {
    estimate_text(&command_corpus(500).join("\n"), &EstimateConfig::new(order))
        .unwrap()
        .model
}

/// Test sentences: training-like, reordered, and with words the model never saw.
fn sentences() -> Vec<String> {
    let mut sentences = command_corpus(40);
    sentences.extend(
        [
            "",
            "open",
            "please open the the the timer",
            "call zebra now and open quux",
            "groceries groceries at 5 pm please",
            "and",
        ]
        .map(String::from),
    );
    sentences
}

#[test]
fn incremental_scores_equal_the_backoff_definition() {
    for order in 1..=5 {
        let model = model(order);
        let v = model.vocabulary();
        for sentence in sentences() {
            let words: Vec<WordId> = sotto_ngram::tokenize(&sentence)
                .iter()
                .map(|w| v.id(w))
                .collect();
            let batch = assert_incremental_equals_definition(&model, &words);
            assert!((model.score_text(&sentence) - batch).abs() < 1e-9);
        }
    }
}

#[test]
fn states_keep_only_what_the_model_can_use() {
    assert!(size_of::<State>() <= 48);
    let model = model(3);
    let v = model.vocabulary();
    // An unknown word is never a context: nothing of it survives.
    let after_unknown = state_after(&model, &["open", "zebra"]);
    assert_eq!(after_unknown, model.null_context());
    assert!(after_unknown.words().is_empty());
    // Never more than order - 1 words.
    let long = state_after(&model, &["<s>", "open", "a", "note", "please"]);
    assert!(long.words().len() <= 2);
    // Two histories that differ only beyond what the model stores share a state, and so
    // score every word alike.
    let one = state_after(&model, &["open", "the", "timer"]);
    let two = state_after(&model, &["zebra", "the", "timer"]);
    assert_eq!(one, two);
    assert_eq!(one.words(), [v.id("timer"), v.id("the")]);
    // `</s>` is never a context.
    assert_eq!(
        state_after(&model, &["timer", "</s>"]),
        model.null_context()
    );
}

#[test]
fn mixtures_are_normalised_over_the_union_of_vocabularies() {
    let base = model(3);
    let personal = estimate_text(
        "call siobhan\ncall siobhan now\nopen obsidian\ncreate a note called groceries",
        &EstimateConfig::new(2),
    )
    .unwrap()
    .model;
    assert!(base.vocabulary().get("siobhan").is_none());
    let mixture = Mixture::new(personal.clone(), base.clone(), 0.3).unwrap();
    let v = mixture.vocabulary();
    assert!(v.get("siobhan").is_some() && v.get("terminal").is_some());
    for context in [
        &[][..],
        &["<s>"],
        &["<s>", "call"],
        &["call", "siobhan"],
        &["open", "the"],
        &["zebra"],
        &["create", "a", "note"],
    ] {
        let state = state_after(&mixture, context);
        let total = total_probability(&mixture, &state);
        assert!((total - 1.0).abs() < 1e-6, "{context:?}: {total}");
    }
    // The personal model lifts its names far above the base's unknown-word share.
    let name = |m: &dyn Fn(&str) -> f64| m("call siobhan");
    let mixed = name(&|s| mixture.score_text(s));
    let base_only = name(&|s| base.score_text(s));
    assert!(mixed > base_only + 1.0, "{mixed} vs {base_only}");
    // A weight of 1 is the first model alone, up to the shared <unk> mass.
    let alone = Mixture::new(personal.clone(), base.clone(), 1.0).unwrap();
    assert!(
        (alone.score_text("call siobhan now") - personal.score_text("call siobhan now")).abs()
            < 1e-5
    );
    assert!(Mixture::new(personal, base, 1.5).is_err());
}

#[test]
fn prefixes_tell_a_decoder_which_words_can_still_come() {
    let model = model(3);
    let v = model.vocabulary();
    let words = |prefix: &str| -> Vec<&str> {
        v.completions(prefix).iter().map(|&id| v.word(id)).collect()
    };
    assert_eq!(words("gro"), ["groceries"]);
    assert_eq!(words("t"), ["ten", "terminal", "the", "timer", "tomorrow"]);
    assert!(words("groz").is_empty());
    assert!(!v.has_prefix("zz") && v.has_prefix("remi"));
    assert!(
        words("").len() == v.len() - 3,
        "every word but <s>, </s>, <unk>"
    );
    // The best completion is the likeliest next word among them.
    let state = state_after(&model, &["<s>", "open"]);
    let (best, score) = model.best_completion(&state, "t").unwrap();
    assert_eq!(v.word(best), "the");
    for &other in v.completions("t") {
        assert!(model.score_word(&state, other).0 <= score);
    }
    assert!(model.best_completion(&state, "qx").is_none());
}
