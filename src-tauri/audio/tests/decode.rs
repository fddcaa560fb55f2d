//! Decoding and resampling real files made at test time with sox and espeak-ng.

mod support;

use std::path::Path;
use std::time::Duration;

use sotto_audio::{decode_file, resample, to_16k_mono, to_16k_mono_i16, Audio, AudioError};
use support::{
    frequency, middle, noise_bytes, peak, pearson, rms, sine_file, sox, sox_writes, speech_file,
};

/// One file format to check.
struct Case {
    name: &'static str,
    rate: u32,
    channels: u16,
    encoding: &'static [&'static str],
    /// How far the decoded duration may be from the 1.5 s written (lossy codecs pad).
    duration_slack: Duration,
}

/// Lossless files hold exactly the samples written (1.5 s at 11025 Hz is 16537.5: sox rounds).
const LOSSLESS: Duration = Duration::from_micros(100);
/// Lossy codecs pad to whole frames and add encoder delay; MP3 without a LAME tag cannot
/// say how much, so a 16 kHz MP3 runs ~85 ms long.
const LOSSY: Duration = Duration::from_millis(100);

fn cases() -> Vec<Case> {
    let s16: &[&str] = &["-b", "16", "-e", "signed-integer"];
    let s24: &[&str] = &["-b", "24", "-e", "signed-integer"];
    let f32: &[&str] = &["-b", "32", "-e", "floating-point"];
    let u8: &[&str] = &["-b", "8", "-e", "unsigned-integer"];
    let mut cases = Vec::new();
    for rate in [8_000, 22_050, 44_100, 48_000] {
        for (depth, encoding) in [("s16", s16), ("s24", s24), ("f32", f32)] {
            let name: &'static str =
                Box::leak(format!("{rate}-{depth}-stereo.wav").into_boxed_str());
            cases.push(Case {
                name,
                rate,
                channels: 2,
                encoding,
                duration_slack: LOSSLESS,
            });
        }
    }
    cases.extend([
        Case {
            name: "16000-s16-mono.wav",
            rate: 16_000,
            channels: 1,
            encoding: s16,
            duration_slack: LOSSLESS,
        },
        Case {
            name: "11025-u8-mono.wav",
            rate: 11_025,
            channels: 1,
            encoding: u8,
            duration_slack: LOSSLESS,
        },
        Case {
            name: "32000-s16-quad.wav",
            rate: 32_000,
            channels: 4,
            encoding: s16,
            duration_slack: LOSSLESS,
        },
        Case {
            name: "44100-s16-stereo.flac",
            rate: 44_100,
            channels: 2,
            encoding: s16,
            duration_slack: LOSSLESS,
        },
        Case {
            name: "96000-s24-mono.flac",
            rate: 96_000,
            channels: 1,
            encoding: s24,
            duration_slack: LOSSLESS,
        },
        Case {
            name: "48000-stereo.ogg",
            rate: 48_000,
            channels: 2,
            encoding: &[],
            duration_slack: LOSSY,
        },
        Case {
            name: "22050-mono.ogg",
            rate: 22_050,
            channels: 1,
            encoding: &[],
            duration_slack: LOSSY,
        },
    ]);
    if sox_writes("mp3") {
        cases.extend([
            Case {
                name: "44100-stereo.mp3",
                rate: 44_100,
                channels: 2,
                encoding: &[],
                duration_slack: LOSSY,
            },
            Case {
                name: "16000-mono.mp3",
                rate: 16_000,
                channels: 1,
                encoding: &[],
                duration_slack: LOSSY,
            },
        ]);
    } else {
        println!("skipping MP3 cases: this sox cannot write MP3 (install libsox-fmt-mp3)");
    }
    cases
}

#[test]
fn every_format_decodes_to_the_right_rate_duration_pitch_and_level() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for case in cases() {
        let path = sine_file(
            dir.path(),
            case.name,
            case.rate,
            case.channels,
            case.encoding,
            1.5,
        );
        if let Err(why) = check_sine(&path, &case) {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_sine(path: &Path, case: &Case) -> Result<(), String> {
    let audio = decode_file(path).map_err(|e| format!("decode failed: {e}"))?;
    if audio.sample_rate != case.rate {
        return Err(format!(
            "rate {} instead of {}",
            audio.sample_rate, case.rate
        ));
    }
    if audio.source_channels != case.channels {
        return Err(format!(
            "{} channels instead of {}",
            audio.source_channels, case.channels
        ));
    }
    let off = audio.duration().abs_diff(Duration::from_millis(1_500));
    if off > case.duration_slack {
        return Err(format!("lasts {:?}, {off:?} off 1.5 s", audio.duration()));
    }
    // At the file's rate and after conversion to 16 kHz the tone keeps pitch and level: the
    // sine was written at amplitude 0.5, so peak 0.5 and RMS 0.5/sqrt(2).
    let at_16k = to_16k_mono(&audio);
    let expected_len =
        (audio.samples.len() as u64 * 16_000).div_ceil(u64::from(case.rate)) as usize;
    if at_16k.len().abs_diff(expected_len) > 2 {
        return Err(format!(
            "{} samples at 16 kHz, expected {expected_len}",
            at_16k.len()
        ));
    }
    for (label, samples, rate) in [
        ("source", &audio.samples[..], case.rate),
        ("16 kHz", &at_16k[..], 16_000),
    ] {
        let steady = middle(samples, 0.1);
        let hz = frequency(steady, rate);
        if (hz - 440.0).abs() > 1.5 {
            return Err(format!("{label}: {hz:.2} Hz instead of 440"));
        }
        let (level, top) = (rms(steady), peak(steady));
        // Lossy codecs move the level a little: LAME at sox's settings writes this sine with a
        // peak of 0.476 (sox's own decoder reads the same).
        let (rms_slack, peak_slack) = if case.duration_slack == LOSSY {
            (0.03, 0.05)
        } else {
            (0.005, 0.01)
        };
        if (level - 0.5 / 2f64.sqrt()).abs() > rms_slack || (top - 0.5).abs() > peak_slack {
            return Err(format!(
                "{label}: RMS {level:.4}, peak {top:.4}; expected 0.3536, 0.5"
            ));
        }
    }
    Ok(())
}

#[test]
fn stereo_is_mixed_down_by_averaging_the_channels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("left-only.wav");
    let out = path.to_str().expect("utf-8");
    // Left: a 0.5 sine. Right: silence. The mono mix is a 0.25 sine.
    sox(&[
        "-n", "-r", "16000", "-c", "2", "-b", "16", out, "synth", "1", "sine", "440", "vol", "0.5",
        "remix", "1", "0",
    ]);
    let audio = decode_file(&path).expect("decodes");
    assert_eq!(audio.source_channels, 2);
    let level = peak(middle(&audio.samples, 0.1));
    assert!((level - 0.25).abs() < 0.005, "peak {level}");
}

#[test]
fn speech_survives_every_codec_and_lossless_ones_bit_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = speech_file(
        dir.path(),
        "speech.wav",
        "Turn on the kitchen lights and set a timer for five minutes.",
    );
    let reference = decode_file(&wav).expect("espeak's WAV decodes");
    assert_eq!(
        reference.sample_rate, 22_050,
        "espeak-ng speaks at 22.05 kHz"
    );
    assert!(
        reference.duration() > Duration::from_secs(2),
        "{:?}",
        reference.duration()
    );

    let flac = dir.path().join("speech.flac");
    sox(&[wav.to_str().expect("utf-8"), flac.to_str().expect("utf-8")]);
    assert_eq!(
        decode_file(&flac).expect("FLAC decodes"),
        reference,
        "FLAC is lossless"
    );

    let mut lossy = vec!["ogg"];
    if sox_writes("mp3") {
        lossy.push("mp3");
    }
    for extension in lossy {
        let path = dir.path().join(format!("speech.{extension}"));
        sox(&[wav.to_str().expect("utf-8"), path.to_str().expect("utf-8")]);
        let audio = decode_file(&path).unwrap_or_else(|e| panic!("{extension}: {e}"));
        let off = audio.duration().abs_diff(reference.duration());
        assert!(
            off < LOSSY,
            "{extension}: {:?} vs {:?}",
            audio.duration(),
            reference.duration()
        );
        // Same speech: the loudness envelopes (20 ms windows) line up.
        let correlation = envelope_correlation(&to_16k_mono(&reference), &to_16k_mono(&audio));
        assert!(
            correlation > 0.9,
            "{extension}: envelope correlation {correlation:.3}"
        );
    }
}

/// Correlation of the 20 ms RMS envelopes of two 16 kHz signals, at the best lag within 60 ms
/// (encoders add a little delay).
fn envelope_correlation(a: &[f32], b: &[f32]) -> f64 {
    let envelope = |s: &[f32]| s.chunks(320).map(rms).collect::<Vec<f64>>();
    let (a, b) = (envelope(a), envelope(b));
    (-3i32..=3)
        .map(|lag| {
            let pairs: Vec<(f64, f64)> = (0..a.len())
                .filter_map(|i| {
                    let j = i as i32 + lag;
                    (j >= 0)
                        .then(|| b.get(j as usize).map(|&y| (a[i], y)))
                        .flatten()
                })
                .collect();
            pearson(&pairs)
        })
        .fold(f64::MIN, f64::max)
}

#[test]
fn resampling_keeps_length_pitch_and_level_for_every_rate_pair() {
    for (from, to) in [
        (48_000, 16_000),
        (44_100, 16_000),
        (8_000, 16_000),
        (22_050, 16_000),
        (16_000, 44_100),
        (44_101, 16_000),
        (16_000, 16_000),
    ] {
        let seconds = 1.25;
        let len = (f64::from(from) * seconds) as usize;
        let sine: Vec<f32> = (0..len)
            .map(|i| {
                0.5 * (i as f64 * 440.0 * std::f64::consts::TAU / f64::from(from)).sin() as f32
            })
            .collect();
        let out = resample(&sine, from, to);
        let exact = (len as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
        assert!(
            out.len().abs_diff(exact) <= 2,
            "{from}->{to}: {} samples, expected {exact}",
            out.len()
        );
        let steady = middle(&out, 0.1);
        let hz = frequency(steady, to);
        assert!((hz - 440.0).abs() < 1.0, "{from}->{to}: {hz} Hz");
        assert!(
            (rms(steady) - 0.5 / 2f64.sqrt()).abs() < 0.005,
            "{from}->{to}: RMS {}",
            rms(steady)
        );
        // Aligned: the first upward zero crossing stays at the start (within a sample or two).
        let first = out.iter().position(|&s| s > 0.05).unwrap_or(usize::MAX);
        let expected_first = (0.05f64 / 0.5).asin() / std::f64::consts::TAU / 440.0 * f64::from(to);
        assert!(
            (first as f64 - expected_first).abs() <= 2.0,
            "{from}->{to}: delayed to {first}"
        );
    }
    assert!(resample(&[], 48_000, 16_000).is_empty());
    assert!(
        resample(&[0.1; 10], 0, 16_000).is_empty(),
        "a zero rate gives nothing, no panic"
    );
    assert_eq!(resample(&[f32::NAN, 0.5], 16_000, 16_000), vec![0.0, 0.5]);
}

#[test]
fn i16_conversion_clips_instead_of_wrapping() {
    let audio = Audio {
        samples: vec![0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, f32::NAN],
        sample_rate: 16_000,
        source_channels: 1,
    };
    assert_eq!(
        to_16k_mono_i16(&audio),
        vec![0, 16_384, -16_384, 32_767, -32_767, 32_767, -32_767, 0]
    );
}

// --- Files that are not (good) audio --------------------------------------------------------

#[test]
fn a_missing_file_is_not_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = decode_file(dir.path().join("nope.wav")).expect_err("missing");
    assert!(matches!(error, AudioError::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("no such file"), "{error}");
}

#[test]
fn a_directory_is_unreadable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = decode_file(dir.path()).expect_err("a directory");
    assert!(matches!(error, AudioError::Unreadable { .. }), "{error:?}");
}

#[test]
fn a_zero_byte_file_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, b"").expect("write");
    let error = decode_file(&path).expect_err("empty");
    assert!(matches!(error, AudioError::Empty { .. }), "{error:?}");
    assert!(error.to_string().contains("no audio samples"), "{error}");
}

#[test]
fn a_wav_with_a_header_and_no_samples_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("header-only.wav");
    std::fs::write(&path, wav_header(16_000, 1, 16, 0)).expect("write");
    let error = decode_file(&path).expect_err("no samples");
    assert!(matches!(error, AudioError::Empty { .. }), "{error:?}");
}

#[test]
fn the_extension_is_only_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = sine_file(dir.path(), "tone.wav", 16_000, 1, &["-b", "16"], 0.5);
    let misnamed = dir.path().join("tone.mp3");
    std::fs::copy(&wav, &misnamed).expect("copy");
    assert_eq!(
        decode_file(&misnamed).expect("decodes by content"),
        decode_file(&wav).expect("decodes")
    );
}

#[test]
fn a_text_file_is_not_audio() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "Remember to buy milk.\nAnd eggs.\n".repeat(50)).expect("write");
    let error = decode_file(&path).expect_err("text");
    assert!(matches!(error, AudioError::NotAudio { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not a recognised audio file"),
        "{error}"
    );
}

#[test]
fn random_bytes_named_wav_are_not_audio() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Random bytes contain MP3 frame-sync patterns by chance; the prober must not be fooled
    // into "decoding" them.
    for seed in 1..=8u64 {
        let path = dir.path().join(format!("noise-{seed}.wav"));
        std::fs::write(&path, noise_bytes(64 * 1024, seed)).expect("write");
        let error = decode_file(&path).expect_err("noise");
        assert!(
            matches!(error, AudioError::NotAudio { .. }),
            "seed {seed}: {error:?}"
        );
    }
}

#[test]
fn a_truncated_wav_is_reported_with_the_part_that_was_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sine_file(dir.path(), "full.wav", 16_000, 1, &["-b", "16"], 2.0);
    let bytes = std::fs::read(&path).expect("read");
    // The header still announces 2 s; only the first half of the samples is there.
    let cut = 44 + (bytes.len() - 44) / 2;
    // Cut inside the header too: a reader recognises it and runs out of bytes.
    let stub = dir.path().join("stub.wav");
    std::fs::write(&stub, &bytes[..20]).expect("write");
    let error = decode_file(&stub).expect_err("header only");
    assert!(
        matches!(error, AudioError::Corrupt { partial: None, .. }),
        "{error:?}"
    );
    let truncated = dir.path().join("truncated.wav");
    std::fs::write(&truncated, &bytes[..cut]).expect("write");
    let error = decode_file(&truncated).expect_err("truncated");
    let AudioError::Truncated {
        expected,
        ref partial,
        ..
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!(expected, Some(Duration::from_secs(2)));
    let kept = partial.duration().as_secs_f64();
    assert!(
        (0.9..=1.0).contains(&kept),
        "kept {kept} s of the 1 s present"
    );
    assert!((frequency(middle(&partial.samples, 0.1), 16_000) - 440.0).abs() < 1.5);
    assert!(error.to_string().contains("truncated"), "{error}");
    assert!(error.partial().is_some());
}

#[test]
fn truncated_compressed_files_are_reported_with_what_decoded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut formats = vec!["flac", "ogg"];
    if sox_writes("mp3") {
        formats.push("mp3");
    }
    for extension in formats {
        // 6 s: a pure sine compresses so well that half of a short OGG file is all headers.
        let path = sine_file(
            dir.path(),
            &format!("full.{extension}"),
            44_100,
            2,
            &[],
            6.0,
        );
        let bytes = std::fs::read(&path).expect("read");
        let truncated = dir.path().join(format!("truncated.{extension}"));
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
        let kept = match decode_file(&truncated) {
            Err(error @ AudioError::Truncated { .. }) => {
                error.partial().map_or(0.0, |p| p.duration().as_secs_f64())
            }
            // An MP3 without a Xing/LAME header (sox writes none) is a bare run of frames:
            // cut between frames, it is a shorter MP3, and nothing can tell otherwise.
            Ok(audio) if extension == "mp3" => audio.duration().as_secs_f64(),
            other => panic!("{extension}: {other:?}"),
        };
        // Demuxers drop the packet (FLAC, MP3) or the whole page (OGG; a page of this
        // low-bitrate sine spans more than a second) that the cut runs through.
        let least = if extension == "ogg" { 1.0 } else { 2.5 };
        println!("{extension}: kept {kept:.2} s of about 3 s present");
        assert!(
            (least..=3.1).contains(&kept),
            "{extension}: kept {kept} s of about 3 s present"
        );
    }
}

#[test]
fn flac_with_damaged_frames_in_the_middle_is_corrupt_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sine_file(dir.path(), "sine.flac", 44_100, 1, &["-b", "16"], 2.0);
    let mut bytes = std::fs::read(&path).expect("read");
    let middle_at = bytes.len() / 2;
    bytes[middle_at..middle_at + 2_000].copy_from_slice(&noise_bytes(2_000, 42));
    let damaged = dir.path().join("damaged.flac");
    std::fs::write(&damaged, &bytes).expect("write");
    let error = decode_file(&damaged).expect_err("damaged");
    assert!(matches!(error, AudioError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("could be decoded"), "{error}");
    let kept = error.partial().map_or(0.0, |p| p.duration().as_secs_f64());
    assert!(kept > 1.0, "kept only {kept} s");
}

/// A canonical 44-byte PCM WAV header announcing `data_bytes` of samples.
fn wav_header(rate: u32, channels: u16, bits: u16, data_bytes: u32) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_bytes.to_le_bytes());
    h
}
