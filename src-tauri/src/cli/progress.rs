//! Drawing the model manager's progress events in a terminal. When stderr is not a terminal
//! (scripts, CI logs) indicatif hides the bar and only the one-line messages remain.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use sotto_models::{FetchEvent, Stage};

/// Turns [`FetchEvent`]s into one progress bar per stage.
#[derive(Debug)]
pub struct TerminalProgress {
    // The manager calls from whichever task is running; a std Mutex is enough because the
    // lock is never held across an await.
    state: Mutex<Option<(Stage, ProgressBar)>>,
}

impl TerminalProgress {
    pub fn new() -> TerminalProgress {
        TerminalProgress {
            state: Mutex::new(None),
        }
    }

    pub fn handle(&self, event: FetchEvent) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            FetchEvent::SourceStarted {
                model,
                source,
                index,
                count,
            } => {
                finish(&mut state);
                eprintln!("{model}: trying source {index}/{count}: {source}");
            }
            FetchEvent::Progress {
                stage, done, total, ..
            } => {
                let bar = match &*state {
                    Some((current, bar)) if *current == stage => bar.clone(),
                    _ => {
                        finish(&mut state);
                        let bar = new_bar(stage, total);
                        *state = Some((stage, bar.clone()));
                        bar
                    }
                };
                if let Some(total) = total {
                    bar.set_length(total);
                }
                bar.set_position(done);
            }
            FetchEvent::SourceFailed {
                model,
                source,
                error,
            } => {
                finish(&mut state);
                eprintln!("{model}: {source} failed: {error}");
            }
            FetchEvent::Installed {
                model,
                path,
                bytes,
                source,
            } => {
                finish(&mut state);
                eprintln!(
                    "{model}: installed {} from {source} at {}",
                    sotto_models::human_bytes(bytes),
                    path.display()
                );
            }
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        TerminalProgress::new()
    }
}

fn finish(state: &mut Option<(Stage, ProgressBar)>) {
    if let Some((_, bar)) = state.take() {
        bar.finish_and_clear();
    }
}

fn new_bar(stage: Stage, total: Option<u64>) -> ProgressBar {
    let label = match stage {
        Stage::Download => "downloading",
        Stage::Unpack => "unpacking",
        Stage::Verify => "verifying",
    };
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(label);
    bar
}
