//! The app's side of the engine workers: finding their executables, preparing their models,
//! and keeping them supervised. Only this module knows the workers are separate processes.

pub mod asr;
pub mod lm;
pub mod text;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The machine's cores, taken in turn by speech decodes and by speculative work (priming the
/// planner on a partial transcript while the person still speaks). whisper.cpp and llama.cpp
/// each use every core, and their threads wait for each other by spinning: the two at once
/// are far slower than one after the other (measured in `sotto bench e2e`'s primed session:
/// 150 ms decodes took seconds). A speech decode that wants the cores asks the speculative
/// work holding them to stop ([`Cores::speech_wants_them`]), which it does within one small
/// chunk, keeping what it did. Plans themselves do not take turns: they follow the final
/// transcript, and a plan's steps may ask the text model for a summary while it streams.
pub(crate) struct Cores {
    turn: tokio::sync::Mutex<()>,
    speech_waiting: AtomicUsize,
    speech_arrived: tokio::sync::Notify,
}

pub(crate) static CORES: Cores = Cores::new();

impl Cores {
    const fn new() -> Cores {
        Cores {
            turn: tokio::sync::Mutex::const_new(()),
            speech_waiting: AtomicUsize::new(0),
            speech_arrived: tokio::sync::Notify::const_new(),
        }
    }

    /// The cores for a speech decode, once speculative work holding them has stopped.
    pub(crate) async fn for_speech(&self) -> tokio::sync::MutexGuard<'_, ()> {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.speech_waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.speech_waiting);
        self.speech_arrived.notify_waiters();
        self.turn.lock().await
    }

    /// The cores for speculative work, which must stop when [`Cores::speech_wants_them`];
    /// `None` while a speech decode has them or waits for them. Speculation never waits: by
    /// the time a decode is done, what it was to prepare for is stale (the decode is a newer
    /// partial or the final transcript).
    pub(crate) fn for_speculation(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if self.speech_waiting.load(Ordering::SeqCst) > 0 {
            return None;
        }
        self.turn.try_lock().ok()
    }

    /// Completes when a speech decode is waiting for the cores.
    pub(crate) async fn speech_wants_them(&self) {
        loop {
            let arrived = self.speech_arrived.notified();
            tokio::pin!(arrived);
            // Registered before the check, so a decode arriving in between is not missed.
            arrived.as_mut().enable();
            if self.speech_waiting.load(Ordering::SeqCst) > 0 {
                return;
            }
            arrived.await;
        }
    }
}

/// The executable for worker `name`: `$SOTTO_<NAME>_WORKER` if set (tests, packaging), else
/// the file next to the running `sotto` (how cargo builds them and how packages install them).
pub fn worker_program(name: &str) -> PathBuf {
    let variable = format!(
        "SOTTO_{}_WORKER",
        name.trim_start_matches("sotto-").to_uppercase()
    );
    if let Some(path) = std::env::var_os(&variable).filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().ok();
    let beside = exe
        .as_deref()
        .and_then(|e| e.parent())
        .map(|dir| dir.join(name));
    beside.unwrap_or_else(|| PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Speculative work holding the cores hears when a speech decode wants them, and the
    /// decode gets them as soon as it lets go; with no decode waiting it is left alone.
    #[tokio::test]
    async fn a_speech_decode_asks_speculation_to_stop_and_gets_the_cores_next() {
        let cores = Cores::new();
        let speculation = cores.for_speculation().expect("the cores are free");
        assert!(cores.for_speculation().is_none(), "taken");
        let quiet = tokio::time::timeout(Duration::from_millis(50), cores.speech_wants_them());
        assert!(quiet.await.is_err(), "no decode waits: speculation goes on");

        let decode = async {
            let _turn = cores.for_speech().await;
            "decoded"
        };
        let speculate = async {
            cores.speech_wants_them().await;
            drop(speculation);
            "stopped"
        };
        let both = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(decode, speculate)
        });
        assert_eq!(both.await.unwrap(), ("decoded", "stopped"));
        assert_eq!(cores.speech_waiting.load(Ordering::SeqCst), 0);

        // Speculation never waits for a decode: it would be stale by the time it ran.
        let decoding = cores.for_speech().await;
        assert!(cores.for_speculation().is_none());
        drop(decoding);

        // A decode that gave up waiting is no longer counted.
        let held = cores.for_speculation().expect("the cores are free again");
        let gave_up = tokio::time::timeout(Duration::from_millis(20), cores.for_speech()).await;
        assert!(gave_up.is_err());
        assert_eq!(cores.speech_waiting.load(Ordering::SeqCst), 0);
        drop(held);
    }
}
