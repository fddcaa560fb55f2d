//! The grammar that constrains the model's plan (llguidance's Lark dialect), built from the
//! functions on offer.
//!
//! What it guarantees, by construction rather than by checking afterwards:
//! - steps are numbered 1, 2, 3 ... up to a maximum, one per line, and the plan ends with
//!   `join()`;
//! - every step calls one of the offered functions (or, as the only step, `reply`);
//! - arguments are named parameters of that function, each at most once, required ones
//!   always present, in the function's parameter order;
//! - every value is valid JSON for its parameter's schema (types, enums, bounds, via
//!   llguidance's `%json`), or `$N` naming an *earlier* step, or, for a list parameter, a
//!   list whose elements are such values or `$N`s.
//!
//! A `$N`'s type cannot be known until step N has run; the executor checks it then.
//! The cost is size: the value rules are repeated per step number (so that only earlier
//! steps can be referenced), which keeps the grammar at a few kilobytes for the handful of
//! functions retrieval offers and costs llguidance well under a millisecond per token.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::functions::{Function, Functions};
use crate::plan::{MAX_STEPS, REPLY};

/// The longest reply the grammar allows, in characters: one short sentence.
pub const MAX_REPLY_CHARS: u64 = 200;

/// What the grammar allows besides the functions.
#[derive(Debug, Clone, Copy)]
pub struct GrammarOptions {
    /// At most this many steps (capped at [`MAX_STEPS`]).
    pub max_steps: u32,
    /// Whether a plan may be a single `reply(text=...)` instead of calls.
    pub allow_reply: bool,
}

impl Default for GrammarOptions {
    fn default() -> Self {
        GrammarOptions {
            max_steps: MAX_STEPS,
            allow_reply: true,
        }
    }
}

/// The plan grammar for these functions, starting at `start`.
pub fn plan_grammar(functions: &Functions, options: GrammarOptions) -> String {
    let steps = options.max_steps.clamp(1, MAX_STEPS);
    let mut g = String::new();
    let _ = writeln!(g, "start: s1");
    let _ = writeln!(g, "end: \"join()\"");
    for k in 1..=steps {
        let next = if k < steps {
            format!("(s{} | end)", k + 1)
        } else {
            "end".to_string()
        };
        let calls = if functions.is_empty() {
            None
        } else {
            Some(format!("c{k} \"\\n\" {next}"))
        };
        let reply = (k == 1 && options.allow_reply).then(|| "reply \"\\n\" end".to_string());
        let body: Vec<String> = calls.into_iter().chain(reply).collect();
        if body.is_empty() {
            // Nothing may be called or said: only the empty plan.
            let _ = writeln!(g, "s{k}: end");
            continue;
        }
        let _ = writeln!(g, "s{k}: \"{k}. \" ({})", body.join(" | "));
        if !functions.is_empty() {
            let alternatives: Vec<String> =
                (0..functions.len()).map(|i| format!("f{i}_{k}")).collect();
            let _ = writeln!(g, "c{k}: {}", alternatives.join(" | "));
        }
        if k > 1 {
            let refs: Vec<String> = (1..k).map(|n| format!("\"${n}\"")).collect();
            let _ = writeln!(g, "r{k}: {}", refs.join(" | "));
        }
    }
    if options.allow_reply {
        let text = json_rule(&json!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_REPLY_CHARS,
        }));
        let _ = writeln!(g, "reply: \"{REPLY}(text=\" reply_text \")\"");
        let _ = writeln!(g, "reply_text: {text}");
    }
    for (i, function) in functions.iter().enumerate() {
        function_rules(&mut g, i, function, steps);
    }
    g
}

/// The rules for function `i`: its JSON value rules once, its call rule per step number.
fn function_rules(g: &mut String, i: usize, function: &Function, steps: u32) {
    for (p, param) in function.params.iter().enumerate() {
        let _ = writeln!(g, "j{i}_{p}: {}", json_rule(&param.schema));
        if let Some(items) = list_items(&param.schema) {
            let _ = writeln!(g, "ji{i}_{p}: {}", json_rule(items));
        }
    }
    let name = lark_string(&function.name);
    for k in 1..=steps {
        // Value of parameter p at step k.
        let value = |p: usize| format!("v{i}_{p}_{k}");
        for (p, param) in function.params.iter().enumerate() {
            let mut options = vec![format!("j{i}_{p}")];
            if k > 1 {
                options.push(format!("r{k}"));
                if list_items(&param.schema).is_some() {
                    let element = format!("(ji{i}_{p} | r{k})");
                    options.push(format!("\"[\" ({element} (\", \" {element})*)? \"]\""));
                }
            }
            let _ = writeln!(g, "{}: {}", value(p), options.join(" | "));
        }
        let assign = |p: usize| format!("\"{}=\" {}", function.params[p].name, value(p));
        let required: Vec<usize> = (0..function.params.len())
            .filter(|&p| function.params[p].required)
            .collect();
        let optional: Vec<usize> = (0..function.params.len())
            .filter(|&p| !function.params[p].required)
            .collect();
        // t{i}_{k}_{n}: optional parameters from the n-th on, each preceded by ", ".
        for (n, &p) in optional.iter().enumerate() {
            let rest = if n + 1 < optional.len() {
                format!(" t{i}_{k}_{}", n + 1)
            } else {
                String::new()
            };
            let _ = writeln!(g, "t{i}_{k}_{n}: (\", \" {})?{rest}", assign(p));
        }
        let tail = if optional.is_empty() {
            String::new()
        } else {
            format!(" t{i}_{k}_0")
        };
        let args = if required.is_empty() {
            // The first optional argument given has no comma before it.
            let mut firsts = vec!["\"\"".to_string()];
            for (n, &p) in optional.iter().enumerate() {
                let rest = if n + 1 < optional.len() {
                    format!(" t{i}_{k}_{}", n + 1)
                } else {
                    String::new()
                };
                firsts.push(format!("{}{rest}", assign(p)));
            }
            format!("({})", firsts.join(" | "))
        } else {
            let head: Vec<String> = required.iter().map(|&p| assign(p)).collect();
            format!("{}{tail}", head.join(" \", \" "))
        };
        let _ = writeln!(
            g,
            "f{i}_{k}: \"{}(\" {args} \")\"",
            &name[1..name.len() - 1]
        );
    }
}

/// The item schema of a list parameter.
fn list_items(schema: &Value) -> Option<&Value> {
    (schema.get("type").and_then(Value::as_str) == Some("array"))
        .then(|| schema.get("items"))
        .flatten()
}

/// `%json {...}` for a schema, written on one line, compact: no line breaks may appear in a
/// plan line, and fixed separators mean fewer tokens and a deterministic text.
fn json_rule(schema: &Value) -> String {
    let mut schema = match without_long_bounds(schema) {
        Value::Object(map) => map,
        // `true` / `{}`: anything.
        _ => serde_json::Map::new(),
    };
    schema.insert(
        "x-guidance".into(),
        json!({
            "whitespace_flexible": false,
            "item_separator": ", ",
            "key_separator": ": ",
        }),
    );
    format!("%json {}", Value::Object(schema))
}

/// Above this, a string's `maxLength` is left to validation after parsing: the grammar
/// engine tracks a bounded repetition as one lexer state per character written, each
/// needing a fresh token mask (measured: long note texts made each token several times
/// slower); an unbounded string stays in one state.
const MAX_ENFORCED_LENGTH: u64 = 64;

fn without_long_bounds(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| {
                    !(k.as_str() == "maxLength"
                        && v.as_u64().is_some_and(|n| n > MAX_ENFORCED_LENGTH))
                })
                .map(|(k, v)| (k.clone(), without_long_bounds(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_long_bounds).collect()),
        other => other.clone(),
    }
}

/// A Lark string literal for `text`.
fn lark_string(text: &str) -> String {
    // Lark string literals use JSON-compatible escapes.
    Value::String(text.to_string()).to_string()
}
