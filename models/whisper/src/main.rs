//! `sotto-asr`: Sotto's speech worker. Reads [`AsrRequest`]s from stdin, answers with
//! [`AsrResponse`]s on stdout, logs on stderr. One request at a time: the app owns the queue.
//!
//! It is its own executable because whisper.cpp's ggml cannot share a binary with
//! llama.cpp's, and because a corrupt model that makes whisper.cpp abort must take down only
//! this process (the app's supervisor restarts it and tells the user).

use sotto_protocol::asr::{AsrRequest, AsrResponse};
use sotto_protocol::frame::{self, FrameError};
use sotto_protocol::{ErrorKind, Hello, WorkerFailure, PROTOCOL_VERSION};
use tokio::io::BufReader;

mod beam;
mod decode;
mod engine;
mod fused;
mod fusion;
mod names;

use engine::Engine;

fn main() -> std::process::ExitCode {
    // whisper.cpp logs through these hooks into `tracing` (stderr) instead of printing.
    whisper_rs::install_logging_hooks();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SOTTO_WORKER_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sotto-asr: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sotto-asr: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Exits when the app that started this worker is gone. Closed stdin already ends the
/// worker, but only between requests: a killed app must not leave a decode running for
/// seconds (or a stuck one forever) in an orphan.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    let watch = move || loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(2);
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(watch)
    {
        eprintln!("sotto-asr: cannot watch the parent process: {e}");
    }
}

async fn serve() -> Result<(), FrameError> {
    exit_with_parent();
    let mut stdout = tokio::io::stdout();
    let mut stdin = BufReader::new(tokio::io::stdin());
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        worker: "sotto-asr".into(),
        worker_version: env!("CARGO_PKG_VERSION").into(),
        pid: std::process::id(),
    };
    frame::write(&mut stdout, &hello).await?;
    let mut engine: Option<Engine> = None;
    loop {
        let request: AsrRequest = match frame::read(&mut stdin).await {
            Ok(request) => request,
            Err(FrameError::Closed) => return Ok(()),
            Err(FrameError::Malformed(message)) => {
                // A bad request is answered, not fatal: the app learns what it got wrong.
                let failure = WorkerFailure {
                    kind: ErrorKind::BadRequest,
                    message,
                };
                frame::write(&mut stdout, &AsrResponse::Failed { id: None, failure }).await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let response = match request {
            AsrRequest::Shutdown => return Ok(()),
            AsrRequest::Load {
                model,
                vad_model,
                threads,
            } => match Engine::load(&model, vad_model.as_deref(), threads) {
                Ok(loaded) => {
                    let response = AsrResponse::Loaded {
                        model,
                        load_ms: loaded.load_ms,
                        multilingual: loaded.multilingual(),
                    };
                    engine = Some(loaded);
                    response
                }
                Err(failure) => AsrResponse::Failed { id: None, failure },
            },
            AsrRequest::Transcribe { id, audio, options } => match engine.as_mut() {
                None => not_loaded(id),
                Some(engine) => match engine.transcribe(id, &audio, &options) {
                    Ok(transcript) => AsrResponse::Transcript(transcript),
                    Err(failure) => AsrResponse::Failed {
                        id: Some(id),
                        failure,
                    },
                },
            },
            AsrRequest::DetectSpeech { id, audio } => match engine.as_mut() {
                None => not_loaded(id),
                Some(engine) => match engine.detect_speech(&audio) {
                    Ok(segments) => AsrResponse::Speech { id, segments },
                    Err(failure) => AsrResponse::Failed {
                        id: Some(id),
                        failure,
                    },
                },
            },
        };
        frame::write(&mut stdout, &response).await?;
    }
}

fn not_loaded(id: u64) -> AsrResponse {
    AsrResponse::Failed {
        id: Some(id),
        failure: WorkerFailure {
            kind: ErrorKind::NotLoaded,
            message: "no model loaded; send Load first".into(),
        },
    }
}
