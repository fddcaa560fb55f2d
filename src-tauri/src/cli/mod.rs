//! The command line: every command Sotto has, including those whose engines are not built
//! yet (they say so and exit with [`NOT_BUILT`], never pretending to work).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::app::{App, CATALOG_ENV};

mod config;
mod history;
mod interactive;
mod models;
mod progress;

/// Exit status of a command that exists but is not built yet.
pub const NOT_BUILT: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "sotto",
    version,
    about = "Sotto: a private voice assistant for the desktop. Everything runs on this machine.",
    long_about = "Sotto: a private voice assistant for the desktop. Everything runs on this machine.\n\n\
        Without a command, Sotto starts its interactive session: it checks its models (fetching \
        the recommended ones if needed), opens its history, and takes commands and requests.\n\n\
        Files live in the XDG directories (config, data, cache); SOTTO_HOME puts all of them \
        under one folder."
)]
pub struct Cli {
    /// More diagnostics on stderr (-v: info, -vv: debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Use this model catalog instead of the built-in one.
    #[arg(long, global = true, env = CATALOG_ENV, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Carry out a request: plan it, confirm what needs confirming, run the tools.
    Do {
        /// The request, as you would say it ("set a timer for ten minutes").
        #[arg(required = true, num_args = 1..)]
        request: Vec<String>,
    },
    /// Show the plan Sotto would make for a request, without running anything.
    Plan {
        #[arg(required = true, num_args = 1..)]
        request: Vec<String>,
    },
    /// Transcribe a WAV file with the speech model.
    Transcribe {
        /// WAV file (any rate; it is resampled to 16 kHz mono).
        file: PathBuf,
    },
    /// Listen on the microphone and act on what is said.
    Listen,
    /// Download, check and choose models.
    Models {
        #[command(subcommand)]
        command: models::ModelsCommand,
    },
    /// List the tools Sotto can use and their permissions.
    Tools,
    /// Browse and delete what Sotto heard and did.
    History {
        #[command(subcommand)]
        command: history::HistoryCommand,
    },
    /// Show or create the configuration file.
    Config {
        #[command(subcommand)]
        command: config::ConfigCommand,
    },
    /// Measure speed: speech to action, per stage, p50/p95.
    Bench,
    /// Measure accuracy on the evaluation sets.
    Eval,
}

/// Runs the parsed command line; returns the process's exit status.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let Some(command) = cli.command else {
        let app = App::load(cli.catalog.as_deref())?;
        return interactive::run(&app).await;
    };
    let app = || App::load(cli.catalog.as_deref());
    match command {
        Command::Models { command } => models::run(&app()?, command).await,
        Command::History { command } => history::run(&app()?, command).await,
        Command::Config { command } => config::run(command),
        Command::Do { .. } => not_built("do", "the planner and the tool runtime (issues 4 and 5)"),
        Command::Plan { .. } => not_built("plan", "the planner (issue 4)"),
        Command::Transcribe { .. } => not_built("transcribe", "the speech worker (issue 3)"),
        Command::Listen => not_built("listen", "audio capture and the speech worker (issue 3)"),
        Command::Tools => not_built("tools", "the tool runtime (issue 5)"),
        Command::Bench => not_built("bench", "the end-to-end benchmark (issue 9)"),
        Command::Eval => not_built(
            "eval",
            "the speech and planner evaluations (issues 3 and 4)",
        ),
    }
}

fn not_built(command: &str, arrives_with: &str) -> Result<ExitCode> {
    eprintln!(
        "sotto {command}: not built yet. It arrives with {arrives_with}; nothing was done.\n\
         What works today: `sotto models`, `sotto history`, `sotto config`, and `sotto` alone."
    );
    Ok(ExitCode::from(NOT_BUILT))
}
