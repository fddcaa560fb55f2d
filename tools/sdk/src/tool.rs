//! Typed tools and the glue between them and the component interface.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::bindings::exports::sotto::plugin::plugin as api;
use crate::bindings::sotto::plugin::types as wit;
use crate::{Capability, Error, Risk};

/// What a plugin says about itself.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    /// Lowercase letters, digits and `_`; unique among installed plugins.
    pub id: String,
    pub name: String,
    pub version: String,
    /// The only hosts [`crate::host::http_get`] may reach.
    pub http_hosts: Vec<String>,
}

impl PluginInfo {
    pub fn new(id: &str, name: &str, version: &str) -> PluginInfo {
        PluginInfo {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            http_hosts: Vec::new(),
        }
    }

    pub fn http_host(mut self, host: &str) -> PluginInfo {
        self.http_hosts.push(host.into());
        self
    }
}

/// The fixed parts of a tool's manifest; the schemas come from its types.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    /// `snake_case`, unique among all of Sotto's tools: prefix it with your plugin's topic.
    pub name: String,
    /// One or two sentences; the planner reads them to choose tools.
    pub description: String,
    pub risk: Risk,
    pub capabilities: Vec<Capability>,
    /// Requests a user might make, with the arguments they mean: retrieval and few-shot
    /// examples for the planner. Sotto checks them against the schema at load.
    pub examples: Vec<(String, Value)>,
}

impl ToolInfo {
    pub fn new(name: &str, description: &str, risk: Risk) -> ToolInfo {
        ToolInfo {
            name: name.into(),
            description: description.into(),
            risk,
            capabilities: Vec::new(),
            examples: Vec::new(),
        }
    }

    pub fn needs(mut self, capability: Capability) -> ToolInfo {
        self.capabilities.push(capability);
        self
    }

    pub fn example(mut self, utterance: &str, args: Value) -> ToolInfo {
        self.examples.push((utterance.into(), args));
        self
    }
}

/// A result with one short sentence for the user.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub value: T,
    pub summary: String,
}

impl<T> Reply<T> {
    pub fn new(value: T, summary: impl Into<String>) -> Reply<T> {
        Reply {
            value,
            summary: summary.into(),
        }
    }
}

/// A tool with Rust types for its arguments and result.
pub trait Tool: 'static {
    type Args: DeserializeOwned + JsonSchema;
    type Output: Serialize + JsonSchema;

    fn info(&self) -> ToolInfo;
    fn run(&self, args: Self::Args) -> Result<Reply<Self::Output>, Error>;
}

/// A tool with its types erased, as a plugin lists them. Made by [`tool`].
pub trait DynTool {
    fn manifest(&self) -> wit::ToolManifest;
    fn name(&self) -> String;
    fn call(&self, args_json: &str) -> Result<wit::ToolOutput, Error>;
}

struct Typed<T>(T);

/// Wraps a typed tool for [`Plugin::tools`].
pub fn tool<T: Tool>(tool: T) -> Box<dyn DynTool> {
    Box::new(Typed(tool))
}

fn schema_for<T: JsonSchema>() -> String {
    // As Sotto's built-ins: draft 2020-12, every subschema inlined.
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    generator.into_root_schema_for::<T>().to_value().to_string()
}

impl<T: Tool> DynTool for Typed<T> {
    fn manifest(&self) -> wit::ToolManifest {
        let info = self.0.info();
        wit::ToolManifest {
            name: info.name,
            description: info.description,
            args_schema: schema_for::<T::Args>(),
            result_schema: schema_for::<T::Output>(),
            examples: info
                .examples
                .into_iter()
                .map(|(utterance, args)| wit::Example {
                    utterance,
                    args_json: args.to_string(),
                })
                .collect(),
            capabilities: info.capabilities,
            risk: info.risk,
        }
    }

    fn name(&self) -> String {
        self.0.info().name
    }

    fn call(&self, args_json: &str) -> Result<wit::ToolOutput, Error> {
        let args: T::Args =
            serde_json::from_str(args_json).map_err(|e| Error::InvalidArgs(e.to_string()))?;
        let reply = self.0.run(args)?;
        let value_json = serde_json::to_string(&reply.value)
            .map_err(|e| Error::Failed(format!("cannot encode the result: {e}")))?;
        Ok(wit::ToolOutput {
            value_json,
            summary: reply.summary,
        })
    }
}

/// A plugin: who it is and its tools.
pub trait Plugin {
    fn info() -> PluginInfo;
    fn tools() -> Vec<Box<dyn DynTool>>;
}

static PLUGIN_ID: OnceLock<String> = OnceLock::new();

/// The running plugin's id (for capability keys in errors).
pub(crate) fn plugin_id() -> &'static str {
    PLUGIN_ID.get().map(String::as_str).unwrap_or("")
}

#[doc(hidden)]
pub fn info<P: Plugin>() -> api::PluginInfo {
    let info = P::info();
    let _ = PLUGIN_ID.set(info.id.clone());
    api::PluginInfo {
        id: info.id,
        name: info.name,
        version: info.version,
        http_hosts: info.http_hosts,
    }
}

#[doc(hidden)]
pub fn manifests<P: Plugin>() -> Vec<api::ToolManifest> {
    P::tools().iter().map(|t| t.manifest()).collect()
}

#[doc(hidden)]
pub fn call<P: Plugin>(tool: &str, args_json: &str) -> Result<api::ToolOutput, api::CallError> {
    let _ = PLUGIN_ID.set(P::info().id);
    let tools = P::tools();
    let found = tools
        .iter()
        .find(|t| t.name() == tool)
        .ok_or_else(|| api::CallError::UnknownTool(tool.to_string()))?;
    found.call(args_json).map_err(Into::into)
}
