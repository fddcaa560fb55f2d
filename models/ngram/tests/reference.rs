//! Cross-checks against recorded references: KenLM's scores of our ARPA model, and the model
//! our estimator wrote when the fixture was made.

use sotto_ngram::{estimate_text, EstimateConfig, LanguageModel, Model};

/// Found at run time: a test binary from a build cache shared with another checkout has that
/// checkout's path compiled in, and cargo and nextest set the variable for every test run.
fn fixtures() -> String {
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    format!("{dir}/tests/fixtures")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/{name}", fixtures())).unwrap()
}

#[test]
fn scores_match_kenlm_on_the_same_arpa_file() {
    let model = Model::read_arpa_file(format!("{}/commands.3.arpa", fixtures())).unwrap();
    let v = model.vocabulary();
    let recorded = fixture("kenlm-scores.tsv");
    let mut checked = 0;
    for line in recorded.lines() {
        let (sentence, scores) = line.split_once('\t').unwrap();
        let kenlm: Vec<f32> = scores.split(' ').map(|s| s.parse().unwrap()).collect();
        let words: Vec<&str> = sentence.split(' ').collect();
        assert_eq!(kenlm.len(), words.len() + 1, "{sentence}");
        let mut state = model.begin_sentence();
        let mut ours = Vec::new();
        for word in &words {
            let (score, next) = model.score_word(&state, v.id(word));
            ours.push(score);
            state = next;
        }
        ours.push(model.end_sentence(&state));
        for (i, (a, b)) in ours.iter().zip(&kenlm).enumerate() {
            assert!(
                (a - b).abs() < 2e-6,
                "{sentence:?} word {i}: ours {a}, KenLM {b}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 43, "every word of the 7 sentences, </s> included");
}

#[test]
fn estimation_still_writes_the_recorded_model() {
    let model = estimate_text(&fixture("commands.txt"), &EstimateConfig::new(3))
        .unwrap()
        .model;
    assert_eq!(model.to_arpa_string(), fixture("commands.3.arpa"));
}
