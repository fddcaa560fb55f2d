//! The app's side of a worker: spawning it, the version handshake, one request at a time,
//! and supervision (restart after a crash, replaying the requests that set it up, giving
//! memory back after an idle period).
//!
//! A worker is a crash domain: its death becomes a [`WorkerError::Crashed`] carrying the tail
//! of its stderr, never a crash of the app. The child is killed when its handle is dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::frame::{self, FrameError};
use crate::{Hello, PROTOCOL_VERSION};

/// Lines of stderr kept to explain a crash.
const STDERR_TAIL: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot start the {worker} worker ({program}): {source}")]
    Spawn {
        worker: String,
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {worker} worker did not introduce itself properly: {message}")]
    Handshake { worker: String, message: String },
    #[error("the {worker} worker speaks protocol {theirs}, this Sotto speaks {ours}; reinstall Sotto so both match")]
    VersionMismatch {
        worker: String,
        theirs: u32,
        ours: u32,
    },
    #[error("the {worker} worker stopped unexpectedly ({status}); it will be restarted on the next request{}", tail_text(stderr_tail))]
    Crashed {
        worker: String,
        status: String,
        stderr_tail: Vec<String>,
    },
    #[error("the {worker} worker crashed {count} times in a minute; not restarting it. Check its model with `sotto models verify`{}", tail_text(stderr_tail))]
    CrashLoop {
        worker: String,
        count: usize,
        stderr_tail: Vec<String>,
    },
    #[error("the {worker} worker sent something unexpected: {source}")]
    Protocol {
        worker: String,
        #[source]
        source: FrameError,
    },
    #[error("the {worker} worker did not answer within {seconds} s; it was stopped")]
    Timeout { worker: String, seconds: u64 },
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\nlast words on its stderr:\n  {}", tail.join("\n  "))
    }
}

/// How to start a worker.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The name it must give in its [`Hello`].
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub hello_timeout: Duration,
    /// The longest a single request may take before the worker is presumed hung.
    pub request_timeout: Duration,
}

/// One running worker process.
#[derive(Debug)]
pub struct Worker<Req, Resp> {
    spec: WorkerSpec,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The part of an answer read so far, kept here so that [`Worker::recv`] is cancel-safe.
    partial: Vec<u8>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    hello: Hello,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<Req: Serialize, Resp: DeserializeOwned> Worker<Req, Resp> {
    /// Starts the worker and checks its handshake.
    pub async fn spawn(spec: &WorkerSpec) -> Result<Self, WorkerError> {
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| WorkerError::Spawn {
                worker: spec.name.clone(),
                program: spec.program.clone(),
                source,
            })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(handshake(spec, "its pipes could not be opened"));
        };
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        let name = spec.name.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(worker = %name, "{line}");
                // A std Mutex: held for a push, never across an await.
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let mut stdout = BufReader::new(stdout);
        let hello: Hello =
            match tokio::time::timeout(spec.hello_timeout, frame::read(&mut stdout)).await {
                Err(_) => return Err(handshake(spec, "no greeting within the time allowed")),
                Ok(Err(FrameError::Closed)) => {
                    let status = child
                        .wait()
                        .await
                        .map(|s| s.to_string())
                        .unwrap_or_else(|e| e.to_string());
                    return Err(WorkerError::Crashed {
                        worker: spec.name.clone(),
                        status,
                        stderr_tail: snapshot(&stderr_tail),
                    });
                }
                Ok(Err(e)) => return Err(handshake(spec, &e.to_string())),
                Ok(Ok(hello)) => hello,
            };
        if hello.worker != spec.name {
            return Err(handshake(
                spec,
                &format!("it says it is {:?}", hello.worker),
            ));
        }
        if hello.protocol != PROTOCOL_VERSION {
            return Err(WorkerError::VersionMismatch {
                worker: spec.name.clone(),
                theirs: hello.protocol,
                ours: PROTOCOL_VERSION,
            });
        }
        Ok(Worker {
            spec: spec.clone(),
            child,
            stdin,
            stdout,
            partial: Vec::new(),
            stderr_tail,
            hello,
            _types: PhantomData,
        })
    }

    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends one request and waits for its one answer (for requests answered by a single
    /// message; see [`Worker::stream`] for the others).
    pub async fn call(&mut self, request: &Req) -> Result<Resp, WorkerError> {
        self.send(request).await?;
        self.recv().await
    }

    /// Sends a request without waiting for anything back.
    pub async fn send(&mut self, request: &Req) -> Result<(), WorkerError> {
        match frame::write(&mut self.stdin, request).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.failure(e).await),
        }
    }

    /// Waits for the worker's next message, at most the request timeout (after which the
    /// worker is presumed hung and killed). Cancel-safe: a message half read when the future
    /// is dropped is completed by the next call.
    pub async fn recv(&mut self) -> Result<Resp, WorkerError> {
        let read = frame::read_resumable(&mut self.stdout, &mut self.partial);
        match tokio::time::timeout(self.spec.request_timeout, read).await {
            Err(_) => {
                let _ = self.child.start_kill();
                Err(WorkerError::Timeout {
                    worker: self.spec.name.clone(),
                    seconds: self.spec.request_timeout.as_secs(),
                })
            }
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(self.failure(e).await),
        }
    }

    /// Sends a request answered by several messages (a token stream) and hands each to
    /// `on_response` until it returns [`Next::Done`]. If `cancel` completes first, the request
    /// it yields (say, a `Cancel`) is sent once, and the stream is still read to its end, so
    /// the worker is ready for the next request when this returns.
    pub async fn stream<C: Future<Output = Req>>(
        &mut self,
        request: &Req,
        cancel: C,
        mut on_response: impl FnMut(Resp) -> Next,
    ) -> Result<(), WorkerError> {
        self.send(request).await?;
        let cancel = std::pin::pin!(cancel);
        let mut cancel = Some(cancel);
        loop {
            let response = match cancel.as_mut() {
                None => self.recv().await?,
                Some(pending) => tokio::select! {
                    response = self.recv() => response?,
                    cancel_request = pending => {
                        cancel = None;
                        self.send(&cancel_request).await?;
                        continue;
                    }
                },
            };
            if on_response(response) == Next::Done {
                return Ok(());
            }
        }
    }

    /// Turns a broken pipe into the reason: a crash (with stderr) or a protocol violation.
    async fn failure(&mut self, error: FrameError) -> WorkerError {
        let died = matches!(error, FrameError::Closed)
            || matches!(&error, FrameError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe);
        if died {
            let status = match tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await
            {
                Ok(Ok(status)) => status.to_string(),
                _ => "no exit status".into(),
            };
            // Let the stderr reader catch the last lines the worker wrote before dying.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return WorkerError::Crashed {
                worker: self.spec.name.clone(),
                status,
                stderr_tail: snapshot(&self.stderr_tail),
            };
        }
        let _ = self.child.start_kill();
        WorkerError::Protocol {
            worker: self.spec.name.clone(),
            source: error,
        }
    }

    pub fn stderr_tail(&self) -> Vec<String> {
        snapshot(&self.stderr_tail)
    }
}

/// Whether a streamed answer goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    More,
    Done,
}

fn snapshot(tail: &Mutex<VecDeque<String>>) -> Vec<String> {
    tail.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

fn handshake(spec: &WorkerSpec, message: &str) -> WorkerError {
    WorkerError::Handshake {
        worker: spec.name.clone(),
        message: message.into(),
    }
}

/// Keeps a worker available: starts it on first use, replays its setup requests after a
/// restart, refuses to restart a worker that keeps crashing, and stops it when idle.
#[derive(Debug)]
pub struct Supervisor<Req, Resp> {
    spec: WorkerSpec,
    worker: Option<Worker<Req, Resp>>,
    /// Requests that put a fresh worker into the state the app expects (e.g. `Load`).
    setup: Vec<Req>,
    crashes: VecDeque<Instant>,
    last_used: Instant,
    idle_timeout: Duration,
    max_crashes_per_minute: usize,
    last_stderr: Vec<String>,
}

impl<Req: Serialize + Clone, Resp: DeserializeOwned> Supervisor<Req, Resp> {
    pub fn new(spec: WorkerSpec, idle_timeout: Duration) -> Self {
        Supervisor {
            spec,
            worker: None,
            setup: Vec::new(),
            crashes: VecDeque::new(),
            last_used: Instant::now(),
            idle_timeout,
            max_crashes_per_minute: 3,
            last_stderr: Vec::new(),
        }
    }

    /// Sets the requests replayed on every fresh worker; their answers are checked with
    /// `accept` by the caller of [`Supervisor::call`] the first time, then ignored.
    pub fn set_setup(&mut self, setup: Vec<Req>) {
        self.setup = setup;
        // The running worker may have been set up differently; start afresh next time.
        self.worker = None;
    }

    pub fn is_running(&self) -> bool {
        self.worker.is_some()
    }

    pub fn pid(&self) -> Option<u32> {
        self.worker.as_ref().and_then(Worker::pid)
    }

    /// Sends `request`, starting (and setting up) the worker if needed. `setup_ok` judges the
    /// answers to the setup requests; a rejection is returned as the error it maps to.
    pub async fn call<E>(
        &mut self,
        request: &Req,
        setup_ok: impl Fn(&Resp) -> Result<(), E>,
    ) -> Result<Result<Resp, E>, WorkerError> {
        self.last_used = Instant::now();
        let worker = match self.running(setup_ok).await? {
            Ok(worker) => worker,
            Err(rejected) => return Ok(Err(rejected)),
        };
        let result = worker.call(request).await;
        self.settle(result).map(Ok)
    }

    /// [`Worker::stream`] on the supervised worker, starting (and setting up) the worker if
    /// needed, as [`Supervisor::call`] does.
    pub async fn stream<E, C: Future<Output = Req>>(
        &mut self,
        request: &Req,
        setup_ok: impl Fn(&Resp) -> Result<(), E>,
        cancel: C,
        on_response: impl FnMut(Resp) -> Next,
    ) -> Result<Result<(), E>, WorkerError> {
        self.last_used = Instant::now();
        let worker = match self.running(setup_ok).await? {
            Ok(worker) => worker,
            Err(rejected) => return Ok(Err(rejected)),
        };
        let result = worker.stream(request, cancel, on_response).await;
        self.last_used = Instant::now();
        self.settle(result).map(Ok)
    }

    /// Starts the worker and runs its setup now if it is not running (so that a later
    /// request finds it ready); a running worker is left as it is.
    pub async fn start<E>(
        &mut self,
        setup_ok: impl Fn(&Resp) -> Result<(), E>,
    ) -> Result<Result<(), E>, WorkerError> {
        self.last_used = Instant::now();
        Ok(self.running(setup_ok).await?.map(|_| ()))
    }

    /// The running worker, started and set up first if there is none.
    async fn running<E>(
        &mut self,
        setup_ok: impl Fn(&Resp) -> Result<(), E>,
    ) -> Result<Result<&mut Worker<Req, Resp>, E>, WorkerError> {
        if self.worker.is_none() {
            self.crashes
                .retain(|t| t.elapsed() < Duration::from_secs(60));
            if self.crashes.len() >= self.max_crashes_per_minute {
                return Err(WorkerError::CrashLoop {
                    worker: self.spec.name.clone(),
                    count: self.crashes.len(),
                    stderr_tail: self.last_stderr.clone(),
                });
            }
            let mut worker = Worker::spawn(&self.spec)
                .await
                .inspect_err(|_| self.crashes.push_back(Instant::now()))?;
            for step in &self.setup {
                let answer = worker
                    .call(step)
                    .await
                    .inspect_err(|_| self.crashes.push_back(Instant::now()))?;
                if let Err(rejected) = setup_ok(&answer) {
                    return Ok(Err(rejected));
                }
            }
            self.worker = Some(worker);
        }
        let Some(worker) = self.worker.as_mut() else {
            unreachable!("set just above")
        };
        Ok(Ok(worker))
    }

    /// After a failed exchange the worker is gone (or is killed now): remember why, and count
    /// crashes and hangs toward the crash-loop limit.
    fn settle<T>(&mut self, result: Result<T, WorkerError>) -> Result<T, WorkerError> {
        let error = match result {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if let Some(worker) = &self.worker {
            self.last_stderr = worker.stderr_tail();
        }
        self.worker = None; // dropping kills it if it still runs
        if matches!(
            error,
            WorkerError::Crashed { .. } | WorkerError::Timeout { .. }
        ) {
            self.crashes.push_back(Instant::now());
        }
        Err(error)
    }

    /// Stops the worker if it has been idle for the idle timeout; returns whether it did.
    pub fn stop_if_idle(&mut self) -> bool {
        if self.worker.is_some() && self.last_used.elapsed() >= self.idle_timeout {
            tracing::info!(worker = %self.spec.name, "idle; stopping to give memory back");
            self.worker = None;
            return true;
        }
        false
    }
}
