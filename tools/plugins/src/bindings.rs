//! Host bindings generated from the frozen WIT (`tools/wit/since_v0.1.0`).

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "sotto-plugin",
});

pub use exports::sotto::plugin::plugin::CallError;
pub use sotto::plugin::types::{
    Capability, Folder, HostError, HttpResponse, LogLevel, PluginInfo, Risk, ToolManifest,
};
