//! Line-delimited JSON frames with a size limit, over any async reader and writer.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::MAX_FRAME;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the other side closed the connection")]
    Closed,
    #[error("a message longer than {MAX_FRAME} bytes")]
    TooLong,
    #[error("a malformed message: {0}")]
    Malformed(String),
    #[error("i/o error on the worker pipe: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes one message as one line and flushes it.
pub async fn write<W: AsyncWrite + Unpin, T: Serialize>(
    out: &mut W,
    message: &T,
) -> Result<(), FrameError> {
    let line = encode(message)?;
    out.write_all(&line).await?;
    out.flush().await?;
    Ok(())
}

/// Reads one message; a line over the limit is refused without being held in memory whole.
pub async fn read<R: AsyncBufRead + Unpin, T: DeserializeOwned>(
    input: &mut R,
) -> Result<T, FrameError> {
    read_resumable(input, &mut Vec::new()).await
}

/// [`read`] that keeps the part of a line read so far in `partial`, so that dropping the
/// future (a `select!` branch that lost) loses nothing: the next call goes on from there.
pub async fn read_resumable<R: AsyncBufRead + Unpin, T: DeserializeOwned>(
    input: &mut R,
    partial: &mut Vec<u8>,
) -> Result<T, FrameError> {
    loop {
        // The only await point; nothing is consumed before it returns.
        let available = input.fill_buf().await?;
        let step = take_line(available, partial);
        let consumed = match step {
            Ok(Step::More(consumed)) | Ok(Step::Line(consumed)) => consumed,
            Err(_) => 0,
        };
        input.consume(consumed);
        match step {
            Ok(Step::More(_)) => continue,
            Ok(Step::Line(_)) => return decode(&std::mem::take(partial)),
            Err(e) => {
                partial.clear();
                return Err(e);
            }
        }
    }
}

/// [`write`] for a blocking writer (a worker that does its own threading).
pub fn write_blocking<W: std::io::Write, T: Serialize>(
    out: &mut W,
    message: &T,
) -> Result<(), FrameError> {
    let line = encode(message)?;
    out.write_all(&line)?;
    out.flush()?;
    Ok(())
}

/// [`read`] for a blocking reader.
pub fn read_blocking<R: std::io::BufRead, T: DeserializeOwned>(
    input: &mut R,
) -> Result<T, FrameError> {
    let mut line = Vec::new();
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        match take_line(available, &mut line)? {
            Step::More(consumed) => input.consume(consumed),
            Step::Line(consumed) => {
                input.consume(consumed);
                return decode(&line);
            }
        }
    }
}

fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let mut line = serde_json::to_vec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if line.len() > MAX_FRAME {
        return Err(FrameError::TooLong);
    }
    line.push(b'\n');
    Ok(line)
}

fn decode<T: DeserializeOwned>(line: &[u8]) -> Result<T, FrameError> {
    serde_json::from_slice(line).map_err(|e| {
        let preview = String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned();
        FrameError::Malformed(format!("{e} in {preview:?}"))
    })
}

/// How much of a reader's buffer one step of line reading used.
enum Step {
    /// The line goes on; consume this much and read again.
    More(usize),
    /// The line is complete in `line`; consume this much (its newline included).
    Line(usize),
}

/// Moves the bytes of `available` up to the first newline into `line`.
fn take_line(available: &[u8], line: &mut Vec<u8>) -> Result<Step, FrameError> {
    if available.is_empty() {
        return Err(if line.is_empty() {
            FrameError::Closed
        } else {
            FrameError::Malformed("truncated message".into())
        });
    }
    let newline = available.iter().position(|&b| b == b'\n');
    let chunk = &available[..newline.unwrap_or(available.len())];
    if line.len() + chunk.len() > MAX_FRAME {
        return Err(FrameError::TooLong);
    }
    line.extend_from_slice(chunk);
    Ok(match newline {
        Some(end) => Step::Line(end + 1),
        None => Step::More(chunk.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_bad_ones_are_named() {
        let mut buffer = Vec::new();
        write(&mut buffer, &serde_json::json!({"a": "line\nbreak"}))
            .await
            .unwrap();
        write(&mut buffer, &serde_json::json!([1, 2]))
            .await
            .unwrap();
        buffer.extend_from_slice(b"{not json}\n{\"half\":");
        let mut reader = tokio::io::BufReader::new(&buffer[..]);
        let first: serde_json::Value = read(&mut reader).await.unwrap();
        assert_eq!(first["a"], "line\nbreak");
        let second: Vec<u8> = read(&mut reader).await.unwrap();
        assert_eq!(second, [1, 2]);
        assert!(matches!(
            read::<_, serde_json::Value>(&mut reader).await,
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            read::<_, serde_json::Value>(&mut reader).await,
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            read::<_, serde_json::Value>(&mut reader).await,
            Err(FrameError::Closed)
        ));
    }

    #[tokio::test]
    async fn an_endless_line_is_refused() {
        let huge = vec![b'x'; MAX_FRAME + 10];
        let mut reader = tokio::io::BufReader::new(&huge[..]);
        assert!(matches!(
            read::<_, serde_json::Value>(&mut reader).await,
            Err(FrameError::TooLong)
        ));
    }

    #[test]
    fn blocking_frames_round_trip_and_bad_ones_are_named() {
        let mut buffer = Vec::new();
        write_blocking(&mut buffer, &serde_json::json!({"a": "line\nbreak"})).unwrap();
        buffer.extend_from_slice(b"{not json}\n{\"half\":");
        let mut reader = std::io::BufReader::with_capacity(4, &buffer[..]);
        let first: serde_json::Value = read_blocking(&mut reader).unwrap();
        assert_eq!(first["a"], "line\nbreak");
        assert!(matches!(
            read_blocking::<_, serde_json::Value>(&mut reader),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            read_blocking::<_, serde_json::Value>(&mut reader),
            Err(FrameError::Malformed(m)) if m.contains("truncated")
        ));
        assert!(matches!(
            read_blocking::<_, serde_json::Value>(&mut reader),
            Err(FrameError::Closed)
        ));
    }

    #[tokio::test]
    async fn a_read_dropped_halfway_loses_nothing() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let mut reader = tokio::io::BufReader::new(reader);
        let mut partial = Vec::new();
        writer.write_all(b"{\"token\": \"hel").await.unwrap();
        let dropped = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            read_resumable::<_, serde_json::Value>(&mut reader, &mut partial),
        )
        .await;
        assert!(dropped.is_err(), "nothing complete to read yet");
        writer.write_all(b"lo\"}\n").await.unwrap();
        let value: serde_json::Value = read_resumable(&mut reader, &mut partial).await.unwrap();
        assert_eq!(value["token"], "hello");
        assert!(partial.is_empty());
    }
}
