//! What the host does on a plugin's behalf once a capability check has passed: the desktop
//! side of `notify`, `clipboard-*` and `http-get`, and where plugin logs go. The app supplies
//! the real implementation (the same programs its built-ins use); the capability checks are
//! not here but in the host, so no implementation can forget them.

use std::fmt;

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// The plugin's `log` import.
    Guest,
    /// What the plugin wrote to its standard output (captured, never inherited).
    Stdout,
    /// What the plugin wrote to its standard error (a panic message lands here).
    Stderr,
    /// The host's own account of a call: a denial, a trap, a limit hit.
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// One line of a plugin's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub plugin: String,
    /// The tool being called; empty while the plugin is being loaded.
    pub tool: String,
    pub source: LogSource,
    pub level: LogLevel,
    pub message: String,
}

impl fmt::Display for LogRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "plugin {}/{} [{:?} {:?}] {}",
            self.plugin, self.tool, self.source, self.level, self.message
        )
    }
}

/// A fetched page for `http-get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The host's desktop side. Called from a blocking thread, never from an async task; each
/// method must bound its own time (a plugin's deadline does not interrupt host code).
pub trait HostServices: Send + Sync {
    fn log(&self, record: LogRecord) {
        match record.level {
            LogLevel::Debug => tracing::debug!(target: "sotto_plugins::guest", "{record}"),
            LogLevel::Info => tracing::info!(target: "sotto_plugins::guest", "{record}"),
            LogLevel::Warn => tracing::warn!(target: "sotto_plugins::guest", "{record}"),
            LogLevel::Error => tracing::error!(target: "sotto_plugins::guest", "{record}"),
        }
    }

    fn notify(&self, title: &str, body: &str) -> Result<(), String>;
    fn clipboard_read(&self) -> Result<String, String>;
    fn clipboard_write(&self, text: &str) -> Result<(), String>;
    /// `url` has been checked: http or https, and its host is one the plugin declared.
    /// Responses longer than `max_bytes` should be cut or refused.
    fn http_get(&self, url: &url::Url, max_bytes: usize) -> Result<HttpResponse, String>;
}

/// Logs to `tracing` and offers no desktop: every granted desktop call fails with a message
/// saying so. For tools that need none, and for hosts without a desktop.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDesktop;

impl HostServices for NoDesktop {
    fn notify(&self, _title: &str, _body: &str) -> Result<(), String> {
        Err("this Sotto has no notification service".into())
    }
    fn clipboard_read(&self) -> Result<String, String> {
        Err("this Sotto has no clipboard service".into())
    }
    fn clipboard_write(&self, _text: &str) -> Result<(), String> {
        Err("this Sotto has no clipboard service".into())
    }
    fn http_get(&self, _url: &url::Url, _max_bytes: usize) -> Result<HttpResponse, String> {
        Err("this Sotto has no HTTP client".into())
    }
}
