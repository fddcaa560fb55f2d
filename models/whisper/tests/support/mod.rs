//! Real models and real (synthetic) speech for the worker tests.
//!
//! Models: the CTranslate2 Whisper models the model manager fetched into
//! SOTTO_TEST_MODELS_DIR (`.ci/test` does this first), converted to whisper.cpp format once
//! per test binary with the project's own converter. Speech: espeak-ng, resampled by sox.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use sotto_protocol::asr::{Pcm, SAMPLE_RATE};
use sotto_protocol::client::WorkerSpec;

pub fn models_dir() -> PathBuf {
    let dir = sotto_e2e::test_models_dir();
    assert!(
        dir.join("whisper-tiny.en-ct2/model.bin").is_file(),
        "test models missing in {}: run .ci/test (it fetches them) or `sotto models fetch whisper-tiny.en-ct2 silero-vad-v6.2.0` with SOTTO_MODELS_DIR set",
        dir.display()
    );
    dir
}

/// whisper tiny.en in whisper.cpp format as Sotto imports it (Q8_0 matrices), converted once
/// per test process.
pub fn tiny_en() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &MODEL
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("ggml-tiny.en.bin");
            sotto_ct2::convert_with(
                &models_dir().join("whisper-tiny.en-ct2"),
                &out,
                sotto_ct2::Matrices::Q8_0,
            )
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
    Pcm {
        sample_rate: SAMPLE_RATE,
        samples: sotto_e2e::speak_16k(text, voice, wpm),
    }
}

pub fn silence(ms: u64) -> Vec<i16> {
    vec![0; (ms * SAMPLE_RATE as u64 / 1000) as usize]
}

pub use sotto_e2e::words;
