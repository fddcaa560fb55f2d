//! Sotto's planner without the model: what a plan is ([`plan`]), how it is read as it
//! streams ([`parse`]), which functions a plan may call ([`functions`]), the grammar that
//! makes the model write only existing functions with well-typed arguments ([`grammar`]),
//! and the prompt ([`prompt`]).
//!
//! The trade-off: the plan format is LLMCompiler's numbered lines (`1. f(a=1)`, `$1`,
//! `join()`) rather than JSON, because every token costs ~40-50 ms on a 2-core CPU and the
//! line format is about half the tokens of the same calls in JSON; its arguments *are* JSON
//! values, so the grammar can reuse llguidance's JSON Schema support for their types.
//!
//! ```
//! use sotto_planner::parse::PlanParser;
//!
//! let mut parser = PlanParser::new();
//! assert!(parser.push("1. timer_start(minutes=10").unwrap().is_empty());
//! let steps = parser.push(")\njoin()").unwrap();
//! assert_eq!(steps[0].function(), Some("timer_start"));
//! assert_eq!(parser.finish().unwrap().steps.len(), 1);
//! ```
//!
//! No IO, no model, no knowledge of the tool registry or the store: the app converts tool
//! manifests to [`functions::Function`]s and runs the model.

pub mod functions;
pub mod grammar;
pub mod parse;
pub mod plan;
pub mod prompt;
pub mod score;

pub use functions::{Function, FunctionError, Functions};
pub use parse::{PlanError, PlanParser};
pub use plan::{Action, Arg, Plan, Step, StepId};
