//! The general-English base model the personal model is mixed with.

use std::path::PathBuf;

use anyhow::Result;

use crate::app::App;

/// The base model's ARPA file when one is installed.
pub fn installed(app: &App) -> Result<Option<PathBuf>> {
    let path = super::model_dir(app).join("base.arpa");
    Ok(path.is_file().then_some(path))
}
