//! The ARPA reader takes untrusted files: random bytes and mutated valid files must give a
//! model or an error, never a panic. (The nightly-only cargo-fuzz target in `fuzz/` digs
//! deeper; this runs on stable with the other tests.)

use proptest::prelude::*;
use sotto_ngram::{
    estimate_text, prune_entropy, read_arpa_bytes, renormalize, EstimateConfig, LanguageModel,
    Model,
};

fn valid_arpa() -> String {
    estimate_text("a b c\na b\nb c a\nc", &EstimateConfig::new(3))
        .unwrap()
        .model
        .to_arpa_string()
}

/// Reads `bytes`; when that succeeds, the model must be usable.
fn read_and_use(bytes: &[u8]) {
    if let Ok(model) = read_arpa_bytes(bytes) {
        exercise(&model);
    }
}

fn exercise(model: &Model) {
    let v = model.vocabulary();
    let mut state = model.begin_sentence();
    for (id, _) in v.iter().take(8) {
        let (score, next) = model.score_word(&state, id);
        assert!(!score.is_nan());
        state = next;
    }
    let _ = model.end_sentence(&state);
    let again = Model::from_arpa_str(&model.to_arpa_string()).expect("what we write reads back");
    assert_eq!(again.counts(), model.counts());
    // Pruning and renormalising accept whatever the reader accepted.
    let pruned = prune_entropy(model, 1e-4);
    assert_eq!(pruned.counts()[0], model.counts()[0]);
    let mut renormalized = model.clone();
    renormalize(&mut renormalized);
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceToken(usize, usize, String),
    Truncate(usize),
    InsertByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop::sample::select(vec![
        "",
        "-",
        "nan",
        "inf",
        "-inf",
        "1e39",
        "-1e39",
        "0",
        "1",
        "\\data\\",
        "\\1-grams:",
        "\\2-grams:",
        "\\3-grams:",
        "\\end\\",
        "ngram",
        "ngram 1=99999999999999",
        "ngram 4=1",
        "<s>",
        "</s>",
        "<unk>",
        "zz",
        "a",
        "-0.5",
        "=",
        "\t",
    ])
    .prop_map(String::from);
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<usize>(), token)
            .prop_map(|(l, t, s)| Mutation::ReplaceToken(l, t, s)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::InsertByte(at, b)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut tail: Option<(usize, Option<u8>)> = None;
    for mutation in mutations {
        let n = lines.len().max(1);
        match mutation {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Mutation::ReplaceToken(l, t, s) if !lines.is_empty() => {
                let line = &mut lines[l % n];
                let mut tokens: Vec<String> = line.split('\t').map(String::from).collect();
                let len = tokens.len();
                tokens[t % len] = s.clone();
                *line = tokens.join("\t");
            }
            Mutation::Truncate(at) => tail = Some((*at, None)),
            Mutation::InsertByte(at, byte) => tail = Some((*at, Some(*byte))),
            _ => {}
        }
    }
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    match tail {
        Some((at, None)) => bytes.truncate(at % (bytes.len() + 1)),
        Some((at, Some(byte))) => bytes.insert(at % (bytes.len() + 1), byte),
        None => {}
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        read_and_use(&bytes);
    }

    #[test]
    fn arpa_looking_noise_never_panics(lines in prop::collection::vec("(\\\\data\\\\|ngram [0-9]=[0-9]{1,3}|\\\\[1-3]-grams:|\\\\end\\\\|-?[0-9]\\.[0-9]( [abc<>/s]{1,3}){1,3}( -?[0-9])?|)", 0..40)) {
        read_and_use(lines.join("\n").as_bytes());
    }

    #[test]
    fn mutated_valid_files_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        read_and_use(&apply(&valid_arpa(), &mutations));
    }
}

#[test]
fn the_unmutated_file_reads() {
    let model = read_arpa_bytes(valid_arpa().as_bytes()).unwrap();
    assert_eq!(model.order(), 3);
    exercise(&model);
}
