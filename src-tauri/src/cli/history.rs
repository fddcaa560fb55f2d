//! `sotto history`: what Sotto heard and did.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use sotto_store::UtteranceId;

use crate::app::App;

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// The most recent utterances, newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// Only utterances whose transcript contains this text.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One utterance with its plans and tool calls.
    Show { id: i64 },
    /// Delete an utterance, its plans and calls, and its recording.
    Delete { id: i64 },
    /// Delete recordings older than `[history] keep_audio_days` (transcripts stay). Sotto
    /// also does this when it starts.
    Prune,
}

pub async fn run(app: &App, command: HistoryCommand) -> Result<ExitCode> {
    let store = app.store().await?;
    match command {
        HistoryCommand::List {
            limit,
            search,
            json,
        } => {
            let entries = store.history(limit, search.as_deref()).await?;
            if json {
                let rows: Vec<_> = entries
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "id": e.id.0, "created_at": e.created_at, "input": e.input,
                            "transcript": e.transcript, "status": e.status,
                            "plans": e.plan_count, "calls": e.call_count,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if entries.is_empty() {
                println!("no history yet");
            } else {
                for e in entries {
                    println!(
                        "{:>5}  {}  {:<5} {:<11} {}",
                        e.id.0,
                        e.created_at,
                        e.input,
                        e.status,
                        e.transcript.as_deref().unwrap_or("(not transcribed)")
                    );
                }
            }
        }
        HistoryCommand::Show { id } => {
            let d = store.utterance(UtteranceId(id)).await?;
            println!(
                "utterance {} ({}, {}) at {}",
                id, d.entry.input, d.entry.status, d.entry.created_at
            );
            println!(
                "  transcript: {}",
                d.entry.transcript.as_deref().unwrap_or("-")
            );
            if let Some(audio) = &d.audio_path {
                println!(
                    "  audio:      {} ({} ms)",
                    app.settings.recordings_dir.join(audio).display(),
                    d.audio_ms.unwrap_or(0)
                );
            }
            println!("  timings:    {}", d.timings);
            if let Some(error) = &d.error {
                println!("  error:      {error}");
            }
            for plan in &d.plans {
                println!("  plan {} by {}:", plan.id.0, plan.planner);
                for line in plan.text.lines() {
                    println!("    | {line}");
                }
                for call in &plan.calls {
                    println!(
                        "    {}. {}({}) -> {} {}",
                        call.step,
                        call.tool,
                        call.arguments,
                        call.decision,
                        call.error
                            .as_deref()
                            .map(|e| format!("error: {e}"))
                            .unwrap_or_else(|| {
                                call.result
                                    .as_ref()
                                    .map(|r| r.to_string())
                                    .unwrap_or_default()
                            })
                    );
                }
            }
        }
        HistoryCommand::Delete { id } => {
            let recordings = &app.settings.recordings_dir;
            if let Some(problem) =
                crate::history::delete(store, recordings, UtteranceId(id)).await?
            {
                eprintln!("warning: {problem}");
            }
            println!("deleted utterance {id}");
        }
        HistoryCommand::Prune => {
            let days = app.settings.config.history.keep_audio_days;
            let pruned =
                crate::history::prune_recordings(store, &app.settings.recordings_dir, days).await?;
            for problem in &pruned.problems {
                eprintln!("warning: {problem}");
            }
            if days == 0 {
                println!("recordings are kept forever ([history] keep_audio_days = 0)");
            } else {
                println!(
                    "deleted {} recording(s) older than {days} days ({}); transcripts stay",
                    pruned.recordings,
                    sotto_models::human_bytes(pruned.bytes)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
