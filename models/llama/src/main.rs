//! `sotto-lm`: Sotto's language-model worker. Reads [`LmRequest`]s from stdin, answers with
//! [`LmResponse`]s on stdout, logs on stderr.
//!
//! It is its own executable because llama.cpp's ggml cannot share a binary with whisper.cpp's,
//! and because a model that makes llama.cpp abort must take down only this process.
//!
//! The design trade-offs:
//! - One context, one sequence, one request at a time. The planner's prompts share a long
//!   stable start (system prompt, tools, examples), so the worker keeps the KV cache of the
//!   previous request and evaluates only what changed ([`prefix`]); parallel sequences would
//!   cost memory and split two cores between requests for no gain in latency.
//! - A new worker process would evaluate the whole stable prompt again (~15 s for the
//!   planner's ~2,500 tokens on two cores), so `Prime` can keep it in a file ([`state_file`]):
//!   llama.cpp's own state file, trusted only when a sidecar written with it says it is for
//!   this build, model file, context size and prompt and its checksum matches. Measured in
//!   the tests (SmolLM2-135M, two cores busy with other work): 191 tokens evaluated in
//!   4.4 s, loaded in 40 ms; 391 tokens evaluated in 26.8 s, loaded in 0.26 s.
//!   `examples/bench.rs` prints both for any model.
//! - Constrained decoding with llguidance, not llama.cpp's GBNF sampler: measured here, GBNF
//!   slows generation by a quarter, llguidance costs almost nothing once its token table is
//!   built, which happens once per model at `Load`, never per request.
//! - Stdin is read on its own thread into a channel, so a `Cancel` is seen between two tokens
//!   while the main thread, which owns the model and its context, is generating. Requests that
//!   arrive meanwhile wait their turn.
//! - Tokens are streamed as they come (whole characters only, stop strings held back:
//!   [`text`]) because the app's plan parser starts executing a step as soon as its line
//!   is complete.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use llama_cpp_2::llama_backend::LlamaBackend;
use sotto_protocol::frame::{self, FrameError};
use sotto_protocol::lm::{LmRequest, LmResponse};
use sotto_protocol::{ErrorKind, Hello, WorkerFailure, PROTOCOL_VERSION};

mod draft;
mod engine;
mod nudge;
mod prefix;
mod state_file;
mod text;

use engine::{failure, Listener, LoadOptions, Session};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SOTTO_WORKER_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    // llama.cpp and ggml log through `tracing` (stderr, filtered) instead of printing.
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
    let backend = match LlamaBackend::init() {
        Ok(backend) => backend,
        Err(e) => {
            eprintln!("sotto-lm: cannot start llama.cpp: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        worker: "sotto-lm".into(),
        worker_version: env!("CARGO_PKG_VERSION").into(),
        pid: std::process::id(),
    };
    if let Err(e) = frame::write_blocking(&mut out, &hello) {
        eprintln!("sotto-lm: {e}");
        return ExitCode::FAILURE;
    }
    let (sender, receiver) = mpsc::channel();
    if let Err(e) = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_requests(sender))
    {
        eprintln!("sotto-lm: cannot start the input thread: {e}");
        return ExitCode::FAILURE;
    }
    let mut inbox = Inbox {
        receiver,
        pending: VecDeque::new(),
    };
    match serve(&backend, &mut inbox, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sotto-lm: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the input thread hands to the main thread.
#[derive(Debug)]
enum Incoming {
    Request(LmRequest),
    /// A line that is not a request: answered, not fatal.
    Malformed(String),
    /// Stdin closed (`None`) or broke.
    End(Option<FrameError>),
}

fn read_requests(sender: mpsc::Sender<Incoming>) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        let incoming = match frame::read_blocking(&mut input) {
            Ok(request) => Incoming::Request(request),
            Err(FrameError::Malformed(message)) => Incoming::Malformed(message),
            Err(FrameError::Closed) => Incoming::End(None),
            Err(e) => Incoming::End(Some(e)),
        };
        let end = matches!(incoming, Incoming::End(_));
        if sender.send(incoming).is_err() || end {
            return;
        }
    }
}

/// The requests received and not handled yet.
#[derive(Debug)]
struct Inbox {
    receiver: mpsc::Receiver<Incoming>,
    /// Requests that arrived during a generation, in order.
    pending: VecDeque<Incoming>,
}

impl Inbox {
    fn next(&mut self) -> Incoming {
        match self.pending.pop_front() {
            Some(incoming) => incoming,
            None => self.receiver.recv().unwrap_or(Incoming::End(None)),
        }
    }

    /// During generation `id`: has a `Cancel` for it arrived, or has the app gone (stdin
    /// closed)? Everything else that arrived is kept for later.
    fn cancel_requested(&mut self, id: u64) -> bool {
        while let Ok(incoming) = self.receiver.try_recv() {
            self.pending.push_back(incoming);
        }
        let mut cancelled = false;
        self.pending.retain(|incoming| match incoming {
            Incoming::Request(LmRequest::Cancel { id: target }) if *target == id => {
                cancelled = true;
                false
            }
            Incoming::End(_) => {
                cancelled = true;
                true
            }
            _ => true,
        });
        cancelled
    }
}

#[derive(Debug)]
struct LoadRequest {
    model: PathBuf,
    options: LoadOptions,
}

/// Answers requests until `Shutdown` or the end of stdin. A `Load` replaces the loaded model
/// (the old one is freed first, so two never share memory); if it fails, none is loaded.
fn serve(
    backend: &LlamaBackend,
    inbox: &mut Inbox,
    out: &mut impl Write,
) -> Result<(), FrameError> {
    let mut load = match answer(None, inbox, out)? {
        Some(load) => load,
        None => return Ok(()),
    };
    loop {
        let started = Instant::now();
        let loaded = engine::load_model(backend, &load.model);
        let next = match &loaded {
            Err(failure) => {
                write_failure(out, None, failure.clone())?;
                answer(None, inbox, out)?
            }
            Ok(model) => match Session::new(backend, model, &load.model, load.options, started) {
                Err(failure) => {
                    write_failure(out, None, failure)?;
                    answer(None, inbox, out)?
                }
                Ok((mut session, info)) => {
                    tracing::info!(?info, "loaded");
                    frame::write_blocking(out, &LmResponse::Loaded(info))?;
                    answer(Some(&mut session), inbox, out)?
                }
            },
        };
        drop(loaded);
        match next {
            Some(next) => load = next,
            None => return Ok(()),
        }
    }
}

/// Answers requests with the loaded model (if any) until a `Load` (returned) or the end.
fn answer(
    mut session: Option<&mut Session<'_>>,
    inbox: &mut Inbox,
    out: &mut impl Write,
) -> Result<Option<LoadRequest>, FrameError> {
    loop {
        let request = match inbox.next() {
            Incoming::Request(request) => request,
            Incoming::Malformed(message) => {
                write_failure(out, None, failure(ErrorKind::BadRequest, message))?;
                continue;
            }
            Incoming::End(None) => return Ok(None),
            Incoming::End(Some(e)) => return Err(e),
        };
        match request {
            LmRequest::Shutdown => return Ok(None),
            LmRequest::Load {
                model,
                n_ctx,
                threads,
            } => {
                return Ok(Some(LoadRequest {
                    model,
                    options: LoadOptions { n_ctx, threads },
                }))
            }
            // The generation it was meant for has already finished.
            LmRequest::Cancel { .. } => {}
            LmRequest::CountTokens { id, prompt } => {
                let response = match session.as_deref() {
                    None => not_loaded(id),
                    Some(session) => match session.count_tokens(&prompt) {
                        Ok(tokens) => LmResponse::TokenCount { id, tokens },
                        Err(failure) => LmResponse::Failed {
                            id: Some(id),
                            failure,
                        },
                    },
                };
                frame::write_blocking(out, &response)?;
            }
            LmRequest::Prime {
                id,
                prompt,
                cache_file,
                interruptible,
            } => {
                let response = match session.as_deref_mut() {
                    None => not_loaded(id),
                    Some(session) => {
                        let mut interrupt = Interrupt {
                            inbox: &mut *inbox,
                            id,
                        };
                        let interrupt = interruptible.then_some(&mut interrupt);
                        match session.prime(&prompt, cache_file.as_deref(), interrupt) {
                            Ok(primed) => {
                                tracing::info!(?primed, "primed");
                                LmResponse::Primed {
                                    id,
                                    tokens: primed.tokens,
                                    from_file: primed.from_file,
                                    evaluated: primed.evaluated,
                                    ms: primed.ms,
                                    cancelled: primed.cancelled,
                                }
                            }
                            Err(failure) => LmResponse::Failed {
                                id: Some(id),
                                failure,
                            },
                        }
                    }
                };
                frame::write_blocking(out, &response)?;
            }
            LmRequest::Generate(request) => {
                let Some(session) = session.as_deref_mut() else {
                    frame::write_blocking(out, &not_loaded(request.id))?;
                    continue;
                };
                let mut stream = Stream {
                    out: &mut *out,
                    inbox: &mut *inbox,
                    id: request.id,
                    broken: None,
                };
                let result = session.generate(&request, &mut stream);
                if let Some(e) = stream.broken {
                    return Err(e);
                }
                let response = match result {
                    Ok(completion) => {
                        tracing::info!(?completion, "done");
                        LmResponse::Done(completion)
                    }
                    Err(failure) => LmResponse::Failed {
                        id: Some(request.id),
                        failure,
                    },
                };
                frame::write_blocking(out, &response)?;
            }
        }
    }
}

/// A generation's link to the app: pieces out, cancellation in.
struct Stream<'a, W> {
    out: &'a mut W,
    inbox: &'a mut Inbox,
    id: u64,
    /// Stdout failed: the app is gone, stop generating.
    broken: Option<FrameError>,
}

impl<W: Write> Listener for Stream<'_, W> {
    fn piece(&mut self, text: &str) {
        if self.broken.is_some() {
            return;
        }
        let token = LmResponse::Token {
            id: self.id,
            text: text.to_string(),
        };
        if let Err(e) = frame::write_blocking(self.out, &token) {
            self.broken = Some(e);
        }
    }

    fn cancelled(&mut self) -> bool {
        self.broken.is_some() || self.inbox.cancel_requested(self.id)
    }
}

/// An interruptible prime's link to the app: a `Cancel` with its id stops it.
struct Interrupt<'a> {
    inbox: &'a mut Inbox,
    id: u64,
}

impl Listener for Interrupt<'_> {
    fn piece(&mut self, _text: &str) {}

    fn cancelled(&mut self) -> bool {
        self.inbox.cancel_requested(self.id)
    }
}

fn write_failure(
    out: &mut impl Write,
    id: Option<u64>,
    failure: WorkerFailure,
) -> Result<(), FrameError> {
    frame::write_blocking(out, &LmResponse::Failed { id, failure })
}

fn not_loaded(id: u64) -> LmResponse {
    LmResponse::Failed {
        id: Some(id),
        failure: failure(ErrorKind::NotLoaded, "no model loaded; send Load first"),
    }
}
