//! Real models and real (synthetic) speech for the worker tests.
//!
//! Models: the CTranslate2 Whisper models the model manager fetched into
//! SOTTO_TEST_MODELS_DIR (`.ci/test` does this first), converted to whisper.cpp format once
//! per test binary with the project's own converter. Speech: espeak-ng, resampled by sox.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use sotto_protocol::asr::{Pcm, SAMPLE_RATE};
use sotto_protocol::client::WorkerSpec;

pub fn models_dir() -> PathBuf {
    let dir = std::env::var_os("SOTTO_TEST_MODELS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sotto-dev/models"))
        })
        .expect("SOTTO_TEST_MODELS_DIR or HOME is set");
    assert!(
        dir.join("whisper-tiny.en-ct2/model.bin").is_file(),
        "test models missing in {}: run .ci/test (it fetches them) or `sotto models fetch whisper-tiny.en-ct2 silero-vad-v6.2.0` with SOTTO_MODELS_DIR set",
        dir.display()
    );
    dir
}

/// whisper tiny.en in whisper.cpp format, converted once per test process.
pub fn tiny_en() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &MODEL
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("ggml-tiny.en.bin");
            sotto_ct2::convert(&models_dir().join("whisper-tiny.en-ct2"), &out)
                .expect("tiny.en converts");
            (dir, out)
        })
        .1
}

pub fn silero() -> PathBuf {
    models_dir().join("silero-vad-v6.2.0/ggml-silero-v6.2.0.bin")
}

pub fn worker_spec() -> WorkerSpec {
    WorkerSpec {
        name: "sotto-asr".into(),
        program: env!("CARGO_BIN_EXE_sotto-asr").into(),
        args: Vec::new(),
        hello_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
    }
}

/// `text` spoken by espeak-ng (voice, words per minute), as 16 kHz mono PCM.
pub fn speak(text: &str, voice: &str, wpm: u32) -> Pcm {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.wav");
    let wav = dir.path().join("16k.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", &wpm.to_string(), "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (.ci/setup installs it)");
    assert!(ok.success());
    let ok = Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&wav)
        .status()
        .expect("sox is installed (.ci/setup installs it)");
    assert!(ok.success());
    read_wav(&wav)
}

pub fn read_wav(path: &Path) -> Pcm {
    let mut reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, SAMPLE_RATE);
    let samples = reader.samples::<i16>().map(Result::unwrap).collect();
    Pcm {
        sample_rate: SAMPLE_RATE,
        samples,
    }
}

pub fn silence(ms: u64) -> Vec<i16> {
    vec![0; (ms * SAMPLE_RATE as u64 / 1000) as usize]
}

/// Lowercase words without punctuation, for comparing transcripts.
pub fn words(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
