//! `calculator`: evaluates arithmetic with a small recursive-descent parser.
//!
//! Why not a crate: `evalexpr` is well kept but integer-typed (`7/2` is `3`, which is wrong
//! for someone asking out loud) and also evaluates strings, assignments and user functions we
//! do not want reachable; `meval` is unmaintained. Arithmetic on `f64` with a fixed function
//! list is two hundred lines we fully control: no IO, no variables, bounded nesting (a deep
//! `((((...` returns an error instead of overflowing the stack), input length capped.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_tools::{Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool};

const MAX_LENGTH: usize = 500;
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub struct Calculator;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalcArgs {
    /// An arithmetic expression: numbers, + - * / % ^ (or **), parentheses, constants pi
    /// and e, functions sqrt cbrt abs ln log log2 exp sin cos tan asin acos atan round floor
    /// ceil min max pow. Trigonometry in radians. Percent of: `15% * 80` is not supported;
    /// write `0.15 * 80`.
    #[schemars(length(min = 1, max = 500))]
    pub expression: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalcResult {
    pub expression: String,
    pub value: f64,
    /// The value as Sotto would say it: integers without a decimal point, otherwise up to
    /// ten significant digits.
    pub text: String,
}

impl TypedTool for Calculator {
    type Args = CalcArgs;
    type Output = CalcResult;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "calculator",
            description: "Calculates the value of an arithmetic expression.",
            examples: vec![
                Example::new("what is 17 times 23", json!({"expression": "17 * 23"})),
                Example::new("square root of 2", json!({"expression": "sqrt(2)"})),
                Example::new(
                    "how much is 15 percent of 80",
                    json!({"expression": "0.15 * 80"}),
                ),
                Example::new(
                    "divide 1200 by 7 and add 3",
                    json!({"expression": "1200 / 7 + 3"}),
                ),
                Example::new("two to the power of ten", json!({"expression": "2 ^ 10"})),
            ],
            capabilities: vec![],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(&self, args: CalcArgs, _: &ToolContext) -> Result<Reply<CalcResult>, ToolError> {
        let value = evaluate(&args.expression).map_err(ToolError::Refused)?;
        let text = format_number(value);
        let summary = format!("{} = {text}", args.expression.trim());
        Ok(Reply::new(
            CalcResult {
                expression: args.expression,
                value,
                text,
            },
            summary,
        ))
    }
}

/// Formats a result for speech and display.
pub fn format_number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    // Plain notation for ordinary magnitudes, trimming trailing zeros.
    if (1e-6..1e15).contains(&value.abs()) {
        let digits = 9 - value.abs().log10().floor() as i32;
        let plain = format!("{value:.*}", digits.clamp(0, 15) as usize);
        return plain
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
    }
    let text = format!("{value:.9e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exponent}")
}

/// Evaluates `input`; the error says what is wrong and where.
pub fn evaluate(input: &str) -> Result<f64, String> {
    if input.len() > MAX_LENGTH {
        return Err(format!(
            "the expression is longer than {MAX_LENGTH} characters"
        ));
    }
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        depth: 0,
    };
    let value = parser.expression()?;
    if let Some(token) = parser.tokens.get(parser.position) {
        return Err(format!("unexpected {} in the expression", token.describe()));
    }
    if value.is_nan() {
        return Err(
            "the result is not a number (for example, the square root of a negative number)".into(),
        );
    }
    if value.is_infinite() {
        return Err("the result is infinite (division by zero, or too large)".into());
    }
    Ok(value)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Op(char),
    Open,
    Close,
    Comma,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(n) => format!("number {n}"),
            Token::Name(n) => format!("`{n}`"),
            Token::Op(c) => format!("`{c}`"),
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::Comma => "`,`".into(),
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '0'..='9' | '.' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '.' | '_')
                        || (chars[i] == ',' && is_thousands(&chars, i)))
                {
                    i += 1;
                }
                // An exponent: 1e3, 2.5E-4.
                if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                    let mut j = i + 1;
                    if j < chars.len() && matches!(chars[j], '+' | '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        i = j;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let text: String = chars[start..i]
                    .iter()
                    .filter(|c| !matches!(c, '_' | ','))
                    .collect();
                let number = text
                    .parse::<f64>()
                    .map_err(|_| format!("`{text}` is not a number"))?;
                tokens.push(Token::Number(number));
            }
            c if c.is_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push(Token::Name(
                    chars[start..i].iter().collect::<String>().to_lowercase(),
                ));
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                tokens.push(Token::Op('^'));
                i += 2;
            }
            '+' | '-' | '*' | '/' | '%' | '^' => {
                tokens.push(Token::Op(c));
                i += 1;
            }
            '×' | '·' => {
                tokens.push(Token::Op('*'));
                i += 1;
            }
            '÷' => {
                tokens.push(Token::Op('/'));
                i += 1;
            }
            '−' => {
                tokens.push(Token::Op('-'));
                i += 1;
            }
            '(' | '[' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' | ']' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            other => return Err(format!("`{other}` is not allowed in an expression")),
        }
    }
    if tokens.is_empty() {
        return Err("the expression is empty".into());
    }
    Ok(tokens)
}

/// A comma at `i` separates thousands (`1,000`) when exactly three digits follow it;
/// otherwise it separates function arguments.
fn is_thousands(chars: &[char], i: usize) -> bool {
    (1..=3).all(|k| chars.get(i + k).is_some_and(char::is_ascii_digit))
        && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the expression nests deeper than {MAX_DEPTH} levels"
            ));
        }
        Ok(())
    }

    // expression := term (('+' | '-') term)*
    fn expression(&mut self) -> Result<f64, String> {
        self.enter()?;
        let mut value = self.term()?;
        while let Some(Token::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.position += 1;
            let rhs = self.term()?;
            value = if op == '+' { value + rhs } else { value - rhs };
        }
        self.depth -= 1;
        Ok(value)
    }

    // term := unary (('*' | '/' | '%') unary)*
    fn term(&mut self) -> Result<f64, String> {
        let mut value = self.unary()?;
        while let Some(Token::Op(op @ ('*' | '/' | '%'))) = self.peek().cloned() {
            self.position += 1;
            let rhs = self.unary()?;
            value = match op {
                '*' => value * rhs,
                '/' if rhs == 0.0 => return Err("division by zero".into()),
                '/' => value / rhs,
                _ if rhs == 0.0 => return Err("remainder of a division by zero".into()),
                _ => value % rhs,
            };
        }
        Ok(value)
    }

    // unary := ('-' | '+') unary | power   (so -2^2 = -4, as in mathematics)
    fn unary(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(Token::Op('-')) => {
                self.position += 1;
                self.enter()?;
                let value = -self.unary()?;
                self.depth -= 1;
                Ok(value)
            }
            Some(Token::Op('+')) => {
                self.position += 1;
                self.enter()?;
                let value = self.unary()?;
                self.depth -= 1;
                Ok(value)
            }
            _ => self.power(),
        }
    }

    // power := primary ('^' unary)?   (right-associative: 2^3^2 = 2^9)
    fn power(&mut self) -> Result<f64, String> {
        let base = self.primary()?;
        if let Some(Token::Op('^')) = self.peek() {
            self.position += 1;
            self.enter()?;
            let exponent = self.unary()?;
            self.depth -= 1;
            return Ok(base.powf(exponent));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<f64, String> {
        match self.next() {
            Some(Token::Number(n)) => Ok(n),
            Some(Token::Open) => {
                let value = self.expression()?;
                match self.next() {
                    Some(Token::Close) => Ok(value),
                    _ => Err("a `(` is never closed".into()),
                }
            }
            Some(Token::Name(name)) => {
                if self.peek() == Some(&Token::Open) {
                    self.position += 1;
                    let mut args = vec![self.expression()?];
                    loop {
                        match self.next() {
                            Some(Token::Comma) => args.push(self.expression()?),
                            Some(Token::Close) => break,
                            _ => return Err(format!("`{name}(` is never closed")),
                        }
                    }
                    apply(&name, &args)
                } else {
                    constant(&name)
                }
            }
            Some(token) => Err(format!("unexpected {}", token.describe())),
            None => Err("the expression ends too early".into()),
        }
    }
}

fn constant(name: &str) -> Result<f64, String> {
    match name {
        "pi" | "π" => Ok(std::f64::consts::PI),
        "e" => Ok(std::f64::consts::E),
        "tau" => Ok(std::f64::consts::TAU),
        _ => Err(format!("`{name}` is not a known constant")),
    }
}

fn apply(name: &str, args: &[f64]) -> Result<f64, String> {
    let one = |f: fn(f64) -> f64| match args {
        [x] => Ok(f(*x)),
        _ => Err(format!("`{name}` takes one argument")),
    };
    match name {
        "sqrt" => one(f64::sqrt),
        "cbrt" => one(f64::cbrt),
        "abs" => one(f64::abs),
        "ln" => one(f64::ln),
        "log" | "log10" => one(f64::log10),
        "log2" => one(f64::log2),
        "exp" => one(f64::exp),
        "sin" => one(f64::sin),
        "cos" => one(f64::cos),
        "tan" => one(f64::tan),
        "asin" => one(f64::asin),
        "acos" => one(f64::acos),
        "atan" => one(f64::atan),
        "round" => one(f64::round),
        "floor" => one(f64::floor),
        "ceil" => one(f64::ceil),
        "min" => Ok(args.iter().copied().fold(f64::INFINITY, f64::min)),
        "max" => Ok(args.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        "pow" => match args {
            [a, b] => Ok(a.powf(*b)),
            _ => Err("`pow` takes two arguments".into()),
        },
        _ => Err(format!("`{name}` is not a known function")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        match (evaluate(input), expected) {
            (Ok(v), Ok(want)) => assert_eq!(format_number(v), want, "{input}"),
            (Err(e), Err(fragment)) => assert!(e.contains(fragment), "{input}: `{e}`"),
            (got, want) => panic!("{input}: got {got:?}, wanted {want:?}"),
        }
    }

    #[test]
    fn arithmetic() {
        check("17 * 23", Ok("391"));
        check("7/2", Ok("3.5"));
        check("1 + 2 * 3", Ok("7"));
        check("(1 + 2) * 3", Ok("9"));
        check("-2^2", Ok("-4"));
        check("2^3^2", Ok("512"));
        check("2 ** 10", Ok("1024"));
        check("10 % 4", Ok("2"));
        check("--3", Ok("3"));
        check("1,000,000 / 4", Ok("250000"));
        check("1e3 + 2.5E-1", Ok("1000.25"));
        check("sqrt(2)", Ok("1.414213562"));
        check("max(1, 7, 3) - min(4, 2)", Ok("5"));
        check("round(pi * 100) / 100", Ok("3.14"));
        check("12 × 3 ÷ 4 − 1", Ok("8"));
        check("1/3", Ok("0.3333333333"));
        check("0.1 + 0.2", Ok("0.3"));
        check("2^40", Ok("1099511627776"));
        check("2^60", Ok("1.152921505e18"));
        check("10^20", Ok("1e20"));
        check("2^-30", Ok("9.313225746e-10"));
    }

    #[test]
    fn errors_are_explained() {
        check("1 / 0", Err("division by zero"));
        check("sqrt(-1)", Err("not a number"));
        check("10^400", Err("infinite"));
        check("2 +", Err("ends too early"));
        check("(1 + 2", Err("never closed"));
        check("1 2", Err("unexpected number 2"));
        check("foo(1)", Err("`foo` is not a known function"));
        check("x + 1", Err("`x` is not a known constant"));
        check("system(\"rm\")", Err("`\"` is not allowed"));
        check("", Err("empty"));
        check(&"(".repeat(10_000), Err("longer than"));
        check(
            &format!("{}1{}", "(".repeat(100), ")".repeat(100)),
            Err("nests deeper"),
        );
        check(&"-".repeat(200), Err("nests deeper"));
        check("pow(1)", Err("two arguments"));
    }
}
