//! What the converter tests share: the real CTranslate2 models the model manager fetched,
//! an independent reader of the ggml files the converter writes, a minimal CTranslate2
//! reader/writer (to make re-encoded and deliberately broken models from the real ones),
//! synthetic speech, and whisper.cpp (through whisper-rs) to transcribe it.

#![allow(dead_code)] // each test file uses a different part

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use half::slice::HalfFloatSliceExt;

use sotto_e2e::test_models_dir as models_dir;

/// A CTranslate2 model directory the model manager fetched (`whisper-tiny.en-ct2`,
/// `whisper-base-ct2`).
pub fn ct2_model(name: &str) -> PathBuf {
    let dir = models_dir().join(name);
    assert!(
        dir.join("model.bin").is_file(),
        "test model {name} missing in {}: run .ci/test (it fetches it) or \
         `SOTTO_MODELS_DIR={} sotto models fetch {name}`",
        dir.display(),
        models_dir().display()
    );
    dir
}

/// Makes `dst/model.bin` the same file as `src/model.bin` without copying it where possible.
pub fn link_model_bin(src: &Path, dst: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(src.join("model.bin"), dst.join("model.bin")).unwrap();
    #[cfg(not(unix))]
    fs::copy(src.join("model.bin"), dst.join("model.bin")).unwrap();
}

/// Copies a model directory's small files (config, vocabularies) into `dst`.
pub fn copy_small_files(src: &Path, dst: &Path) {
    for name in ["config.json", "vocabulary.txt", "tokenizer.json"] {
        if src.join(name).is_file() {
            fs::copy(src.join(name), dst.join(name)).unwrap();
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        self.at += n;
        &self.b[self.at - n..self.at]
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }

    /// CTranslate2's string: u16 length counting a trailing NUL.
    fn string(&mut self) -> String {
        let n = u16::from_le_bytes(self.take(2).try_into().unwrap()) as usize;
        let s = self.take(n);
        String::from_utf8(s[..n - 1].to_vec()).unwrap()
    }
}

// ---------------------------------------------------------------------------------------
// ggml (whisper.cpp) files, read back independently of the converter.

#[derive(Debug)]
pub struct GgmlTensor {
    pub name: String,
    /// Innermost first, as stored.
    pub dims: Vec<usize>,
    /// 0 = f32, 1 = f16, 8 = Q8_0.
    pub ftype: i32,
    pub data: Vec<u8>,
}

impl GgmlTensor {
    pub fn f32s(&self) -> Vec<f32> {
        match self.ftype {
            0 => bytemuck::pod_collect_to_vec(&self.data),
            1 => {
                let halves: Vec<half::f16> = bytemuck::pod_collect_to_vec(&self.data);
                let mut out = vec![0f32; halves.len()];
                halves.convert_to_f32_slice(&mut out);
                out
            }
            8 => self
                .q8_0_blocks()
                .flat_map(|(d, q)| q.iter().map(move |&q| d * q as f32).collect::<Vec<_>>())
                .collect(),
            t => panic!("unexpected tensor type {t}"),
        }
    }

    /// A Q8_0 tensor's blocks of 32: the scale and the quantized values (ggml's `block_q8_0`).
    pub fn q8_0_blocks(&self) -> impl Iterator<Item = (f32, Vec<i8>)> + '_ {
        assert_eq!(self.ftype, 8, "{} is not Q8_0", self.name);
        self.data.chunks_exact(34).map(|block| {
            let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
            (d, block[2..].iter().map(|&b| b as i8).collect())
        })
    }
}

#[derive(Debug)]
pub struct GgmlFile {
    /// n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx,
    /// n_text_state, n_text_head, n_text_layer, n_mels, ftype.
    pub hparams: [i32; 11],
    pub n_mel: usize,
    pub n_fft: usize,
    pub mel: Vec<f32>,
    pub tokens: Vec<Vec<u8>>,
    pub tensors: Vec<GgmlTensor>,
}

impl GgmlFile {
    pub fn read(path: &Path) -> GgmlFile {
        let bytes = fs::read(path).unwrap();
        let mut c = Cursor { b: &bytes, at: 0 };
        assert_eq!(c.u32(), 0x6767_6d6c, "magic");
        let mut hparams = [0i32; 11];
        for h in &mut hparams {
            *h = c.u32() as i32;
        }
        let n_mel = c.u32() as usize;
        let n_fft = c.u32() as usize;
        let mel = c
            .take(n_mel * n_fft * 4)
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let n_tokens = c.u32() as usize;
        let tokens = (0..n_tokens)
            .map(|_| {
                let len = c.u32() as usize;
                c.take(len).to_vec()
            })
            .collect();
        let mut tensors = Vec::new();
        while c.at < bytes.len() {
            let n_dims = c.u32() as usize;
            let name_len = c.u32() as usize;
            let ftype = c.u32() as i32;
            let dims: Vec<usize> = (0..n_dims).map(|_| c.u32() as usize).collect();
            let name = String::from_utf8(c.take(name_len).to_vec()).unwrap();
            let n: usize = dims.iter().product();
            let size = match ftype {
                0 => n * 4,
                1 => n * 2,
                8 => n / 32 * 34,
                t => panic!("{name}: unexpected tensor type {t}"),
            };
            let data = c.take(size).to_vec();
            tensors.push(GgmlTensor {
                name,
                dims,
                ftype,
                data,
            });
        }
        GgmlFile {
            hparams,
            n_mel,
            n_fft,
            mel,
            tokens,
            tensors,
        }
    }

    pub fn tensor(&self, name: &str) -> &GgmlTensor {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tensor {name}"))
    }
}

// ---------------------------------------------------------------------------------------
// CTranslate2 model.bin, minimal and trusting: only ever used on files made by CTranslate2
// or by `Ct2File::write`.

pub const F32: u8 = 0;
pub const I8: u8 = 1;
pub const I16: u8 = 2;
pub const F16: u8 = 4;
pub const BF16: u8 = 5;

#[derive(Debug, Clone)]
pub struct Ct2Var {
    pub name: String,
    pub shape: Vec<u32>,
    pub dtype: u8,
    pub data: Vec<u8>,
}

impl Ct2Var {
    pub fn f32s(&self) -> Vec<f32> {
        match self.dtype {
            F32 => bytemuck::pod_collect_to_vec(&self.data),
            F16 => {
                let halves: Vec<half::f16> = bytemuck::pod_collect_to_vec(&self.data);
                let mut out = vec![0f32; halves.len()];
                halves.convert_to_f32_slice(&mut out);
                out
            }
            d => panic!("{}: dtype {d} is not a float", self.name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ct2File {
    pub version: u32,
    pub spec: String,
    pub revision: u32,
    pub vars: Vec<Ct2Var>,
    pub aliases: Vec<(String, String)>,
}

impl Ct2File {
    pub fn read(path: &Path) -> Ct2File {
        let bytes = fs::read(path).unwrap();
        let mut c = Cursor { b: &bytes, at: 0 };
        let version = c.u32();
        let spec = c.string();
        let revision = c.u32();
        let n = c.u32();
        let vars = (0..n)
            .map(|_| {
                let name = c.string();
                let rank = c.take(1)[0];
                let shape = (0..rank).map(|_| c.u32()).collect();
                let dtype = c.take(1)[0];
                let n_bytes = c.u32() as usize;
                let data = c.take(n_bytes).to_vec();
                Ct2Var {
                    name,
                    shape,
                    dtype,
                    data,
                }
            })
            .collect();
        let n_aliases = c.u32();
        let aliases = (0..n_aliases).map(|_| (c.string(), c.string())).collect();
        assert_eq!(c.at, bytes.len());
        Ct2File {
            version,
            spec,
            revision,
            vars,
            aliases,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_and_header_offsets().0
    }

    /// The file, and the offsets of every byte that is not variable data (versions, names,
    /// shapes, types, byte counts, aliases): where corruption is meant to be caught.
    pub fn to_bytes_and_header_offsets(&self) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut data_ranges = Vec::new();
        let string = |out: &mut Vec<u8>, s: &str| {
            out.extend((s.len() as u16 + 1).to_le_bytes());
            out.extend(s.as_bytes());
            out.push(0);
        };
        out.extend(self.version.to_le_bytes());
        string(&mut out, &self.spec);
        out.extend(self.revision.to_le_bytes());
        out.extend((self.vars.len() as u32).to_le_bytes());
        for v in &self.vars {
            string(&mut out, &v.name);
            out.push(v.shape.len() as u8);
            for d in &v.shape {
                out.extend(d.to_le_bytes());
            }
            out.push(v.dtype);
            out.extend((v.data.len() as u32).to_le_bytes());
            data_ranges.push(out.len()..out.len() + v.data.len());
            out.extend(&v.data);
        }
        out.extend((self.aliases.len() as u32).to_le_bytes());
        for (a, t) in &self.aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        let mut header = Vec::new();
        let mut at = 0;
        for r in data_ranges.iter().chain([&(out.len()..out.len())]) {
            header.extend(at..r.start);
            at = r.end;
        }
        (out, header)
    }

    /// tiny.en cut down to a model of the same structure small enough to corrupt hundreds of
    /// times: one layer on each side, width 8 (2 heads of 4), the full vocabulary and context
    /// lengths. The weights are garbage, but every check the converter makes applies.
    pub fn mini(tiny_en: &Ct2File) -> Ct2File {
        let mut f = tiny_en.clone();
        f.vars.retain(|v| {
            !["layer_1/", "layer_2/", "layer_3/"]
                .iter()
                .any(|l| v.name.contains(l))
        });
        for v in &mut f.vars {
            if v.name.ends_with("num_heads") {
                v.data = 2i16.to_le_bytes().to_vec();
                continue;
            }
            if v.shape.is_empty() {
                continue;
            }
            for d in &mut v.shape {
                *d = match *d {
                    384 => 8,
                    768 => 16,
                    1152 => 24,
                    1536 => 32,
                    d => d,
                };
            }
            assert_eq!(v.dtype, F16, "{}", v.name);
            let n: u32 = v.shape.iter().product();
            // Small distinct values (f16 bit patterns around 0.01) so nothing is all zero.
            v.data = (0..n)
                .flat_map(|i| (0x2000u16 + (i % 512) as u16).to_le_bytes())
                .collect();
        }
        f
    }

    pub fn var(&self, name: &str) -> &Ct2Var {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    }

    pub fn var_mut(&mut self, name: &str) -> &mut Ct2Var {
        self.vars
            .iter_mut()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    }

    pub fn by_name(&self) -> HashMap<&str, &Ct2Var> {
        self.vars.iter().map(|v| (v.name.as_str(), v)).collect()
    }

    /// Re-encodes every float16 variable as float32: what `--quantization float32` gives.
    pub fn to_float32(&self) -> Ct2File {
        let mut f = self.clone();
        for v in &mut f.vars {
            if v.dtype == F16 {
                v.data = bytemuck::cast_slice(&v.f32s()).to_vec();
                v.dtype = F32;
            }
        }
        f
    }

    /// Re-encodes every float16 variable as bfloat16 (rounding to nearest): what
    /// `--quantization bfloat16` gives, give or take the rounding of the original weights.
    pub fn to_bfloat16(&self) -> Ct2File {
        let mut f = self.clone();
        for v in &mut f.vars {
            if v.dtype == F16 {
                let mut halves: Vec<half::bf16> = bytemuck::zeroed_vec(v.data.len() / 2);
                halves.convert_from_f32_slice(&v.f32s());
                v.data = bytemuck::cast_slice(&halves).to_vec();
                v.dtype = BF16;
            }
        }
        f
    }

    /// Quantizes the weights of linear, convolution and embedding layers to int8 with one
    /// float32 scale per output row, as CTranslate2's `--quantization int8_float16` does
    /// (`ModelSpec._quantize`: scale = 127 / max|row|, value = rint(w * scale)).
    pub fn to_int8(&self) -> Ct2File {
        let mut f = self.clone();
        let mut scales = Vec::new();
        for v in &mut f.vars {
            let quantizable = v.name.ends_with("/weight") && v.dtype == F16;
            if !quantizable {
                continue;
            }
            let values = v.f32s();
            let rows = v.shape[0] as usize;
            let row_len = values.len() / rows;
            let mut q = Vec::with_capacity(values.len());
            let mut scale = Vec::with_capacity(rows);
            for row in values.chunks_exact(row_len) {
                let amax = row.iter().fold(0f32, |m, x| m.max(x.abs()));
                let s = 127.0 / if amax == 0.0 { 127.0 } else { amax };
                q.extend(row.iter().map(|x| (x * s).round_ties_even() as i8 as u8));
                scale.push(s);
            }
            v.data = q;
            v.dtype = I8;
            scales.push(Ct2Var {
                name: format!("{}_scale", v.name),
                shape: vec![rows as u32],
                dtype: F32,
                data: bytemuck::cast_slice(&scale).to_vec(),
            });
        }
        f.vars.extend(scales);
        f
    }
}

// ---------------------------------------------------------------------------------------
// Speech and whisper.cpp.

/// `text` spoken by espeak-ng (en-us, 150 words per minute) as 16 kHz mono f32 samples.
pub fn speak(text: &str) -> Vec<f32> {
    sotto_e2e::speak_16k(text, "en-us", 150)
        .into_iter()
        .map(|s| f32::from(s) / 32768.0)
        .collect()
}

/// Transcribes `samples` with the whisper.cpp model at `model`, greedy decoding.
pub fn transcribe(ctx: &whisper_rs::WhisperContext, samples: &[f32], language: &str) -> String {
    let mut state = ctx.create_state().expect("whisper state");
    let mut params =
        whisper_rs::FullParams::new(whisper_rs::SamplingStrategy::Greedy { best_of: 1 });
    params.set_language(Some(language));
    params.set_n_threads(2);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_print_special(false);
    // Without timestamps the whole clip is one window: one encoder pass instead of a second
    // one over the silence after the last timestamp.
    params.set_no_timestamps(true);
    state.full(params, samples).expect("whisper_full");
    state
        .as_iter()
        .map(|segment| segment.to_str_lossy().unwrap().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn load(model: &Path) -> whisper_rs::WhisperContext {
    whisper_rs::WhisperContext::new_with_params(
        model,
        whisper_rs::WhisperContextParameters::default(),
    )
    .unwrap_or_else(|e| panic!("whisper.cpp rejects {}: {e:?}", model.display()))
}
