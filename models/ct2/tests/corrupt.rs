//! Broken input is an error that says what is wrong, never a panic, and never leaves an
//! output file behind: directories that are not models, missing or bad config and
//! vocabulary files, `model.bin` files that are truncated anywhere, carry another format's
//! magic, or claim absurd sizes, and well-formed models whisper.cpp cannot represent.
//!
//! Most cases corrupt a miniature of tiny.en (same variables and vocabulary, width 8, one
//! layer a side: see `Ct2File::mini`), so hundreds of variants stay cheap.

mod support;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use sotto_ct2::{convert, ConvertError};
use support::{copy_small_files, ct2_model, Ct2File, Ct2Var, F16, I8};

fn tiny_dir() -> std::path::PathBuf {
    ct2_model("whisper-tiny.en-ct2")
}

fn mini() -> &'static Ct2File {
    static MINI: OnceLock<Ct2File> = OnceLock::new();
    MINI.get_or_init(|| Ct2File::mini(&Ct2File::read(&tiny_dir().join("model.bin"))))
}

/// A model directory with tiny.en's config and vocabulary and `model_bin` as model.bin.
fn model_dir(model_bin: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_small_files(&tiny_dir(), dir.path());
    fs::write(dir.path().join("model.bin"), model_bin).unwrap();
    dir
}

/// Converts `dir`, expecting an error whose message contains every one of `words`, and
/// checks that nothing was left in the output directory.
#[track_caller]
fn expect_error(dir: &Path, words: &[&str]) -> ConvertError {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out.bin");
    let error = match convert(dir, &out) {
        Ok(report) => panic!("converted, expected an error with {words:?}: {report:?}"),
        Err(e) => e,
    };
    let message = error.to_string();
    for w in words {
        assert!(message.contains(w), "{message:?} does not mention {w:?}");
    }
    assert_eq!(
        fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "left files behind"
    );
    error
}

#[test]
fn the_miniature_model_itself_converts() {
    let dir = model_dir(&mini().to_bytes());
    let out = dir.path().join("out.bin");
    let report = convert(dir.path(), &out).unwrap();
    assert_eq!(
        (report.hparams.n_audio_state, report.hparams.n_audio_head),
        (8, 2)
    );
    assert_eq!(report.tensors, 7 + 15 + 4 + 24);
}

#[test]
fn directories_that_are_not_models() {
    let empty = tempfile::tempdir().unwrap();
    let e = expect_error(
        empty.path(),
        &[
            "not a CTranslate2 Whisper model directory",
            "model.bin is missing",
        ],
    );
    assert!(matches!(
        e,
        ConvertError::NotAModel {
            file: "model.bin",
            ..
        }
    ));

    let missing = empty.path().join("nowhere");
    let e = expect_error(&missing, &["nowhere"]);
    assert!(matches!(e, ConvertError::Io { .. }));

    // The model file itself, not its directory.
    let e = expect_error(&tiny_dir().join("model.bin"), &["model.bin is missing"]);
    assert!(matches!(e, ConvertError::NotAModel { .. }));

    // Converting a model onto its own model.bin.
    let dir = model_dir(&mini().to_bytes());
    let own = dir.path().join("model.bin");
    let e = convert(dir.path(), &own).unwrap_err();
    assert!(
        e.to_string()
            .contains("would replace the model being converted"),
        "{e}"
    );
    assert_eq!(fs::read(&own).unwrap(), mini().to_bytes());

    // model.bin that is a directory.
    fs::create_dir(empty.path().join("model.bin")).unwrap();
    expect_error(empty.path(), &["model.bin is missing"]);
}

#[test]
fn missing_or_broken_config_and_vocabulary() {
    let dir = model_dir(&mini().to_bytes());
    let path = dir.path();

    fs::rename(path.join("config.json"), path.join("config.bak")).unwrap();
    let e = expect_error(path, &["config.json is missing"]);
    assert!(matches!(
        e,
        ConvertError::NotAModel {
            file: "config.json",
            ..
        }
    ));
    fs::write(path.join("config.json"), "{ not json").unwrap();
    expect_error(path, &["config.json", "not valid JSON"]);
    fs::write(path.join("config.json"), "[1, 2]").unwrap();
    expect_error(path, &["config.json", "not a JSON object"]);
    fs::rename(path.join("config.bak"), path.join("config.json")).unwrap();

    fs::write(
        path.join("preprocessor_config.json"),
        r#"{"feature_size": 128}"#,
    )
    .unwrap();
    expect_error(path, &["feature_size is 128", "80 mel bins"]);
    fs::remove_file(path.join("preprocessor_config.json")).unwrap();

    let vocab = fs::read_to_string(path.join("vocabulary.txt")).unwrap();
    fs::remove_file(path.join("vocabulary.txt")).unwrap();
    fs::remove_file(path.join("tokenizer.json")).unwrap();
    let e = expect_error(path, &["has no vocabulary", "vocabulary.txt"]);
    assert!(matches!(e, ConvertError::MissingVocabulary { .. }));

    let lines: Vec<&str> = vocab.lines().collect();
    let write_vocab =
        |lines: &[&str]| fs::write(path.join("vocabulary.txt"), lines.join("\n")).unwrap();
    write_vocab(&[]);
    expect_error(path, &["vocabulary.txt", "empty"]);
    write_vocab(&lines[..1000]);
    expect_error(path, &["no <|endoftext|> token at id 50256", "1000 tokens"]);
    // The special tokens out of whisper.cpp's order.
    let mut swapped = lines.clone();
    swapped.swap(50257, 50358);
    write_vocab(&swapped);
    expect_error(
        path,
        &["token 50257 is \"<|transcribe|>\"", "<|startoftranscript|>"],
    );
    // A token outside GPT-2's byte alphabet.
    let mut alien = lines.clone();
    alien[100] = "ńo";
    write_vocab(&alien);
    expect_error(path, &["token 100", "byte-level"]);
    fs::remove_file(path.join("vocabulary.txt")).unwrap();

    fs::write(path.join("vocabulary.json"), r#"{"not": "a list"}"#).unwrap();
    expect_error(path, &["vocabulary.json", "not a JSON list"]);
    fs::remove_file(path.join("vocabulary.json")).unwrap();
    fs::write(path.join("tokenizer.json"), "[]").unwrap();
    expect_error(path, &["tokenizer.json", "no model.vocab"]);
}

#[test]
fn a_multilingual_config_must_agree_on_the_language_count() {
    let base = ct2_model("whisper-base-ct2");
    let dir = tempfile::tempdir().unwrap();
    copy_small_files(&base, dir.path());
    support::link_model_bin(&base, dir.path());
    let config = fs::read_to_string(base.join("config.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&config).unwrap();
    json["lang_ids"].as_array_mut().unwrap().pop();
    fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    expect_error(dir.path(), &["lang_ids lists 98 languages", "derives 99"]);
}

#[test]
fn other_formats_and_versions() {
    for (bytes, words) in [
        (&b""[..], &["truncated", "the binary version"][..]),
        (
            b"lmgg\x80\xbb\x00\x00",
            &["already a whisper.cpp ggml file"],
        ),
        (b"GGUF\x03\x00\x00\x00", &["GGUF"]),
        (b"PK\x03\x04\x14\x00", &["zip archive"]),
        (
            b"hello, world",
            &["not a CTranslate2 model file", "0x6c6c6568"],
        ),
        (&5u32.to_le_bytes(), &["binary version 5 is not supported"]),
        (&7u32.to_le_bytes(), &["binary version 7 is not supported"]),
    ] {
        expect_error(model_dir(bytes).path(), words);
    }

    let mut m = mini().clone();
    m.spec = "TransformerSpec".into();
    expect_error(
        model_dir(&m.to_bytes()).path(),
        &["TransformerSpec model, not a Whisper model"],
    );
    let mut m = mini().clone();
    m.revision = 4;
    expect_error(model_dir(&m.to_bytes()).path(), &["WhisperSpec revision 4"]);
}

/// Cutting model.bin anywhere gives an error (mostly "truncated"), never a panic.
#[test]
fn truncated_anywhere() {
    let (bytes, header) = mini().to_bytes_and_header_offsets();
    let dir = model_dir(&[]);
    let out = dir.path().join("out.bin");
    // Every header byte of the first variables, a sample of the rest, and some data bytes.
    let mut cuts: Vec<usize> = header[..512].to_vec();
    cuts.extend(header[512..].iter().step_by(17));
    cuts.extend((0..bytes.len()).step_by(8191));
    for cut in cuts {
        fs::write(dir.path().join("model.bin"), &bytes[..cut]).unwrap();
        match convert(dir.path(), &out) {
            Err(ConvertError::Truncated { .. } | ConvertError::Corrupt { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // And the real model, cut inside its largest variable and just before its aliases.
    let real = fs::read(tiny_dir().join("model.bin")).unwrap();
    for cut in [real.len() / 3, real.len() - 60] {
        fs::write(dir.path().join("model.bin"), &real[..cut]).unwrap();
        expect_error(dir.path(), &["is truncated"]);
    }
    assert!(!out.exists());
}

fn raw_header(n_vars: u32) -> Vec<u8> {
    let mut b = 6u32.to_le_bytes().to_vec();
    b.extend(12u16.to_le_bytes());
    b.extend(b"WhisperSpec\0");
    b.extend(3u32.to_le_bytes());
    b.extend(n_vars.to_le_bytes());
    b
}

fn var(name: &str, shape: &[u32], dtype: u8, data: Vec<u8>) -> Ct2Var {
    Ct2Var {
        name: name.into(),
        shape: shape.to_vec(),
        dtype,
        data,
    }
}

/// Sizes are checked against the file before anything is allocated or read.
#[test]
fn absurd_sizes() {
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "variable count",
            raw_header(u32::MAX),
            &["count of 4294967295 variables cannot fit"],
        ),
        (
            "name length",
            {
                let mut b = raw_header(1);
                b.extend(u16::MAX.to_le_bytes());
                b.extend([b'a'; 20]);
                b
            },
            &["truncated", "a variable name", "needs 65535 bytes"],
        ),
        (
            "data size",
            {
                let mut b = raw_header(1);
                b.extend(2u16.to_le_bytes());
                b.extend(b"x\0");
                b.push(1); // rank
                b.extend((1u32 << 30).to_le_bytes());
                b.push(I8);
                b.extend((1u32 << 30).to_le_bytes());
                b
            },
            &["truncated", "the data of x", "needs 1073741824 bytes"],
        ),
    ];
    for (what, bytes, words) in cases {
        eprintln!("{what}");
        expect_error(model_dir(&bytes).path(), words);
    }

    let with = |v: Ct2Var| {
        let mut m = mini().clone();
        m.vars.insert(1, v);
        m.to_bytes()
    };
    for (bytes, words) in [
        (
            with(var("deep", &[1; 9], I8, vec![0])),
            &["variable deep has rank 9"][..],
        ),
        (
            with(var("odd", &[2], 9, vec![0, 0])),
            &["variable odd has unknown type id 9"],
        ),
        (
            with(var("short", &[2, 2], F16, vec![0; 6])),
            &["variable short of shape [2, 2] and type float16 claims 6 bytes"],
        ),
        (
            with(var("huge", &[u32::MAX; 3], F16, vec![])),
            &["variable huge of shape"],
        ),
        (
            with(var("decoder/num_heads", &[], 2, vec![2, 0])),
            &["variable decoder/num_heads appears twice"],
        ),
    ] {
        expect_error(model_dir(&bytes).path(), words);
    }

    let mut m = mini().clone();
    m.aliases.push(("a".into(), "nothing".into()));
    expect_error(
        model_dir(&m.to_bytes()).path(),
        &["alias a names missing nothing"],
    );
    let mut bytes = mini().to_bytes();
    bytes.extend(b"junk");
    expect_error(model_dir(&bytes).path(), &["4 unexpected bytes at the end"]);
    let mut m = mini().clone();
    m.vars[0].name = "caf\u{e9}".into();
    let mut bytes = m.to_bytes();
    let at = bytes.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    bytes[at] = 0xff;
    expect_error(model_dir(&bytes).path(), &["a variable name is not UTF-8"]);
}

/// Random corruption of the non-data bytes: any outcome but a panic, and nothing written
/// on error.
#[test]
fn random_header_corruption_never_panics() {
    let (bytes, header) = mini().to_bytes_and_header_offsets();
    let dir = model_dir(&[]);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out.bin");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut errors = 0;
    for _ in 0..200 {
        let mut corrupt = bytes.clone();
        for _ in 0..1 + next() % 3 {
            let at = header[(next() % header.len() as u64) as usize];
            corrupt[at] = next() as u8;
        }
        fs::write(dir.path().join("model.bin"), &corrupt).unwrap();
        match convert(dir.path(), &out) {
            Ok(_) => fs::remove_file(&out).unwrap(),
            Err(_) => {
                errors += 1;
                assert!(!out.exists());
            }
        }
        assert!(fs::read_dir(out_dir.path()).unwrap().count() <= 1);
    }
    // Most header bytes matter (names, shapes, counts); some (e.g. a scalar's value) do not.
    eprintln!("{errors} of 200 corruptions were errors");
    assert!(
        errors > 150,
        "only {errors} of 200 corruptions were noticed"
    );
}

/// Well-formed CTranslate2 models that whisper.cpp cannot represent, or that miss parts.
#[test]
fn models_whisper_cpp_cannot_use() {
    let edit = |f: fn(&mut Ct2File)| {
        let mut m = mini().clone();
        f(&mut m);
        model_dir(&m.to_bytes())
    };
    type Case = (fn(&mut Ct2File), &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (
            |m| {
                m.vars
                    .retain(|v| v.name != "decoder/layer_0/ffn/linear_1/bias")
            },
            &["no variable named decoder/layer_0/ffn/linear_1/bias"],
        ),
        (
            |m| {
                let v = m.var_mut("encoder/layer_0/ffn/linear_0/weight");
                v.shape = vec![31, 8];
                v.data.truncate(31 * 8 * 2);
            },
            &["encoder/layer_0/ffn/linear_0/weight has shape [31, 8], expected [32, 8]"],
        ),
        (
            // A layer far past the last: the count must not follow the name.
            |m| {
                m.vars
                    .push(var("encoder/layer_4000000000/x", &[1], I8, vec![0]))
            },
            &["no variable named encoder/layer_1/self_attention/linear_0/weight"],
        ),
        (
            |m| m.vars.retain(|v| !v.name.starts_with("decoder/layer_0/")),
            &["no variable named decoder/layer_0/self_attention/linear_0/weight"],
        ),
        (
            |m| m.var_mut("encoder/num_heads").data = 3i16.to_le_bytes().to_vec(),
            &["encoder has 3 attention heads", "width 8"],
        ),
        (
            |m| m.var_mut("decoder/num_heads").data = 0i16.to_le_bytes().to_vec(),
            &["decoder has 0 attention heads"],
        ),
        (
            |m| {
                let v = m.var_mut("encoder/layer_0/ffn/linear_0/weight");
                v.dtype = I8;
                v.data.truncate(v.data.len() / 2);
            },
            &[
                "encoder/layer_0/ffn/linear_0/weight has type int8",
                "needs a scale",
            ],
        ),
        (
            |m| {
                let v = m.var_mut("encoder/layer_0/ffn/linear_0/weight");
                v.dtype = 3; // int32
                v.data.extend(v.data.clone());
            },
            &["has type int32"],
        ),
        (
            |m| {
                m.aliases.clear();
                let mut projection = m.var("decoder/embeddings/weight").clone();
                projection.name = "decoder/projection/weight".into();
                projection.data[0] ^= 1;
                m.vars.push(projection);
            },
            &["output projection is not the token embedding"],
        ),
        (
            |m| {
                let mut bias = vec![0u8; 51864 * 2];
                bias[10] = 0x3c; // 1.0
                m.vars
                    .push(var("decoder/projection/bias", &[51864], F16, bias));
            },
            &["output projection has a bias"],
        ),
    ];
    for (f, words) in cases {
        expect_error(edit(f).path(), words);
    }

    // A bias of (negative) zeros and a separate but identical projection are fine.
    let fine = edit(|m| {
        let zeros = [0x00, 0x80].repeat(51864);
        m.vars
            .push(var("decoder/projection/bias", &[51864], F16, zeros));
        m.aliases.clear();
        let mut projection = m.var("decoder/embeddings/weight").clone();
        projection.name = "decoder/projection/weight".into();
        m.vars.push(projection);
    });
    convert(fine.path(), &fine.path().join("out.bin")).unwrap();
}
