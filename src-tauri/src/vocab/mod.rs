//! The personal vocabulary language model: a small word trigram model of what this user says
//! to Sotto, built on this machine from what they have (their contacts, applications, note
//! titles, custom words, recent transcripts, and every tool's phrasings with those names put
//! in), for fusion into the speech decoder's beam search.
//!
//! Built with `sotto-ngram` (modified Kneser-Ney, order 3) into `<data>/vocab/personal.arpa`,
//! and only when its training sentences changed: their SHA-256 is kept beside it in
//! `personal.sha256`. The model is written to a temporary file and renamed over the old one,
//! and the hash only after that, so a crash or a full disk leaves the previous model whole
//! (at worst the next build redoes the work). Builds take an exclusive lock on
//! `<data>/vocab/build.lock`, so the desktop app and a command never interleave their files.
//!
//! ```text
//! gather(app) -> Sources -> corpus(&sources) -> Vec<String> -> build_at(dir, &sentences)
//! ```
//!
//! [`personal_model`] is what recognition calls: it builds if needed and returns the path,
//! with the glossary of names for Whisper's prompt.

pub mod base;
mod corpus;
mod profile;
mod sources;
mod template;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sotto_ngram::{estimate, tokenize, EstimateConfig};
use sotto_tools::ToolManifest;

use crate::app::App;

pub use corpus::{corpus, entity_class, replace_words, EntityClass, MAX_GENERATED};
pub use profile::profile_models;
pub use sources::{applications, contacts, gather, note_titles, HISTORY_TRANSCRIPTS};

/// The personal model's order.
pub const ORDER: usize = 3;
/// Changes whenever the way sentences become a model changes, so old models are rebuilt.
const FORMAT: &str = "sotto personal vocabulary model 1: order 3, modified Kneser-Ney";

/// What one tool contributes: its examples and templates, and the argument schema that
/// types their slots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolPhrases {
    /// The tool's name; it tells what a bare `name` or `title` argument names.
    pub tool: String,
    pub args_schema: Value,
    /// `(utterance, arguments)` pairs.
    pub examples: Vec<(String, Value)>,
    /// Fast-path templates (`set a timer for {minutes} minutes`).
    pub templates: Vec<String>,
}

impl ToolPhrases {
    pub fn from_manifest(manifest: &ToolManifest) -> ToolPhrases {
        ToolPhrases {
            tool: manifest.name.clone(),
            args_schema: manifest.args_schema.clone(),
            examples: manifest
                .examples
                .iter()
                .map(|e| (e.utterance.clone(), e.args.clone()))
                .collect(),
            templates: manifest.templates.clone(),
        }
    }
}

/// Everything the personal model is made from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// Every tool Sotto can call, built-in or plugin.
    pub tools: Vec<ToolPhrases>,
    /// People's names and nicknames from the contacts folder.
    pub contacts: Vec<String>,
    /// Installed applications' names.
    pub apps: Vec<String>,
    pub note_titles: Vec<String>,
    /// The newest transcripts in the history.
    pub history: Vec<String>,
    /// `speech.vocabulary`: words and phrases the user added.
    pub custom: Vec<String>,
}

impl Sources {
    /// The tools' phrasings from their manifests, no entities yet (an evaluation fills them
    /// with a made-up user's).
    pub fn from_manifests(manifests: &[ToolManifest]) -> Sources {
        Sources {
            tools: manifests.iter().map(ToolPhrases::from_manifest).collect(),
            ..Sources::default()
        }
    }

    /// How many tool examples there are over all tools.
    pub fn tool_examples(&self) -> usize {
        self.tools.iter().map(|t| t.examples.len()).sum()
    }
}

/// What a build did.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The ARPA file.
    pub path: PathBuf,
    /// Training sentences and their words (after `sotto_ngram::tokenize`).
    pub sentences: usize,
    pub words: usize,
    /// N-grams per order, unigrams first.
    pub ngrams: Vec<usize>,
    /// The file's size in bytes.
    pub bytes: u64,
    /// False when the sentences had not changed and the file was left as it was.
    pub rebuilt: bool,
    /// The whole build, gathering the sources included.
    pub elapsed_ms: u64,
}

/// Where the personal model and its hash live: `<data>/vocab`.
pub fn model_dir(app: &App) -> PathBuf {
    app.settings.dirs.data.join("vocab")
}

/// Gathers the sources and builds the model when its sentences changed (always with `force`).
pub async fn build(app: &App, force: bool) -> Result<Built> {
    let started = Instant::now();
    let mut built = build_from(app, &gather(app).await, force).await?;
    built.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(built)
}

/// The personal model's ARPA file, built first if its sources changed, and the glossary
/// recognition prompts with alongside it.
pub async fn personal_model(app: &App) -> Result<Personal> {
    let sources = gather(app).await;
    let built = build_from(app, &sources, false).await?;
    Ok(Personal {
        model: built.path,
        glossary: glossary(&sources),
        names: spoken_names(&sources),
    })
}

async fn build_from(app: &App, sources: &Sources, force: bool) -> Result<Built> {
    let sentences = corpus(sources);
    let dir = model_dir(app);
    tokio::task::spawn_blocking(move || build_at(&dir, &sentences, force))
        .await
        .context("the personal model's build stopped")?
}

/// What fused recognition uses of the user's vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Personal {
    /// The personal n-gram model (ARPA).
    pub model: PathBuf,
    /// Names to spell out in Whisper's prompt, most wanted first (see [`glossary`]).
    pub glossary: Vec<String>,
    /// The names gated fusion listens for (see [`spoken_names`]).
    pub names: Vec<String>,
}

/// The user's words that Whisper should see spelled before it hears them, most wanted first:
/// the words the user added, then contacts, applications and note titles. Measured on the
/// names set (tiny.en, beam 4): the glossary prompt is what turns "Rashi the Hana" into
/// "Rashida Haddad"; the n-gram model alone moved names-tune 68.9% -> 54.3%, the glossary
/// with Sotto's beam 68.9% -> 41.1%, both together 35.1%. Whisper's prompt holds about 150
/// tokens, so a long contact list is cut (the prompt builder stops at its budget).
pub fn glossary(sources: &Sources) -> Vec<String> {
    sources
        .custom
        .iter()
        .chain(&sources.contacts)
        .chain(&sources.apps)
        .chain(&sources.note_titles)
        .cloned()
        .collect()
}

/// The names a transcript may have misheard, for gated fusion: the [`glossary`], then each
/// word of the contacts' names, since people are called by their first name alone ("call
/// Xavier") and written by their surname.
pub fn spoken_names(sources: &Sources) -> Vec<String> {
    let mut names = glossary(sources);
    for contact in &sources.contacts {
        let words: Vec<&str> = contact.split_whitespace().collect();
        if words.len() > 1 {
            names.extend(words.iter().map(|w| w.to_string()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(name.to_lowercase()));
    names
}

/// Builds `dir/personal.arpa` from `sentences` unless `dir/personal.sha256` says it already
/// holds exactly them (or `force`). Blocking: estimation takes a CPU for a moment.
pub fn build_at(dir: &Path, sentences: &[String], force: bool) -> Result<Built> {
    let started = Instant::now();
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the vocabulary folder {}", dir.display()))?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("build.lock"))
        .with_context(|| format!("cannot open {}", dir.join("build.lock").display()))?;
    fs4::fs_std::FileExt::lock_exclusive(&lock)
        .with_context(|| format!("cannot lock {}", dir.join("build.lock").display()))?;

    let path = dir.join("personal.arpa");
    let hash_file = dir.join("personal.sha256");
    let hash = corpus_hash(sentences);
    let tokenized: Vec<Vec<String>> = sentences
        .iter()
        .map(|s| tokenize(s))
        .filter(|words| !words.is_empty())
        .collect();
    let words = tokenized.iter().map(Vec::len).sum();
    let unchanged = !force
        && std::fs::read_to_string(&hash_file).is_ok_and(|h| h.trim() == hash)
        && path.is_file();
    if unchanged {
        if let Ok(ngrams) = arpa_counts(&path) {
            return Ok(Built {
                bytes: file_size(&path),
                path,
                sentences: sentences.len(),
                words,
                ngrams,
                rebuilt: false,
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
        }
        // A file whose header does not read is rebuilt below.
    }
    if words == 0 {
        anyhow::bail!("nothing to build the personal model from: no sentence has a word");
    }
    let model = estimate(&tokenized, &EstimateConfig::new(ORDER))
        .context("cannot estimate the personal model")?
        .model;
    write_atomically(&path, |out| model.write_arpa(out)).with_context(|| {
        format!(
            "cannot write the personal model {}; the previous one, if any, is kept",
            path.display()
        )
    })?;
    write_atomically(&hash_file, |out| writeln!(out, "{hash}")).with_context(|| {
        format!(
            "wrote the personal model {} but not its hash {}; it will be rebuilt next time",
            path.display(),
            hash_file.display()
        )
    })?;
    Ok(Built {
        bytes: file_size(&path),
        path,
        sentences: sentences.len(),
        words,
        ngrams: model.counts(),
        rebuilt: true,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// SHA-256 (hex) of the sentences, one a line, after a line naming the build's format.
pub fn corpus_hash(sentences: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT.as_bytes());
    for sentence in sentences {
        hasher.update(b"\n");
        hasher.update(sentence.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Writes `path` through a temporary file in its folder, synced and renamed over it: the
/// file is either the old one or the whole new one.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".personal-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut out = BufWriter::new(temp.as_file());
        write(&mut out)?;
        out.flush()?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The n-gram counts in an ARPA file's `\data\` header, without reading the rest.
fn arpa_counts(path: &Path) -> Result<Vec<usize>> {
    let file = std::fs::File::open(path)?;
    let mut counts = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line?;
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("ngram ") {
            let (_, count) = rest
                .split_once('=')
                .with_context(|| format!("bad ARPA header line {line:?}"))?;
            counts.push(count.trim().parse()?);
        } else if line.starts_with("\\1-grams") {
            break;
        }
    }
    anyhow::ensure!(!counts.is_empty(), "no n-gram counts in {}", path.display());
    Ok(counts)
}

#[cfg(test)]
mod tests;
