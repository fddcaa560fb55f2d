//! Sotto's WASM plugin host: plugins are WebAssembly components (WIT in
//! `tools/wit/since_v0.1.0`) run by wasmtime, whose tools join the registry as ordinary
//! [`sotto_tools::Tool`]s and so take the same validate -> policy -> confirmation -> run path
//! as the built-ins.
//!
//! Design choices, and why:
//! - **A fresh store per call.** Each call instantiates the plugin anew (from an
//!   `InstancePre`, so linking is done once): no state leaks between calls or tools, a trap
//!   or a limit hit poisons nothing, and the limits are simply the store's. It costs tens of
//!   microseconds (see `examples/overhead.rs` and `tools/README.md`).
//! - **Capabilities come from the `ToolContext`.** The policy already built a context with
//!   handles only for what was declared *and* granted; the host turns those handles into WASI
//!   preopens (`/data/<name>` for the plugin's own folders, `/folders/N` for the user's) and
//!   into allowed host imports. An import whose capability is missing fails with
//!   `capability-denied` naming its key; files outside the preopens do not exist for the guest.
//! - **No ambient authority.** No environment, arguments, stdin or sockets; stdout and stderr
//!   are captured into the log; `http-get` goes through the host, to declared hosts only.
//! - **Limits per call**: memory (a `ResourceLimiter`), wall time (epoch interruption, ticked
//!   every 5 ms by a host thread), output size, captured log size. A failure is a
//!   [`CallFailure`] for that call only.
//! - **The API version is read before any guest code runs**, from the name of the exported
//!   interface (`sotto:plugin/plugin@0.1.0`); the host supports [`SUPPORTED_API`].
//! - **Compiled code is cached** by wasmtime's own cache in a folder the caller names (no
//!   unsafe deserialisation).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use sotto_plugins::{HostConfig, Limits, NoDesktop, PluginHost};
//! let host = PluginHost::new(HostConfig {
//!     cache_dir: Some("/tmp/sotto-wasm-cache".into()),
//!     limits: Limits::default(),
//!     services: Arc::new(NoDesktop),
//! })?;
//! let plugin = host.load("todo.wasm".as_ref())?;
//! let mut registry = sotto_tools::Registry::new();
//! for tool in plugin.tools() {
//!     registry.register(tool)?;
//! }
//! # Ok(()) }
//! ```

mod bindings;
mod call;
mod error;
mod host;
mod manifest;
mod services;

pub use error::{CallFailure, LoadError};
pub use host::{
    HostConfig, Limits, Plugin, PluginCallError, PluginHost, PluginMeta, PluginTool, SUPPORTED_API,
};
pub use manifest::{data_folder, is_plugin_name};
pub use services::{HostServices, HttpResponse, LogLevel, LogRecord, LogSource, NoDesktop};
