//! The `Tool` trait every tool implements (built-ins here, plugins through the WASM host),
//! and `TypedTool`, which derives the manifest's schemas from Rust types.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{Capability, Example, Risk, ToolContext, ToolManifest, ToolSource};

/// What a call produced: the result as JSON (matching the manifest's result schema) and one
/// short sentence for the user. Both are data: nothing in them is ever read as an instruction
/// or a permission.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    pub value: Value,
    pub summary: String,
}

/// One argument that failed validation: the field (a JSON pointer such as `/minutes`, or
/// `/` for the object itself) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgProblem {
    pub field: String,
    pub message: String,
}

/// Why a call did not produce a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    #[error("there is no tool called `{0}`")]
    UnknownTool(String),
    #[error("{tool}: invalid arguments: {}", .problems.iter().map(|p| format!("`{}` {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    InvalidArgs {
        tool: String,
        problems: Vec<ArgProblem>,
    },
    #[error("{tool} needs the capability `{key}` ({capability}), which it was not given")]
    MissingCapability {
        tool: String,
        capability: Capability,
        key: String,
    },
    #[error(transparent)]
    Sandbox(#[from] sotto_sandbox::SandboxError),
    /// The request makes sense but cannot be done as asked (no such note, a zero-length
    /// timer); the message is for the user.
    #[error("{0}")]
    Refused(String),
    /// Something failed while doing it (a program exited with an error, a file is damaged).
    #[error("{0}")]
    Failed(String),
}

impl ToolError {
    pub fn missing(tool: &str, capability: Capability) -> ToolError {
        ToolError::MissingCapability {
            tool: tool.to_string(),
            key: capability.key(),
            capability,
        }
    }
}

/// A tool as the registry and the executor see it. Object-safe, so built-ins and plugins
/// sit in one registry.
pub trait Tool: Send + Sync {
    fn manifest(&self) -> &ToolManifest;

    /// Runs the tool. `args` has already been validated against the manifest's schema, and
    /// the policy has allowed the call; `context` holds only what the capabilities allow.
    fn call<'a>(
        &'a self,
        args: &'a Value,
        context: &'a ToolContext,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>>;
}

/// The fixed parts of a typed tool's manifest; the schemas come from its types.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub examples: Vec<Example>,
    pub capabilities: Vec<Capability>,
    pub risk: Risk,
}

/// A typed result with its summary.
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

/// A tool with Rust types for its arguments and result. Use `#[serde(deny_unknown_fields)]`
/// on the arguments so invented arguments are refused by the schema.
pub trait TypedTool: Send + Sync + 'static {
    type Args: DeserializeOwned + JsonSchema + Send;
    type Output: Serialize + JsonSchema;

    fn info(&self) -> ToolInfo;

    /// Fast-path templates (see [`ToolManifest::templates`]); none unless the tool says.
    fn templates(&self) -> &'static [&'static str] {
        &[]
    }

    fn run(
        &self,
        args: Self::Args,
        context: &ToolContext,
    ) -> impl Future<Output = Result<Reply<Self::Output>, ToolError>> + Send;
}

/// Schemas as the planner's grammar builder wants them: draft 2020-12, every subschema
/// inlined (no `$ref`), so each tool's schema stands alone.
pub fn schema_for<T: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

struct Typed<T: TypedTool> {
    tool: T,
    manifest: ToolManifest,
}

/// Wraps a typed built-in as a [`Tool`].
pub fn builtin<T: TypedTool>(tool: T) -> Arc<dyn Tool> {
    let info = tool.info();
    let manifest = ToolManifest {
        name: info.name.to_string(),
        description: info.description.to_string(),
        args_schema: schema_for::<T::Args>(),
        result_schema: schema_for::<T::Output>(),
        examples: info.examples,
        templates: tool.templates().iter().map(|t| t.to_string()).collect(),
        capabilities: info.capabilities,
        risk: info.risk,
        source: ToolSource::BuiltIn,
    };
    Arc::new(Typed { tool, manifest })
}

impl<T: TypedTool> Tool for Typed<T> {
    fn manifest(&self) -> &ToolManifest {
        &self.manifest
    }

    fn call<'a>(
        &'a self,
        args: &'a Value,
        context: &'a ToolContext,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let args: T::Args =
                serde_json::from_value(args.clone()).map_err(|e| ToolError::InvalidArgs {
                    tool: self.manifest.name.clone(),
                    problems: vec![ArgProblem {
                        field: "/".into(),
                        message: e.to_string(),
                    }],
                })?;
            let reply = self.tool.run(args, context).await?;
            let value = serde_json::to_value(&reply.value)
                .map_err(|e| ToolError::Failed(format!("cannot encode the result: {e}")))?;
            Ok(ToolOutput {
                value,
                summary: reply.summary,
            })
        })
    }
}
