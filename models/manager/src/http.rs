//! Resumable HTTP downloads into a `.part` file.
//!
//! A download continues where the `.part` file ends (`Range: bytes=N-`), retries cut and
//! stalled connections a few times, and copes with servers that ignore ranges (200: start
//! over) or reject them (416: the part is stale, start over). Hashing is the caller's job:
//! this module only promises "the part file now holds what the server sent, in order".

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::FetchError;

/// How hard to try before giving up on one URL.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub attempts: u32,
    pub stall_timeout: Duration,
    pub backoff: Duration,
}

/// Downloads `url` into `part`, appending to what is already there. `expected_size`, when
/// known, stops a server that sends too much and lets a complete part skip the request.
/// `on_bytes` is told the part's length after every chunk.
pub(crate) async fn download(
    client: &reqwest::Client,
    url: &str,
    part: &Path,
    expected_size: Option<u64>,
    policy: &RetryPolicy,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<(), FetchError> {
    let mut last_error = None;
    for attempt in 0..policy.attempts {
        if attempt > 0 {
            tokio::time::sleep(policy.backoff * attempt).await;
        }
        match download_once(client, url, part, expected_size, policy, on_bytes).await {
            Ok(()) => return Ok(()),
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(e)) => {
                tracing::info!(url, attempt, error = %e, "download interrupted; resuming");
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| FetchError::Http {
        url: url.into(),
        message: "no attempt was made".into(),
    }))
}

enum Attempt {
    /// Worth trying again from where the part file ends.
    Retry(FetchError),
    /// Trying again cannot help (404, disk full, a server that sends too much).
    Fatal(FetchError),
}

async fn download_once(
    client: &reqwest::Client,
    url: &str,
    part: &Path,
    expected_size: Option<u64>,
    policy: &RetryPolicy,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<(), Attempt> {
    let io_error = |e: std::io::Error| Attempt::Fatal(FetchError::io(part, e));
    let have = match tokio::fs::metadata(part).await {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(io_error(e)),
    };
    if Some(have) == expected_size {
        on_bytes(have);
        return Ok(());
    }
    if expected_size.is_some_and(|size| have > size) {
        // Longer than the file can be: whatever wrote it was wrong; start over.
        tokio::fs::remove_file(part).await.map_err(io_error)?;
        return Box::pin(download_once(
            client,
            url,
            part,
            expected_size,
            policy,
            on_bytes,
        ))
        .await;
    }
    let http_error = |message: String| FetchError::Http {
        url: url.into(),
        message,
    };

    let mut request = client.get(url);
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let response = tokio::time::timeout(policy.stall_timeout, request.send())
        .await
        .map_err(|_| Attempt::Retry(http_error("the server did not answer".into())))?
        .map_err(|e| {
            // Nobody listening, or a name that does not resolve: retrying the same host will
            // not help; the next source might.
            let error = http_error(describe_reqwest(&e));
            if e.is_connect() {
                Attempt::Fatal(error)
            } else {
                Attempt::Retry(error)
            }
        })?;

    let status = response.status();
    let append = match status {
        StatusCode::PARTIAL_CONTENT => {
            let start = response
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range_start);
            if start != Some(have) {
                // The server answered a different range than we asked for; do not splice.
                tokio::fs::remove_file(part).await.map_err(io_error)?;
                return Err(Attempt::Retry(http_error(format!(
                    "server answered range {start:?} when asked for {have}-; restarting"
                ))));
            }
            true
        }
        StatusCode::OK => false,
        StatusCode::RANGE_NOT_SATISFIABLE => {
            tokio::fs::remove_file(part).await.map_err(io_error)?;
            return Err(Attempt::Retry(http_error(
                "server refused to resume (416); starting over".into(),
            )));
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => {
            return Err(Attempt::Fatal(http_error(format!("not found ({status})"))));
        }
        s if s.is_client_error() => {
            return Err(Attempt::Fatal(http_error(format!("refused ({status})"))));
        }
        s => return Err(Attempt::Retry(http_error(format!("server error ({s})")))),
    };

    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .await
        .map_err(io_error)?;
    let mut written = if append { have } else { 0 };
    on_bytes(written);
    let mut body = response.bytes_stream();
    loop {
        let next = tokio::time::timeout(policy.stall_timeout, body.next()).await;
        let chunk = match next {
            Err(_) => {
                flush(&mut file, part).await?;
                return Err(Attempt::Retry(http_error(format!(
                    "stalled: no data for {} s",
                    policy.stall_timeout.as_secs_f32()
                ))));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                flush(&mut file, part).await?;
                return Err(Attempt::Retry(http_error(describe_reqwest(&e))));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        written += chunk.len() as u64;
        if expected_size.is_some_and(|size| written > size) {
            drop(file);
            let _ = tokio::fs::remove_file(part).await;
            return Err(Attempt::Fatal(http_error(format!(
                "sent more than the expected {} bytes",
                expected_size.unwrap_or_default()
            ))));
        }
        file.write_all(&chunk).await.map_err(io_error)?;
        on_bytes(written);
    }
    flush(&mut file, part).await?;
    if let Some(size) = expected_size {
        if written < size {
            return Err(Attempt::Retry(http_error(format!(
                "connection closed after {written} of {size} bytes"
            ))));
        }
    }
    Ok(())
}

async fn flush(file: &mut tokio::fs::File, part: &Path) -> Result<(), Attempt> {
    file.flush()
        .await
        .map_err(|e| Attempt::Fatal(FetchError::io(part, e)))?;
    file.sync_data()
        .await
        .map_err(|e| Attempt::Fatal(FetchError::io(part, e)))
}

/// `bytes 100-199/200` -> 100.
fn content_range_start(value: &str) -> Option<u64> {
    value
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

pub(crate) fn describe_reqwest(e: &reqwest::Error) -> String {
    // reqwest's Display hides the cause ("error sending request"); the chain says why.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::content_range_start;

    #[test]
    fn content_range_start_is_parsed() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes 0-0/*"), Some(0));
        assert_eq!(content_range_start("items 1-2"), None);
        assert_eq!(content_range_start("bytes x-1/2"), None);
    }
}
