//! The command line: every command Sotto has, including those whose engines are not built
//! yet (they say so and exit with [`NOT_BUILT`], never pretending to work).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use sotto_protocol::asr::AudioContext;

use crate::app::{App, CATALOG_ENV};

mod act;
mod bench_e2e;
mod config;
mod eval_plan;
mod history;
mod interactive;
mod listen;
pub mod models;
pub mod plan;
mod plugins;
mod progress;
mod speech;
mod timers;
mod tools;
mod transcribe;
mod vocab;

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
    Do(act::DoArgs),
    /// Show the plan Sotto would make for a request, without running anything.
    Plan(plan::PlanArgs),
    /// Transcribe speech files with the speech model.
    Transcribe(transcribe::TranscribeArgs),
    /// Listen on the microphone: live transcripts, every utterance kept in the history.
    Listen(listen::ListenArgs),
    /// Download, check and choose models.
    Models {
        #[command(subcommand)]
        command: models::ModelsCommand,
    },
    /// List the tools Sotto can use and their permissions; grant or revoke them.
    Tools {
        #[command(subcommand)]
        command: tools::ToolsCommand,
    },
    /// Add tools as WASM plugins: install, list, enable, disable, update, remove.
    Plugins {
        #[command(subcommand)]
        command: plugins::PluginsCommand,
    },
    /// Ring timers and reminders while no interactive session is open.
    Timers {
        #[command(subcommand)]
        command: timers::TimersCommand,
    },
    /// Browse and delete what Sotto heard and did.
    History {
        #[command(subcommand)]
        command: history::HistoryCommand,
    },
    /// Words recognition should favour, and the personal vocabulary model built from them,
    /// your contacts, applications, notes and history.
    Vocab {
        #[command(subcommand)]
        command: vocab::VocabCommand,
    },
    /// Show or create the configuration file.
    Config {
        #[command(subcommand)]
        command: config::ConfigCommand,
    },
    /// Measure speed (p50/p95 latency, real-time factor, peak memory) against a baseline.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Measure accuracy on the evaluation sets.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Start or stop listening in the running desktop app (starting it if needed). Bind this
    /// to a key in your compositor on Wayland, where apps cannot grab keys themselves.
    Toggle,
    /// Open the desktop app's window (starting the app if needed).
    Open,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Speech recognition: scaled audio context against the full 30 s window, in one run.
    Asr(speech::AsrRunArgs),
    /// Speech to plan, per stage from the end of speech: the fast path against the
    /// planner-only baseline, in one run.
    E2e(bench_e2e::BenchE2eArgs),
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Word error rate of speech recognition with the default settings.
    Asr(speech::AsrRunArgs),
    /// Planner accuracy and latency on a request set or BFCL.
    Plan(eval_plan::EvalPlanArgs),
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
        Command::Vocab { command } => vocab::run(command, app).await,
        Command::Toggle => desktop("toggle"),
        Command::Open => desktop("show"),
        Command::Do(args) => act::run(&app()?, args).await,
        Command::Plan(args) => plan::run(&app()?, args).await,
        Command::Transcribe(args) => transcribe::run(&app()?, args).await,
        Command::Listen(args) => listen::run(&app()?, args).await,
        Command::Tools { command } => tools::run(&app()?, command).await,
        Command::Plugins { command } => plugins::run(&app()?, command).await,
        Command::Timers { command } => timers::run(&app()?, command).await,
        Command::Bench {
            command: BenchCommand::Asr(args),
        } => speech::run(&app()?, args, &[AudioContext::Full, AudioContext::Scaled]).await,
        Command::Bench {
            command: BenchCommand::E2e(args),
        } => bench_e2e::run(&app()?, args).await,
        Command::Eval {
            command: EvalCommand::Asr(args),
        } => speech::run(&app()?, args, &[AudioContext::Scaled]).await,
        Command::Eval {
            command: EvalCommand::Plan(args),
        } => eval_plan::run(&app()?, args).await,
    }
}

/// Hands `action` to `sotto-desktop` (beside this executable, else on the PATH). With the
/// app running, that second instance passes it on over D-Bus and exits at once; otherwise it
/// is the app, starting with the action, and keeps running after this command returns.
fn desktop(action: &str) -> Result<ExitCode> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("sotto-desktop")))
        .filter(|path| path.is_file());
    let program = beside.unwrap_or_else(|| "sotto-desktop".into());
    let mut child = std::process::Command::new(&program)
        .arg(action)
        .stdin(std::process::Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "cannot run {} (is the desktop app installed? `sotto` alone works without it)",
                program.display()
            )
        })?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            return Ok(if status.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eprintln!("Sotto was not running: it has started.");
    Ok(ExitCode::SUCCESS)
}
