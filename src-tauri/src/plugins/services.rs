//! The desktop side of what plugins may ask for once the host has checked the capability:
//! notifications (`notify-send`), the clipboard (`xclip`, or `wl-copy`/`wl-paste` on
//! Wayland) and HTTP GET (reqwest). The same programs and the same sandboxed launcher as the
//! built-ins use; no shell, a scrubbed environment, every call bounded in time.

use std::time::Duration;

use sotto_plugins::{HostServices, HttpResponse};
use sotto_sandbox::{Arg, HostEnv, Launcher, ProgramRule, SafeText};
use tokio::runtime::Handle;

const PROGRAM_TIMEOUT: Duration = Duration::from_secs(5);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs on the blocking threads the plugin host calls from, driving async work on the
/// runtime that started the call.
#[derive(Debug)]
pub struct DesktopServices {
    env: HostEnv,
    runtime: Handle,
    http: reqwest::Client,
}

impl DesktopServices {
    /// Must be created inside the tokio runtime that will run the plugin calls.
    pub fn new(env: HostEnv) -> anyhow::Result<DesktopServices> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            // A redirect could lead to a host the plugin did not declare: the plugin gets the
            // 3xx answer and may ask again for a URL the host then checks.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Sotto/", env!("CARGO_PKG_VERSION"), " (plugin)"))
            .build()?;
        Ok(DesktopServices {
            env,
            runtime: Handle::try_current()?,
            http,
        })
    }

    fn launcher(&self, program: &str) -> Launcher {
        Launcher::new(
            self.env.clone().with_var("LANG", "C.UTF-8"),
            ProgramRule::Named(vec![program.to_string()]),
        )
    }
}

/// Plugin text as a program argument: a leading `-` would read as an option.
fn text_arg(text: &str) -> Result<Arg, String> {
    let text = if text.starts_with('-') {
        format!("\u{2010}{}", text.trim_start_matches('-'))
    } else {
        text.to_string()
    };
    SafeText::new(&text)
        .map(Arg::Text)
        .map_err(|e| e.to_string())
}

fn check(program: &str, out: sotto_sandbox::RunOutput) -> Result<String, String> {
    if out.success {
        Ok(out.stdout)
    } else {
        Err(format!("{program} failed: {}", out.stderr_tail.trim()))
    }
}

impl HostServices for DesktopServices {
    fn notify(&self, title: &str, body: &str) -> Result<(), String> {
        let launcher = self.launcher("notify-send");
        let args = [
            Arg::Fixed("--app-name=Sotto"),
            text_arg(title)?,
            text_arg(body)?,
        ];
        let out = self
            .runtime
            .block_on(launcher.run("notify-send", &args, PROGRAM_TIMEOUT))
            .map_err(|e| e.to_string())?;
        check("notify-send", out).map(drop)
    }

    fn clipboard_read(&self) -> Result<String, String> {
        let (program, args) = sotto_builtins::clipboard_reader(&self.env);
        let out = self
            .runtime
            .block_on(self.launcher(program).run(program, &args, PROGRAM_TIMEOUT))
            .map_err(|e| e.to_string())?;
        check(program, out)
    }

    fn clipboard_write(&self, text: &str) -> Result<(), String> {
        let (program, args) = sotto_builtins::clipboard_writer(&self.env);
        let out = self
            .runtime
            .block_on(
                self.launcher(program)
                    .feed(program, &args, text.as_bytes(), PROGRAM_TIMEOUT),
            )
            .map_err(|e| e.to_string())?;
        check(program, out).map(drop)
    }

    fn http_get(&self, url: &url::Url, max_bytes: usize) -> Result<HttpResponse, String> {
        self.runtime.block_on(async {
            let mut response = self
                .http
                .get(url.as_str())
                .send()
                .await
                .map_err(|e| format!("cannot fetch {url}: {e}"))?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| format!("reading {url}: {e}"))?
            {
                let room = max_bytes.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= max_bytes {
                    break;
                }
            }
            Ok(HttpResponse { status, body })
        })
    }
}
