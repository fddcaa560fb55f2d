//! Learning a template from use: a request and the call it led to become a template in which
//! each argument's words are its slot, so the next request said the same way with other
//! values takes the fast path. Proposed, never applied silently: the caller shows it to the
//! user, who accepts it or not.

use serde_json::{Map, Value};

use crate::template::{SlotKind, Template, Tokens};

/// A template for `utterance` that gives back exactly `args` when matched against it, or
/// `None` when there is none (an argument's words overlap another's, the request has
/// characters templates use as syntax, or only slots would remain).
pub fn propose(utterance: &str, args: &Map<String, Value>, args_schema: &Value) -> Option<String> {
    let tokens = Tokens::new(utterance);
    if tokens
        .lower
        .iter()
        .any(|w| w.contains(['[', ']', '(', ')', '{', '}', '|', '=']))
    {
        return None;
    }
    // (start, length, slot text) for each argument found in the words.
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut fixed: Vec<String> = Vec::new();
    let mut names: Vec<&String> = args.keys().collect();
    // Longer values first, so `shopping list` is placed before `list`.
    names.sort_by_key(|n| std::cmp::Reverse(args[*n].to_string().len()));
    for name in names {
        let value = &args[name];
        let probe = Template::parse(&format!("x {{{name}}}"), args_schema).ok();
        let kind = probe.as_ref().and_then(|t| t.slot_kind(name));
        let found = kind.and_then(|kind| find(&tokens, value, &kind, &spans));
        match found {
            Some((start, length)) => spans.push((start, length, format!("{{{name}}}"))),
            None => fixed.push(format!("{{{name}={value}}}")),
        }
    }
    spans.sort();
    let mut words = Vec::new();
    let mut at = 0;
    for (start, length, slot) in &spans {
        words.extend(tokens.lower[at..*start].iter().cloned());
        words.push(slot.clone());
        at = start + length;
    }
    words.extend(tokens.lower[at..].iter().cloned());
    words.extend(fixed);
    let source = words.join(" ");
    // Only what reads back exactly is proposed.
    let template = Template::parse(&source, args_schema).ok()?;
    (template.matches(&tokens).as_ref() == Some(args)).then_some(source)
}

fn find(
    tokens: &Tokens,
    value: &Value,
    kind: &SlotKind,
    taken: &[(usize, usize, String)],
) -> Option<(usize, usize)> {
    let free = |start: usize, length: usize| {
        taken
            .iter()
            .all(|(s, l, _)| start + length <= *s || s + l <= start)
    };
    let n = tokens.lower.len();
    for length in 1..=n.min(crate::MAX_TEXT_WORDS) {
        for start in 0..=n - length {
            if !free(start, length) {
                continue;
            }
            let words: Vec<&str> = tokens.lower[start..start + length]
                .iter()
                .map(String::as_str)
                .collect();
            let hit = match (kind, value) {
                (SlotKind::Integer | SlotKind::Number, Value::Number(number)) => {
                    crate::parse_number(&words) == number.as_f64()
                }
                (SlotKind::OneOf(_), Value::String(text)) => {
                    crate::template::same_value(text, &words.join(" "))
                }
                (SlotKind::Text, Value::String(text)) => {
                    tokens.original[start..start + length].join(" ") == *text
                        || words.join(" ") == text.to_lowercase()
                            && Tokens::new(text).lower.len() == length
                }
                _ => false,
            };
            if hit {
                return Some((start, length));
            }
        }
    }
    None
}
