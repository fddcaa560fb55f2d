//! The history's upkeep, shared by the CLI and the desktop: deleting an utterance with its
//! recording, and dropping recordings older than the user keeps them (`[history]
//! keep_audio_days`). Transcripts, plans and calls stay until the user deletes them.

use std::path::Path;

use anyhow::Result;
use sotto_store::{Store, UtteranceId};

/// Deletes the utterance, its plans and calls, and its recording. A recording that cannot be
/// deleted is a warning (returned), not a failure: the row is gone either way.
pub async fn delete(
    store: &Store,
    recordings_dir: &Path,
    id: UtteranceId,
) -> Result<Option<String>> {
    let audio = store.delete_utterance(id).await?;
    Ok(audio.and_then(|audio| remove_recording(&recordings_dir.join(audio)).err()))
}

/// What a pruning removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub recordings: usize,
    pub bytes: u64,
    /// Files that could not be deleted (they stay referenced and are tried again).
    pub problems: Vec<String>,
}

/// Deletes recordings older than `keep_days` days (0 keeps them forever). The file goes
/// first and then the reference, so a failure in between is repaired by the next pruning.
pub async fn prune_recordings(
    store: &Store,
    recordings_dir: &Path,
    keep_days: u32,
) -> Result<Pruned> {
    let mut pruned = Pruned::default();
    if keep_days == 0 {
        return Ok(pruned);
    }
    for (id, audio) in store.recordings_older_than(keep_days).await? {
        let path = recordings_dir.join(&audio);
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        match remove_recording(&path) {
            Ok(()) => {
                store.forget_recording(id).await?;
                pruned.recordings += 1;
                pruned.bytes += bytes;
            }
            Err(problem) => pruned.problems.push(problem),
        }
    }
    Ok(pruned)
}

/// Removes a recording; one already gone is fine.
fn remove_recording(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!(
            "could not delete the recording {}: {e}",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotto_store::{Input, NewUtterance};

    async fn utterance(store: &Store, dir: &Path, name: &str) -> UtteranceId {
        std::fs::write(dir.join(name), b"RIFF....WAVE").unwrap();
        store
            .record_utterance(&NewUtterance {
                input: Some(Input::Voice),
                audio_path: Some(name.to_string()),
                audio_ms: Some(1000),
                transcript: Some(format!("said {name}")),
                language: Some("en".into()),
                asr_model: Some("test".into()),
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn old_recordings_go_and_their_transcripts_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sotto.db")).await.unwrap();
        let recordings = dir.path().join("recordings");
        std::fs::create_dir_all(&recordings).unwrap();
        let old = utterance(&store, &recordings, "old.wav").await;
        let new = utterance(&store, &recordings, "new.wav").await;
        store.backdate(old, 40).await.unwrap();

        // 0 keeps everything.
        assert_eq!(
            prune_recordings(&store, &recordings, 0).await.unwrap(),
            Pruned::default()
        );
        let pruned = prune_recordings(&store, &recordings, 30).await.unwrap();
        assert_eq!(pruned.recordings, 1, "{pruned:?}");
        assert_eq!(pruned.bytes, 12);
        assert!(!recordings.join("old.wav").exists());
        assert!(recordings.join("new.wav").exists());
        let old_row = store.utterance(old).await.unwrap();
        assert_eq!(old_row.audio_path, None);
        assert_eq!(old_row.entry.transcript.as_deref(), Some("said old.wav"));
        assert!(store.utterance(new).await.unwrap().audio_path.is_some());
        // Nothing left to prune.
        assert_eq!(
            prune_recordings(&store, &recordings, 30)
                .await
                .unwrap()
                .recordings,
            0
        );
    }

    #[tokio::test]
    async fn a_missing_file_is_forgotten_and_delete_removes_the_row_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sotto.db")).await.unwrap();
        let gone = utterance(&store, dir.path(), "gone.wav").await;
        std::fs::remove_file(dir.path().join("gone.wav")).unwrap();
        store.backdate(gone, 40).await.unwrap();
        assert_eq!(
            prune_recordings(&store, dir.path(), 30)
                .await
                .unwrap()
                .recordings,
            1
        );
        assert_eq!(store.utterance(gone).await.unwrap().audio_path, None);

        let kept = utterance(&store, dir.path(), "kept.wav").await;
        assert_eq!(delete(&store, dir.path(), kept).await.unwrap(), None);
        assert!(!dir.path().join("kept.wav").exists());
        assert!(store.utterance(kept).await.is_err());
    }
}
