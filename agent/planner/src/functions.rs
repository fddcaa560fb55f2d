//! The functions a plan may call, with their parameters' JSON Schemas normalised into the
//! subset the grammar and the checks understand.
//!
//! Two sources, one shape: Sotto's tool manifests (schemas derived by schemars, where an
//! optional argument is `"type": ["integer", "null"]`) and OpenAI-style function lists as
//! the Berkeley Function Calling Leaderboard writes them (Python type names: `dict`,
//! `float`, `tuple`, `any`). Normalising removes `null` from types (an absent optional
//! argument is the plan's way to say "none"), maps the Python names to JSON Schema's and
//! drops annotations the grammar engine need not see.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::plan::{Action, Arg, Step, REPLY};

/// A function list or schema that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionError {
    #[error("function {index}: {why}")]
    Bad { index: usize, why: String },
    #[error("function `{name}`: {why}")]
    BadSchema { name: String, why: String },
    #[error("`{0}` is listed twice")]
    Duplicate(String),
    #[error("`reply` is reserved for answering the user; rename that function")]
    Reserved,
}

/// One parameter of a function.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    /// Normalised: no `null` in its type.
    pub schema: Value,
    pub required: bool,
    validator: Arc<jsonschema::Validator>,
}

impl Param {
    /// Why `value` is not a valid value for this parameter, if it is not.
    pub fn problem(&self, value: &Value) -> Option<String> {
        self.validator
            .iter_errors(value)
            .next()
            .map(|e| e.to_string())
    }

    /// The parameter's type in a word or two, for signatures: `integer`, `string`,
    /// `"a" | "b"`, `list of string`.
    pub fn type_name(&self) -> String {
        type_name(&self.schema)
    }

    pub fn description(&self) -> Option<&str> {
        self.schema.get("description").and_then(Value::as_str)
    }
}

fn type_name(schema: &Value) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("|");
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => match schema.get("items") {
            Some(items) => format!("list[{}]", type_name(items)),
            None => "list".into(),
        },
        Some("object") => "object".into(),
        Some("integer") => "int".into(),
        Some("number") => "number".into(),
        Some("boolean") => "bool".into(),
        Some("string") => "str".into(),
        Some(other) => other.into(),
        None => "any".into(),
    }
}

/// A function a plan may call.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub description: String,
    /// In the order of the schema's `properties`: required ones first, then optional ones.
    pub params: Vec<Param>,
}

impl Function {
    /// From a name, a description and the JSON Schema of its parameters (an object schema,
    /// or BFCL's `"type": "dict"`).
    pub fn new(
        name: &str,
        description: &str,
        parameters: &Value,
    ) -> Result<Function, FunctionError> {
        let bad = |why: String| FunctionError::BadSchema {
            name: name.to_string(),
            why,
        };
        if name == REPLY {
            return Err(FunctionError::Reserved);
        }
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(bad(
                "a name has only letters, digits, `_`, `.` and `-`".into()
            ));
        }
        let parameters = normalise(parameters);
        let required: Vec<&str> = parameters
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = Map::new();
        let properties = match parameters.get("properties") {
            Some(Value::Object(properties)) => properties,
            None => &empty,
            Some(_) => return Err(bad("`properties` is not an object".into())),
        };
        let mut params = Vec::new();
        for (param, schema) in properties {
            if !param.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || param.is_empty()
                || param.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(bad(format!(
                    "parameter `{param}`: a name has only letters, digits and `_`"
                )));
            }
            let validator = jsonschema::validator_for(schema)
                .map_err(|e| bad(format!("parameter `{param}`: {e}")))?;
            params.push(Param {
                name: param.clone(),
                schema: schema.clone(),
                required: required.contains(&param.as_str()),
                validator: Arc::new(validator),
            });
        }
        // Required first, so a grammar with required-then-optional order keeps the
        // schema's order within each group.
        params.sort_by_key(|p| !p.required);
        Ok(Function {
            name: name.to_string(),
            description: description.trim().to_string(),
            params,
        })
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// `timer_start(minutes?: int, label?: str)`: how the prompt shows the function.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                format!(
                    "{}{}: {}",
                    p.name,
                    if p.required { "" } else { "?" },
                    p.type_name()
                )
            })
            .collect();
        format!("{}({})", self.name, params.join(", "))
    }
}

/// The functions one plan may use, by name.
#[derive(Debug, Clone, Default)]
pub struct Functions {
    list: Vec<Function>,
}

impl Functions {
    pub fn new(list: Vec<Function>) -> Result<Functions, FunctionError> {
        let mut seen = BTreeMap::new();
        for f in &list {
            if seen.insert(f.name.as_str(), ()).is_some() {
                return Err(FunctionError::Duplicate(f.name.clone()));
            }
        }
        Ok(Functions { list })
    }

    /// From an OpenAI-style JSON list: `[{"name", "description", "parameters"}]`, each
    /// optionally wrapped as `{"type": "function", "function": {...}}`; a single object is a
    /// list of one.
    pub fn from_json(json: &Value) -> Result<Functions, FunctionError> {
        let items: Vec<&Value> = match json {
            Value::Array(items) => items.iter().collect(),
            Value::Object(_) => vec![json],
            _ => {
                return Err(FunctionError::Bad {
                    index: 0,
                    why: "expected a JSON list of functions".into(),
                })
            }
        };
        let mut list = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let item = item.get("function").unwrap_or(item);
            let bad = |why: &str| FunctionError::Bad {
                index: index + 1,
                why: why.to_string(),
            };
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("it has no `name`"))?;
            let description = item
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let no_params = Value::Object(Map::new());
            let parameters = item.get("parameters").unwrap_or(&no_params);
            list.push(Function::new(name, description, parameters)?);
        }
        Functions::new(list)
    }

    pub fn get(&self, name: &str) -> Option<&Function> {
        self.list.iter().find(|f| f.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Function> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Keeps only the named functions, in the order given (unknown names are skipped).
    pub fn subset<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Functions {
        Functions {
            list: names
                .into_iter()
                .filter_map(|n| self.get(n).cloned())
                .collect(),
        }
    }

    /// Type-checks a step: the function exists, every argument is a parameter of it with a
    /// value of the right type (a `$N` is checked when it is substituted), and every required
    /// parameter is given. Returns every problem found.
    pub fn check(&self, step: &Step) -> Result<(), Vec<String>> {
        let Action::Call { function, args } = &step.action else {
            return Ok(());
        };
        let Some(f) = self.get(function) else {
            return Err(vec![format!("there is no function `{function}`")]);
        };
        let mut problems = Vec::new();
        for (name, arg) in args {
            let Some(param) = f.param(name) else {
                problems.push(format!("{function} has no argument `{name}`"));
                continue;
            };
            match arg {
                Arg::Value(value) => {
                    if let Some(problem) = param.problem(value) {
                        problems.push(format!("`{name}`: {problem}"));
                    }
                }
                Arg::Ref(_) => {}
                Arg::List(_) => {
                    if param.schema.get("type").and_then(Value::as_str) != Some("array") {
                        problems.push(format!("`{name}` is not a list"));
                    }
                }
            }
        }
        for param in f.params.iter().filter(|p| p.required) {
            if !args.iter().any(|(n, _)| *n == param.name) {
                problems.push(format!("{function} needs `{}`", param.name));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// JSON Schema formats llguidance enforces; others are annotations and are dropped.
const KNOWN_FORMATS: [&str; 10] = [
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
    "uri",
];

/// The schema with BFCL's Python type names mapped, `null` removed from types and
/// annotations the grammar does not need dropped (recursively).
pub fn normalise(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "$schema" | "title" | "default" | "examples" | "$id" | "optional" => {}
            "format" => {
                if value.as_str().is_some_and(|f| KNOWN_FORMATS.contains(&f)) {
                    out.insert(key.clone(), value.clone());
                }
            }
            "type" => {
                let types: Vec<String> = match value {
                    Value::String(t) => vec![t.clone()],
                    Value::Array(ts) => ts
                        .iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect(),
                    _ => vec![],
                };
                let mut mapped: Vec<&str> = Vec::new();
                for t in &types {
                    let json = match t.to_ascii_lowercase().as_str() {
                        "dict" | "object" | "hashmap" | "map" => "object",
                        "float" | "double" | "number" => "number",
                        "int" | "integer" | "long" => "integer",
                        "tuple" | "list" | "array" | "arraylist" => "array",
                        "str" | "string" | "char" => "string",
                        "bool" | "boolean" => "boolean",
                        "null" | "none" => continue,
                        // `any` and unknown names: no constraint.
                        _ => {
                            mapped.clear();
                            break;
                        }
                    };
                    if !mapped.contains(&json) {
                        mapped.push(json);
                    }
                }
                match mapped.as_slice() {
                    [] => {}
                    [one] => {
                        out.insert(key.clone(), Value::String(one.to_string()));
                    }
                    many => {
                        out.insert(
                            key.clone(),
                            many.iter().map(|t| Value::String(t.to_string())).collect(),
                        );
                    }
                }
            }
            "properties" => {
                if let Value::Object(props) = value {
                    let props = props
                        .iter()
                        .map(|(k, v)| (k.clone(), normalise(v)))
                        .collect();
                    out.insert(key.clone(), Value::Object(props));
                }
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(key.clone(), normalise(value));
            }
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(options) = value {
                    let options: Vec<Value> = options
                        .iter()
                        .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                        .map(normalise)
                        .collect();
                    out.insert(key.clone(), Value::Array(options));
                }
            }
            "enum" => {
                if let Value::Array(values) = value {
                    let values: Vec<Value> =
                        values.iter().filter(|v| !v.is_null()).cloned().collect();
                    out.insert(key.clone(), Value::Array(values));
                }
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    // An `anyOf` left with one option is that option.
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = out.get(key) {
            if options.len() == 1 {
                let only = options[0].clone();
                out.remove(key);
                if let Value::Object(only) = only {
                    for (k, v) in only {
                        out.entry(k).or_insert(v);
                    }
                }
            }
        }
    }
    // A BFCL array without `items` type info on a tuple stays an array of anything.
    Value::Object(out)
}
