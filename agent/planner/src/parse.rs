//! Reads a plan as the model writes it, a piece at a time, and hands over each step the
//! moment it is complete, so the executor can start it while the model is still writing the
//! next one.
//!
//! A step is complete at the `)` that closes its call (the grammar allows nothing but a line
//! break after it), which saves waiting for the line break's token. A `)` inside a string
//! only looks like an end: the line does not parse yet, so the parser waits for more.
//! Under the grammar every plan parses; without it (or from a misbehaving worker) a broken
//! line is an error that says which line and why.

use serde_json::Value;

use crate::plan::{Action, Arg, Plan, Step, StepId, MAX_STEPS, REPLY};

/// Why a plan could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("plan line {line} `{text}` is malformed: {why}")]
    Malformed {
        line: usize,
        text: String,
        why: String,
    },
    #[error("plan line {line}: expected step {expected}, found step {found}")]
    OutOfOrder {
        line: usize,
        expected: StepId,
        found: StepId,
    },
    #[error("step {step} uses $({used}), which is not an earlier step")]
    BadReference { step: StepId, used: StepId },
    #[error("the plan has more than {MAX_STEPS} steps")]
    TooLong,
    #[error("the plan ended without `join()`")]
    Unfinished,
}

/// The incremental parser. Feed it with [`PlanParser::push`], end with
/// [`PlanParser::finish`].
#[derive(Debug, Default)]
pub struct PlanParser {
    /// The unfinished current line.
    line: String,
    /// Lines seen, for error messages (1-based numbering).
    line_no: usize,
    /// The current line was already handed over as a step (at its `)`).
    line_taken: bool,
    steps: Vec<Step>,
    joined: bool,
}

impl PlanParser {
    pub fn new() -> PlanParser {
        PlanParser::default()
    }

    /// Parses a whole plan text at once.
    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        let mut parser = PlanParser::new();
        parser.push(text)?;
        parser.finish()
    }

    /// Whether `join()` was read: the plan is complete.
    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// Feeds the next piece of output; returns the steps it completed, in order.
    pub fn push(&mut self, piece: &str) -> Result<Vec<Step>, PlanError> {
        let mut completed = Vec::new();
        for c in piece.chars() {
            if self.joined {
                // Anything after `join()` is not part of the plan.
                break;
            }
            if c == '\n' {
                self.end_line(&mut completed)?;
                continue;
            }
            self.line.push(c);
            if self.line_taken && !c.is_whitespace() {
                return Err(PlanError::Malformed {
                    line: self.line_no + 1,
                    text: self.line.trim().to_string(),
                    why: "unexpected text after the call".into(),
                });
            }
            if c == ')' && !self.line_taken {
                if let Some(step) = self.try_step()? {
                    completed.push(step);
                }
            }
        }
        Ok(completed)
    }

    /// The output ended: the whole plan, or why it is not one.
    pub fn finish(mut self) -> Result<Plan, PlanError> {
        if !self.joined {
            let mut completed = Vec::new();
            self.end_line(&mut completed)?;
        }
        if !self.joined {
            return Err(PlanError::Unfinished);
        }
        Ok(Plan { steps: self.steps })
    }

    /// At a `)`: the line is a step if it parses as one now.
    fn try_step(&mut self) -> Result<Option<Step>, PlanError> {
        let text = self.line.trim();
        if text == "join()" {
            return Ok(None);
        }
        let Ok(step) = parse_step(text) else {
            return Ok(None);
        };
        self.accept(step).map(Some)
    }

    fn end_line(&mut self, completed: &mut Vec<Step>) -> Result<(), PlanError> {
        self.line_no += 1;
        let line = std::mem::take(&mut self.line);
        let taken = std::mem::replace(&mut self.line_taken, false);
        let text = line.trim();
        if taken || text.is_empty() {
            return Ok(());
        }
        if text == "join()" {
            self.joined = true;
            return Ok(());
        }
        let step = parse_step(text).map_err(|why| PlanError::Malformed {
            line: self.line_no,
            text: text.to_string(),
            why,
        })?;
        completed.push(self.accept(step)?);
        Ok(())
    }

    /// Checks a parsed step against the ones before it and keeps it.
    fn accept(&mut self, step: Step) -> Result<Step, PlanError> {
        let expected = self.steps.len() as StepId + 1;
        if step.id != expected {
            return Err(PlanError::OutOfOrder {
                line: self.line_no + 1,
                expected,
                found: step.id,
            });
        }
        if step.id > MAX_STEPS {
            return Err(PlanError::TooLong);
        }
        if let Some(&used) = step.deps().iter().find(|&&d| d == 0 || d >= step.id) {
            return Err(PlanError::BadReference {
                step: step.id,
                used,
            });
        }
        self.line_taken = true;
        self.steps.push(step.clone());
        Ok(step)
    }
}

/// Parses one step line such as `2. compose_email(to=$1, subject="Hi")`.
pub fn parse_step(line: &str) -> Result<Step, String> {
    let mut cursor = Cursor { text: line, at: 0 };
    cursor.skip_ws();
    let digits = cursor.take_while(|c| c.is_ascii_digit());
    let id: StepId = digits
        .parse()
        .map_err(|_| "a step starts with its number, such as `1.`".to_string())?;
    cursor.expect('.')?;
    cursor.skip_ws();
    let function = cursor.take_while(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if function.is_empty() {
        return Err("expected a function name after the step number".into());
    }
    let function = function.to_string();
    cursor.expect('(')?;
    let mut args = Vec::new();
    loop {
        cursor.skip_ws();
        if cursor.eat(')') {
            break;
        }
        if !args.is_empty() {
            cursor.expect(',')?;
            cursor.skip_ws();
        }
        let save = cursor.at;
        let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        cursor.skip_ws();
        let name = if !name.is_empty() && cursor.eat('=') {
            cursor.skip_ws();
            name.to_string()
        } else if function == REPLY && args.is_empty() {
            // `reply("...")`: the one positional argument there is.
            cursor.at = save;
            "text".to_string()
        } else {
            return Err(format!(
                "argument {} has no name (write name=value)",
                args.len() + 1
            ));
        };
        let value = cursor.arg()?;
        if args.iter().any(|(n, _)| *n == name) {
            return Err(format!("argument `{name}` is given twice"));
        }
        args.push((name, value));
    }
    cursor.skip_ws();
    if !cursor.rest().is_empty() {
        return Err(format!("unexpected `{}` after the call", cursor.rest()));
    }
    let action = if function == REPLY {
        match args.as_slice() {
            [(name, Arg::Value(Value::String(text)))] if name == "text" => {
                Action::Reply { text: text.clone() }
            }
            _ => return Err("reply takes one argument, text=\"...\"".into()),
        }
    } else {
        Action::Call { function, args }
    };
    Ok(Step { id, action })
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            match self.peek() {
                Some(found) => Err(format!("expected `{c}`, found `{found}`")),
                None => Err(format!("expected `{c}`, found the end of the line")),
            }
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.at += len;
        &rest[..len]
    }

    fn skip_ws(&mut self) {
        self.take_while(char::is_whitespace);
    }

    /// An argument value: `$N`, a list that may hold `$N`s, or a JSON value.
    fn arg(&mut self) -> Result<Arg, String> {
        match self.peek() {
            Some('$') => {
                self.at += 1;
                let digits = self.take_while(|c| c.is_ascii_digit());
                digits
                    .parse()
                    .map(Arg::Ref)
                    .map_err(|_| "`$` must be followed by a step number".to_string())
            }
            Some('[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.eat(']') {
                        break;
                    }
                    if !items.is_empty() {
                        self.expect(',')?;
                        self.skip_ws();
                    }
                    items.push(self.arg()?);
                }
                let values: Option<Vec<Value>> = items
                    .iter()
                    .map(|item| match item {
                        Arg::Value(value) => Some(value.clone()),
                        _ => None,
                    })
                    .collect();
                Ok(match values {
                    Some(values) => Arg::Value(Value::Array(values)),
                    None => Arg::List(items),
                })
            }
            Some('"') | Some('{') => {
                // Self-delimiting JSON: let serde_json find where it ends.
                let mut values =
                    serde_json::Deserializer::from_str(self.rest()).into_iter::<Value>();
                match values.next() {
                    Some(Ok(value)) => {
                        self.at += values.byte_offset();
                        Ok(Arg::Value(value))
                    }
                    Some(Err(e)) => Err(format!("bad JSON value: {e}")),
                    None => Err("expected a value".into()),
                }
            }
            Some(_) => {
                // A number, true, false or null: up to the next delimiter.
                let token =
                    self.take_while(|c| !matches!(c, ',' | ')' | ']') && !c.is_whitespace());
                serde_json::from_str(token)
                    .map(Arg::Value)
                    .map_err(|_| format!("`{token}` is not a value (strings need double quotes)"))
            }
            None => Err("expected a value, found the end of the line".into()),
        }
    }
}
