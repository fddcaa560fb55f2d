//! `sotto transcribe` end to end: the real binary, the real speech worker beside it, the real
//! tiny.en model from the model manager (imported from faster-whisper format on first use),
//! speech synthesised with espeak-ng at several rates and formats.

mod common;

use std::path::Path;

use common::Fixture;
use sotto_e2e::{speak_to, words};

fn speak(text: &str, out: &Path, sox_args: &[&str]) {
    speak_to(text, "en-us", 150, out, sox_args);
}

#[test]
fn files_at_any_rate_are_transcribed_as_json_lines() {
    let f = Fixture::new();
    let a = f.file("timer.wav");
    speak(
        "set a timer for ten minutes",
        &a,
        &["-r", "44100", "-c", "2"],
    );
    let b = f.file("browser.flac");
    speak("open the web browser", &b, &["-r", "8000"]);
    let output = f.sotto(&[
        "transcribe",
        "--json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("importing"),
        "first use imports the faster-whisper model: {stderr}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let text = words(lines[0]["text"].as_str().unwrap());
    assert!(
        text.contains("timer") && (text.contains("ten minutes") || text.contains("10 minutes")),
        "{lines:?}"
    );
    assert!(
        words(lines[1]["text"].as_str().unwrap()).contains("browser"),
        "{lines:?}"
    );
    for line in &lines {
        for key in ["file", "text", "duration_s", "elapsed_ms"] {
            assert!(!line[key].is_null(), "{key} missing in {line}");
        }
        let duration = line["duration_s"].as_f64().unwrap();
        assert!((0.8..5.0).contains(&duration), "{line}");
    }
    // The import is kept: a second run does not import again.
    let again = f.sotto(&["transcribe", a.to_str().unwrap()]);
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stderr).contains("importing"));
    assert!(words(&String::from_utf8_lossy(&again.stdout)).contains("timer"));
}

#[test]
fn bad_files_get_clear_errors_and_the_good_ones_still_work() {
    let f = Fixture::new();
    let good = f.file("good.wav");
    speak("turn the volume down", &good, &["-r", "16000"]);
    let empty = f.file("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = f.file("notes.wav");
    std::fs::write(&text, "this is a text file, not audio").unwrap();
    let truncated = f.file("truncated.wav");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..60]).unwrap();
    let missing = f.file("missing.wav");
    let args = [
        "transcribe",
        "--json",
        empty.to_str().unwrap(),
        text.to_str().unwrap(),
        truncated.to_str().unwrap(),
        missing.to_str().unwrap(),
        good.to_str().unwrap(),
    ];
    let output = f.sotto(&args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "failures make the exit status 1"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for line in &lines[..4] {
        let error = line["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error for {line}"));
        assert!(error.len() > 10, "{line}");
    }
    assert!(
        words(lines[4]["text"].as_str().unwrap()).contains("volume"),
        "{lines:?}"
    );
}

#[test]
fn a_faster_whisper_directory_can_be_imported_by_hand() {
    let f = Fixture::new();
    let dir = f.models().join("whisper-tiny.en-ct2");
    // Imports the model to `name` with `extra` arguments; the file's size.
    let import = |name: &str, extra: &[&str]| {
        let out = f.file(name);
        let mut args = vec![
            "models",
            "import",
            dir.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = f.sotto(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::metadata(&out).unwrap().len()
    };
    // 8-bit matrices by default: a little over half of the f16 file (77.7 MB).
    let q8_0_bytes = import("mine.bin", &[]);
    assert!(
        (40_000_000..50_000_000).contains(&q8_0_bytes),
        "{q8_0_bytes}"
    );
    assert!(import("mine-f16.bin", &["--matrices", "f16"]) > 70_000_000);
    let not_a_model = f.sotto(&["models", "import", f.home().to_str().unwrap()]);
    assert_eq!(not_a_model.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&not_a_model.stderr).contains("not a CTranslate2 Whisper model")
    );
}

/// Each request's text spoken by espeak-ng into `<prefix><i>.wav`; the files' paths.
fn spoken(f: &Fixture, prefix: &str, requests: &[(&str, &str)]) -> Vec<String> {
    let mut files = Vec::new();
    for (i, (text, _)) in requests.iter().enumerate() {
        let file = f.file(&format!("{prefix}{i}.wav"));
        speak(text, &file, &["-r", "16000"]);
        files.push(file.to_str().unwrap().to_string());
    }
    files
}

/// `sotto transcribe --json` with `extra` arguments over `files`: how many transcripts
/// contain their request's name, and the transcripts.
fn names_right(
    f: &Fixture,
    extra: &[&str],
    files: &[String],
    requests: &[(&str, &str)],
) -> (usize, Vec<String>) {
    let mut args = vec!["transcribe", "--json"];
    args.extend_from_slice(extra);
    args.extend(files.iter().map(String::as_str));
    let output = f.sotto(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let texts: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            words(v["text"].as_str().unwrap())
        })
        .collect();
    let right = requests
        .iter()
        .zip(&texts)
        .filter(|((_, name), text)| text.contains(name))
        .count();
    (right, texts)
}

/// With fusion on, the names in the user's contacts come out right without being typed into
/// `speech.vocabulary`: they reach Whisper's prompt (the glossary) and the personal model.
#[test]
fn fusion_spells_the_users_contacts() {
    let f = Fixture::new();
    let people = [
        "Siobhan Murphy",
        "Joaquin Alvarez",
        "Padraig Walsh",
        "Niamh Kelly",
    ];
    for person in people {
        let file = f
            .home()
            .join("data/contacts")
            .join(format!("{}.vcf", person.replace(' ', "-")));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            file,
            format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{person}\r\nEND:VCARD\r\n"),
        )
        .unwrap();
    }
    let requests = [
        ("email Siobhan the notes from the meeting", "siobhan"),
        ("send the report to Niamh and Padraig", "padraig"),
        ("remind me to call Joaquin at noon", "joaquin"),
        ("text Niamh that I am on my way", "niamh"),
    ];
    let files = spoken(&f, "contact", &requests);
    let run = |fusion: &str| names_right(&f, &["--fusion", fusion], &files, &requests);
    let (plain, plain_texts) = run("off");
    let (fused, fused_texts) = run("on");
    assert!(
        fused >= plain + 2,
        "fused {fused}/4 names right ({fused_texts:?}), plain {plain}/4 ({plain_texts:?})"
    );
}

/// Names Whisper has rarely seen come out right once they are in `speech.vocabulary`.
#[test]
fn the_configured_vocabulary_biases_recognition_toward_its_words() {
    let f = Fixture::new();
    let requests = [
        ("email Siobhan the notes from the meeting", "siobhan"),
        ("send the report to Niamh and Padraig", "padraig"),
        ("remind me to call Joaquin at noon", "joaquin"),
        ("open the file in Inkscape", "inkscape"),
    ];
    let files = spoken(&f, "name", &requests);
    let run = |f: &Fixture| names_right(f, &[], &files, &requests);
    let (plain, plain_texts) = run(&f);
    let config = f.home().join("config/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[speech]\nvocabulary = [\"Siobhan\", \"Niamh\", \"Padraig\", \"Joaquin\", \"Inkscape\", \"Thunderbird\"]\n",
    )
    .unwrap();
    let (biased, biased_texts) = run(&f);
    assert!(
        biased >= plain + 2,
        "with the vocabulary {biased}/4 names right ({biased_texts:?}), without {plain}/4 ({plain_texts:?})"
    );
}
