//! Write Sotto plugins in Rust. A plugin is a WebAssembly component (`wasm32-wasip2`)
//! implementing Sotto's plugin interface (`tools/wit/since_v0.1.0`); this crate hides the
//! interface behind typed tools, so a tool is its argument and result types plus a function.
//!
//! Arguments and results are ordinary Rust types with `serde` and `schemars` derives: the
//! JSON Schemas Sotto validates against, plans with and shows the user come from them, exactly
//! as for Sotto's built-in tools. Use `#[serde(deny_unknown_fields)]` on arguments so an
//! invented argument is refused before your code runs.
//!
//! The whole of a plugin with one tool (`template/src/lib.rs`, which CI builds and the host's
//! tests load):
//!
//! ```text
//! use sotto_plugin_sdk::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! struct Args { /// Who to greet.
//!     name: String }
//!
//! struct Greet;
//! impl Tool for Greet {
//!     type Args = Args;
//!     type Output = String;
//!     fn info(&self) -> ToolInfo {
//!         ToolInfo::new("greet", "Greets someone by name.", Risk::ReadOnly)
//!             .example("say hello to Ada", json!({"name": "Ada"}))
//!     }
//!     fn run(&self, args: Args) -> Result<Reply<String>, Error> {
//!         Ok(Reply::new(format!("Hello, {}!", args.name), "Said hello."))
//!     }
//! }
//!
//! struct Hello;
//! impl Plugin for Hello {
//!     fn info() -> PluginInfo { PluginInfo::new("hello", "Hello", env!("CARGO_PKG_VERSION")) }
//!     fn tools() -> Vec<Box<dyn DynTool>> { vec![tool(Greet)] }
//! }
//! export_plugin!(Hello);
//! ```
//!
//! What a tool may touch is declared in its [`ToolInfo`] and granted by the user:
//! - files: [`fs::user_folders`] (the folders the user granted, needs
//!   `Capability::Read(Folder::UserFolders)` or `Write`), [`fs::data_dir`] (the plugin's own
//!   folder in Sotto's data folder, `Folder::Data(name)`). Nothing else exists for the plugin.
//! - [`host::notify`], [`host::clipboard_read`], [`host::clipboard_write`], [`host::http_get`];
//!   [`host::log`] always works.
//!
//! A capability that was not granted is an [`Error::CapabilityDenied`] naming it; return it
//! with `?` and Sotto tells the user how to grant it.

#[allow(unsafe_code, missing_debug_implementations, clippy::all)]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/since_v0.1.0",
        world: "sotto-plugin",
        pub_export_macro: true,
        default_bindings_module: "sotto_plugin_sdk::bindings",
    });
}

mod error;
pub mod fs;
pub mod host;
pub mod time;
mod tool;

pub use bindings::sotto::plugin::types::{Capability, Folder, Risk};
pub use error::Error;
pub use tool::{tool, DynTool, Plugin, PluginInfo, Reply, Tool, ToolInfo};

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::{
        export_plugin, fs, host, time, tool, Capability, DynTool, Error, Folder, Plugin,
        PluginInfo, Reply, Risk, Tool, ToolInfo,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::json;
}

#[doc(hidden)]
pub mod __private {
    pub use crate::tool::{call, info, manifests};
}

/// Exports a [`Plugin`] as the component's `sotto:plugin/plugin` interface. Use it once, at
/// the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[allow(unsafe_code)]
        mod __sotto_plugin_export {
            use $crate::bindings::exports::sotto::plugin::plugin as api;
            struct Export;
            impl api::Guest for Export {
                fn info() -> api::PluginInfo {
                    $crate::__private::info::<super::__SottoPlugin>()
                }
                fn manifests() -> ::std::vec::Vec<api::ToolManifest> {
                    $crate::__private::manifests::<super::__SottoPlugin>()
                }
                fn call(
                    tool: ::std::string::String,
                    args_json: ::std::string::String,
                ) -> ::std::result::Result<api::ToolOutput, api::CallError> {
                    $crate::__private::call::<super::__SottoPlugin>(&tool, &args_json)
                }
            }
            $crate::bindings::export!(Export with_types_in $crate::bindings);
        }
        type __SottoPlugin = $plugin;
    };
}
