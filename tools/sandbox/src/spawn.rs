//! Starting other programs: no shell, a scrubbed environment, typed arguments, and only the
//! programs a tool's capabilities name.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Arg, HostEnv, SandboxError};

/// Which programs a [`Launcher`] may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramRule {
    /// Only these program names (looked up on `PATH`), e.g. `xdg-open`.
    Named(Vec<String>),
    /// Any program an installed `.desktop` entry names. Granted only to the tool that launches
    /// applications, which takes the program from the entry file, never from the request.
    DesktopEntries,
}

/// What a program that ran to completion left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    pub success: bool,
    pub code: Option<i32>,
    /// The first 64 KiB of its standard output (for programs that report, like `pactl`).
    pub stdout: String,
    /// The last few KiB of its standard error, for messages.
    pub stderr_tail: String,
}

/// Starts programs for one tool call.
#[derive(Debug, Clone)]
pub struct Launcher {
    env: HostEnv,
    rule: ProgramRule,
}

const STDERR_TAIL: usize = 4096;
const STDOUT_HEAD: usize = 64 * 1024;

impl Launcher {
    pub fn new(env: HostEnv, rule: ProgramRule) -> Launcher {
        Launcher { env, rule }
    }

    pub fn env(&self) -> &HostEnv {
        &self.env
    }

    /// The same launcher with `LANG=C`, for programs whose output is parsed (no other
    /// `LC_*` variable ever passes, so this fixes the locale).
    pub fn in_c_locale(&self) -> Launcher {
        Launcher {
            env: self.env.clone().with_var("LANG", "C"),
            rule: self.rule.clone(),
        }
    }

    /// The same launcher with `LANG=C.UTF-8`, for programs that decode text they are given
    /// with the C library's multibyte functions (`xdotool type` refuses `é` in the C locale,
    /// whatever the user's own `LANG`). glibc has built `C.UTF-8` in since 2.35.
    pub fn in_utf8_locale(&self) -> Launcher {
        Launcher {
            env: self.env.clone().with_var("LANG", "C.UTF-8"),
            rule: self.rule.clone(),
        }
    }

    /// Finds `program` the way a shell would, but in the scrubbed `PATH` and without running
    /// anything: a name with a `/` must be an absolute path to an executable file.
    pub fn resolve(&self, program: &str) -> Result<PathBuf, SandboxError> {
        let allowed = match &self.rule {
            ProgramRule::Named(names) => names.iter().any(|n| n == program),
            ProgramRule::DesktopEntries => true,
        };
        if !allowed {
            return Err(SandboxError::ProgramNotAllowed {
                program: program.to_string(),
            });
        }
        let not_found = || SandboxError::ProgramNotFound {
            program: program.to_string(),
        };
        if program.is_empty() || program.starts_with('-') {
            return Err(not_found());
        }
        if program.contains('/') {
            let path = Path::new(program);
            return if path.is_absolute() && is_executable(path) {
                Ok(path.to_path_buf())
            } else {
                Err(not_found())
            };
        }
        self.env
            .path_dirs()
            .into_iter()
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(not_found)
    }

    fn command(&self, program: &str, args: &[Arg]) -> Result<Command, SandboxError> {
        let path = self.resolve(program)?;
        let mut command = Command::new(path);
        command.env_clear();
        for (key, value) in self.env.vars() {
            command.env(key, value);
        }
        command.args(args.iter().map(Arg::to_os_string));
        if let Some(home) = self.env.home().filter(|h| h.is_dir()) {
            command.current_dir(home);
        } else {
            command.current_dir("/");
        }
        command.stdin(Stdio::null());
        Ok(command)
    }

    /// Starts a program that may outlive the call (an application). It gets its own process
    /// group, so a Ctrl-C meant for Sotto does not close the user's new window; a thread
    /// reaps it when it exits. Returns its process id.
    pub fn spawn_detached(&self, program: &str, args: &[Arg]) -> Result<u32, SandboxError> {
        let mut command = self.command(program, args)?;
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = command.spawn().map_err(|source| SandboxError::Spawn {
            program: program.to_string(),
            source,
        })?;
        let pid = child.id();
        std::thread::Builder::new()
            .name(format!("reap-{pid}"))
            .spawn(move || {
                let _ = child.wait();
            })
            .map_err(|source| SandboxError::Spawn {
                program: program.to_string(),
                source,
            })?;
        Ok(pid)
    }

    /// Runs a short-lived program (such as `xdg-open`, which hands over to the desktop and
    /// exits, or `pactl`) and waits for it, killing it after `timeout`. A program that keeps
    /// writing after 64 KiB of output still runs to the end; the rest is dropped.
    pub async fn run(
        &self,
        program: &str,
        args: &[Arg],
        timeout: Duration,
    ) -> Result<RunOutput, SandboxError> {
        let mut command = self.command(program, args)?;
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut command = tokio::process::Command::from(command);
        command.kill_on_drop(true);
        let child = command.spawn().map_err(|source| SandboxError::Spawn {
            program: program.to_string(),
            source,
        })?;
        let output = tokio::time::timeout(timeout, child.wait_with_output())
            .await
            .map_err(|_| SandboxError::Timeout {
                program: program.to_string(),
                seconds: timeout.as_secs(),
            })?
            .map_err(|source| SandboxError::Spawn {
                program: program.to_string(),
                source,
            })?;
        let stdout =
            String::from_utf8_lossy(&output.stdout[..output.stdout.len().min(STDOUT_HEAD)]);
        Ok(RunOutput {
            success: output.status.success(),
            code: output.status.code(),
            stdout: stdout.into_owned(),
            stderr_tail: stderr_tail(&output.stderr),
        })
    }
}

impl Launcher {
    /// Runs a program that reads `input` on its standard input and may leave a child behind
    /// that keeps running (as `xclip` does, to serve the clipboard). Waits for the program
    /// itself, not for that child: standard output is discarded, and standard error is read
    /// only briefly after the exit, since a lingering child may hold it open.
    pub async fn feed(
        &self,
        program: &str,
        args: &[Arg],
        input: &[u8],
        timeout: Duration,
    ) -> Result<RunOutput, SandboxError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut command = self.command(program, args)?;
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut command = tokio::process::Command::from(command);
        command.kill_on_drop(true);
        let spawn_err = |source| SandboxError::Spawn {
            program: program.to_string(),
            source,
        };
        let mut child = command.spawn().map_err(spawn_err)?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let work = async {
            // A program that exits without reading everything closes the pipe; its exit
            // status, not the write error, says what happened.
            let _ = stdin.write_all(input).await;
            drop(stdin);
            child.wait().await
        };
        let status = tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| SandboxError::Timeout {
                program: program.to_string(),
                seconds: timeout.as_secs(),
            })?
            .map_err(spawn_err)?;
        let mut bytes = Vec::new();
        let _ = tokio::time::timeout(
            Duration::from_millis(200),
            (&mut stderr)
                .take(STDERR_TAIL as u64)
                .read_to_end(&mut bytes),
        )
        .await;
        Ok(RunOutput {
            success: status.success(),
            code: status.code(),
            stdout: String::new(),
            stderr_tail: String::from_utf8_lossy(&bytes).trim().to_string(),
        })
    }
}

impl Launcher {
    /// Runs a filter: `input` on its standard input, its standard output read back (the
    /// first 64 KiB; the rest is drained and dropped, so the program never blocks on a full
    /// pipe). Used to hand untrusted files to a converter (`pdftotext`) that never sees a
    /// path: the tool reads the file through its scoped folder, the program only its bytes.
    pub async fn filter(
        &self,
        program: &str,
        args: &[Arg],
        input: &[u8],
        timeout: Duration,
    ) -> Result<RunOutput, SandboxError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut command = self.command(program, args)?;
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut command = tokio::process::Command::from(command);
        command.kill_on_drop(true);
        let spawn_err = |source| SandboxError::Spawn {
            program: program.to_string(),
            source,
        };
        let mut child = command.spawn().map_err(spawn_err)?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let work = async {
            let write = async {
                // A program that stops reading early closes the pipe; its exit status, not
                // the write error, says what happened.
                let _ = stdin.write_all(input).await;
                drop(stdin);
            };
            let read_out = async {
                let mut head = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    match stdout.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let room = STDOUT_HEAD.saturating_sub(head.len());
                            head.extend_from_slice(&buffer[..n.min(room)]);
                        }
                    }
                }
                head
            };
            let read_err = async {
                let mut tail = Vec::new();
                let _ = stderr.read_to_end(&mut tail).await;
                tail
            };
            let ((), out, err) = tokio::join!(write, read_out, read_err);
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, out, err))
        };
        let (status, out, err) = tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| SandboxError::Timeout {
                program: program.to_string(),
                seconds: timeout.as_secs(),
            })?
            .map_err(spawn_err)?;
        Ok(RunOutput {
            success: status.success(),
            code: status.code(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr_tail: stderr_tail(&err),
        })
    }
}

/// The last few KiB of a program's standard error (cut at a character boundary), trimmed.
fn stderr_tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let start = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| text.len() - i <= STDERR_TAIL)
        .unwrap_or(text.len());
    text[start..].trim().to_string()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
