//! One call into a plugin: a fresh store with its own limits and WASI context, the host
//! imports with their capability checks, and every way a call can go wrong turned into a
//! [`CallFailure`] for that call alone.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{self, HostError, HttpResponse, SottoPlugin, SottoPluginPre};
use crate::services::{HostServices, LogLevel, LogRecord, LogSource};
use crate::{CallFailure, Limits};

/// How often the epoch ticks; a call's deadline is rounded up to whole ticks.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// What a call may touch, taken from its `ToolContext` before the call leaves the async task.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    pub notify: bool,
    pub clipboard: bool,
    pub network: bool,
    pub preopens: Vec<Preopen>,
}

#[derive(Debug, Clone)]
pub(crate) struct Preopen {
    pub host: PathBuf,
    pub guest: String,
    pub write: bool,
}

/// Shared by every call of one host.
pub(crate) struct Shared {
    pub engine: Engine,
    pub services: Arc<dyn HostServices>,
    pub limits: Limits,
}

/// A store's data: the WASI context and what the host imports need to check and log.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory_limit: usize,
    memory_hit: bool,
    access: Access,
    plugin: Arc<str>,
    tool: String,
    http_hosts: Arc<[String]>,
    services: Arc<dyn HostServices>,
    max_http_bytes: usize,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Refusing (rather than trapping here) lets a careful guest handle the failure; the
        // flag tells the host, if the call then dies, that the limit was the reason.
        if desired > self.memory_limit {
            self.memory_hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl CallState {
    fn record(&self, source: LogSource, level: LogLevel, message: String) {
        self.services.log(LogRecord {
            plugin: self.plugin.to_string(),
            tool: self.tool.clone(),
            source,
            level,
            message,
        });
    }

    fn deny(&self, key: &str) -> HostError {
        self.record(
            LogSource::Host,
            LogLevel::Warn,
            format!("denied: the capability `{key}` was not granted"),
        );
        HostError::CapabilityDenied(key.to_string())
    }
}

impl bindings::sotto::plugin::types::Host for CallState {}

impl bindings::sotto::plugin::host::Host for CallState {
    fn log(&mut self, level: bindings::LogLevel, message: String) {
        let level = match level {
            bindings::LogLevel::Debug => LogLevel::Debug,
            bindings::LogLevel::Info => LogLevel::Info,
            bindings::LogLevel::Warn => LogLevel::Warn,
            bindings::LogLevel::Error => LogLevel::Error,
        };
        self.record(LogSource::Guest, level, truncate(message, 4096));
    }

    fn notify(&mut self, title: String, body: String) -> Result<(), HostError> {
        if !self.access.notify {
            return Err(self.deny("notify"));
        }
        self.services
            .notify(&truncate(title, 200), &truncate(body, 2000))
            .map_err(HostError::Failed)
    }

    fn clipboard_read(&mut self) -> Result<String, HostError> {
        if !self.access.clipboard {
            return Err(self.deny("clipboard"));
        }
        self.services.clipboard_read().map_err(HostError::Failed)
    }

    fn clipboard_write(&mut self, text: String) -> Result<(), HostError> {
        if !self.access.clipboard {
            return Err(self.deny("clipboard"));
        }
        self.services
            .clipboard_write(&text)
            .map_err(HostError::Failed)
    }

    fn http_get(&mut self, url: String) -> Result<HttpResponse, HostError> {
        if !self.access.network {
            return Err(self.deny("network"));
        }
        let parsed = url::Url::parse(&url)
            .map_err(|e| HostError::Failed(format!("`{url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(HostError::Failed(format!(
                "`{url}`: only http and https are allowed"
            )));
        }
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if !self.http_hosts.contains(&host) {
            self.record(
                LogSource::Host,
                LogLevel::Warn,
                format!("denied: http-get to `{host}`, which the plugin did not declare"),
            );
            return Err(HostError::HostNotAllowed(host));
        }
        let response = self
            .services
            .http_get(&parsed, self.max_http_bytes)
            .map_err(HostError::Failed)?;
        Ok(HttpResponse {
            status: response.status,
            body: response.body,
        })
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Adds WASI (without sockets or ambient authority: each store's context decides) and
/// Sotto's host interface to a linker.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<wasmtime::component::Linker<CallState>> {
    let mut linker = wasmtime::component::Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    SottoPlugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Who is being called, for limits, checks and logs.
pub(crate) struct Target<'a> {
    pub plugin: &'a Arc<str>,
    pub tool: &'a str,
    pub http_hosts: &'a Arc<[String]>,
}

/// Instantiates the plugin in a fresh store and runs `body` on it. Whatever happens, the
/// plugin's captured stdout and stderr are logged, and a failure is logged with its reason.
pub(crate) fn run<R>(
    shared: &Shared,
    pre: &SottoPluginPre<CallState>,
    target: Target<'_>,
    access: Access,
    body: impl FnOnce(&mut Store<CallState>, &SottoPlugin) -> wasmtime::Result<R>,
) -> Result<R, CallFailure> {
    let limits = &shared.limits;
    let stdout = MemoryOutputPipe::new(limits.log_bytes);
    let stderr = MemoryOutputPipe::new(limits.log_bytes);
    let mut wasi = WasiCtxBuilder::new();
    // A fresh builder inherits nothing: no environment, no arguments, no stdin, no
    // preopens. Sockets are refused outright, whatever the guest asks.
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_blocking_current_thread(true)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    for preopen in &access.preopens {
        let perms = if preopen.write {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        if let Err(e) = wasi.preopened_dir(&preopen.host, &preopen.guest, perms) {
            return Err(CallFailure::Host(format!(
                "cannot open {} for the plugin: {e}",
                preopen.host.display()
            )));
        }
    }
    let state = CallState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        memory_limit: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
        memory_hit: false,
        access,
        plugin: target.plugin.clone(),
        tool: target.tool.to_string(),
        http_hosts: target.http_hosts.clone(),
        services: shared.services.clone(),
        max_http_bytes: limits.output_bytes,
    };
    let mut store = Store::new(&shared.engine, state);
    store.limiter(|state| state as &mut dyn ResourceLimiter);
    let ticks = limits.time.as_nanos().div_ceil(TICK.as_nanos()) + 1;
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));

    let result = pre
        .instantiate(&mut store)
        .and_then(|plugin| body(&mut store, &plugin));

    let state = store.data();
    for (pipe, source) in [(&stdout, LogSource::Stdout), (&stderr, LogSource::Stderr)] {
        let bytes = pipe.contents();
        for line in String::from_utf8_lossy(&bytes).lines() {
            if !line.trim().is_empty() {
                state.record(source, LogLevel::Info, line.to_string());
            }
        }
    }
    result.map_err(|error| {
        let failure = classify(&error, state.memory_hit, limits, &stderr.contents());
        state.record(
            LogSource::Host,
            LogLevel::Error,
            format!("call failed: {failure}"),
        );
        failure
    })
}

fn classify(
    error: &wasmtime::Error,
    memory_hit: bool,
    limits: &Limits,
    stderr: &[u8],
) -> CallFailure {
    if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return CallFailure::Timeout(limits.time);
    }
    if memory_hit {
        return CallFailure::MemoryLimit(limits.memory_bytes);
    }
    let mut message = error.to_string();
    if let Some(trap) = error.downcast_ref::<Trap>() {
        if !message.contains(&trap.to_string()) {
            message = format!("{message}: {trap}");
        }
    }
    // A Rust guest's panic message is on its stderr just before the trap.
    let stderr = String::from_utf8_lossy(stderr);
    let last: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note:"))
        .collect();
    if !last.is_empty() {
        let words = last[last.len().saturating_sub(2)..].join(" ");
        message = format!("{message} (its last words: {})", truncate(words, 300));
    }
    CallFailure::Trap { message }
}
