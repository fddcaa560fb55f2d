//! Helpers shared by the integration tests: test audio made with sox and espeak-ng, and
//! signal measurements (frequency by zero crossings, RMS, peak).

#![allow(dead_code)]

#[allow(unused_imports)] // only the capture tests use it
pub use sotto_e2e::pulse;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a command, failing the test with its stderr when it fails.
pub fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install it with .ci/setup"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `sox` with dithering off (`-D`), so integer files hold the exact sine.
pub fn sox(args: &[&str]) {
    let mut all = vec!["-D"];
    all.extend_from_slice(args);
    run("sox", &all);
}

/// Whether this sox can write `format` (MP3 needs libsox-fmt-mp3).
pub fn sox_writes(format: &str) -> bool {
    let Ok(output) = Command::new("sox").arg("-h").output() else {
        return false;
    };
    let help = String::from_utf8_lossy(&output.stdout);
    help.lines()
        .find(|l| l.starts_with("AUDIO FILE FORMATS:"))
        .is_some_and(|l| l.split_whitespace().any(|f| f == format))
}

/// A sine file: `seconds` of `freq` Hz at amplitude `amplitude` in every channel.
pub fn sine_file(
    dir: &Path,
    name: &str,
    rate: u32,
    channels: u16,
    encoding: &[&str],
    seconds: f64,
) -> PathBuf {
    let path = dir.join(name);
    let (rate, channels, seconds) = (rate.to_string(), channels.to_string(), seconds.to_string());
    let mut args = vec!["-n", "-r", &rate, "-c", &channels];
    args.extend_from_slice(encoding);
    let path_str = path.to_str().expect("utf-8 temp path");
    args.extend_from_slice(&[path_str, "synth", &seconds, "sine", "440", "vol", "0.5"]);
    sox(&args);
    path
}

/// Speech from espeak-ng (22.05 kHz mono WAV).
pub fn speech_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    run(
        "espeak-ng",
        &["-w", path.to_str().expect("utf-8 temp path"), text],
    );
    path
}

/// Frequency from zero crossings (rising and falling) over the whole slice.
pub fn frequency(samples: &[f32], rate: u32) -> f64 {
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / (samples.len() as f64 / f64::from(rate))
}

pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / samples.len() as f64)
        .sqrt()
}

pub fn peak(samples: &[f32]) -> f64 {
    samples
        .iter()
        .fold(0.0f64, |m, &s| m.max(f64::from(s.abs())))
}

/// The middle part of a signal, away from edges where filters ring and fades live.
pub fn middle(samples: &[f32], skip_fraction: f64) -> &[f32] {
    let skip = (samples.len() as f64 * skip_fraction) as usize;
    &samples[skip..samples.len() - skip]
}

/// Deterministic pseudo-random bytes (xorshift), so a failing case can be reproduced.
pub fn noise_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// Pearson correlation of paired values; 0 when either side is constant.
pub fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}
