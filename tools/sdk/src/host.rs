//! The host's functions. Each checks the calling tool's granted capabilities; a missing one
//! is [`Error::CapabilityDenied`] naming it.

use crate::bindings::sotto::plugin::host as imports;
use crate::bindings::sotto::plugin::types::LogLevel;
use crate::Error;

pub use crate::bindings::sotto::plugin::types::HttpResponse;

/// Into Sotto's log. Always allowed.
pub fn log(message: &str) {
    imports::log(LogLevel::Info, message);
}

pub fn warn(message: &str) {
    imports::log(LogLevel::Warn, message);
}

/// Shows a desktop notification. Needs `Capability::Notify`.
pub fn notify(title: &str, body: &str) -> Result<(), Error> {
    imports::notify(title, body).map_err(Error::from)
}

/// Needs `Capability::Clipboard`.
pub fn clipboard_read() -> Result<String, Error> {
    imports::clipboard_read().map_err(Error::from)
}

/// Needs `Capability::Clipboard`.
pub fn clipboard_write(text: &str) -> Result<(), Error> {
    imports::clipboard_write(text).map_err(Error::from)
}

/// Needs `Capability::Network`, and the URL's host listed in `PluginInfo::http_hosts`.
pub fn http_get(url: &str) -> Result<HttpResponse, Error> {
    imports::http_get(url).map_err(Error::from)
}
