//! Writing whisper.cpp's single-file model format (the "legacy" ggml layout of
//! `ggml-tiny.en.bin`, read by `whisper_model_load` in whisper.cpp's `src/whisper.cpp`).
//!
//! ```text
//! i32 magic 0x67676d6c ("ggml")
//! i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
//!     n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
//! i32 n_mel, i32 n_fft, then n_mel * n_fft f32 mel filters
//! i32 n_tokens, then per token: u32 length, bytes
//! per tensor: i32 n_dims, i32 name length, i32 type (0 f32, 1 f16),
//!             i32 dims[n_dims] innermost first, name bytes, data (no padding)
//! ```
//!
//! All little-endian. The loader finds tensors by name, so their order is free; it does check
//! each tensor's type against the one it allocated (f32 for biases, norms and positional
//! embeddings; `ftype` for matrices), which is why every tensor here carries an explicit
//! output type.

use std::io::{self, Write};

use half::slice::HalfFloatSliceExt;

use crate::ct2::{f16_bytes_to_f32, ValuesRef};
use crate::Hparams;

/// `GGML_FILE_MAGIC`.
pub(crate) const MAGIC: u32 = 0x6767_6d6c;

/// The file's `ftype`: matrices and convolutions in f16, like whisper.cpp's published files.
/// All-f32 files (ftype 0) exist in the format, but whisper.cpp 1.8.3 aborts running them
/// (`ggml_conv_1d` always builds an f16 im2col, which asserts an f16 kernel), so float32
/// sources are narrowed to f16 too.
const FTYPE_F16: i32 = 1;

/// The file's `ftype` when its matrices are Q8_0: ggml's `GGML_FTYPE_MOSTLY_Q8_0` (7) plus the
/// quantization format version (2) times 1000, as whisper.cpp's own quantizer writes it.
const FTYPE_Q8_0: i32 = 2 * 1000 + 7;

/// Values per Q8_0 block, each block one f16 scale and 32 signed bytes (`block_q8_0` in ggml).
const Q8_0_BLOCK: usize = 32;

/// The element type of one tensor in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    F32,
    F16,
    /// ggml's Q8_0: blocks of 32 values along a row, each `round(v / d)` in -127..=127 with
    /// `d = max|v| / 127` stored as f16.
    Q8_0,
}

impl Elem {
    fn id(self) -> i32 {
        match self {
            Elem::F32 => 0,
            Elem::F16 => 1,
            Elem::Q8_0 => 8,
        }
    }
}

/// Counts bytes on their way to the underlying writer.
#[derive(Debug)]
pub(crate) struct GgmlWriter<W: Write> {
    inner: W,
    pub(crate) written: u64,
}

impl<W: Write> GgmlWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        GgmlWriter { inner, written: 0 }
    }

    pub(crate) fn into_inner(self) -> W {
        self.inner
    }

    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.inner.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn i32(&mut self, v: i32) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn len(&mut self, n: usize) -> io::Result<()> {
        let n = i32::try_from(n).map_err(|_| io::Error::other("length exceeds i32"))?;
        self.i32(n)
    }

    /// `matrices` is the type of the weight matrices: whisper.cpp allocates them from the
    /// header's `ftype`, so the two must agree.
    pub(crate) fn header(&mut self, h: &Hparams, matrices: Elem) -> io::Result<()> {
        self.bytes(&MAGIC.to_le_bytes())?;
        for v in [
            h.n_vocab,
            h.n_audio_ctx,
            h.n_audio_state,
            h.n_audio_head,
            h.n_audio_layer,
            h.n_text_ctx,
            h.n_text_state,
            h.n_text_head,
            h.n_text_layer,
            h.n_mels,
        ] {
            self.len(v)?;
        }
        self.i32(match matrices {
            Elem::Q8_0 => FTYPE_Q8_0,
            Elem::F16 | Elem::F32 => FTYPE_F16,
        })
    }

    pub(crate) fn mel_filters(
        &mut self,
        n_mel: usize,
        n_fft: usize,
        data: &[f32],
    ) -> io::Result<()> {
        self.len(n_mel)?;
        self.len(n_fft)?;
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.bytes(&bytes)
    }

    pub(crate) fn vocab(&mut self, tokens: &[Vec<u8>]) -> io::Result<()> {
        self.len(tokens.len())?;
        for t in tokens {
            self.len(t.len())?;
            self.bytes(t)?;
        }
        Ok(())
    }

    /// Writes one tensor. `shape` is in PyTorch order (outermost first), as the names and
    /// shapes of OpenAI's checkpoint are; ggml wants it reversed. Returns how many values had
    /// to be rounded to fit f16.
    pub(crate) fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        values: ValuesRef<'_>,
        out: Elem,
    ) -> io::Result<u64> {
        self.len(shape.len())?;
        self.len(name.len())?;
        self.i32(out.id())?;
        for &d in shape.iter().rev() {
            self.len(d)?;
        }
        self.bytes(name.as_bytes())?;
        match (values, out) {
            (ValuesRef::F16(bytes), Elem::F16) => self.bytes(bytes)?,
            (ValuesRef::F16(bytes), Elem::F32) => {
                self.bytes(bytemuck::cast_slice(&f16_bytes_to_f32(bytes)))?
            }
            (ValuesRef::F32(v), Elem::F32) => self.bytes(bytemuck::cast_slice(v))?,
            (ValuesRef::F32(v), Elem::F16) => {
                let (halves, rounded) = narrow(v);
                self.bytes(bytemuck::cast_slice(&halves))?;
                return Ok(rounded);
            }
            (ValuesRef::F16(bytes), Elem::Q8_0) => {
                self.bytes(&quantize_q8_0(&f16_bytes_to_f32(bytes)))?;
                return Ok((bytes.len() / 2) as u64);
            }
            (ValuesRef::F32(v), Elem::Q8_0) => {
                self.bytes(&quantize_q8_0(v))?;
                return Ok(v.len() as u64);
            }
        }
        Ok(0)
    }
}

/// `v` in ggml's Q8_0 layout (`quantize_row_q8_0_ref`): per block of 32, the f16 scale then
/// the 32 quantized bytes. The caller guarantees whole blocks (rows are multiples of 32).
fn quantize_q8_0(v: &[f32]) -> Vec<u8> {
    debug_assert_eq!(v.len() % Q8_0_BLOCK, 0);
    let mut out = Vec::with_capacity(v.len() / Q8_0_BLOCK * (2 + Q8_0_BLOCK));
    for block in v.chunks_exact(Q8_0_BLOCK) {
        let amax = block.iter().fold(0f32, |m, x| m.max(x.abs()));
        let d = amax / 127.0;
        let inverse = if d == 0.0 { 0.0 } else { 1.0 / d };
        out.extend_from_slice(&half::f16::from_f32(d).to_bits().to_le_bytes());
        out.extend(block.iter().map(|x| (x * inverse).round() as i8 as u8));
    }
    out
}

/// `v` rounded to f16 (to nearest, ties to even), and how many values changed. NaN stays
/// NaN and is not counted.
fn narrow(v: &[f32]) -> (Vec<half::f16>, u64) {
    // zeroed_vec allocates zeroed memory; `vec![ZERO; n]` would fill element by element.
    let mut halves: Vec<half::f16> = bytemuck::zeroed_vec(v.len());
    halves.convert_from_f32_slice(v);
    let mut back = vec![0f32; v.len()];
    halves.convert_to_f32_slice(&mut back);
    // Comparing bytes is a memcmp; the element-wise count only runs when something changed.
    let bytes: &[u8] = bytemuck::cast_slice(v);
    if bytes == bytemuck::cast_slice::<f32, u8>(&back) {
        return (halves, 0);
    }
    let rounded = v
        .iter()
        .zip(&back)
        .filter(|(a, b)| a != b && !a.is_nan())
        .count();
    (halves, rounded as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_record_reverses_dims_and_keeps_f16_bytes() {
        let mut w = GgmlWriter::new(Vec::new());
        let f16_bytes = [0x00, 0x3c, 0x00, 0xc0]; // 1.0, -2.0
        let rounded = w
            .tensor("a.b", &[2, 1], ValuesRef::F16(&f16_bytes), Elem::F16)
            .unwrap();
        assert_eq!(rounded, 0);
        let bytes = w.into_inner();
        let words: Vec<i32> = bytes[..20]
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(words, vec![2, 3, 1, 1, 2]);
        assert_eq!(&bytes[20..23], b"a.b");
        assert_eq!(&bytes[23..], &f16_bytes);
    }

    #[test]
    fn q8_0_blocks_are_an_f16_scale_then_values_rounded_to_it() {
        // -16..16: the largest magnitude (16) becomes -127, so d = 16/127.
        let block: Vec<f32> = (0..32).map(|i| i as f32 - 16.0).collect();
        let mut values = block.clone();
        values.extend([0.0; 32]); // an all-zero block: d = 0 and every value 0
        let bytes = quantize_q8_0(&values);
        assert_eq!(bytes.len(), 2 * 34);
        let d = half::f16::from_le_bytes([bytes[0], bytes[1]]);
        assert_eq!(d, half::f16::from_f32(16.0 / 127.0));
        let q: Vec<i8> = bytes[2..34].iter().map(|&b| b as i8).collect();
        assert_eq!(q[0], -127);
        assert_eq!(q[16], 0);
        assert_eq!(q[17], 8); // 1 * 127/16 = 7.94
        assert_eq!(q[31], 119); // 15 * 127/16 = 119.06
        assert!(bytes[34..].iter().all(|&b| b == 0));

        let mut w = GgmlWriter::new(Vec::new());
        let rounded = w
            .tensor("m", &[1, 32], ValuesRef::F32(&block), Elem::Q8_0)
            .unwrap();
        assert_eq!(rounded, 32, "every quantized value counts as rounded");
        let bytes = w.into_inner();
        assert_eq!(i32::from_le_bytes(bytes[8..12].try_into().unwrap()), 8);
    }

    #[test]
    fn widening_is_exact_and_narrowing_counts_what_changed() {
        let mut w = GgmlWriter::new(Vec::new());
        w.tensor(
            "w",
            &[1],
            ValuesRef::F16(&0x3555u16.to_le_bytes()),
            Elem::F32,
        )
        .unwrap();
        let bytes = w.into_inner();
        let widened = f32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
        assert_eq!(widened, half::f16::from_bits(0x3555).to_f32());

        let (halves, rounded) = narrow(&[1.0, 0.1, f32::NAN, 65504.0]);
        assert_eq!(rounded, 1, "0.1 is the only value f16 cannot hold");
        assert_eq!(halves[0].to_bits(), 0x3c00);
        assert!(halves[2].is_nan());
    }
}
