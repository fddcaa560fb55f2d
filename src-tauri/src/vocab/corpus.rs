//! The personal model's training sentences, made from [`Sources`]: what the tools say they
//! are asked (examples and fast-path templates), the same sentences with this user's people,
//! applications and notes in the places where the examples name one (class expansion), the
//! entities and custom words alone, and what the user said before.
//!
//! Pure: no IO, deterministic (the same sources give the same sentences in the same order,
//! so the corpus hash only changes when the sources do).

use std::collections::HashSet;

use serde_json::Value;
use sotto_fastpath::{SlotKind, Template};

use super::template::{expand, Piece};
use super::{Sources, ToolPhrases};

/// Most sentences made by filling slots with entities; beyond this they are sampled evenly.
pub const MAX_GENERATED: usize = 20_000;
/// Most sentences one template gives (see [`template_sentences`]).
const MAX_PER_TEMPLATE: usize = 2_000;
/// Custom words and phrases are repeated so they carry probability mass of their own.
const CUSTOM_REPEATS: usize = 3;
/// Numbers for a numeric slot when the tool's examples give none for that argument.
const DEFAULT_NUMBERS: &[&str] = &["2", "5", "10", "30"];

/// What kind of thing an argument names, as far as the user's own lists can fill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityClass {
    Person,
    App,
    Note,
}

/// The training sentences, in a fixed order: tool examples, generated sentences (templates
/// and class expansion, capped at [`MAX_GENERATED`]), entities alone, custom words (each
/// [`CUSTOM_REPEATS`] times), history.
pub fn corpus(sources: &Sources) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tool in &sources.tools {
        out.extend(tool.examples.iter().map(|(u, _)| u.trim().to_string()));
    }

    let mut generated = Unique::default();
    for tool in &sources.tools {
        for template in &tool.templates {
            for sentence in template_sentences(tool, template, sources) {
                generated.push(sentence);
            }
        }
        for (utterance, args) in &tool.examples {
            for sentence in expand_example(tool, utterance, args, sources) {
                generated.push(sentence);
            }
        }
    }
    let generated = generated.into_vec();
    out.extend(even_indices(generated.len(), MAX_GENERATED).map(|i| generated[i].clone()));

    let mut alone = Unique::default();
    for entity in sources
        .contacts
        .iter()
        .chain(&sources.apps)
        .chain(&sources.note_titles)
    {
        alone.push(entity.trim().to_string());
    }
    out.extend(alone.into_vec());
    for phrase in &sources.custom {
        for _ in 0..CUSTOM_REPEATS {
            out.push(phrase.trim().to_string());
        }
    }
    out.extend(sources.history.iter().map(|h| h.trim().to_string()));
    out.retain(|s| !s.is_empty());
    out
}

/// Parts of an argument's key (or a tool's name) that say what is named. `*_EXACT` must be a
/// whole part (`to`, not `total`); `*_WITHIN` may be inside one (`recipients`, `appname`).
const APP_EXACT: &[&str] = &["app", "apps"];
const APP_WITHIN: &[&str] = &["application", "program"];
const NOTE_WITHIN: &[&str] = &["note"];
const PERSON_EXACT: &[&str] = &["to", "cc", "bcc", "who", "whom"];
const PERSON_WITHIN: &[&str] = &["contact", "recipient", "person", "people"];
/// Tools about things that have names or titles but are none of the user's entities.
const THING_EXACT: &[&str] = &[
    "file",
    "files",
    "folder",
    "path",
    "document",
    "documents",
    "calendar",
    "event",
    "events",
    "timer",
    "timers",
    "reminder",
    "url",
    "web",
];

/// The class of things an argument names, from its key and, for a bare `name` or `title`,
/// the tool's name: `name` of `open_app` is an application, `title` of `note_read` a note,
/// `name` of `find_files` none of the user's entities, `name` of anything else a person.
pub fn entity_class(tool: &str, key: &str) -> Option<EntityClass> {
    let says = |identifier: &str, exact: &[&str], within: &[&str]| {
        parts(identifier)
            .iter()
            .any(|p| exact.contains(&p.as_str()) || within.iter().any(|w| p.contains(w)))
    };
    if says(key, APP_EXACT, APP_WITHIN) {
        return Some(EntityClass::App);
    }
    if says(key, &[], NOTE_WITHIN) {
        return Some(EntityClass::Note);
    }
    if says(key, PERSON_EXACT, PERSON_WITHIN) {
        return Some(EntityClass::Person);
    }
    let is_name = says(key, &[], &["name"]);
    if !is_name && !says(key, &[], &["title"]) {
        return None;
    }
    if says(tool, APP_EXACT, APP_WITHIN) {
        Some(EntityClass::App)
    } else if says(tool, &[], NOTE_WITHIN) {
        Some(EntityClass::Note)
    } else if says(tool, THING_EXACT, &[]) {
        None
    } else if is_name {
        Some(EntityClass::Person)
    } else {
        Some(EntityClass::Note)
    }
}

/// Lowercase alphanumeric parts of an identifier (`contact_name` -> `contact`, `name`).
fn parts(identifier: &str) -> Vec<String> {
    identifier
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// What fills an entity slot: people by full name, first name and nickname.
fn entities(sources: &Sources, class: EntityClass) -> Vec<String> {
    let mut out = Unique::default();
    match class {
        EntityClass::Person => {
            for name in &sources.contacts {
                out.push(name.trim().to_string());
                if let Some(first) = name.split_whitespace().next() {
                    out.push(first.to_string());
                }
            }
        }
        EntityClass::App => sources
            .apps
            .iter()
            .for_each(|a| out.push(a.trim().to_string())),
        EntityClass::Note => sources
            .note_titles
            .iter()
            .for_each(|n| out.push(n.trim().to_string())),
    }
    out.into_vec()
}

/// One sentence per entity for each argument of the example that names an entity and is
/// said in the utterance: "call Bob" with `{"name": "Bob"}` gives "call Siobhan Murphy".
/// Arguments with fixed values (a schema enum) are not slots.
fn expand_example(
    tool: &ToolPhrases,
    utterance: &str,
    args: &Value,
    sources: &Sources,
) -> Vec<String> {
    let Some(args) = args.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in args {
        let Some(class) = entity_class(&tool.tool, key) else {
            continue;
        };
        if !is_free_text(&tool.args_schema, key) {
            continue;
        }
        let values: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let fillers = entities(sources, class);
        for said in values {
            for filler in &fillers {
                if let Some(sentence) = replace_words(utterance, said, filler) {
                    out.push(sentence);
                }
            }
        }
    }
    out
}

/// Whether the argument `key` takes free text (a string, or strings), not one of fixed
/// values. A schema that does not describe the argument does not forbid it.
fn is_free_text(schema: &Value, key: &str) -> bool {
    let Some(property) = schema.get("properties").and_then(|p| p.get(key)) else {
        return true;
    };
    let fixed = |p: &Value| p.get("enum").is_some() || p.get("const").is_some();
    let has_type = |p: &Value, wanted: &str| match p.get("type") {
        Some(Value::String(t)) => t == wanted,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == wanted),
        _ => false,
    };
    if fixed(property) {
        return false;
    }
    if has_type(property, "string") {
        return true;
    }
    match property.get("items") {
        Some(items) if has_type(property, "array") => has_type(items, "string") && !fixed(items),
        _ => false,
    }
}

/// `utterance` with the words of `said` (case and surrounding punctuation ignored; a
/// possessive `'s` on the last word kept) replaced by `with`. `None` when `said` is not in
/// it as whole words.
pub fn replace_words(utterance: &str, said: &str, with: &str) -> Option<String> {
    let wanted: Vec<String> = said
        .split_whitespace()
        .map(|w| split_edges(w).1.to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let words: Vec<&str> = utterance.split_whitespace().collect();
    if wanted.is_empty() || wanted.len() > words.len() {
        return None;
    }
    for start in 0..=words.len() - wanted.len() {
        let end = start + wanted.len();
        let mut suffix = None;
        let fits = words[start..end]
            .iter()
            .zip(&wanted)
            .enumerate()
            .all(|(i, (word, want))| {
                let (_, core, _) = split_edges(word);
                let lower = core.to_lowercase();
                if &lower == want {
                    return true;
                }
                let possessive = ["'s", "\u{2019}s"]
                    .into_iter()
                    .find(|s| lower.ends_with(s) && lower[..lower.len() - s.len()] == **want);
                // The suffix as written (`'S` stays `'S`); `get` in case case-folding changed
                // the end's length.
                match possessive.and_then(|s| core.get(core.len().checked_sub(s.len())?..)) {
                    Some(written) if i + 1 == wanted.len() => {
                        suffix = Some(written);
                        true
                    }
                    _ => false,
                }
            });
        if !fits {
            continue;
        }
        let (lead, _, _) = split_edges(words[start]);
        let (_, _, trail) = split_edges(words[end - 1]);
        let middle = format!("{lead}{with}{}{trail}", suffix.unwrap_or(""));
        let mut out: Vec<&str> = words[..start].to_vec();
        out.push(&middle);
        out.extend(&words[end..]);
        return Some(out.join(" "));
    }
    None
}

/// A word as (leading punctuation, core, trailing punctuation).
fn split_edges(word: &str) -> (&str, &str, &str) {
    let edge = |c: char| !c.is_alphanumeric();
    let rest = word.trim_start_matches(edge);
    let core = rest.trim_end_matches(edge);
    (&word[..word.len() - rest.len()], core, &rest[core.len()..])
}

/// Ways of saying a fast-path template, its slots filled with plausible values: the user's
/// entities for an entity slot, the schema's values for a fixed-values slot, the tool's own
/// example values otherwise (numbers fall back to a few small ones). A way of saying it with
/// a slot nothing fills is dropped; so is a template the fast path refuses.
///
/// Not every combination: sentence `i` takes way `i mod ways` and value `i mod n` of each
/// slot, for as many sentences as the largest of those counts. Every way and every value
/// (each contact, each unit) appears, and a template weighs in the model like a handful of
/// examples, not like the product of its choices (units x units x numbers).
fn template_sentences(tool: &ToolPhrases, source: &str, sources: &Sources) -> Vec<String> {
    let Ok(template) = Template::parse(source, &tool.args_schema) else {
        return Vec::new();
    };
    let mut ways: Vec<Vec<Vec<String>>> = Vec::new();
    for sequence in expand(source) {
        let choices: Vec<Vec<String>> = sequence
            .iter()
            .map(|piece| match piece {
                Piece::Word(word) => vec![word.clone()],
                Piece::Slot(name) => slot_values(tool, &template, name, sources),
            })
            .collect();
        if choices.iter().all(|c| !c.is_empty()) {
            ways.push(choices);
        }
    }
    let most_values = ways.iter().flatten().map(Vec::len).max().unwrap_or(0);
    let count = ways.len().max(most_values).min(MAX_PER_TEMPLATE);
    (0..count)
        .map(|i| {
            let way = &ways[i % ways.len()];
            let slots = way.iter().filter(|values| values.len() > 1).count();
            let mut slot = 0;
            let words: Vec<&str> = way
                .iter()
                .map(|values| {
                    let n = values.len();
                    if n == 1 {
                        return values[0].as_str();
                    }
                    // Each slot starts elsewhere in its list, so two slots with the same
                    // values ("convert {value} {from} to {to}") do not say the same one.
                    let offset = slot * (n / (slots + 1)).max(1);
                    slot += 1;
                    values[(i + offset) % n].as_str()
                })
                .collect();
            words.join(" ")
        })
        .collect()
}

fn slot_values(
    tool: &ToolPhrases,
    template: &Template,
    name: &str,
    sources: &Sources,
) -> Vec<String> {
    let examples = || tool.examples.iter().filter_map(|(_, args)| args.get(name));
    let mut out = Unique::default();
    match template.slot_kind(name) {
        Some(SlotKind::OneOf(values)) => {
            values.iter().for_each(|v| out.push(v.replace('_', " ")));
        }
        Some(SlotKind::Integer | SlotKind::Number) => {
            examples().filter_map(Value::as_f64).for_each(|n| {
                out.push(if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", n as i64)
                } else {
                    n.to_string()
                })
            });
            if out.is_empty() {
                DEFAULT_NUMBERS.iter().for_each(|n| out.push(n.to_string()));
            }
        }
        Some(SlotKind::Text) => match entity_class(&tool.tool, name) {
            Some(class) => entities(sources, class)
                .into_iter()
                .for_each(|e| out.push(e)),
            None => examples()
                .filter_map(Value::as_str)
                .for_each(|s| out.push(s.to_string())),
        },
        None => {}
    }
    out.into_vec()
}

/// `cap` indices spread evenly over `0..n` (all of them when `n <= cap`), in order.
fn even_indices(n: usize, cap: usize) -> impl Iterator<Item = usize> {
    let take = n.min(cap);
    (0..take).map(move |i| {
        if n <= cap {
            i
        } else {
            // i * n / take without overflow for any realistic n.
            ((i as u128 * n as u128) / take as u128) as usize
        }
    })
}

/// Strings in first-seen order, each once (case-insensitively), empty ones left out.
#[derive(Debug, Default)]
struct Unique {
    seen: HashSet<String>,
    items: Vec<String>,
}

impl Unique {
    fn push(&mut self, item: String) {
        if !item.is_empty() && self.seen.insert(item.to_lowercase()) {
            self.items.push(item);
        }
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn into_vec(self) -> Vec<String> {
        self.items
    }
}

#[cfg(test)]
#[path = "corpus_tests.rs"]
mod tests;
