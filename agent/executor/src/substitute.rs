//! `$N` substitution: turning a step's written arguments into the JSON object its tool
//! receives, with earlier steps' outputs put in by type.
//!
//! The rule, for a parameter `p` with schema `S` filled by `$N` (the output of step N):
//! 1. the whole output `value`, if it validates against `S`;
//! 2. else, when the value is an object, its field named `p`, projected the same way (so a
//!    `files` parameter takes `{"files": [...]}`'s list);
//! 3. else the only field whose value validates against `S`; if several do, the first of
//!    [`PREFERRED_FIELDS`] among them (`email`, `path`, `text`, `id`, `url`, `name`); if
//!    none does directly, the same search one level down (a field that is an object, or an
//!    array of objects, each projected), at most three levels deep;
//! 4. else, when `S` takes an array, an array output with each element projected against
//!    the items schema (every element must fit);
//! 5. else, when `S` takes a string, the output's `summary` (the one sentence the tool said);
//! 6. else an error naming the step, the parameter, the type it needs and what the output
//!    had, so the message is useful to the user and to a replan.
//!
//! In a list argument (`[$1, "x"]`) each `$N` element is substituted against the items
//! schema, and an array output (or an output whose projection against the whole list's
//! schema is an array) is flattened into the list.
//!
//! Substitution only shapes data. The result still goes through `Registry::validate` and the
//! policy, with an origin that says tool output filled the arguments.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sotto_planner::{Arg, StepId};
use sotto_tools::ToolOutput;

/// Field names preferred, in this order, when several fields of an output would fit.
pub const PREFERRED_FIELDS: [&str; 6] = ["email", "path", "text", "id", "url", "name"];

/// How deep projection looks into an output (object -> field -> array -> element field).
const MAX_DEPTH: usize = 3;

/// A parameter's schema with its compiled validator.
struct Param {
    schema: Value,
    validator: Option<jsonschema::Validator>,
}

impl Param {
    fn new(schema: Value) -> Param {
        let validator = jsonschema::validator_for(&schema).ok();
        Param { schema, validator }
    }

    /// A parameter the tool does not declare: anything goes here; `Registry::validate`
    /// reports the unknown argument afterwards.
    fn any() -> Param {
        Param::new(Value::Bool(true))
    }

    fn fits(&self, value: &Value) -> bool {
        self.validator.as_ref().is_none_or(|v| v.is_valid(value))
    }

    /// The schema of the elements, when this parameter takes an array.
    fn items(&self) -> Option<Param> {
        find_in_schema(&self.schema, &|s| s.get("items").cloned()).map(Param::new)
    }

    fn takes(&self, kind: &str) -> bool {
        find_in_schema(&self.schema, &|s| match s.get("type") {
            Some(Value::String(t)) if t == kind => Some(()),
            Some(Value::Array(ts)) if ts.iter().any(|t| t == kind) => Some(()),
            _ => None,
        })
        .is_some()
    }

    /// The type in words, for error messages.
    fn describe(&self) -> String {
        match self.schema.get("type") {
            Some(Value::String(t)) => with_article(t),
            Some(Value::Array(ts)) => {
                let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
                with_article(&names.join(" or "))
            }
            _ => "a value matching its schema".to_string(),
        }
    }
}

/// Looks at the schema and its `anyOf`/`oneOf` branches (how `Option<T>` is often written).
fn find_in_schema<T>(schema: &Value, get: &dyn Fn(&Value) -> Option<T>) -> Option<T> {
    get(schema).or_else(|| {
        ["anyOf", "oneOf"].iter().find_map(|key| {
            schema
                .get(key)?
                .as_array()?
                .iter()
                .find_map(|branch| find_in_schema(branch, get))
        })
    })
}

/// Builds the arguments object of step `step` for a tool with `args_schema`, filling each
/// `$N` from `outputs` (which holds every step this one depends on). The error is the
/// message for the user.
pub fn resolve_args(
    step: StepId,
    args_schema: &Value,
    args: &[(String, Arg)],
    outputs: &BTreeMap<StepId, ToolOutput>,
) -> Result<Value, String> {
    let mut object = Map::new();
    for (name, arg) in args {
        let param = args_schema
            .get("properties")
            .and_then(|p| p.get(name))
            .cloned()
            .map_or_else(Param::any, Param::new);
        let value = resolve(step, name, &param, arg, outputs)?;
        object.insert(name.clone(), value);
    }
    Ok(Value::Object(object))
}

fn resolve(
    step: StepId,
    name: &str,
    param: &Param,
    arg: &Arg,
    outputs: &BTreeMap<StepId, ToolOutput>,
) -> Result<Value, String> {
    match arg {
        Arg::Value(value) => Ok(value.clone()),
        Arg::Ref(id) => {
            let output = output_of(step, *id, outputs)?;
            project(output, name, param).map_err(|why| {
                format!(
                    "step {step}: `{name}` needs {} and step {id}'s output {why}",
                    param.describe()
                )
            })
        }
        Arg::List(items) => {
            let item_param = param.items().unwrap_or_else(Param::any);
            let mut list = Vec::new();
            for item in items {
                match item {
                    Arg::Ref(id) => {
                        let output = output_of(step, *id, outputs)?;
                        let values = project_into_list(output, name, param, &item_param)
                            .map_err(|why| {
                                format!(
                                    "step {step}: the items of `{name}` need {} and step {id}'s output {why}",
                                    item_param.describe()
                                )
                            })?;
                        list.extend(values);
                    }
                    _ => list.push(resolve(step, name, &item_param, item, outputs)?),
                }
            }
            Ok(Value::Array(list))
        }
    }
}

fn output_of(
    step: StepId,
    id: StepId,
    outputs: &BTreeMap<StepId, ToolOutput>,
) -> Result<&ToolOutput, String> {
    outputs
        .get(&id)
        .ok_or_else(|| format!("step {step} uses ${id}, which has no output"))
}

/// One `$N` element of a list: an array output flattens, anything else is one item.
fn project_into_list(
    output: &ToolOutput,
    name: &str,
    list_param: &Param,
    item_param: &Param,
) -> Result<Vec<Value>, String> {
    if let Value::Array(elements) = &output.value {
        if !item_param.fits(&output.value) {
            return project_elements(elements, name, item_param, MAX_DEPTH)
                .ok_or_else(|| "is a list whose elements do not all fit".to_string());
        }
    }
    let why = match project_value(&output.value, name, item_param, MAX_DEPTH) {
        Ok(value) => return Ok(vec![value]),
        Err(why) => why,
    };
    if let Ok(Value::Array(values)) = project_value(&output.value, name, list_param, MAX_DEPTH) {
        return Ok(values);
    }
    summary_for(output, item_param).map(|s| vec![s]).ok_or(why)
}

/// The last resort for a string parameter: what the tool said.
fn summary_for(output: &ToolOutput, param: &Param) -> Option<Value> {
    let summary = Value::String(output.summary.clone());
    (param.takes("string") && param.fits(&summary)).then_some(summary)
}

/// The substitution rule (see the module documentation) for one whole `$N`.
fn project(output: &ToolOutput, name: &str, param: &Param) -> Result<Value, String> {
    project_value(&output.value, name, param, MAX_DEPTH)
        .or_else(|why| summary_for(output, param).ok_or(why))
}

fn project_value(value: &Value, name: &str, param: &Param, depth: usize) -> Result<Value, String> {
    if param.fits(value) {
        return Ok(fitted(value, param));
    }
    if depth == 0 {
        return Err(format!("({}) does not fit", kind_of(value)));
    }
    match value {
        Value::Object(map) => {
            if let Some(Ok(v)) = map
                .get(name)
                .map(|v| project_value(v, name, param, depth - 1))
            {
                return Ok(v);
            }
            let direct: Vec<(&String, Value)> = map
                .iter()
                .filter(|(_, v)| param.fits(v))
                .map(|(k, v)| (k, fitted(v, param)))
                .collect();
            let candidates = if direct.is_empty() {
                map.iter()
                    .filter(|(_, v)| v.is_object() || v.is_array())
                    .filter_map(|(k, v)| Some((k, project_value(v, name, param, depth - 1).ok()?)))
                    .collect()
            } else {
                direct
            };
            choose(candidates).map_err(|several| match several {
                Some(keys) => format!("has several fields that fit ({keys}) and none is preferred"),
                None => {
                    let keys: Vec<String> = map.keys().map(|k| format!("`{k}`")).collect();
                    format!("(an object with {}) has nothing that fits", keys.join(", "))
                }
            })
        }
        Value::Array(elements) => match param.items() {
            Some(item_param) => project_elements(elements, name, &item_param, depth - 1)
                .map(Value::Array)
                .ok_or_else(|| "is a list whose elements do not all fit".to_string()),
            None => Err("is a list".to_string()),
        },
        other => Err(format!("({}) does not fit", kind_of(other))),
    }
}

fn project_elements(
    elements: &[Value],
    name: &str,
    item_param: &Param,
    depth: usize,
) -> Option<Vec<Value>> {
    elements
        .iter()
        .map(|e| project_value(e, name, item_param, depth).ok())
        .collect()
}

/// The single candidate, or the preferred one; `Err(Some(keys))` when ambiguous,
/// `Err(None)` when there is none.
fn choose(mut candidates: Vec<(&String, Value)>) -> Result<Value, Option<String>> {
    match candidates.len() {
        0 => Err(None),
        1 => Ok(candidates.remove(0).1),
        _ => PREFERRED_FIELDS
            .iter()
            .find_map(|preferred| candidates.iter().find(|(k, _)| k == preferred))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                let keys: Vec<String> = candidates.iter().map(|(k, _)| format!("`{k}`")).collect();
                Some(keys.join(", "))
            }),
    }
}

/// A value that fits `param`, as the tool should receive it.
fn fitted(value: &Value, param: &Param) -> Value {
    as_integer(value, param).unwrap_or_else(|| value.clone())
}

/// `10.0` for an integer parameter becomes `10`: JSON Schema accepts both, but a tool that
/// reads an integer type does not accept a float (a calculator's result is always one).
fn as_integer(value: &Value, param: &Param) -> Option<Value> {
    let float = value
        .as_f64()
        .filter(|f| value.is_f64() && f.fract() == 0.0)?;
    if !param.takes("integer") || float.abs() > 9e15 {
        return None;
    }
    Some(Value::from(float as i64))
}

fn with_article(noun: &str) -> String {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn output(value: Value, summary: &str) -> ToolOutput {
        ToolOutput {
            value,
            summary: summary.into(),
        }
    }

    /// Substitutes `$1` (with `value`/`summary` as its output) into `arg` of a tool whose
    /// schema for `name` is `schema`.
    fn check(schema: Value, arg: Arg, value: Value, summary: &str) -> Result<Value, String> {
        let args_schema = json!({"type": "object", "properties": {"p": schema}});
        let outputs = BTreeMap::from([(1, output(value, summary))]);
        resolve_args(2, &args_schema, &[("p".into(), arg)], &outputs).map(|v| v["p"].clone())
    }

    #[test]
    fn projection_rules() {
        let string = json!({"type": "string"});
        let strings = json!({"type": "array", "items": {"type": "string"}});
        let email = json!({"type": "string", "format": "email", "pattern": "@"});
        let r = Arg::Ref(1);
        let cases: Vec<(Value, Arg, Value, Value)> = vec![
            // whole value
            (string.clone(), r.clone(), json!("x"), json!("x")),
            (
                json!({"type": "integer"}),
                r.clone(),
                json!({"value": 10.0, "text": "10"}),
                json!(10),
            ),
            // field with the parameter's name, even when others fit too
            (
                string.clone(),
                r.clone(),
                json!({"id": "a", "p": "b"}),
                json!("b"),
            ),
            // the only field that fits
            (
                email.clone(),
                r.clone(),
                json!({"name": "Alice", "email": "a@b.c", "n": 1}),
                json!("a@b.c"),
            ),
            // several fit: the preferred one
            (
                string.clone(),
                r.clone(),
                json!({"zone": "x", "text": "t", "name": "n"}),
                json!("t"),
            ),
            // one level down, and an array of objects each projected
            (
                string.clone(),
                r.clone(),
                json!({"contact": {"n": 1, "email": "e"}}),
                json!("e"),
            ),
            (
                strings.clone(),
                r.clone(),
                json!({"files": [{"path": "a"}, {"path": "b"}]}),
                json!(["a", "b"]),
            ),
            // an array output for an array parameter, elements projected
            (
                strings.clone(),
                r.clone(),
                json!([{"path": "a"}, {"path": "b"}]),
                json!(["a", "b"]),
            ),
            // the summary for a string parameter
            (string.clone(), r.clone(), json!({"n": 3}), json!("summary")),
            // lists: values kept, arrays flattened, objects projected to an item
            (
                strings.clone(),
                Arg::List(vec![Arg::Value(json!("z")), r.clone()]),
                json!(["a", "b"]),
                json!(["z", "a", "b"]),
            ),
            (
                strings.clone(),
                Arg::List(vec![r.clone()]),
                json!({"email": "a@b", "n": 1}),
                json!(["a@b"]),
            ),
            (
                strings.clone(),
                Arg::List(vec![r.clone()]),
                json!({"emails": ["a", "b"], "n": 1}),
                json!(["a", "b"]),
            ),
        ];
        for (schema, arg, value, expected) in cases {
            let got = check(schema.clone(), arg.clone(), value.clone(), "summary");
            assert_eq!(got, Ok(expected), "{schema} {arg} {value}");
        }
    }

    #[test]
    fn what_cannot_be_projected_is_a_clear_error() {
        let number = json!({"type": "integer"});
        let err = check(
            number.clone(),
            Arg::Ref(1),
            json!({"a": "x", "b": [1.5]}),
            "s",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "step 2: `p` needs an integer and step 1's output (an object with `a`, `b`) has nothing that fits"
        );
        let err = check(number, Arg::Ref(1), json!({"a": 1, "b": 2}), "s").unwrap_err();
        assert!(err.contains("several fields that fit (`a`, `b`)"), "{err}");
        let strings = json!({"type": "array", "items": {"type": "string"}});
        let err = check(strings, Arg::List(vec![Arg::Ref(1)]), json!([1, 2]), "s").unwrap_err();
        assert!(
            err.contains("items of `p`") && err.contains("do not all fit"),
            "{err}"
        );
    }
}
