//! The personal model of a made-up user, for measuring fusion: the same tools' phrasings as
//! the real user's model, filled with the profile's contacts, applications, notes and words.
//! Nothing from the commands that are then spoken goes in.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::app::App;
use crate::speech_sets::Profile;

use super::{build_at, corpus, glossary, spoken_names, Sources};

/// The models and glossary of a made-up user.
#[derive(Debug)]
pub struct ProfileModels {
    /// The personal model, then the general-English base when asked for and installed.
    pub models: Vec<PathBuf>,
    pub glossary: Vec<String>,
    /// What gated fusion listens for ([`spoken_names`]).
    pub names: Vec<String>,
}

/// Builds `profile`'s personal model in `dir`, with the general-English base after it when
/// `with_base` and it is installed, and the profile's glossary.
pub async fn profile_models(
    app: &App,
    profile: &Profile,
    dir: &Path,
    with_base: bool,
) -> Result<ProfileModels> {
    let toolbox = crate::plugins::toolbox(app)
        .await
        .context("cannot list the tools for the evaluation's personal model")?;
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let sources = Sources {
        contacts: owned(profile.contacts),
        apps: owned(profile.apps),
        note_titles: owned(profile.note_titles),
        custom: owned(profile.jargon),
        ..Sources::from_manifests(&toolbox.manifests())
    };
    let sentences = corpus(&sources);
    let built = build_at(&dir.join("profile-vocab"), &sentences, true)?;
    let mut models = vec![built.path];
    if with_base {
        models.extend(super::base::installed(app)?);
    }
    Ok(ProfileModels {
        models,
        glossary: glossary(&sources),
        names: spoken_names(&sources),
    })
}
