//! What the tests of several crates share: where the real models the model manager fetched
//! for the tests live, synthetic speech (espeak-ng, resampled by sox), and the word-level
//! normalisation transcripts are compared with, a private PulseAudio server ([`pulse`]) for
//! tests that need a real microphone, and the WASM plugins built for the tests ([`guests`]). A dev-dependency only; nothing ships it.

#[path = "guests.rs"]
pub mod guests;
#[path = "pulse.rs"]
pub mod pulse;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root: the nearest folder above the running test's package with
/// `.ci/run`. Cargo and nextest set `CARGO_MANIFEST_DIR` when they run a test, which is right
/// even when the compiled test comes from a build cache shared with another checkout (the
/// value compiled in would name that other checkout).
pub fn repo_root() -> PathBuf {
    let runtime = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let compiled = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    runtime
        .into_iter()
        .chain([compiled.clone()])
        .find_map(|dir| {
            dir.ancestors()
                .find(|d| d.join(".ci/run").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| compiled.parent().map(Path::to_path_buf).unwrap_or(compiled))
}

/// Where `.ci/test` fetched the real models the tests use (`SOTTO_TEST_MODELS_DIR`, by
/// default `~/.cache/sotto-dev/models`, as `.ci/env` sets it).
pub fn test_models_dir() -> PathBuf {
    std::env::var_os("SOTTO_TEST_MODELS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sotto-dev/models"))
        })
        .expect("SOTTO_TEST_MODELS_DIR or HOME is set")
}

/// How many files in `dir` have names ending in `suffix` (0 when `dir` does not exist): what
/// a tool left on disk, such as the timers in `<data>/timers/*.json`.
pub fn count_files(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(suffix))
                })
                .count()
        })
        .unwrap_or(0)
}

/// sox arguments for what a desktop sound server plays: 48 kHz, stereo, 16-bit.
pub const WAV_48K_STEREO: &[&str] = &["-r", "48000", "-c", "2", "-b", "16"];

/// Writes `text` spoken by espeak-ng (`voice`, `wpm` words per minute) to `out`, passed
/// through sox with `sox_args` (rate, channels, bits: whatever the test needs).
pub fn speak_to(text: &str, voice: &str, wpm: u32, out: &Path, sox_args: &[&str]) {
    let raw = out.with_extension("espeak.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", &wpm.to_string(), "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (.ci/setup installs it)");
    assert!(ok.success(), "espeak-ng failed");
    let ok = Command::new("sox")
        .arg(&raw)
        .args(sox_args)
        .arg(out)
        .status()
        .expect("sox is installed (.ci/setup installs it)");
    assert!(ok.success(), "sox failed");
}

/// `text` spoken by espeak-ng as 16 kHz mono 16-bit samples.
pub fn speak_16k(text: &str, voice: &str, wpm: u32) -> Vec<i16> {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("16k.wav");
    speak_to(
        text,
        voice,
        wpm,
        &wav,
        &["-r", "16000", "-c", "1", "-b", "16"],
    );
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16000, 1, 16)
    );
    reader.samples::<i16>().map(Result::unwrap).collect()
}

/// Lowercase words without punctuation, single-spaced, for comparing transcripts.
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
