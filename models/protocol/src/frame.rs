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
    let mut line = serde_json::to_vec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if line.len() > MAX_FRAME {
        return Err(FrameError::TooLong);
    }
    line.push(b'\n');
    out.write_all(&line).await?;
    out.flush().await?;
    Ok(())
}

/// Reads one message; a line over the limit is refused without being held in memory whole.
pub async fn read<R: AsyncBufRead + Unpin, T: DeserializeOwned>(
    input: &mut R,
) -> Result<T, FrameError> {
    let mut line = Vec::new();
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Err(if line.is_empty() {
                FrameError::Closed
            } else {
                FrameError::Malformed("truncated message".into())
            });
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (&available[..end], Some(end + 1)),
            None => (available, None),
        };
        if line.len() + chunk.len() > MAX_FRAME {
            return Err(FrameError::TooLong);
        }
        line.extend_from_slice(chunk);
        let consumed = done.unwrap_or(chunk.len());
        input.consume(consumed);
        if done.is_some() {
            break;
        }
    }
    serde_json::from_slice(&line).map_err(|e| {
        let preview = String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned();
        FrameError::Malformed(format!("{e} in {preview:?}"))
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
}
