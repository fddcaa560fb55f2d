//! The converted files, read back with an independent ggml reader: the header, tensor set,
//! types and shapes whisper.cpp's loader requires for tiny.en and base; every tensor equal to
//! its CTranslate2 source (bit for bit in f16, exactly widened in f32); the encoder positions
//! equal to Whisper's sinusoids; and the same output whatever vocabulary file or float width
//! the source uses.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use half::slice::HalfFloatSliceExt;
use sotto_ct2::{convert, convert_with, Matrices};
use support::{copy_small_files, ct2_model, Ct2File, GgmlFile};

/// tiny.en converted once for this test binary.
fn tiny_en() -> &'static (tempfile::TempDir, PathBuf) {
    static OUT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ggml-tiny.en.bin");
        convert(&ct2_model("whisper-tiny.en-ct2"), &out).unwrap();
        (dir, out)
    })
}

fn tiny_en_file() -> &'static GgmlFile {
    static FILE: OnceLock<GgmlFile> = OnceLock::new();
    FILE.get_or_init(|| GgmlFile::read(&tiny_en().1))
}

/// The tensor names whisper.cpp's loader allocates (`ASR_TENSOR_NAMES` in
/// src/whisper-arch.h), for these layer counts.
fn whisper_cpp_names(n_audio_layer: usize, n_text_layer: usize) -> BTreeSet<String> {
    let attn = |p: &str| {
        [
            "query.weight",
            "query.bias",
            "key.weight",
            "value.weight",
            "value.bias",
            "out.weight",
            "out.bias",
        ]
        .map(|s| format!("{p}.{s}"))
    };
    let mut names: BTreeSet<String> = [
        "encoder.positional_embedding",
        "encoder.conv1.weight",
        "encoder.conv1.bias",
        "encoder.conv2.weight",
        "encoder.conv2.bias",
        "encoder.ln_post.weight",
        "encoder.ln_post.bias",
        "decoder.positional_embedding",
        "decoder.token_embedding.weight",
        "decoder.ln.weight",
        "decoder.ln.bias",
    ]
    .map(String::from)
    .into();
    let block = |names: &mut BTreeSet<String>, b: String| {
        names.extend(attn(&format!("{b}.attn")));
        for s in ["attn_ln", "mlp_ln", "mlp.0", "mlp.2"] {
            names.insert(format!("{b}.{s}.weight"));
            names.insert(format!("{b}.{s}.bias"));
        }
    };
    for n in 0..n_audio_layer {
        block(&mut names, format!("encoder.blocks.{n}"));
    }
    for n in 0..n_text_layer {
        let b = format!("decoder.blocks.{n}");
        block(&mut names, b.clone());
        names.extend(attn(&format!("{b}.cross_attn")));
        names.insert(format!("{b}.cross_attn_ln.weight"));
        names.insert(format!("{b}.cross_attn_ln.bias"));
    }
    names
}

/// whisper.cpp allocates these as f32 and the matrices/convolutions as the file's ftype.
fn is_f32(name: &str) -> bool {
    name.ends_with(".bias") || name.contains("ln") || name.ends_with("positional_embedding")
}

fn check_layout(file: &GgmlFile, hparams: [i32; 11], n_tokens: usize) {
    assert_eq!(file.hparams, hparams);
    let [_, _, _, _, n_audio_layer, _, _, _, n_text_layer, n_mels, _] = hparams;
    assert_eq!((file.n_mel, file.n_fft), (n_mels as usize, 201));
    assert_eq!(file.tokens.len(), n_tokens);

    let names: BTreeSet<String> = file.tensors.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names.len(), file.tensors.len(), "a tensor is written twice");
    assert_eq!(
        names,
        whisper_cpp_names(n_audio_layer as usize, n_text_layer as usize)
    );
    // whisper_model_load: n_tensors = 7 + 15 per encoder block + 4 + 24 per decoder block.
    assert_eq!(
        file.tensors.len(),
        11 + 15 * n_audio_layer as usize + 24 * n_text_layer as usize
    );
    for t in &file.tensors {
        assert_eq!(t.ftype, if is_f32(&t.name) { 0 } else { 1 }, "{}", t.name);
    }
}

#[test]
fn tiny_en_has_whisper_cpp_tiny_en_header_tensors_and_vocabulary() {
    let file = tiny_en_file();
    check_layout(file, [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1], 50256);

    let dims = |n: &str| file.tensor(n).dims.clone();
    assert_eq!(dims("encoder.conv1.weight"), [3, 80, 384]);
    assert_eq!(dims("encoder.conv1.bias"), [1, 384]);
    assert_eq!(dims("encoder.conv2.weight"), [3, 384, 384]);
    assert_eq!(dims("encoder.positional_embedding"), [384, 1500]);
    assert_eq!(dims("decoder.positional_embedding"), [384, 448]);
    assert_eq!(dims("decoder.token_embedding.weight"), [384, 51864]);
    assert_eq!(dims("encoder.blocks.3.mlp.0.weight"), [384, 1536]);
    assert_eq!(dims("decoder.blocks.0.cross_attn.key.weight"), [384, 384]);

    // GPT-2 byte-level spellings decoded to bytes ("Ġ" is a space, "Ċ" a newline).
    assert_eq!(file.tokens[0], b"!");
    assert_eq!(file.tokens[198], b"\n");
    assert_eq!(file.tokens[220], b" ");
    assert_eq!(file.tokens[19781], b" timer");
    assert_eq!(file.tokens[50255], b" gazed");

    // The first mel filter covers FFT bin 1 only (OpenAI's mel_filters.npz).
    let row0: Vec<usize> = (0..201).filter(|&i| file.mel[i] != 0.0).collect();
    assert_eq!(row0, [1]);
}

#[test]
fn base_has_whisper_cpp_base_header_tensors_and_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ggml-base.bin");
    let report = convert(&ct2_model("whisper-base-ct2"), &out).unwrap();
    let file = GgmlFile::read(&out);
    // Multilingual: <|endoftext|> is 50257, and 50256 is an empty token, as in whisper.cpp's
    // own ggml-base.bin.
    check_layout(
        &file,
        [51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80, 1],
        50257,
    );
    assert_eq!(file.tokens[50256], b"");
    assert_eq!(
        file.tokens[19247], b" timer",
        "the multilingual vocabulary numbers differ"
    );
    assert_eq!(report.tensors, 245);
    assert_eq!(report.bytes, fs::metadata(&out).unwrap().len());
}

/// Restates the CTranslate2 -> whisper.cpp mapping: the source variable and row range of
/// each output tensor.
fn source_of(name: &str, d: usize) -> (String, Option<(usize, usize)>) {
    let whole = |s: String| (s, None);
    let rows = |s: String, k: usize| (s, Some((k * d, (k + 1) * d)));
    let Some(rest) = name
        .strip_prefix("encoder.")
        .or_else(|| name.strip_prefix("decoder."))
    else {
        panic!("{name}")
    };
    let side = &name[..7];
    let fixed = match rest {
        "positional_embedding" => Some("position_encodings/encodings".to_owned()),
        "token_embedding.weight" => Some("embeddings/weight".to_owned()),
        "ln_post.weight" | "ln.weight" => Some("layer_norm/gamma".to_owned()),
        "ln_post.bias" | "ln.bias" => Some("layer_norm/beta".to_owned()),
        r if r.starts_with("conv") => Some(r.replace('.', "/")),
        _ => None,
    };
    if let Some(f) = fixed {
        return whole(format!("{side}/{f}"));
    }
    let rest = rest.strip_prefix("blocks.").unwrap();
    let (n, part) = rest.split_once('.').unwrap();
    let layer = format!("{side}/layer_{n}");
    let (module, param) = part.rsplit_once('.').unwrap();
    let ln = if param == "weight" { "gamma" } else { "beta" };
    match module {
        "attn.query" => rows(format!("{layer}/self_attention/linear_0/{param}"), 0),
        "attn.key" => rows(format!("{layer}/self_attention/linear_0/{param}"), 1),
        "attn.value" => rows(format!("{layer}/self_attention/linear_0/{param}"), 2),
        "attn.out" => whole(format!("{layer}/self_attention/linear_1/{param}")),
        "attn_ln" => whole(format!("{layer}/self_attention/layer_norm/{ln}")),
        "cross_attn.query" => whole(format!("{layer}/attention/linear_0/{param}")),
        "cross_attn.key" => rows(format!("{layer}/attention/linear_1/{param}"), 0),
        "cross_attn.value" => rows(format!("{layer}/attention/linear_1/{param}"), 1),
        "cross_attn.out" => whole(format!("{layer}/attention/linear_2/{param}")),
        "cross_attn_ln" => whole(format!("{layer}/attention/layer_norm/{ln}")),
        "mlp.0" => whole(format!("{layer}/ffn/linear_0/{param}")),
        "mlp.2" => whole(format!("{layer}/ffn/linear_1/{param}")),
        "mlp_ln" => whole(format!("{layer}/ffn/layer_norm/{ln}")),
        m => panic!("unexpected module {m}"),
    }
}

#[test]
fn every_tiny_en_tensor_equals_its_ct2_source_exactly() {
    let file = tiny_en_file();
    let ct2 = Ct2File::read(&ct2_model("whisper-tiny.en-ct2").join("model.bin"));
    let vars = ct2.by_name();
    for t in &file.tensors {
        let (source, rows) = source_of(&t.name, 384);
        let var = vars[source.as_str()];
        assert_eq!(var.dtype, support::F16, "{source}");
        let row_len: usize = var.shape[1..].iter().map(|&d| d as usize).product();
        let (start, end) =
            rows.map_or((0, var.data.len() / 2), |(a, b)| (a * row_len, b * row_len));
        let expected = &var.data[2 * start..2 * end];
        if t.ftype == 1 {
            assert!(t.data == expected, "{} differs from {source}", t.name);
        } else {
            let var_part = support::Ct2Var {
                data: expected.to_vec(),
                ..var.clone()
            };
            assert_eq!(
                t.f32s(),
                var_part.f32s(),
                "{} differs from {source}",
                t.name
            );
        }
    }
}

/// Q8_0 conversion: the header says so, exactly the weight matrices are Q8_0 (convolutions stay
/// f16, biases, norms and positions f32, as whisper.cpp allocates them for a Q8_0 file), and
/// every quantized value is within half a quantization step of the f16 original.
#[test]
fn q8_0_quantizes_exactly_the_matrices_within_half_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.en-q8_0.bin");
    let report = convert_with(&ct2_model("whisper-tiny.en-ct2"), &out, Matrices::Q8_0).unwrap();
    assert!(!report.is_exact());
    let exact = tiny_en_file();
    let q8 = GgmlFile::read(&out);
    assert_eq!(
        q8.hparams[10], 2007,
        "ftype: Q8_0 (7) at quantization version 2"
    );
    assert_eq!(q8.hparams[..10], exact.hparams[..10]);
    assert!(
        report.bytes * 10 < fs::metadata(&tiny_en().1).unwrap().len() * 6,
        "Q8_0 should be little more than half of f16: {} bytes",
        report.bytes
    );
    let mut quantized = 0;
    for t in &q8.tensors {
        let original = exact.tensor(&t.name);
        let want = match (is_f32(&t.name), t.dims.len()) {
            (true, _) => 0,
            (false, 2) => 8,
            (false, _) => 1,
        };
        assert_eq!(t.ftype, want, "{}", t.name);
        if t.ftype != 8 {
            assert_eq!(
                t.data, original.data,
                "{} should be copied unchanged",
                t.name
            );
            continue;
        }
        quantized += 1;
        for ((d, q), x) in t.q8_0_blocks().zip(original.f32s().chunks_exact(32)) {
            let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
            // d is amax / 127 rounded to f16 (subnormal for the smallest blocks, where f16's
            // step is 2^-24); the largest value maps to +-127.
            let exact_d = amax / 127.0;
            let d_error = (d - exact_d).abs();
            assert!(
                d_error <= (exact_d / 1024.0).max(2f32.powi(-25)),
                "{}",
                t.name
            );
            if amax > 0.0 {
                assert_eq!(
                    q.iter().map(|v| v.unsigned_abs()).max(),
                    Some(127),
                    "{}",
                    t.name
                );
            }
            // Half a step of the exact scale, plus what rounding the scale moved.
            let bound = exact_d * 0.5001 + 127.0 * d_error + f32::EPSILON;
            for (&v, &q) in x.iter().zip(&q) {
                assert!(
                    (v - d * q as f32).abs() <= bound,
                    "{}: {v} became {q} * {d}",
                    t.name
                );
            }
        }
    }
    // 4 encoder blocks x 6 + 4 decoder blocks x 10 + the token embedding.
    assert_eq!(quantized, 4 * 6 + 4 * 10 + 1);
}

/// OpenAI's `sinusoids(length, channels)`; CTranslate2 stores them rounded to f16.
#[test]
fn encoder_positions_are_whisper_sinusoids() {
    let pe = tiny_en_file().tensor("encoder.positional_embedding").f32s();
    let channels = 384;
    let increment = 10000f64.ln() / (channels / 2 - 1) as f64;
    let mut worst = 0f64;
    for t in 0..1500 {
        for i in 0..channels / 2 {
            let x = t as f64 * (-increment * i as f64).exp();
            let row = &pe[t * channels..(t + 1) * channels];
            worst = worst
                .max((f64::from(row[i]) - x.sin()).abs())
                .max((f64::from(row[channels / 2 + i]) - x.cos()).abs());
        }
    }
    assert!(worst < 1e-3, "largest difference {worst}");
}

/// A model directory like `src`'s, with `model.bin` replaced and vocabulary files chosen.
fn variant(src: &Path, model_bin: Option<&[u8]>, keep: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_small_files(src, dir.path());
    for name in ["vocabulary.txt", "tokenizer.json"] {
        if !keep.contains(&name) {
            let _ = fs::remove_file(dir.path().join(name));
        }
    }
    match model_bin {
        Some(bytes) => fs::write(dir.path().join("model.bin"), bytes).unwrap(),
        None => support::link_model_bin(src, dir.path()),
    }
    dir
}

fn converted_bytes(dir: &Path) -> Vec<u8> {
    let out = dir.join("out.bin");
    convert(dir, &out).unwrap_or_else(|e| panic!("{e}"));
    fs::read(out).unwrap()
}

/// tokenizer.json lacks the timestamp tokens (and, in multilingual models, id 50256), and
/// CTranslate2 ≥ 4 writes vocabulary.json; all three give the same file.
#[test]
fn every_vocabulary_file_gives_the_same_model() {
    for name in ["whisper-tiny.en-ct2", "whisper-base-ct2"] {
        let src = ct2_model(name);
        let from_txt = converted_bytes(variant(&src, None, &["vocabulary.txt"]).path());
        let from_tokenizer = converted_bytes(variant(&src, None, &["tokenizer.json"]).path());
        assert!(from_txt == from_tokenizer, "{name}: tokenizer.json differs");

        let dir = variant(&src, None, &[]);
        let text = fs::read_to_string(src.join("vocabulary.txt")).unwrap();
        let lines: Vec<&str> = text.strip_suffix('\n').unwrap().split('\n').collect();
        fs::write(
            dir.path().join("vocabulary.json"),
            serde_json::to_string(&lines).unwrap(),
        )
        .unwrap();
        assert!(
            from_txt == converted_bytes(dir.path()),
            "{name}: vocabulary.json differs"
        );
    }
}

/// A `--quantization float32` model holds the same values, so it must give the same file.
#[test]
fn float32_source_gives_the_same_file_as_float16() {
    let src = ct2_model("whisper-tiny.en-ct2");
    let f32_model = Ct2File::read(&src.join("model.bin")).to_float32();
    let dir = variant(&src, Some(&f32_model.to_bytes()), &["vocabulary.txt"]);
    let out = dir.path().join("out.bin");
    let report = convert(dir.path(), &out).unwrap();
    assert!(report.is_exact());
    assert!(fs::read(out).unwrap() == fs::read(&tiny_en().1).unwrap());
}

/// bfloat16 widens to f32 exactly and is written as f16. These bfloat16 values were rounded
/// from float16 ones, so they all fit f16 and the output holds them exactly.
#[test]
fn bfloat16_source_values_arrive_unchanged() {
    let src = ct2_model("whisper-tiny.en-ct2");
    let bf16_model = Ct2File::read(&src.join("model.bin")).to_bfloat16();
    let dir = variant(&src, Some(&bf16_model.to_bytes()), &["vocabulary.txt"]);
    let out = dir.path().join("out.bin");
    let report = convert(dir.path(), &out).unwrap();
    assert!(report.is_exact(), "{report:?}");
    let file = GgmlFile::read(&out);
    for (name, source) in [
        (
            "decoder.token_embedding.weight",
            "decoder/embeddings/weight",
        ),
        (
            "encoder.blocks.1.mlp_ln.bias",
            "encoder/layer_1/ffn/layer_norm/beta",
        ),
    ] {
        let var = bf16_model.var(source);
        let bf16: Vec<half::bf16> = bytemuck::pod_collect_to_vec(&var.data);
        let mut expected = vec![0f32; bf16.len()];
        bf16.convert_to_f32_slice(&mut expected);
        assert_eq!(file.tensor(name).f32s(), expected, "{name}");
    }
}

#[test]
fn converting_over_an_existing_file_replaces_it_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.bin");
    fs::write(&out, b"old").unwrap();
    convert(&ct2_model("whisper-tiny.en-ct2"), &out).unwrap();
    assert!(fs::read(&out).unwrap() == fs::read(&tiny_en().1).unwrap());
    let entries: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["model.bin"]);
}
