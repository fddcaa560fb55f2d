//! `sotto listen`: the microphone, live. Partial transcripts while you speak, the final one
//! when you stop; every utterance goes to the history with its recording and timings.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::app::App;
use crate::listener::{self, Control, Endpointing, ListenEvent};

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Input device: a name, id or unique part of a name (default: from the configuration,
    /// else the system's default input).
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// List the input devices and exit.
    #[arg(long)]
    pub list_devices: bool,
    /// Press Enter to start speaking and Enter again to stop, instead of hands-free.
    #[arg(long)]
    pub push_to_talk: bool,
    /// Hands-free: milliseconds of silence that end an utterance (default: configuration).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u32).range(200..=5000))]
    pub hangover_ms: Option<u32>,
    /// Do not show partial transcripts.
    #[arg(long)]
    pub no_partials: bool,
    /// Stop after this many utterances.
    #[arg(long, value_name = "N")]
    pub count: Option<u32>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub seconds: Option<f64>,
    /// Do not keep the audio (transcripts still go to the history).
    #[arg(long)]
    pub no_recording: bool,
    /// One JSON object per event and line on stdout.
    #[arg(long)]
    pub json: bool,
    /// A speech model id from the catalog (default: the configured or recommended one).
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
}

pub async fn run(app: &App, args: ListenArgs) -> Result<ExitCode> {
    if args.list_devices {
        for device in sotto_audio::list_input_devices()? {
            let mark = if device.is_default { "*" } else { " " };
            println!("{mark} {}  ({})", device.name, device.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let speech = &app.settings.config.speech;
    let mode = if args.push_to_talk {
        Endpointing::PushToTalk
    } else {
        Endpointing::HandsFree {
            hangover: Duration::from_millis(u64::from(
                args.hangover_ms.unwrap_or(speech.hangover_ms),
            )),
        }
    };
    let (mut engine, mut config) = listener::prepare(app, mode, args.model.as_deref()).await?;
    let store = app.store().await?;
    if let Some(device) = &args.device {
        config.capture.device = Some(device.clone());
    }
    if args.no_partials {
        config.partial_every = None;
    }
    if args.no_recording {
        config.recordings_dir = None;
    }

    let (control_tx, controls) = mpsc::channel(8);
    let (events_tx, mut events) = mpsc::channel(64);
    spawn_controls(control_tx.clone(), args.push_to_talk, args.seconds);
    if !args.json {
        eprintln!(
            "{}",
            if args.push_to_talk {
                "Listening (push-to-talk): press Enter to start speaking, Enter again to stop; Ctrl-C quits."
            } else {
                "Listening hands-free: just speak; Ctrl-C quits."
            }
        );
    }
    let listening = listener::listen(&mut engine, Some(store), config, controls, events_tx);
    let printing = async {
        let mut printer = Printer::new(args.json);
        let mut heard = 0;
        let mut failed = false;
        let mut quit_sent = false;
        while let Some(event) = events.recv().await {
            failed |= matches!(event, ListenEvent::Failed { .. });
            if matches!(event, ListenEvent::Heard(_) | ListenEvent::Failed { .. }) {
                heard += 1;
            }
            printer.print(&event);
            // Sent once and never awaited: the listener may be busy sending the events this
            // loop reads, and waiting on each other would hang both.
            if !quit_sent && args.count.is_some_and(|n| heard >= n) {
                quit_sent = control_tx.try_send(Control::Quit).is_ok();
            }
        }
        failed
    };
    let (listened, failed) = tokio::join!(listening, printing);
    listened?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Ctrl-C, the time limit, and (push-to-talk) Enter presses become controls.
fn spawn_controls(controls: mpsc::Sender<Control>, push_to_talk: bool, seconds: Option<f64>) {
    let quit = controls.clone();
    tokio::spawn(async move {
        let limit = async {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs_f64(s.max(0.0))).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = limit => {}
        }
        let _ = quit.send(Control::Quit).await;
    });
    if push_to_talk {
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            let mut talking = false;
            while let Ok(Some(_)) = lines.next_line().await {
                talking = !talking;
                let control = if talking {
                    Control::Start
                } else {
                    Control::Stop
                };
                if controls.send(control).await.is_err() {
                    return;
                }
            }
            let _ = controls.send(Control::Quit).await;
        });
    }
}

struct Printer {
    json: bool,
    /// A partial line is on the terminal and will be overwritten.
    partial_shown: bool,
    terminal: bool,
}

impl Printer {
    fn new(json: bool) -> Printer {
        Printer {
            json,
            partial_shown: false,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn print(&mut self, event: &ListenEvent) {
        if self.json {
            if let Some(value) = json_event(event) {
                println!("{value}");
            }
            return;
        }
        match event {
            ListenEvent::Level { .. } | ListenEvent::SpeechStarted => {}
            ListenEvent::DeviceReady { device, native } => {
                eprintln!("microphone: {device} ({native})")
            }
            ListenEvent::DeviceLost { device, message } => eprintln!(
                "the microphone {device} stopped ({message}); waiting for it to come back"
            ),
            ListenEvent::Dropped { chunks } => {
                eprintln!("warning: {chunks} audio chunks dropped (the machine is too busy)")
            }
            ListenEvent::Partial { text } => {
                if self.terminal {
                    eprint!("\r\x1b[2K… {text}");
                    let _ = std::io::stderr().flush();
                    self.partial_shown = true;
                } else {
                    eprintln!("… {text}");
                }
            }
            ListenEvent::Heard(heard) => {
                self.clear_partial();
                println!(
                    "{}",
                    if heard.text.is_empty() {
                        "(nothing recognised)"
                    } else {
                        &heard.text
                    }
                );
            }
            ListenEvent::Failed {
                message,
                audio_path,
                ..
            } => {
                self.clear_partial();
                match audio_path {
                    Some(path) => eprintln!(
                        "could not transcribe that ({message}); the recording is kept at {}",
                        path.display()
                    ),
                    None => eprintln!("could not transcribe that ({message})"),
                }
            }
        }
    }

    fn clear_partial(&mut self) {
        if self.partial_shown {
            eprint!("\r\x1b[2K");
            self.partial_shown = false;
        }
    }
}

fn json_event(event: &ListenEvent) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match event {
        ListenEvent::Level { .. } => return None,
        ListenEvent::DeviceReady { device, native } => {
            json!({"event": "device_ready", "device": device, "native": native})
        }
        ListenEvent::DeviceLost { device, message } => {
            json!({"event": "device_lost", "device": device, "message": message})
        }
        ListenEvent::Dropped { chunks } => json!({"event": "dropped", "chunks": chunks}),
        ListenEvent::SpeechStarted => json!({"event": "speech_started"}),
        ListenEvent::Partial { text } => json!({"event": "partial", "text": text}),
        ListenEvent::Heard(h) => json!({
            "event": "final", "text": h.text, "utterance": h.utterance.map(|u| u.0),
            "audio_ms": h.audio_ms, "audio_path": h.audio_path,
            "endpoint_ms": h.endpoint_ms, "transcribe_ms": h.transcribe_ms,
            "decode_ms": h.decode_ms, "fell_back": h.fell_back,
        }),
        ListenEvent::Failed {
            utterance,
            audio_path,
            message,
        } => json!({
            "event": "failed", "utterance": utterance.map(|u| u.0),
            "audio_path": audio_path, "message": message,
        }),
    })
}
