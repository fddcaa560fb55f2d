//! `sotto timers watch`: ring timers and reminders from a terminal, a login script or a
//! systemd user unit, for people who use Sotto's command line without keeping its
//! interactive session open. The interactive session rings them by itself.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::timekeeper::{describe, TimeEvent, Timekeeper};

#[derive(Debug, Subcommand)]
pub enum TimersCommand {
    /// Show a notification when a timer or reminder is due, until stopped (Ctrl-C).
    /// Only one Sotto process rings at a time; the others take over if it stops.
    Watch {
        /// Ring what is due now, then exit.
        #[arg(long)]
        once: bool,
    },
}

pub async fn run(app: &App, command: TimersCommand) -> Result<ExitCode> {
    let TimersCommand::Watch { once } = command;
    let keeper = Timekeeper {
        data_dir: app.settings.dirs.data.clone(),
        env: sotto_sandbox::HostEnv::from_process(),
    };
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    keeper
        .run(stop, once, |event| match event {
            TimeEvent::Ringing => eprintln!("Ringing timers and reminders (Ctrl-C stops)."),
            TimeEvent::OtherProcessRings => {
                eprintln!("Another Sotto rings the timers; this one takes over if it stops.")
            }
            TimeEvent::Rang(timer) => println!("{}", describe(&timer)),
            TimeEvent::Failed(error) => {
                eprintln!("cannot ring a timer (kept; trying again in 30 s): {error}")
            }
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}
