//! Sotto's tool interface: what a tool declares, how a call is checked, and what it may touch.
//!
//! A tool is described by a [`ToolManifest`]: a `snake_case` name, a description, JSON Schemas
//! for its arguments and result (derived from Rust types with `schemars` for built-ins),
//! example utterances with their arguments, the [`Capability`]s it needs and a [`Risk`] level.
//! The planner builds its retrieval index and grammar from manifests; the policy reads their
//! capabilities and risk; plugins (the WASM host, later) provide the same manifests.
//!
//! Every call takes one path, and the types enforce it:
//! 1. [`Registry::validate`] finds the tool and checks the arguments against the schema
//!    (`jsonschema`), giving a [`ValidCall`] or an error naming each bad field;
//! 2. [`policy::decide`] (pure) says allow, ask, or deny, from the manifest, the user's
//!    [`policy::ToolGrants`] and the call's [`policy::Origin`];
//! 3. [`authorize`] turns the decision into an [`Authorized`] call; an `Ask` needs a
//!    [`Confirmation`] bound to that exact call, and only [`InteractiveConfirmer`] makes one;
//! 4. [`Authorized::run`] runs it with a [`ToolContext`] holding only the handles its granted
//!    capabilities allow (folders as `cap-std` directories, a launcher for named programs).
//!
//! Tool output is data: [`ToolOutput`] is JSON and a summary, and no function here takes tool
//! output where a grant or a confirmation is expected.
//!
//! For the executor, one call is: `validate` -> load the tool's grants from the store
//! (`Store::tool_grants`, then [`policy::ToolGrants::from_stored`]) -> `decide` with the
//! call's origin (`uses_tool_output` when a `$N` filled any argument) -> on `Ask`, a
//! [`ConfirmationRequest`] to the [`InteractiveConfirmer`] -> `authorize` -> record the
//! decision (`Store::record_call_decision`, with [`Approval::as_string`]) and, after a user
//! confirmation, `Store::mark_tool_confirmed` -> `ToolContext::build` -> `run`.
//!
//! The types keep data from turning into permission; they do not defend against hostile code
//! inside Sotto's own process (that is what running plugins in WASM is for).
//!
//! ```
//! use sotto_tools::policy::{decide, Decision, Input, Origin, ToolGrants};
//! # use sotto_tools::*;
//! # let manifest = ToolManifest { name: "note_create".into(), description: String::new(),
//! #     args_schema: serde_json::json!({}), result_schema: serde_json::json!({}), examples: vec![], templates: vec![],
//! #     capabilities: vec![], risk: Risk::ChangesLocalData, source: ToolSource::BuiltIn };
//! let first = decide(&manifest, &ToolGrants::default(), Origin::user(Input::Voice));
//! assert!(matches!(first, Decision::Ask(_)));
//! ```

mod confirm;
mod context;
mod manifest;
pub mod policy;
mod registry;
mod text_model;
mod tool;

pub use confirm::{
    ConfirmError, Confirmation, ConfirmationRequest, ConfirmedBy, InteractiveConfirmer,
};
pub use context::{Host, ToolContext};
pub use futures_util::future::BoxFuture;
pub use manifest::{
    is_tool_name, Capability, DirScope, Example, Risk, SpawnScope, ToolManifest, ToolSource,
};
pub use registry::{authorize, Approval, Authorized, Refusal, Registry, RegistryError, ValidCall};
pub use text_model::{TextModel, TextModelError, TextRequest};
pub use tool::{
    builtin, schema_for, ArgProblem, Reply, Tool, ToolError, ToolInfo, ToolOutput, TypedTool,
};
