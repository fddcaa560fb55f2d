//! The fast path: frequent requests answered from the tools' own templates, without the
//! language model.
//!
//! A tool's manifest may declare templates ("set a timer for {minutes} minutes", "volume up
//! {action=up}"). [`FastPath`] matches a request against all of them: when exactly one tool's
//! template covers the whole request, with every slot typed by the tool's schema (numbers,
//! enum values, a few words of text), that call is the plan, in microseconds instead of the
//! planner's seconds. Anything it is not sure of goes to the planner: no match, a match for
//! two different tools, or (checked by the caller) arguments the schema refuses or a tool
//! retrieval does not rank first.
//!
//! The trade-off: templates cover what people say most in the words they say it, and nothing
//! else. A template that would take a request meant for another tool is the risk, which is
//! why a whole-request match is required and why ambiguity falls through.
//!
//! [`propose`] turns a request and the arguments of the call it led to (a plan the user
//! confirmed) into a template, so the fast path can learn from use.
//!
//! ```
//! use serde_json::json;
//! use sotto_fastpath::FastPath;
//!
//! let schema = json!({"type": "object", "properties": {"minutes": {"type": "integer"}}});
//! let (fast, problems) = FastPath::build([(
//!     "timer_start",
//!     &schema,
//!     ["set [a] timer for {minutes} (minute|minutes)"].as_slice(),
//! )]);
//! assert!(problems.is_empty());
//! let call = fast.find("Set a timer for ten minutes, please").unwrap();
//! assert_eq!((call.tool.as_str(), call.args), ("timer_start", json!({"minutes": 10})));
//! ```

mod numbers;
mod propose;
mod template;

use serde_json::Value;

pub use numbers::parse_number;
pub use propose::propose;
pub use template::{SlotKind, Template, TemplateError, Tokens, MAX_TEXT_WORDS};

/// One tool call the fast path is sure of.
#[derive(Debug, Clone, PartialEq)]
pub struct FastCall {
    pub tool: String,
    pub args: Value,
    /// The template that matched, as written.
    pub template: String,
}

/// Every tool's templates, ready to match.
#[derive(Debug, Clone, Default)]
pub struct FastPath {
    tools: Vec<(String, Vec<Template>)>,
}

/// Words that carry no request: a polite or addressing opening or ending.
const FILLER_START: &[&[&str]] = &[
    &["hey", "sotto"],
    &["sotto"],
    &["please"],
    &["can", "you"],
    &["could", "you"],
    &["uh"],
    &["um"],
    &["okay"],
    &["ok"],
];
const FILLER_END: &[&str] = &["please", "thanks"];

impl FastPath {
    /// Compiles the templates of each `(tool, args_schema, templates)`. A template that does
    /// not parse or does not fit its schema is left out and reported; the others still work.
    pub fn build<'a>(
        tools: impl IntoIterator<Item = (&'a str, &'a Value, &'a [&'a str])>,
    ) -> (FastPath, Vec<TemplateError>) {
        let mut fast = FastPath::default();
        let mut problems = Vec::new();
        for (tool, schema, sources) in tools {
            let mut templates = Vec::new();
            for source in sources {
                match Template::parse(source, schema) {
                    Ok(template) => templates.push(template),
                    Err(problem) => problems.push(problem),
                }
            }
            if !templates.is_empty() {
                fast.tools.push((tool.to_string(), templates));
            }
        }
        (fast, problems)
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// How many templates are ready.
    pub fn len(&self) -> usize {
        self.tools.iter().map(|(_, t)| t.len()).sum()
    }

    /// The call for `request` if exactly one tool's template covers all of it.
    pub fn find(&self, request: &str) -> Option<FastCall> {
        let tokens = strip_filler(Tokens::new(request));
        if tokens.lower.is_empty() {
            return None;
        }
        let mut found: Option<FastCall> = None;
        for (tool, templates) in &self.tools {
            let Some((template, args)) = templates
                .iter()
                .find_map(|t| t.matches(&tokens).map(|args| (t, args)))
            else {
                continue;
            };
            if found.as_ref().is_some_and(|f| &f.tool != tool) {
                // Two tools claim it: not sure, so the planner decides.
                return None;
            }
            // "search the web for what's on the clipboard" is two steps: text that is itself
            // a request some template takes is not a value to pass on as it is.
            let nested = args.iter().any(|(name, value)| {
                template.slot_kind(name) == Some(SlotKind::Text)
                    && value.as_str().is_some_and(|text| self.find_one_level(text))
            });
            if nested {
                return None;
            }
            found = Some(FastCall {
                tool: tool.clone(),
                args: Value::Object(args),
                template: template.source.clone(),
            });
        }
        found
    }
}

impl FastPath {
    /// Whether any template takes `text` as a whole request (no nesting check, so this
    /// cannot recurse).
    fn find_one_level(&self, text: &str) -> bool {
        let tokens = strip_filler(Tokens::new(text));
        self.tools
            .iter()
            .flat_map(|(_, templates)| templates)
            .any(|t| t.matches(&tokens).is_some())
    }
}

fn strip_filler(mut tokens: Tokens) -> Tokens {
    // "uh okay sotto please ...": openings can stack.
    while let Some(filler) = FILLER_START.iter().find(|filler| {
        tokens.lower.len() > filler.len()
            && tokens.lower.iter().zip(filler.iter()).all(|(a, b)| a == b)
    }) {
        tokens.lower.drain(..filler.len());
        tokens.original.drain(..filler.len());
    }
    while tokens.lower.len() > 1
        && tokens
            .lower
            .last()
            .is_some_and(|w| FILLER_END.contains(&w.as_str()))
    {
        tokens.lower.pop();
        tokens.original.pop();
    }
    if tokens.lower.last().map(String::as_str) == Some("you")
        && tokens.lower.len() > 2
        && tokens.lower[tokens.lower.len() - 2] == "thank"
    {
        tokens.lower.truncate(tokens.lower.len() - 2);
        tokens.original.truncate(tokens.original.len() - 2);
    }
    tokens
}
