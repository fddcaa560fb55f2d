//! Templates: how a tool says "requests shaped like this call me with these arguments".
//!
//! ```text
//! [please] set [a|an] timer (for|of) {minutes} (minute|minutes|min)
//! (turn|volume) up {action=up}
//! ```
//!
//! Words match words (case and surrounding punctuation ignored); `[...]` is optional;
//! `(a|b)` is a choice (each side a sequence of words); `{name}` is the argument `name`, typed
//! by the tool's argument schema (a number, one of an enum's values, or a few words of text);
//! `{name=value}` sets an argument to a fixed value (JSON, or a bare word as a string).
//!
//! A template is compiled into every linear sequence it allows, so matching is a walk over
//! tokens with backtracking only over how many words a slot takes.

use serde_json::{Map, Value};

use crate::numbers::parse_number;

/// Most words a text slot takes: longer captures are the planner's business.
pub const MAX_TEXT_WORDS: usize = 12;
const MAX_NUMBER_WORDS: usize = 5;
const MAX_ENUM_WORDS: usize = 3;
/// A template that allows more sequences than this is refused as too loose to be sure of.
const MAX_SEQUENCES: usize = 256;

/// Why a template cannot be used; names the template and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template `{template}`: {problem}")]
pub struct TemplateError {
    pub template: String,
    pub problem: String,
}

/// What a slot's words must be, from the argument's schema.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotKind {
    Integer,
    Number,
    /// One of these values (the schema's enum), said with spaces for `_`, singular or plural.
    OneOf(Vec<String>),
    Text,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Word(String),
    Slot { name: String, kind: SlotKind },
    Fixed { name: String, value: Value },
}

/// A parsed template for one tool.
#[derive(Debug, Clone)]
pub struct Template {
    pub source: String,
    sequences: Vec<Vec<Atom>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Word(String),
    Optional(Vec<Node>),
    Choice(Vec<Vec<Node>>),
    Slot(String),
    Fixed(String, Value),
}

/// Words of a request or template: lowercase, surrounding punctuation removed; the original
/// spelling is kept for text slots.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub lower: Vec<String>,
    pub original: Vec<String>,
}

const EDGE_PUNCTUATION: &[char] = &[
    '.', ',', '!', '?', ';', ':', '"', '\'', '(', ')', '[', ']', '“', '”', '‘', '’',
];

impl Tokens {
    pub fn new(text: &str) -> Tokens {
        let mut lower = Vec::new();
        let mut original = Vec::new();
        for raw in text.split_whitespace() {
            let word = raw.trim_matches(EDGE_PUNCTUATION);
            if word.is_empty() {
                continue;
            }
            lower.push(word.to_lowercase());
            original.push(word.to_string());
        }
        Tokens { lower, original }
    }
}

impl Template {
    /// Parses `source` for a tool whose arguments have `args_schema` (a JSON Schema object).
    pub fn parse(source: &str, args_schema: &Value) -> Result<Template, TemplateError> {
        let fail = |problem: String| TemplateError {
            template: source.to_string(),
            problem,
        };
        let chars: Vec<char> = source.chars().collect();
        let mut at = 0;
        let nodes = parse_seq(&chars, &mut at, &[]).map_err(fail)?;
        if at != chars.len() {
            return Err(fail(format!("unexpected `{}`", chars[at])));
        }
        let mut sequences = Vec::new();
        expand(&nodes, Vec::new(), &mut sequences).map_err(fail)?;
        let mut typed = Vec::with_capacity(sequences.len());
        for sequence in sequences {
            let mut atoms = Vec::with_capacity(sequence.len());
            for node in sequence {
                atoms.push(match node {
                    Node::Word(w) => Atom::Word(w),
                    Node::Slot(name) => Atom::Slot {
                        kind: slot_kind(args_schema, &name).map_err(fail)?,
                        name,
                    },
                    Node::Fixed(name, value) => {
                        property(args_schema, &name).map_err(fail)?;
                        Atom::Fixed { name, value }
                    }
                    // `expand` leaves only words, slots and fixed values.
                    Node::Optional(_) | Node::Choice(_) => continue,
                });
            }
            if !atoms.iter().any(|a| matches!(a, Atom::Word(_))) {
                return Err(fail(
                    "every way of saying it needs at least one fixed word".into(),
                ));
            }
            let mut names: Vec<&str> = atoms
                .iter()
                .filter_map(|a| match a {
                    Atom::Slot { name, .. } | Atom::Fixed { name, .. } => Some(name.as_str()),
                    Atom::Word(_) => None,
                })
                .collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return Err(fail("an argument appears twice".into()));
            }
            typed.push(atoms);
        }
        Ok(Template {
            source: source.to_string(),
            sequences: typed,
        })
    }

    /// The kind of the slot `name`, if the template has one.
    pub fn slot_kind(&self, name: &str) -> Option<SlotKind> {
        self.sequences.iter().flatten().find_map(|atom| match atom {
            Atom::Slot { name: n, kind } if n == name => Some(kind.clone()),
            _ => None,
        })
    }

    /// The arguments if the whole request is said the way this template says, else `None`.
    pub fn matches(&self, tokens: &Tokens) -> Option<Map<String, Value>> {
        self.sequences.iter().find_map(|sequence| {
            let mut args = Map::new();
            walk(sequence, tokens, 0, &mut args).then_some(args)
        })
    }
}

fn parse_seq(chars: &[char], at: &mut usize, closers: &[char]) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    while *at < chars.len() {
        let c = chars[*at];
        if closers.contains(&c) {
            break;
        }
        match c {
            c if c.is_whitespace() => *at += 1,
            '[' => {
                *at += 1;
                let inner = parse_choice(chars, at, ']')?;
                nodes.push(Node::Optional(vec![inner]));
            }
            '(' => {
                *at += 1;
                nodes.push(parse_choice(chars, at, ')')?);
            }
            '{' => {
                let end = chars[*at..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or("a `{` is not closed")?;
                let inside: String = chars[*at + 1..*at + end].iter().collect();
                *at += end + 1;
                nodes.push(match inside.split_once('=') {
                    Some((name, value)) => {
                        let value = value.trim();
                        let value = serde_json::from_str(value)
                            .unwrap_or_else(|_| Value::String(value.to_string()));
                        Node::Fixed(name.trim().to_string(), value)
                    }
                    None => Node::Slot(inside.trim().to_string()),
                });
            }
            ']' | ')' | '}' | '|' => return Err(format!("unexpected `{c}`")),
            _ => {
                let start = *at;
                while *at < chars.len()
                    && !chars[*at].is_whitespace()
                    && !"[](){}|".contains(chars[*at])
                {
                    *at += 1;
                }
                let word: String = chars[start..*at].iter().collect();
                let word = word.trim_matches(EDGE_PUNCTUATION).to_lowercase();
                if !word.is_empty() {
                    nodes.push(Node::Word(word));
                }
            }
        }
    }
    Ok(nodes)
}

/// `a b|c|d e` up to `close`: a choice of sequences (one sequence for `[...]` without `|`).
fn parse_choice(chars: &[char], at: &mut usize, close: char) -> Result<Node, String> {
    let mut options = Vec::new();
    loop {
        options.push(parse_seq(chars, at, &['|', close])?);
        match chars.get(*at) {
            Some('|') => *at += 1,
            Some(&c) if c == close => {
                *at += 1;
                break;
            }
            _ => return Err(format!("a `{close}` is missing")),
        }
    }
    if options.iter().any(Vec::is_empty) && close == ')' {
        return Err("an empty choice; use [...] for optional words".into());
    }
    Ok(if close == ']' {
        Node::Optional(vec![Node::Choice(options)])
    } else {
        Node::Choice(options)
    })
}

fn expand(nodes: &[Node], prefix: Vec<Node>, out: &mut Vec<Vec<Node>>) -> Result<(), String> {
    if out.len() > MAX_SEQUENCES {
        return Err(format!(
            "allows more than {MAX_SEQUENCES} ways of saying it; split it"
        ));
    }
    let Some((first, rest)) = nodes.split_first() else {
        out.push(prefix);
        return Ok(());
    };
    match first {
        Node::Optional(inner) => {
            // With the words first: `open [the] {name} app` on "open the calculator app"
            // should read "the" as the template's word, not as part of the name.
            let mut with: Vec<Node> = inner.clone();
            with.extend_from_slice(rest);
            expand(&with, prefix.clone(), out)?;
            expand(rest, prefix, out)
        }
        Node::Choice(options) => {
            for option in options {
                let mut with: Vec<Node> = option.clone();
                with.extend_from_slice(rest);
                expand(&with, prefix.clone(), out)?;
            }
            Ok(())
        }
        atom => {
            let mut prefix = prefix;
            prefix.push(atom.clone());
            expand(rest, prefix, out)
        }
    }
}

fn property<'s>(schema: &'s Value, name: &str) -> Result<&'s Value, String> {
    schema
        .get("properties")
        .and_then(|p| p.get(name))
        .ok_or_else(|| format!("the tool has no argument `{name}`"))
}

fn slot_kind(schema: &Value, name: &str) -> Result<SlotKind, String> {
    let property = property(schema, name)?;
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        if values.is_empty() {
            return Err(format!("`{name}` has no text values to say"));
        }
        return Ok(SlotKind::OneOf(values));
    }
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"integer") {
        Ok(SlotKind::Integer)
    } else if types.contains(&"number") {
        Ok(SlotKind::Number)
    } else if types.contains(&"string") {
        Ok(SlotKind::Text)
    } else {
        Err(format!(
            "`{name}` is not a number, text or one of fixed values, so it cannot be said"
        ))
    }
}

fn walk(atoms: &[Atom], tokens: &Tokens, at: usize, args: &mut Map<String, Value>) -> bool {
    let Some((first, rest)) = atoms.split_first() else {
        return at == tokens.lower.len();
    };
    match first {
        Atom::Word(word) => tokens.lower.get(at) == Some(word) && walk(rest, tokens, at + 1, args),
        Atom::Fixed { name, value } => {
            args.insert(name.clone(), value.clone());
            walk(rest, tokens, at, args) || {
                args.remove(name);
                false
            }
        }
        Atom::Slot { name, kind } => {
            let most = match kind {
                SlotKind::Integer | SlotKind::Number => MAX_NUMBER_WORDS,
                SlotKind::OneOf(_) => MAX_ENUM_WORDS,
                SlotKind::Text => MAX_TEXT_WORDS,
            };
            let left = tokens.lower.len().saturating_sub(at);
            for take in 1..=most.min(left) {
                let words: Vec<&str> = tokens.lower[at..at + take]
                    .iter()
                    .map(String::as_str)
                    .collect();
                let Some(value) = slot_value(kind, &words, &tokens.original[at..at + take]) else {
                    continue;
                };
                args.insert(name.clone(), value);
                if walk(rest, tokens, at + take, args) {
                    return true;
                }
                args.remove(name);
            }
            false
        }
    }
}

fn slot_value(kind: &SlotKind, words: &[&str], original: &[String]) -> Option<Value> {
    match kind {
        SlotKind::Integer => {
            let n = parse_number(words)?;
            (n.fract() == 0.0 && n.abs() < 9e15).then(|| Value::from(n as i64))
        }
        SlotKind::Number => {
            let n = parse_number(words)?;
            Some(if n.fract() == 0.0 && n.abs() < 9e15 {
                Value::from(n as i64)
            } else {
                Value::from(n)
            })
        }
        SlotKind::OneOf(values) => {
            let said = words.join(" ");
            values
                .iter()
                .find(|v| same_value(v, &said))
                .map(|v| Value::String(v.clone()))
        }
        // "search the web for X and open Y" is two requests: a text slot that would swallow
        // a joined clause leaves the request to the planner (at the cost of "salt and pepper").
        SlotKind::Text if words.iter().any(|w| CLAUSE_JOINERS.contains(w)) => None,
        SlotKind::Text => Some(Value::String(original.join(" "))),
    }
}

const CLAUSE_JOINERS: &[&str] = &["and", "then", "also", "plus", "&"];

/// `nautical_mile` is said `nautical mile` or `nautical miles`; `inch` also `inches`.
pub(crate) fn same_value(value: &str, said: &str) -> bool {
    let value = value.to_lowercase().replace(['_', '-'], " ");
    said == value
        || said.strip_suffix('s') == Some(value.as_str())
        || said.strip_suffix("es") == Some(value.as_str())
}
