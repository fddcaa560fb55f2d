//! Scoring a plan against a reference, TinyAgent-style: the same calls with the same
//! arguments, and the same dependency graph. Used by `sotto eval plan` for Sotto's
//! development set and for the Berkeley Function Calling Leaderboard's ground truth.
//!
//! A reference call lists, per argument, the values that count as right (BFCL's "possible
//! answers"; the development set's `one_of`), possibly "absent". An argument the plan gives
//! but the reference does not list is wrong: inventing values is the failure that matters
//! most for a small model. The calls are matched under some renumbering of the steps, and a
//! `$N` in the reference matches the plan's `$M` only when that renumbering maps N to M, so
//! a match means the graphs are isomorphic.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{Arg, Plan, StepId};

/// One acceptable value of an argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// The argument may be left out.
    Absent,
    Value(Value),
    /// The output of the reference's step N.
    Ref(StepId),
}

/// A call the reference plan makes.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedCall {
    pub function: String,
    /// Argument -> the values that count as right.
    pub args: BTreeMap<String, Vec<Expected>>,
}

impl Expected {
    /// From a reference value where the string `"$N"` means the output of step N.
    pub fn from_json(value: &Value) -> Expected {
        if let Some(id) = value
            .as_str()
            .and_then(|s| s.strip_prefix('$'))
            .and_then(|n| n.parse().ok())
        {
            return Expected::Ref(id);
        }
        Expected::Value(value.clone())
    }
}

/// Whether `plan` makes exactly the reference's calls; if not, why (for the report).
pub fn matches(plan: &Plan, reference: &[ExpectedCall]) -> Result<(), String> {
    let calls: Vec<_> = plan.calls().collect();
    if calls.len() != reference.len() {
        return Err(format!(
            "{} calls, expected {}",
            calls.len(),
            reference.len()
        ));
    }
    if calls.is_empty() {
        return Ok(());
    }
    if calls.len() > 8 {
        return Err("too many calls to compare".into());
    }
    // Try every pairing (plans are short); keep the most telling reason for a miss.
    let mut best_reason = None;
    let mut order: Vec<usize> = (0..calls.len()).collect();
    loop {
        // order[i] = index of the reference call paired with plan call i.
        let mut step_map = BTreeMap::new(); // reference step id -> plan step id
        for (i, &r) in order.iter().enumerate() {
            step_map.insert(r as StepId + 1, calls[i].id);
        }
        let mut reason = None;
        for (i, &r) in order.iter().enumerate() {
            if let Err(why) = call_matches(calls[i], &reference[r], &step_map) {
                reason = Some(why);
                break;
            }
        }
        match reason {
            None => return Ok(()),
            Some(why) => {
                if best_reason.is_none() || order.iter().enumerate().all(|(i, &r)| i == r) {
                    best_reason = Some(why);
                }
            }
        }
        if !next_permutation(&mut order) {
            break;
        }
    }
    Err(best_reason.unwrap_or_else(|| "no match".into()))
}

fn call_matches(
    step: &crate::plan::Step,
    expected: &ExpectedCall,
    step_map: &BTreeMap<StepId, StepId>,
) -> Result<(), String> {
    let (function, args) = match &step.action {
        crate::plan::Action::Call { function, args } => (function, args),
        crate::plan::Action::Reply { .. } => return Err("a reply, not a call".into()),
    };
    if *function != expected.function {
        return Err(format!("called {function}, expected {}", expected.function));
    }
    for (name, arg) in args {
        let Some(options) = expected.args.get(name) else {
            return Err(format!("{function}: `{name}` should not be given"));
        };
        if !options.iter().any(|o| arg_matches(arg, o, step_map)) {
            return Err(format!("{function}: `{name}={arg}` is wrong"));
        }
    }
    for (name, options) in &expected.args {
        if !args.iter().any(|(n, _)| n == name) && !options.contains(&Expected::Absent) {
            return Err(format!("{function}: `{name}` is missing"));
        }
    }
    Ok(())
}

fn arg_matches(arg: &Arg, expected: &Expected, step_map: &BTreeMap<StepId, StepId>) -> bool {
    match (arg, expected) {
        (_, Expected::Absent) => false,
        (Arg::Ref(id), Expected::Ref(want)) => step_map.get(want) == Some(id),
        // `[$1]` for a list argument whose reference is `$1`, and the other way round.
        (Arg::List(items), Expected::Ref(_)) if items.len() == 1 => {
            arg_matches(&items[0], expected, step_map)
        }
        (Arg::Ref(_), Expected::Value(Value::Array(items))) if items.len() == 1 => {
            arg_matches(arg, &Expected::from_json(&items[0]), step_map)
        }
        (Arg::List(items), Expected::Value(Value::Array(wanted))) => {
            items.len() == wanted.len()
                && items
                    .iter()
                    .zip(wanted)
                    .all(|(item, want)| arg_matches(item, &Expected::from_json(want), step_map))
        }
        (Arg::Value(value), Expected::Value(want)) => value_matches(value, want),
        _ => false,
    }
}

/// Loose equality: numbers by value (5 = 5.0), strings ignoring case, spaces and
/// punctuation, objects key by key where a reference value that is a list may be a list of
/// alternatives (BFCL's nested possible answers).
pub fn value_matches(value: &Value, want: &Value) -> bool {
    match (value, want) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => normalise(a) == normalise(b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| value_matches(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.keys().all(|k| b.contains_key(k))
                && b.iter().all(|(k, w)| match (a.get(k), w) {
                    (Some(v), w) if value_matches(v, w) => true,
                    (Some(v), Value::Array(options)) => options.iter().any(|o| value_matches(v, o)),
                    (None, Value::Array(options)) => options.iter().any(|o| o == "" || o.is_null()),
                    _ => false,
                })
        }
        (a, b) => a == b,
    }
}

fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The next permutation in lexicographic order; `false` after the last.
fn next_permutation(order: &mut [usize]) -> bool {
    let Some(i) = order.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let j = order.iter().rposition(|&x| x > order[i]).unwrap_or(i);
    order.swap(i, j);
    order[i + 1..].reverse();
    true
}
