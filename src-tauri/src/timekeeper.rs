//! Rings timers and reminders while Sotto runs: the interactive session, `sotto timers watch`
//! and (later) the desktop app each keep one going.
//!
//! Timers are files (`<data>/timers/N.json`, written by the tools), so they survive restarts;
//! a timer that came due while nothing was running rings at the next start. Several Sotto
//! processes may run at once, so ringing is single-instance: the process holding an exclusive
//! lock on `<data>/timers.lock` rings, and the others check now and then whether it has gone
//! (the lock is released when its holder exits, even by a crash). The folder is polled
//! rather than watched: another process adds timers at any moment, a listing of a few files
//! every second costs nothing, and a poll needs no inotify and no platform code.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fs4::fs_std::FileExt;
use sotto_builtins::{fire_due, Timer, NOTIFIER};
use sotto_sandbox::{HostEnv, Launcher, ProgramRule, ScopedDir};
use tokio_util::sync::CancellationToken;

/// How often the folder is looked at: a timer rings at most this late.
const TICK: Duration = Duration::from_secs(1);
/// After a failure to ring (no notifier, no session bus), wait before trying again so a
/// broken desktop is not hammered; the timer stays until it was shown.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);
/// How often a process that does not hold the lock checks whether it is free.
const LOCK_RETRY: Duration = Duration::from_secs(5);

/// What the timekeeper reports to whoever runs it (the terminal, the desktop shell).
#[derive(Debug)]
pub enum TimeEvent {
    /// This process rings the timers from now on.
    Ringing,
    /// Another Sotto process rings them; this one waits in case it stops.
    OtherProcessRings,
    Rang(Timer),
    /// Ringing failed; the timer is kept and tried again.
    Failed(String),
}

/// Where timers are and how notifications are shown.
#[derive(Debug, Clone)]
pub struct Timekeeper {
    pub data_dir: PathBuf,
    pub env: HostEnv,
}

impl Timekeeper {
    pub fn lock_file(data_dir: &Path) -> PathBuf {
        data_dir.join("timers.lock")
    }

    /// Whether some process is ringing timers now (it holds the lock).
    pub fn someone_rings(data_dir: &Path) -> bool {
        match File::open(Self::lock_file(data_dir)) {
            Ok(file) => match FileExt::try_lock_shared(&file) {
                Ok(true) => {
                    let _ = FileExt::unlock(&file);
                    false
                }
                Ok(false) => true,
                Err(_) => false,
            },
            Err(_) => false,
        }
    }

    fn try_lock(&self) -> Option<File> {
        std::fs::create_dir_all(&self.data_dir).ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(Self::lock_file(&self.data_dir))
            .ok()?;
        matches!(FileExt::try_lock_exclusive(&file), Ok(true)).then_some(file)
    }

    /// Rings due timers until `stop`, reporting each ring to `on_event`. With `once`, rings
    /// what is due now and returns.
    pub async fn run(
        &self,
        stop: CancellationToken,
        once: bool,
        mut on_event: impl FnMut(TimeEvent),
    ) -> anyhow::Result<()> {
        let launcher = Launcher::new(self.env.clone(), ProgramRule::Named(vec![NOTIFIER.into()]));
        let timers = ScopedDir::create(&self.data_dir.join("timers"))?;
        let mut lock = None;
        let mut told_other = false;
        loop {
            if lock.is_none() {
                lock = self.try_lock();
                match (&lock, told_other) {
                    (Some(_), _) => on_event(TimeEvent::Ringing),
                    (None, false) => {
                        on_event(TimeEvent::OtherProcessRings);
                        told_other = true;
                    }
                    (None, true) => {}
                }
            }
            let wait = if lock.is_none() {
                LOCK_RETRY
            } else {
                match fire_due(&timers, &launcher, jiff::Timestamp::now()).await {
                    Ok(rang) => {
                        rang.into_iter().for_each(|t| on_event(TimeEvent::Rang(t)));
                        TICK
                    }
                    Err(error) => {
                        on_event(TimeEvent::Failed(error.to_string()));
                        RETRY_AFTER_FAILURE
                    }
                }
            };
            if once {
                return Ok(());
            }
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// One line for the terminal about a timer that rang.
pub fn describe(timer: &Timer) -> String {
    let late = jiff::Timestamp::now().duration_since(timer.due_at);
    let what = match &timer.label {
        Some(label) => label.clone(),
        None => format!("timer {}", timer.id),
    };
    if late > jiff::SignedDuration::from_secs(60) {
        let due = timer
            .due_at
            .to_zoned_datetime(jiff::tz::TimeZone::system())
            .strftime("%H:%M");
        format!("Time is up: {what} (it was due at {due}, while Sotto was not running)")
    } else {
        format!("Time is up: {what}")
    }
}
