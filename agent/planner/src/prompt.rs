//! The prompt: a stable system message (the rules and the functions on offer), worked
//! examples as earlier chat turns, then the request.
//!
//! Stable first, because the LM worker keeps the KV cache of the longest prefix a prompt
//! shares with the previous one: with the same functions and examples, a request costs only
//! its own few tokens of prompt evaluation.

use std::fmt::Write as _;

use crate::functions::Functions;

/// A worked example: a request and its plan text (`1. f(a=1)\njoin()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub request: String,
    pub plan: String,
}

/// The rules every plan follows, whatever the functions.
pub const RULES: &str = "\
You are the planner of Sotto, a desktop assistant. Answer the user's request with a plan: \
numbered lines that each call one function, then join().
- Write arguments as name=value with JSON values (strings in double quotes).
- Give only the arguments the request states or clearly implies. Leave out optional \
arguments it does not mention; never invent values.
- Make one call for each thing the user asks for, and nothing more: write join() as soon \
as every part of the request has its call.
- When a call needs what an earlier step finds or reads (a contact, a note, the clipboard, \
a result), write $N as the value: the output of step N.
- If no function can do what is asked, answer only `1. reply(text=\"...\")` with one short \
sentence saying so.";

/// The system message: the rules and every function's signature and description.
pub fn system_message(functions: &Functions) -> String {
    let mut text = String::from(RULES);
    text.push_str("\n\nFunctions:\n");
    for function in functions.iter() {
        let _ = writeln!(text, "{}", function.signature());
        if !function.description.is_empty() {
            let _ = writeln!(text, "  {}", one_line(&function.description));
        }
        for param in &function.params {
            if let Some(description) = param.description() {
                let _ = writeln!(text, "  {}: {}", param.name, one_line(description));
            }
        }
    }
    text.truncate(text.trim_end().len());
    text
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
