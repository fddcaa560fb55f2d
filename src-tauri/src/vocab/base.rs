//! The general-English base model the personal model is mixed with: CMU's US English trigram
//! model from Debian's `pocketsphinx-en-us` (BSD licence; `.ci/setup` installs it), pruned
//! once into `<data>/vocab/base.arpa`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sotto_ngram::{prune_entropy, Model};

use crate::app::App;

/// Where Debian puts the model.
pub const SPHINX_EN_US: &str = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";

/// Entropy-pruning threshold: 3.8M n-grams (226 MB in memory) down to about 305k (19 MB),
/// which the speech worker can hold; perplexity on Asterisk prompts 337 -> 497.
const PRUNE_THRESHOLD: f64 = 1.1e-6;

/// The base model's ARPA file: made the first time it is asked for (about 3 s) when the
/// Debian model is installed; `None` when it is not.
pub fn installed(app: &App) -> Result<Option<PathBuf>> {
    let target = super::model_dir(app).join("base.arpa");
    if target.is_file() {
        return Ok(Some(target));
    }
    let source = Path::new(SPHINX_EN_US);
    if !source.is_file() {
        return Ok(None);
    }
    convert(source, &target)?;
    Ok(Some(target))
}

/// Reads, prunes and writes atomically (a temporary file renamed into place).
fn convert(source: &Path, target: &Path) -> Result<()> {
    let model = Model::read_sphinx_trie_file(source)
        .with_context(|| format!("cannot read the base language model {}", source.display()))?;
    let pruned = prune_entropy(&model, PRUNE_THRESHOLD);
    drop(model);
    let dir = target.parent().context("the base model has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = target.with_extension("arpa.partial");
    pruned
        .write_arpa_file(&partial)
        .and_then(|()| std::fs::rename(&partial, target))
        .with_context(|| {
            let _ = std::fs::remove_file(&partial);
            format!(
                "cannot write the base language model to {} (is the disk full?)",
                target.display()
            )
        })?;
    Ok(())
}
