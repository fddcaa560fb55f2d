//! What a plan is: numbered steps, each a call of a function with named arguments or a reply
//! to the user, where an argument may be the output of an earlier step (`$N`).
//!
//! The text form (what the model writes and [`Plan`]'s `Display` prints):
//!
//! ```text
//! 1. contact_lookup(name="Alice")
//! 2. compose_email(to=$1, subject="Budget")
//! join()
//! ```
//!
//! Values are JSON; `$N` may stand for a whole argument or an element of a list argument.
//! A request no function serves is answered by one reply step: `1. reply(text="...")`.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// The number of a step, from 1, in the order the model wrote them.
pub type StepId = u32;

/// The name of the pseudo-function that answers the user instead of calling a tool.
pub const REPLY: &str = "reply";

/// The most steps a plan may have (the grammar stops the model there).
pub const MAX_STEPS: u32 = 8;

/// An argument's value as the model wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A JSON value, as written.
    Value(Value),
    /// `$N`: the output of step N, substituted by the executor.
    Ref(StepId),
    /// A list with at least one `$N` among its elements (a list of plain values is a
    /// `Value`).
    List(Vec<Arg>),
}

impl Arg {
    /// The steps this value needs, in no particular order, possibly repeated.
    fn refs(&self, into: &mut BTreeSet<StepId>) {
        match self {
            Arg::Value(_) => {}
            Arg::Ref(id) => {
                into.insert(*id);
            }
            Arg::List(items) => items.iter().for_each(|item| item.refs(into)),
        }
    }

    /// The value as a JSON value, with `$N` written as the string `"$N"` (the development
    /// set's convention).
    pub fn to_json_with_ref_strings(&self) -> Value {
        match self {
            Arg::Value(value) => value.clone(),
            Arg::Ref(id) => Value::String(format!("${id}")),
            Arg::List(items) => items.iter().map(Arg::to_json_with_ref_strings).collect(),
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Value(value) => write!(f, "{value}"),
            Arg::Ref(id) => write!(f, "${id}"),
            Arg::List(items) => {
                f.write_str("[")?;
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// What one step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Call a function. Arguments keep the order the model wrote them in.
    Call {
        function: String,
        args: Vec<(String, Arg)>,
    },
    /// Say this to the user (no function fits the request).
    Reply { text: String },
}

/// One line of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: StepId,
    pub action: Action,
}

impl Step {
    /// The earlier steps whose outputs this one uses, ascending.
    pub fn deps(&self) -> Vec<StepId> {
        let mut deps = BTreeSet::new();
        if let Action::Call { args, .. } = &self.action {
            args.iter().for_each(|(_, arg)| arg.refs(&mut deps));
        }
        deps.into_iter().collect()
    }

    /// The function called, or `None` for a reply.
    pub fn function(&self) -> Option<&str> {
        match &self.action {
            Action::Call { function, .. } => Some(function),
            Action::Reply { .. } => None,
        }
    }

    /// The argument named `name`.
    pub fn arg(&self, name: &str) -> Option<&Arg> {
        match &self.action {
            Action::Call { args, .. } => args.iter().find(|(n, _)| n == name).map(|(_, a)| a),
            Action::Reply { .. } => None,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}. ", self.id)?;
        match &self.action {
            Action::Call { function, args } => {
                write!(f, "{function}(")?;
                for (n, (name, value)) in args.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}={value}")?;
                }
                f.write_str(")")
            }
            Action::Reply { text } => write!(f, "{REPLY}(text={})", Value::String(text.clone())),
        }
    }
}

/// A whole plan: its steps in order. An empty plan does nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// The steps that call functions (not replies).
    pub fn calls(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.function().is_some())
    }

    /// The reply, when the plan is one.
    pub fn reply(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.action {
            Action::Reply { text } => Some(text.as_str()),
            Action::Call { .. } => None,
        })
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        f.write_str("join()")
    }
}
