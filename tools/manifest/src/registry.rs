//! The registry of tools, argument validation, and the one path from a request to a run:
//! `Registry::validate` -> `policy::decide` -> `authorize` (with a confirmation when asked)
//! -> `Authorized::run`. There is no other way to call a tool through the registry.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::confirm::{Confirmation, ConfirmedBy};
use crate::policy::{AllowReason, Decision, Denial};
use crate::{is_tool_name, ArgProblem, Tool, ToolContext, ToolError, ToolManifest, ToolOutput};

/// Why a tool could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("`{0}` is not a valid tool name (snake_case, at most 64 characters)")]
    BadName(String),
    #[error("a tool called `{0}` is already registered")]
    Duplicate(String),
    #[error("{tool}: the argument schema is not a valid JSON Schema: {message}")]
    BadSchema { tool: String, message: String },
    #[error("{tool}: example {index} (\"{utterance}\") does not match the schema: {message}")]
    BadExample {
        tool: String,
        index: usize,
        utterance: String,
        message: String,
    },
}

struct Entry {
    tool: Arc<dyn Tool>,
    validator: Arc<jsonschema::Validator>,
}

/// All tools Sotto can call, by name.
#[derive(Default)]
pub struct Registry {
    tools: BTreeMap<String, Entry>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

/// A call whose tool exists and whose arguments match its schema. Only [`Registry::validate`]
/// makes one; each has a process-unique id, so a confirmation given for one call cannot be
/// replayed for another with the same arguments.
#[derive(Clone)]
pub struct ValidCall {
    id: u64,
    tool: Arc<dyn Tool>,
    args: Value,
}

impl fmt::Debug for ValidCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidCall")
            .field("id", &self.id)
            .field("tool", &self.tool.manifest().name)
            .field("args", &self.args)
            .finish()
    }
}

impl ValidCall {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn manifest(&self) -> &ToolManifest {
        self.tool.manifest()
    }

    pub fn args(&self) -> &Value {
        &self.args
    }

    /// What a confirmation must be bound to: this call's id, tool and exact arguments.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(self.id.to_le_bytes());
        hash.update(self.tool.manifest().name.as_bytes());
        hash.update([0]);
        hash.update(self.args.to_string().as_bytes());
        hash.finalize().into()
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a tool after checking its name, compiling its schema and validating every
    /// example's arguments against it.
    pub fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegistryError> {
        let manifest = tool.manifest();
        let name = manifest.name.clone();
        if !is_tool_name(&name) {
            return Err(RegistryError::BadName(name));
        }
        if self.tools.contains_key(&name) {
            return Err(RegistryError::Duplicate(name));
        }
        let validator = jsonschema::validator_for(&manifest.args_schema).map_err(|e| {
            RegistryError::BadSchema {
                tool: name.clone(),
                message: e.to_string(),
            }
        })?;
        for (index, example) in manifest.examples.iter().enumerate() {
            if let Err(problems) = check(&validator, &example.args) {
                return Err(RegistryError::BadExample {
                    tool: name,
                    index,
                    utterance: example.utterance.clone(),
                    message: describe(&problems),
                });
            }
        }
        self.tools.insert(
            name,
            Entry {
                tool,
                validator: Arc::new(validator),
            },
        );
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&ToolManifest> {
        self.tools.get(name).map(|e| e.tool.manifest())
    }

    /// Every manifest, by name.
    pub fn manifests(&self) -> impl Iterator<Item = &ToolManifest> {
        self.tools.values().map(|e| e.tool.manifest())
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Checks that the tool exists and that `args` match its schema. Every problem is
    /// reported with the field it concerns.
    pub fn validate(&self, tool: &str, args: Value) -> Result<ValidCall, ToolError> {
        let entry = self
            .tools
            .get(tool)
            .ok_or_else(|| ToolError::UnknownTool(tool.to_string()))?;
        check(&entry.validator, &args).map_err(|problems| ToolError::InvalidArgs {
            tool: tool.to_string(),
            problems,
        })?;
        Ok(ValidCall {
            id: NEXT_CALL.fetch_add(1, Ordering::Relaxed),
            tool: entry.tool.clone(),
            args,
        })
    }
}

fn check(validator: &jsonschema::Validator, args: &Value) -> Result<(), Vec<ArgProblem>> {
    let problems: Vec<ArgProblem> = validator
        .iter_errors(args)
        .map(|error| {
            let path = error.instance_path().to_string();
            let field = match error.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let name = property.as_str().map_or(property.to_string(), String::from);
                    format!("{path}/{name}")
                }
                _ if path.is_empty() => "/".to_string(),
                _ => path,
            };
            ArgProblem {
                field,
                message: error.to_string(),
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn describe(problems: &[ArgProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("`{}` {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Who let a call run, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Policy(AllowReason),
    User(ConfirmedBy),
}

impl Approval {
    /// `policy:read-only`, `policy:setting-allow`, `user:terminal`, ...
    pub fn as_string(&self) -> String {
        match self {
            Approval::Policy(reason) => format!("policy:{}", reason.as_str()),
            Approval::User(by) => format!("user:{}", by.as_str()),
        }
    }
}

/// Why an authorised run was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{message}")]
    Denied { denial: Denial, message: String },
    #[error("{tool} was not run: it needs your confirmation, and none was given")]
    NotConfirmed { tool: String },
    #[error("{tool} was not run: the confirmation given was for a different call")]
    WrongConfirmation { tool: String },
}

/// A call the policy allowed (or the user confirmed). The only value [`Authorized::run`]
/// accepts; made only by [`authorize`].
#[derive(Debug)]
pub struct Authorized {
    call: ValidCall,
    approval: Approval,
}

/// Turns a decision into permission to run. `Ask` needs a [`Confirmation`] bound to this very
/// call, which only an interactive confirmer can make.
pub fn authorize(
    call: ValidCall,
    decision: &Decision,
    confirmation: Option<Confirmation>,
) -> Result<Authorized, Refusal> {
    let tool = call.manifest().name.clone();
    let approval = match decision {
        Decision::Allow(reason) => Approval::Policy(*reason),
        Decision::Deny(denial) => {
            return Err(Refusal::Denied {
                message: denial.message(&tool),
                denial: denial.clone(),
            })
        }
        Decision::Ask(_) => {
            let confirmation = confirmation.ok_or(Refusal::NotConfirmed { tool: tool.clone() })?;
            if confirmation.fingerprint() != &call.fingerprint() {
                return Err(Refusal::WrongConfirmation { tool });
            }
            Approval::User(confirmation.by())
        }
    };
    Ok(Authorized { call, approval })
}

impl Authorized {
    pub fn call(&self) -> &ValidCall {
        &self.call
    }

    pub fn approval(&self) -> Approval {
        self.approval
    }

    /// Runs the tool with `context` (which holds only what its capabilities allow).
    pub async fn run(self, context: &ToolContext) -> Result<ToolOutput, ToolError> {
        let tool = &self.call.manifest().name;
        if context.tool() != tool {
            return Err(ToolError::Refused(format!(
                "{tool} was given the context built for {}",
                context.tool()
            )));
        }
        self.call.tool.call(&self.call.args, context).await
    }
}
