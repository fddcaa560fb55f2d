//! The correspondence between CTranslate2's Whisper variables and the tensors whisper.cpp
//! loads: the hyperparameters implied by the shapes, and one [`Item`] per output tensor saying
//! which source variable (or which rows of a fused one) it comes from and in what type.
//!
//! | whisper.cpp (OpenAI names)                 | CTranslate2                                 |
//! |--------------------------------------------|---------------------------------------------|
//! | `encoder.conv{1,2}.{weight,bias}`          | `encoder/conv{1,2}/{weight,bias}` (bias gets a trailing 1-dim) |
//! | `encoder.positional_embedding`             | `encoder/position_encodings/encodings`      |
//! | `*.blocks.N.attn.{query,key,value}`        | `*/layer_N/self_attention/linear_0`, rows split in thirds (q, k, v) |
//! | `*.blocks.N.attn.out`                      | `*/layer_N/self_attention/linear_1`         |
//! | `*.blocks.N.attn_ln`                       | `*/layer_N/self_attention/layer_norm` (gamma, beta) |
//! | `decoder.blocks.N.cross_attn.query`        | `decoder/layer_N/attention/linear_0`        |
//! | `decoder.blocks.N.cross_attn.{key,value}`  | `decoder/layer_N/attention/linear_1`, rows split in halves (k, v) |
//! | `decoder.blocks.N.cross_attn.out`          | `decoder/layer_N/attention/linear_2`        |
//! | `decoder.blocks.N.cross_attn_ln`           | `decoder/layer_N/attention/layer_norm`      |
//! | `*.blocks.N.mlp.0`, `mlp.2`, `mlp_ln`      | `*/layer_N/ffn/linear_0`, `linear_1`, `layer_norm` |
//! | `encoder.ln_post`, `decoder.ln`            | `encoder/layer_norm`, `decoder/layer_norm`  |
//! | `decoder.token_embedding.weight`           | `decoder/embeddings/weight`                 |
//! | `decoder.positional_embedding`             | `decoder/position_encodings/encodings`      |
//!
//! Whisper's key projections have no bias. CTranslate2 fuses q/k/v into one linear layer and
//! fills the key's slice of the fused bias with zeros; it is dropped. (Even a non-zero key bias
//! would not matter: it adds the same `q·b` to every score in a softmax row.)

use std::collections::BTreeSet;

use crate::ct2::Ct2Model;
use crate::error::ConvertError;
use crate::ggml::Elem;
use crate::Hparams;

/// Where an output tensor's values come from.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// whisper.cpp's name for it.
    pub(crate) name: String,
    /// Its shape in PyTorch order.
    pub(crate) shape: Vec<usize>,
    /// The CTranslate2 variable.
    pub(crate) source: String,
    /// The shape that variable must have.
    pub(crate) source_shape: Vec<usize>,
    /// Which rows (first-dimension indices) of the source to take.
    pub(crate) rows: (usize, usize),
    /// Matrices and convolutions are f16; everything else is f32 (what whisper.cpp
    /// allocates for each, and checks).
    pub(crate) matrix: bool,
}

impl Item {
    /// The type written for this tensor when weight matrices are `matrices`: convolution
    /// kernels stay f16 whatever the matrices are (whisper.cpp allocates them so).
    pub(crate) fn elem(&self, matrices: Elem) -> Elem {
        match (self.matrix, self.shape.len()) {
            (false, _) => Elem::F32,
            (true, 2) => matrices,
            (true, _) => Elem::F16,
        }
    }
}

/// Reads the hyperparameters off the variable shapes (and the stored head counts).
pub(crate) fn hparams(model: &mut Ct2Model) -> Result<Hparams, ConvertError> {
    let conv1 = rank(
        "encoder/conv1/weight",
        model.shape("encoder/conv1/weight")?,
        3,
    )?;
    let (n_audio_state, n_mels) = (conv1[0], conv1[1]);
    if conv1[2] != 3 {
        return Err(shape_mismatch(
            "encoder/conv1/weight",
            vec![n_audio_state, n_mels, 3],
            conv1,
        ));
    }
    let enc_pos = "encoder/position_encodings/encodings";
    let enc_pos_shape = rank(enc_pos, model.shape(enc_pos)?, 2)?;
    let emb = rank(
        "decoder/embeddings/weight",
        model.shape("decoder/embeddings/weight")?,
        2,
    )?;
    let (n_vocab, n_text_state) = (emb[0], emb[1]);
    let dec_pos = "decoder/position_encodings/encodings";
    let dec_pos_shape = rank(dec_pos, model.shape(dec_pos)?, 2)?;
    if enc_pos_shape[1] != n_audio_state {
        return Err(shape_mismatch(
            enc_pos,
            vec![enc_pos_shape[0], n_audio_state],
            enc_pos_shape,
        ));
    }
    if dec_pos_shape[1] != n_text_state {
        return Err(shape_mismatch(
            dec_pos,
            vec![dec_pos_shape[0], n_text_state],
            dec_pos_shape,
        ));
    }
    if n_text_state != n_audio_state {
        // whisper.cpp asserts this while loading.
        return Err(ConvertError::Unsupported(format!(
            "the decoder width {n_text_state} differs from the encoder width {n_audio_state}"
        )));
    }

    let n_audio_layer = count_layers(model, "encoder")?;
    let n_text_layer = count_layers(model, "decoder")?;
    let n_audio_head = heads(model, "encoder", n_audio_state)?;
    let n_text_head = heads(model, "decoder", n_text_state)?;

    Ok(Hparams {
        n_vocab,
        n_audio_ctx: enc_pos_shape[0],
        n_audio_state,
        n_audio_head,
        n_audio_layer,
        n_text_ctx: dec_pos_shape[0],
        n_text_state,
        n_text_head,
        n_text_layer,
        n_mels,
    })
}

fn rank(name: &str, shape: &[usize], want: usize) -> Result<Vec<usize>, ConvertError> {
    if shape.len() != want || shape.contains(&0) {
        return Err(ConvertError::Unsupported(format!(
            "variable {name} has shape {shape:?}; a Whisper model has {want} non-empty dimensions there"
        )));
    }
    Ok(shape.to_vec())
}

fn shape_mismatch(name: &str, expected: Vec<usize>, found: Vec<usize>) -> ConvertError {
    ConvertError::ShapeMismatch {
        name: name.to_owned(),
        expected,
        found,
    }
}

/// Layers are numbered `layer_0 ..` without gaps. The count is the first missing index, so it
/// is bounded by the number of variables whatever the names say; a layer past a gap means the
/// file is inconsistent.
fn count_layers(model: &Ct2Model, side: &str) -> Result<usize, ConvertError> {
    let prefix = format!("{side}/layer_");
    let indices: BTreeSet<usize> = model
        .names()
        .filter_map(|name| name.strip_prefix(&prefix))
        .filter_map(|rest| rest.split('/').next()?.parse().ok())
        .collect();
    let count = (0..=indices.len())
        .find(|i| !indices.contains(i))
        .unwrap_or(indices.len());
    if count == 0 || indices.last().is_some_and(|&last| last > count) {
        return Err(ConvertError::MissingTensor {
            name: format!("{side}/layer_{count}/self_attention/linear_0/weight"),
        });
    }
    Ok(count)
}

/// CTranslate2 stores head counts as int16 scalars; should a model lack them, every Whisper
/// size uses 64-dimensional heads.
fn heads(model: &mut Ct2Model, side: &str, state: usize) -> Result<usize, ConvertError> {
    let stored = model.scalar_int(&format!("{side}/num_heads"))?;
    let heads = match stored {
        Some(h) => usize::try_from(h).unwrap_or(0),
        None => state / 64,
    };
    if state.checked_rem(heads) != Some(0) {
        return Err(ConvertError::Unsupported(format!(
            "{side} has {heads} attention heads, which do not divide its width {state}"
        )));
    }
    Ok(heads)
}

/// Builds the list of output tensors in the order OpenAI's checkpoint (and so whisper.cpp's
/// own files) has them.
pub(crate) fn plan(h: &Hparams) -> Vec<Item> {
    let d = h.n_audio_state;
    let mut p = Planner::default();

    p.whole(
        "encoder.positional_embedding",
        "encoder/position_encodings/encodings",
        &[h.n_audio_ctx, d],
        false,
    );
    for (i, n_in) in [(1, h.n_mels), (2, d)] {
        p.whole(
            &format!("encoder.conv{i}.weight"),
            &format!("encoder/conv{i}/weight"),
            &[d, n_in, 3],
            true,
        );
        // whisper.cpp adds the bias to a [time, channels] result, so it wants [channels, 1].
        p.push(
            &format!("encoder.conv{i}.bias"),
            &[d, 1],
            &format!("encoder/conv{i}/bias"),
            &[d],
            (0, d),
            false,
        );
    }
    for n in 0..h.n_audio_layer {
        let (out, src) = (format!("encoder.blocks.{n}"), format!("encoder/layer_{n}"));
        p.self_attention(&out, &src, d);
        p.ffn(&out, &src, d);
    }
    p.layer_norm("encoder.ln_post", "encoder/layer_norm", d);

    let d = h.n_text_state;
    p.whole(
        "decoder.positional_embedding",
        "decoder/position_encodings/encodings",
        &[h.n_text_ctx, d],
        false,
    );
    p.whole(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
        &[h.n_vocab, d],
        true,
    );
    for n in 0..h.n_text_layer {
        let (out, src) = (format!("decoder.blocks.{n}"), format!("decoder/layer_{n}"));
        p.self_attention(&out, &src, d);
        p.cross_attention(&out, &src, d);
        p.ffn(&out, &src, d);
    }
    p.layer_norm("decoder.ln", "decoder/layer_norm", d);
    p.items
}

/// The number of tensors whisper.cpp allocates (and requires) for these hyperparameters.
pub(crate) fn expected_tensor_count(h: &Hparams) -> usize {
    // whisper_model_load: 7 encoder-wide, 15 per encoder block, 4 decoder-wide, 24 per
    // decoder block (15 + 9 for cross-attention).
    7 + 15 * h.n_audio_layer + 4 + 24 * h.n_text_layer
}

#[derive(Debug, Default)]
struct Planner {
    items: Vec<Item>,
}

impl Planner {
    fn push(
        &mut self,
        name: &str,
        shape: &[usize],
        source: &str,
        source_shape: &[usize],
        rows: (usize, usize),
        matrix: bool,
    ) {
        self.items.push(Item {
            name: name.to_owned(),
            shape: shape.to_vec(),
            source: source.to_owned(),
            source_shape: source_shape.to_vec(),
            rows,
            matrix,
        });
    }

    fn whole(&mut self, name: &str, source: &str, shape: &[usize], matrix: bool) {
        self.push(name, shape, source, shape, (0, shape[0]), matrix);
    }

    fn linear(&mut self, out: &str, src: &str, d_out: usize, d_in: usize) {
        self.whole(
            &format!("{out}.weight"),
            &format!("{src}/weight"),
            &[d_out, d_in],
            true,
        );
        self.whole(
            &format!("{out}.bias"),
            &format!("{src}/bias"),
            &[d_out],
            false,
        );
    }

    /// `parts` consecutive `d`-row blocks of a fused linear layer; block `k` becomes `out`.
    fn fused_part(&mut self, out: &str, src: &str, d: usize, parts: usize, k: usize, bias: bool) {
        let rows = (k * d, (k + 1) * d);
        self.push(
            &format!("{out}.weight"),
            &[d, d],
            &format!("{src}/weight"),
            &[parts * d, d],
            rows,
            true,
        );
        if bias {
            self.push(
                &format!("{out}.bias"),
                &[d],
                &format!("{src}/bias"),
                &[parts * d],
                rows,
                false,
            );
        }
    }

    fn layer_norm(&mut self, out: &str, src: &str, d: usize) {
        self.whole(
            &format!("{out}.weight"),
            &format!("{src}/gamma"),
            &[d],
            false,
        );
        self.whole(&format!("{out}.bias"), &format!("{src}/beta"), &[d], false);
    }

    fn self_attention(&mut self, out: &str, src: &str, d: usize) {
        let fused = format!("{src}/self_attention/linear_0");
        self.fused_part(&format!("{out}.attn.query"), &fused, d, 3, 0, true);
        self.fused_part(&format!("{out}.attn.key"), &fused, d, 3, 1, false);
        self.fused_part(&format!("{out}.attn.value"), &fused, d, 3, 2, true);
        self.linear(
            &format!("{out}.attn.out"),
            &format!("{src}/self_attention/linear_1"),
            d,
            d,
        );
        self.layer_norm(
            &format!("{out}.attn_ln"),
            &format!("{src}/self_attention/layer_norm"),
            d,
        );
    }

    fn cross_attention(&mut self, out: &str, src: &str, d: usize) {
        self.linear(
            &format!("{out}.cross_attn.query"),
            &format!("{src}/attention/linear_0"),
            d,
            d,
        );
        let fused = format!("{src}/attention/linear_1");
        self.fused_part(&format!("{out}.cross_attn.key"), &fused, d, 2, 0, false);
        self.fused_part(&format!("{out}.cross_attn.value"), &fused, d, 2, 1, true);
        self.linear(
            &format!("{out}.cross_attn.out"),
            &format!("{src}/attention/linear_2"),
            d,
            d,
        );
        self.layer_norm(
            &format!("{out}.cross_attn_ln"),
            &format!("{src}/attention/layer_norm"),
            d,
        );
    }

    fn ffn(&mut self, out: &str, src: &str, d: usize) {
        self.linear(
            &format!("{out}.mlp.0"),
            &format!("{src}/ffn/linear_0"),
            4 * d,
            d,
        );
        self.linear(
            &format!("{out}.mlp.2"),
            &format!("{src}/ffn/linear_1"),
            d,
            4 * d,
        );
        self.layer_norm(
            &format!("{out}.mlp_ln"),
            &format!("{src}/ffn/layer_norm"),
            d,
        );
    }
}

/// Checks every source exists with the expected shape before anything is written.
pub(crate) fn check_sources(model: &Ct2Model, items: &[Item]) -> Result<(), ConvertError> {
    for item in items {
        let shape = model.shape(&item.source)?;
        if shape != item.source_shape.as_slice() {
            return Err(shape_mismatch(
                &item.source,
                item.source_shape.clone(),
                shape.to_vec(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Hparams {
        Hparams {
            n_vocab: 51864,
            n_audio_ctx: 1500,
            n_audio_state: 384,
            n_audio_head: 6,
            n_audio_layer: 4,
            n_text_ctx: 448,
            n_text_state: 384,
            n_text_head: 6,
            n_text_layer: 4,
            n_mels: 80,
        }
    }

    #[test]
    fn plan_has_every_tensor_whisper_cpp_allocates_once() {
        let items = plan(&tiny());
        assert_eq!(items.len(), expected_tensor_count(&tiny()));
        assert_eq!(items.len(), 167);
        let mut names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), items.len());
        assert!(!names.iter().any(|n| n.ends_with("key.bias")));
    }

    #[test]
    fn fused_projections_split_by_rows() {
        let items = plan(&tiny());
        let find = |n: &str| items.iter().find(|i| i.name == n).unwrap();
        let v = find("encoder.blocks.0.attn.value.weight");
        assert_eq!(
            (v.source.as_str(), v.rows),
            (
                "encoder/layer_0/self_attention/linear_0/weight",
                (768, 1152)
            )
        );
        let k = find("decoder.blocks.3.cross_attn.key.weight");
        assert_eq!(
            (k.source.as_str(), k.rows),
            ("decoder/layer_3/attention/linear_1/weight", (0, 384))
        );
        let vb = find("decoder.blocks.3.cross_attn.value.bias");
        assert_eq!(
            (vb.rows, vb.source_shape.as_slice()),
            ((384, 768), &[768][..])
        );
        let conv_bias = find("encoder.conv2.bias");
        assert_eq!(
            (conv_bias.shape.as_slice(), conv_bias.matrix),
            (&[384, 1][..], false)
        );
    }
}
