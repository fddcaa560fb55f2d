//! ARPA reading and writing: round trips, and every defect reported with its line.

mod common;

use common::command_corpus;
use sotto_ngram::{
    estimate_text, read_arpa_bytes, ArpaErrorKind, EstimateConfig, LanguageModel, Model,
};

const SMALL: &str = "\
Some header text the reader skips.

\\data\\
ngram 1=5
ngram 2=4
ngram 3=1

\\1-grams:
-1.0\t<unk>
-99\t<s>\t-0.5
-0.7\t</s>
-0.4\ta\t-0.3
-0.6\tb\t-0.2

\\2-grams:
-0.3\t<s> a\t-0.1
-0.5\ta b
-0.2 b </s>
-0.4\t<s>\tb

\\3-grams:
-0.05\t<s> a b

\\end\\
";

#[test]
fn reads_a_small_model() {
    let model = Model::from_arpa_str(SMALL).unwrap();
    assert_eq!(model.order(), 3);
    assert_eq!(model.counts(), [5, 4, 1]);
    let v = model.vocabulary();
    let (a, b) = (v.id("a"), v.id("b"));
    assert_eq!(model.ngram(&[v.bos(), a]).unwrap().backoff, -0.1);
    assert_eq!(model.ngram(&[v.bos(), a, b]).unwrap().log_prob, -0.05);
    // <s> a b </s>: -0.3 (<s> a) -0.05 (<s> a b) then </s> after "a b": no "a b </s>",
    // backoff("a b") = 0 (not stored as a context), p(</s>|b) = -0.2.
    let total = model.score_sentence(&[a, b]);
    assert!((total - (-0.3 - 0.05 - 0.2)).abs() < 1e-6, "{total}");
    // a after "b": no "b a", backoff(b) = -0.2, p(a) = -0.4.
    let state = model.score_word(&model.null_context(), b).1;
    assert!((model.score_word(&state, a).0 - (-0.6)).abs() < 1e-6);
    // An unknown word scores as <unk>.
    assert_eq!(
        model.score_text_word(&model.null_context(), "zebra").0,
        -1.0
    );
}

#[test]
fn written_text_reads_back_to_the_same_model() {
    let model = Model::from_arpa_str(SMALL).unwrap();
    let text = model.to_arpa_string();
    let again = Model::from_arpa_str(&text).unwrap();
    assert_eq!(again.to_arpa_string(), text);
    for order in 1..=3 {
        assert_eq!(
            again.ngrams(order).collect::<Vec<_>>(),
            model.ngrams(order).collect::<Vec<_>>()
        );
    }
    assert!(text.starts_with(
        "\\data\\\nngram 1=5\nngram 2=4\nngram 3=1\n\n\\1-grams:\n-1\t<unk>\n-99\t<s>\t-0.5\n"
    ));
}

#[test]
fn estimated_models_round_trip_through_files_plain_and_gzipped() {
    let corpus = command_corpus(200).join("\n");
    let model = estimate_text(&corpus, &EstimateConfig::new(4))
        .unwrap()
        .model;
    let dir = std::env::temp_dir().join(format!("sotto-ngram-arpa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["model.arpa", "model.arpa.gz"] {
        let path = dir.join(name);
        model.write_arpa_file(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.starts_with(&[0x1f, 0x8b]), name.ends_with(".gz"));
        let again = Model::read_arpa_file(&path).unwrap();
        assert_eq!(again.to_arpa_string(), model.to_arpa_string());
        assert_eq!(read_arpa_bytes(&bytes).unwrap().counts(), model.counts());
        for line in corpus.lines().take(20) {
            assert_eq!(again.score_text(line), model.score_text(line));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = Model::read_arpa_file(dir.join("nothing.arpa")).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("nothing.arpa: line 0: reading failed"),
        "{missing}"
    );
}

/// Reads `text`, expects an error on `line` whose message contains `message`.
#[track_caller]
fn check_error(text: &str, line: usize, message: &str) -> ArpaErrorKind {
    let error = Model::from_arpa_str(text).expect_err("the text is broken");
    let shown = error.to_string();
    assert_eq!(error.line, line, "{shown}");
    assert!(
        shown.contains(message),
        "{shown:?} does not contain {message:?}"
    );
    error.kind
}

fn with(from: &str, to: &str) -> String {
    assert!(SMALL.contains(from), "{from:?}");
    SMALL.replacen(from, to, 1)
}

#[test]
fn broken_files_are_errors_with_their_line() {
    check_error("", 0, "no \\data\\ header");
    check_error("hello\nworld\n", 2, "no \\data\\ header");
    check_error(
        "\\data\\\n",
        1,
        "expected the \\1-grams: section, found \"the end of the file\"",
    );
    check_error("\\data\\\n\\1-grams:\n", 2, "counts no n-grams");
    check_error("\\data\\\nngram one=1\n", 2, "expected `ngram N=COUNT`");
    check_error("\\data\\\nngram 1=-3\n", 2, "expected `ngram N=COUNT`");
    check_error("\\data\\\nngram 2=3\n", 2, "found order 2 where 1 was due");
    check_error(
        "\\data\\\nngram 1=1\nngram 2=1\nngram 3=1\nngram 4=1\nngram 5=1\nngram 6=1\nngram 7=1\n",
        8,
        "order 7 is above the supported maximum of 6",
    );
    // Wrong counts, both ways.
    let kind = check_error(
        &with("ngram 2=4", "ngram 2=5"),
        15,
        "declares 5 2-grams, the section holds 4",
    );
    assert!(matches!(
        kind,
        ArpaErrorKind::CountMismatch {
            order: 2,
            declared: 5,
            found: 4
        }
    ));
    check_error(
        &with("ngram 2=4", "ngram 2=3"),
        19,
        "declares 3 2-grams, the section holds 4",
    );
    // Missing sections.
    check_error(
        &with("\\2-grams:", "\\3-grams:"),
        15,
        "expected the \\2-grams: section, found \"\\\\3-grams:\"",
    );
    check_error(
        &with("\\3-grams:\n-0.05\t<s> a b\n", ""),
        22,
        "expected the \\3-grams: section, found \"\\\\end\\\\\"",
    );
    check_error(
        &with("\\end\\\n", ""),
        23,
        "expected \\end\\, found \"the end of the file\"",
    );
    // Numbers.
    check_error(
        &with("-0.5\ta b", "nan\ta b"),
        17,
        "probability \"nan\" is not finite",
    );
    check_error(&with("-0.5\ta b", "-inf\ta b"), 17, "not finite");
    check_error(
        &with("-0.3\t<s> a\t-0.1", "-0.3\t<s> a\tinf"),
        16,
        "backoff \"inf\" is not finite",
    );
    check_error(
        &with("-0.5\ta b", "-0.5x\ta b"),
        17,
        "probability \"-0.5x\" is not a number",
    );
    check_error(
        &with("-0.5\ta b", "0.5\ta b"),
        17,
        "log10 probability 0.5 is above 0",
    );
    // Shapes of lines.
    check_error(&with("-0.5\ta b", "-0.5\ta"), 17, "a 2-gram line needs");
    check_error(
        &with("-0.05\t<s> a b", "-0.05\t<s> a b -0.1"),
        22,
        "no backoff at the highest order",
    );
    check_error(
        &with("-0.5\ta b", "-0.5\ta c"),
        17,
        "uses \"c\", which is not a unigram",
    );
    check_error(
        &with("-0.6\tb\t-0.2", "-0.6\ta\t-0.2"),
        13,
        "the 1-gram \"a\" appears twice",
    );
    check_error(
        &with("-0.2 b </s>", "-0.2 a b"),
        18,
        "the 2-gram \"a b\" appears twice",
    );
    // Prefix missing: "b a b" has no stored "b a".
    check_error(
        &with("-0.05\t<s> a b", "-0.05\tb a b"),
        22,
        "the 3-gram \"b a b\" has no stored context \"b a\"",
    );
}

#[test]
fn huge_declared_counts_do_not_allocate() {
    // A count no memory could hold: the reader must fail on the mismatch, not try to reserve.
    let text = "\\data\\\nngram 1=18446744073709551615\n\n\\1-grams:\n-1\ta\n\n\\end\\\n";
    check_error(
        text,
        4,
        "declares 18446744073709551615 1-grams, the section holds 1",
    );
    check_error(
        "\\data\\\nngram 1=18446744073709551616\n",
        2,
        "expected `ngram N=COUNT`",
    );
}

#[test]
fn missing_special_words_are_added_and_not_utf8_is_an_error() {
    let model =
        Model::from_arpa_str("\\data\\\nngram 1=1\n\n\\1-grams:\n-0.1\thi\n\n\\end\\\n").unwrap();
    let v = model.vocabulary();
    assert_eq!(v.len(), 4);
    assert_eq!(model.ngram(&[v.unk()]).unwrap().log_prob, -99.0);
    let error = read_arpa_bytes(b"\\data\\\nngram 1=1\n\n\\1-grams:\n-1\t\xff\n").unwrap_err();
    assert_eq!(error.line, 5);
    assert!(matches!(error.kind, ArpaErrorKind::NotUtf8));
}
