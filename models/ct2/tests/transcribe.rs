//! The converter's purpose, tested for real: faster-whisper models converted to ggml load in
//! whisper.cpp (whisper-rs 0.16) and transcribe speech. The same speech goes through tiny.en
//! as shipped (float16), converted with 8-bit (Q8_0) matrices, and re-encoded as int8
//! (dequantized to f16), and through the multilingual base model.

mod support;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use sotto_ct2::{convert, convert_with, ConvertReport, Matrices};
use sotto_e2e::words as normalise;
use support::{copy_small_files, ct2_model, load, speak, transcribe, Ct2File};

const PHRASE: &str = "set a timer for ten minutes";

fn speech() -> &'static [f32] {
    static SPEECH: OnceLock<Vec<f32>> = OnceLock::new();
    SPEECH.get_or_init(|| speak(PHRASE))
}

fn convert_timed(dir: &Path, out: &Path) -> ConvertReport {
    let started = Instant::now();
    let report = convert(dir, out).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    eprintln!(
        "converted {} in {:.2?}: {report:?}",
        dir.display(),
        started.elapsed()
    );
    report
}

fn assert_heard_the_phrase(model: &Path, language: &str) -> String {
    let started = Instant::now();
    let ctx = load(model);
    let text = transcribe(&ctx, speech(), language);
    eprintln!(
        "{}: {text:?} ({:.2?} to load and transcribe)",
        model.display(),
        started.elapsed()
    );
    let words = normalise(&text);
    assert!(
        words.contains("timer") && (words.contains("ten minutes") || words.contains("10 minutes")),
        "{} heard {text:?}",
        model.display()
    );
    text
}

#[test]
fn tiny_en_float16_converts_losslessly_and_transcribes() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("ggml-tiny.en.bin");
    let report = convert_timed(&ct2_model("whisper-tiny.en-ct2"), &out);
    assert!(report.is_exact(), "{report:?}");
    assert!(!report.multilingual);
    assert_heard_the_phrase(&out, "en");
}

/// What Sotto imports its models as: 8-bit matrices, still hearing the phrase.
#[test]
fn tiny_en_q8_0_transcribes() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("ggml-tiny.en-q8_0.bin");
    let report = convert_with(&ct2_model("whisper-tiny.en-ct2"), &out, Matrices::Q8_0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!report.is_exact(), "{report:?}");
    assert_heard_the_phrase(&out, "en");
}

#[test]
fn base_multilingual_converts_and_transcribes_english() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("ggml-base.bin");
    let report = convert_timed(&ct2_model("whisper-base-ct2"), &out);
    assert!(report.multilingual);
    assert!(report.is_exact(), "{report:?}");
    assert_heard_the_phrase(&out, "en");
}

/// `--quantization int8_float16` models are dequantized (`int8 / scale`) into f16.
#[test]
fn tiny_en_int8_is_dequantized_and_transcribes() {
    let src = ct2_model("whisper-tiny.en-ct2");
    let dir = tempfile::tempdir().unwrap();
    copy_small_files(&src, dir.path());
    let int8_model = Ct2File::read(&src.join("model.bin")).to_int8();
    std::fs::write(dir.path().join("model.bin"), int8_model.to_bytes()).unwrap();

    let out = dir.path().join("ggml-tiny.en-int8.bin");
    let report = convert_timed(dir.path(), &out);
    // 2 convolutions, 4 linear layers in each of 4 encoder blocks and 7 in each of 4 decoder
    // blocks, and the token embedding.
    assert_eq!(report.dequantized_tensors, 2 + 4 * 4 + 4 * 7 + 1);
    assert!(!report.is_exact());
    assert_heard_the_phrase(&out, "en");
}
