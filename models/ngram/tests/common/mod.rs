//! Helpers the integration tests share.
#![allow(dead_code)]

use sotto_ngram::{LanguageModel, Model, WordId};

/// The state after `context` (oldest word first); from `<s>` when it starts with `<s>`.
pub fn state_after<M: LanguageModel>(model: &M, context: &[&str]) -> M::State {
    let vocabulary = model.vocabulary();
    let (mut state, rest) = match context.split_first() {
        Some((&first, rest)) if first == sotto_ngram::BOS => (model.begin_sentence(), rest),
        _ => (model.null_context(), context),
    };
    for word in rest {
        state = model.score_word(&state, vocabulary.id(word)).1;
    }
    state
}

/// Sum of p(w | state) over the vocabulary without `<s>`.
pub fn total_probability<M: LanguageModel>(model: &M, state: &M::State) -> f64 {
    let vocabulary = model.vocabulary();
    vocabulary
        .iter()
        .filter(|&(id, _)| id != vocabulary.bos())
        .map(|(id, _)| 10f64.powf(f64::from(model.score_word(state, id).0)))
        .sum()
}

/// Every context a model stores (and the empty one), as word lists.
pub fn contexts(model: &Model) -> Vec<Vec<String>> {
    let vocabulary = model.vocabulary();
    let mut contexts = vec![Vec::new()];
    for order in 1..model.order() {
        for ngram in model.ngrams(order) {
            contexts.push(
                ngram
                    .words
                    .iter()
                    .map(|&w| vocabulary.word(w).to_owned())
                    .collect(),
            );
        }
    }
    contexts
}

/// Asserts that p(. | h) sums to 1 within 1e-6 for every stored context h, incrementally and
/// by the backoff definition (`Model::log_prob`).
pub fn assert_normalised(model: &Model) {
    let vocabulary = model.vocabulary();
    for context in contexts(model) {
        let words: Vec<&str> = context.iter().map(String::as_str).collect();
        let state = state_after(model, &words);
        let total = total_probability(model, &state);
        assert!(
            (total - 1.0).abs() < 1e-6,
            "context {words:?} sums to {total}"
        );
        let ids: Vec<WordId> = words.iter().map(|w| vocabulary.id(w)).collect();
        let direct: f64 = vocabulary
            .iter()
            .filter(|&(id, _)| id != vocabulary.bos())
            .map(|(id, _)| 10f64.powf(f64::from(model.log_prob(&ids, id))))
            .sum();
        assert!(
            (direct - 1.0).abs() < 1e-6,
            "context {words:?} sums to {direct} (direct)"
        );
    }
}

/// A corpus of command-like sentences, deterministic.
pub fn command_corpus(sentences: usize) -> Vec<String> {
    let verbs = [
        "open", "create", "set", "play", "find", "call", "remind", "show", "close", "send",
    ];
    let objects = [
        "a note",
        "the timer",
        "my music",
        "groceries",
        "the calendar",
        "firefox",
        "an email",
        "ten minutes",
        "the weather",
        "alice",
        "bob's phone",
        "the terminal",
        "a reminder",
    ];
    let tails = [
        "",
        "please",
        "now",
        "for tomorrow",
        "at 5 pm",
        "called shopping",
        "again",
        "in the kitchen",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    (0..sentences)
        .map(|_| {
            let mut s = format!(
                "{} {}",
                verbs[next(verbs.len())],
                objects[next(objects.len())]
            );
            let tail = tails[next(tails.len())];
            if !tail.is_empty() {
                s.push(' ');
                s.push_str(tail);
            }
            if next(3) == 0 {
                s.push_str(" and ");
                s.push_str(verbs[next(verbs.len())]);
                s.push(' ');
                s.push_str(objects[next(objects.len())]);
            }
            s
        })
        .collect()
}

/// Scores `words` (then `</s>`) from `<s>` word by word and checks each score against the
/// backoff definition (`Model::log_prob` over the whole history) and the total against
/// `score_sentence`. Returns the total.
pub fn assert_incremental_equals_definition(model: &Model, words: &[WordId]) -> f64 {
    let v = model.vocabulary();
    let mut history = vec![v.bos()];
    let mut state = model.begin_sentence();
    let mut total = 0.0f64;
    for &word in words.iter().chain([&v.eos()]) {
        let (incremental, next) = model.score_word(&state, word);
        let direct = model.log_prob(&history, word);
        assert!(
            (incremental - direct).abs() < 1e-5,
            "after {:?}, {}: {incremental} incrementally, {direct} by definition",
            history.iter().map(|&w| v.word(w)).collect::<Vec<_>>(),
            v.word(word)
        );
        total += f64::from(incremental);
        history.push(word);
        state = next;
    }
    let batch = model.score_sentence(words);
    assert!((batch - total).abs() < 1e-9, "{batch} vs {total}");
    total
}
