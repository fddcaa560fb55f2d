//! `sotto` with no command: get ready (history database, recommended models), say what is
//! ready and what is not, then take commands line by line — from a line editor on a terminal,
//! or from stdin when piped, so the session can be scripted and tested.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use sotto_models::InstallState;

use super::{models, Cli, Command};
use crate::app::App;

const HELP: &str = "\
Type a command as you would after `sotto`, for example:
  models list | models recommend | models fetch <id> | models verify
  history list | history show <id> | history delete <id>
  config show | tools list | plan <request> | do <request>
  help, quit
Anything else is a request (\"set a timer for ten minutes\"): Sotto plans it, asks before
anything it should not do unasked, and does it. The first request loads the planner.";

pub async fn run(app: &App) -> Result<ExitCode> {
    println!(
        "Sotto {} — private voice assistant",
        env!("CARGO_PKG_VERSION")
    );
    println!("data: {}", app.settings.dirs.data.display());
    let history_ok = match app.store().await {
        Ok(store) => {
            let days = app.settings.config.history.keep_audio_days;
            match crate::history::prune_recordings(store, &app.settings.recordings_dir, days).await
            {
                Ok(pruned) => pruned
                    .problems
                    .iter()
                    .for_each(|p| eprintln!("warning: {p}")),
                Err(e) => eprintln!("warning: old recordings were not deleted: {e:#}"),
            }
            let count = store
                .history(i64::MAX, None)
                .await
                .map(|h| h.len())
                .unwrap_or(0);
            println!("history: {} ({count} utterances)", store.path().display());
            true
        }
        Err(error) => {
            eprintln!("history unavailable: {error:#}");
            false
        }
    };
    prepare_models(app).await;
    if !history_ok {
        eprintln!("(history commands will fail until the database problem above is fixed)");
    }
    println!("\n{HELP}\n");
    // Timers and reminders ring while the session is open (printed here, and shown as
    // desktop notifications).
    let keeper = crate::timekeeper::Timekeeper {
        data_dir: app.settings.dirs.data.clone(),
        env: sotto_sandbox::HostEnv::from_process(),
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let ringing = tokio::spawn({
        let stop = stop.clone();
        async move {
            let result = keeper
                .run(stop, false, |event| {
                    use crate::timekeeper::TimeEvent;
                    match event {
                        TimeEvent::Rang(timer) => {
                            println!("\n{}", crate::timekeeper::describe(&timer))
                        }
                        TimeEvent::Failed(error) => {
                            eprintln!("\ncannot ring a timer (kept; trying again): {error}")
                        }
                        TimeEvent::Ringing | TimeEvent::OtherProcessRings => {}
                    }
                })
                .await;
            if let Err(error) = result {
                eprintln!("timers will not ring in this session: {error:#}");
            }
        }
    });
    let outcome = read_commands(app).await;
    stop.cancel();
    let _ = ringing.await;
    outcome
}

/// Makes sure the recommended models are installed, fetching them when `auto_fetch` allows.
/// Failures are reported with advice; the session goes on either way.
async fn prepare_models(app: &App) {
    let ids = match models::recommended_ids(app).await {
        Ok(ids) => ids,
        Err(error) => {
            eprintln!("cannot choose models: {error:#}");
            return;
        }
    };
    let mut missing = Vec::new();
    for id in &ids {
        let Ok(model) = app.models.model(id) else {
            continue;
        };
        let state = app.models.state(model);
        println!(
            "model for {:<8} {id} ({})",
            model.task.as_str(),
            if state == InstallState::Installed {
                "ready"
            } else {
                "not installed"
            }
        );
        if state != InstallState::Installed {
            missing.push(id.clone());
        }
    }
    if missing.is_empty() {
        return;
    }
    if !app.settings.config.models.auto_fetch {
        println!(
            "auto_fetch is off; run `models fetch` to install {}",
            missing.join(", ")
        );
        return;
    }
    println!(
        "fetching {} (resumable; Ctrl-C to stop and continue later)",
        missing.join(", ")
    );
    if let Err(error) = models::fetch(app, &missing, false).await {
        eprintln!("{error:#}");
        eprintln!("Sotto keeps running; `models fetch` tries again.");
    }
}

async fn read_commands(app: &App) -> Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut editor = if stdin.is_terminal() {
        rustyline::DefaultEditor::new().ok()
    } else {
        None
    };
    let mut lines = stdin.lock().lines();
    // Started at the first request and kept: its worker holds the prompt's cache.
    let mut planner: Option<crate::planning::Planner> = None;
    loop {
        let line = match editor.as_mut() {
            Some(editor) => match tokio::task::block_in_place(|| editor.readline("sotto> ")) {
                Ok(line) => {
                    let _ = editor.add_history_entry(line.as_str());
                    line
                }
                Err(
                    rustyline::error::ReadlineError::Interrupted
                    | rustyline::error::ReadlineError::Eof,
                ) => break,
                Err(error) => return Err(error.into()),
            },
            None => match lines.next() {
                Some(line) => line?,
                None => break,
            },
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            None => continue,
            Some("quit" | "exit") => break,
            Some("help" | "?") => println!("{HELP}"),
            Some(first) if is_command(first) => {
                let parsed =
                    Cli::try_parse_from(std::iter::once("sotto").chain(words.iter().copied()));
                match parsed {
                    Ok(Cli {
                        command: Some(command),
                        ..
                    }) => {
                        if let Err(error) = Box::pin(dispatch(app, command)).await {
                            eprintln!("error: {error:#}");
                        }
                    }
                    Ok(_) => println!("{HELP}"),
                    Err(error) => eprintln!("{error}"),
                }
            }
            Some(_) => {
                if planner.is_none() {
                    match super::plan::planner(app, &super::plan::PlannerArgs::default()).await {
                        Ok(started) => planner = Some(started),
                        Err(error) => {
                            eprintln!("error: {error:#}");
                            continue;
                        }
                    }
                }
                if let Some(planner) = planner.as_mut() {
                    let options = super::act::DoOptions::default();
                    if let Err(error) =
                        super::act::carry_out(app, planner, line.trim(), options).await
                    {
                        eprintln!("error: {error:#}");
                    }
                }
            }
        }
    }
    println!("bye");
    Ok(ExitCode::SUCCESS)
}

fn is_command(word: &str) -> bool {
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .any(|c| c.get_name() == word)
}

async fn dispatch(app: &App, command: Command) -> Result<ExitCode> {
    match command {
        Command::Models { command } => models::run(app, command).await,
        Command::History { command } => super::history::run(app, command).await,
        Command::Config { command } => super::config::run(command),
        other => {
            super::run(Cli {
                verbose: 0,
                catalog: None,
                command: Some(other),
            })
            .await
        }
    }
}
