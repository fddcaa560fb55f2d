//! The planner service: request in, plan out, step by step as the model writes it.
//!
//! Per request: choose the functions the grammar may call (all, or those retrieval finds
//! relevant), build the grammar, ask the LM worker with the stable prompt (rules, every
//! function, worked examples) plus the request, and parse its tokens as they stream, handing
//! each finished step to the caller at once.
//!
//! The prompt lists every function, not just the retrieved ones, because the worker keeps
//! the KV cache of the prompt prefix it saw last: a fixed prompt costs nothing per request
//! after the first, while a per-request tool list costs ~6 ms per token on 2 cores
//! (measured: see docs). Retrieval narrows what the *grammar* admits, which is free.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;
use sotto_fastpath::FastPath;
use sotto_planner::grammar::{plan_grammar, GrammarOptions};
use sotto_planner::plan::{Action, Arg, Plan, Step, REPLY};
use sotto_planner::prompt::{self, Example};
use sotto_planner::{Function, Functions, PlanParser};
use sotto_protocol::client::Next;
use sotto_protocol::lm::{ChatMessage, Generate, Grammar, Nudge, Prompt, StopReason};
use sotto_toolrag::{ExampleIndex, ToolDoc, ToolIndex};
use sotto_tools::ToolManifest;

use crate::engines::lm::LmEngine;

/// The most tokens a plan may take: eight steps of a dozen tokens and `join()`.
const MAX_PLAN_TOKENS: u32 = 200;

/// What the planner offers the model.
#[derive(Debug, Clone)]
pub struct PlannerSetup {
    /// Every function the prompt lists.
    pub functions: Functions,
    /// Worked examples, in the system prompt.
    pub examples: Vec<Example>,
    /// Worked examples to choose from per request: the `retrieved_examples` most like the
    /// request go right before it (see [`Planner::prompt`]).
    pub example_pool: Vec<Example>,
    /// How many examples from the pool each request gets (0: none).
    pub retrieved_examples: usize,
    /// Calibrates the model's choices between grammar alternatives.
    pub nudges: PlanNudges,
    pub grammar: GrammarOptions,
    /// Offer the grammar only the `top_k` tools retrieval ranks highest (0: all).
    pub top_k: usize,
    /// Per function, its example utterances, for retrieval.
    pub utterances: Vec<Vec<String>>,
    /// The user's local date, which the prompt gives so that "tomorrow" can become a date;
    /// `None` leaves it out.
    pub today: Option<jiff::civil::Date>,
    /// Where the worker keeps the evaluated stable prompt between processes (`None`: it is
    /// evaluated by every new worker).
    pub prefix_cache: Option<std::path::PathBuf>,
    /// The tools' templates: a request one of them covers is planned without the model
    /// (empty: every request goes to the model).
    pub fast_path: FastPath,
    /// Let the worker guess tokens by prompt lookup (the same plans, fewer model runs);
    /// `false` is the baseline for measuring it.
    pub lookup_drafts: bool,
}

impl PlannerSetup {
    /// For Sotto's own tools: each manifest's first example becomes a worked example.
    pub fn from_manifests<'a>(
        manifests: impl IntoIterator<Item = &'a ToolManifest>,
    ) -> Result<Self> {
        let mut functions = Vec::new();
        let mut examples = Vec::new();
        let mut example_pool = Vec::new();
        let mut utterances = Vec::new();
        let manifests: Vec<&ToolManifest> = manifests.into_iter().collect();
        let templates: Vec<Vec<&str>> = manifests
            .iter()
            .map(|m| m.templates.iter().map(String::as_str).collect())
            .collect();
        let (fast_path, problems) = FastPath::build(
            manifests
                .iter()
                .zip(&templates)
                .map(|(m, t)| (m.name.as_str(), &m.args_schema, t.as_slice())),
        );
        for problem in problems {
            // A plugin's bad template costs it the fast path, nothing else.
            tracing::warn!("{problem}; that template is not used");
        }
        for manifest in manifests {
            utterances.push(
                manifest
                    .examples
                    .iter()
                    .map(|e| e.utterance.clone())
                    .collect(),
            );
            let function =
                Function::new(&manifest.name, &manifest.description, &manifest.args_schema)
                    .with_context(|| {
                        format!("tool {} cannot be offered to the planner", manifest.name)
                    })?;
            for (n, example) in manifest.examples.iter().enumerate() {
                let example = Example {
                    request: example.utterance.clone(),
                    plan: one_call_plan(&function, &example.args).to_string(),
                };
                if n == 0 {
                    examples.push(example.clone());
                }
                example_pool.push(example);
            }
            functions.push(function);
        }
        let multi_step = examples_from(MULTI_STEP_EXAMPLES);
        examples.extend(multi_step.clone());
        example_pool.extend(multi_step);
        Ok(PlannerSetup {
            functions: Functions::new(functions)?,
            examples,
            example_pool,
            retrieved_examples: DEFAULT_RETRIEVED_EXAMPLES,
            nudges: PlanNudges::default(),
            grammar: GrammarOptions::default(),
            top_k: DEFAULT_TOP_K,
            utterances,
            today: Some(today()),
            prefix_cache: None,
            fast_path,
            lookup_drafts: true,
        })
    }

    /// For a list of functions given by the user (`--tools FILE`): no examples.
    pub fn from_functions(functions: Functions) -> PlannerSetup {
        let utterances = vec![Vec::new(); functions.len()];
        PlannerSetup {
            functions,
            examples: Vec::new(),
            example_pool: Vec::new(),
            retrieved_examples: 0,
            nudges: PlanNudges::default(),
            grammar: GrammarOptions::default(),
            top_k: 0,
            utterances,
            today: None,
            prefix_cache: None,
            fast_path: FastPath::default(),
            lookup_drafts: true,
        }
    }

    /// The retrieval index over the functions' descriptions, arguments and examples.
    pub fn tool_index(&self) -> ToolIndex {
        let docs = self
            .functions
            .iter()
            .zip(&self.utterances)
            .map(|(function, utterances)| {
                let mut arguments = Vec::new();
                for param in &function.params {
                    arguments.push(param.name.replace('_', " "));
                    arguments.extend(param.description().map(String::from));
                    for value in param.schema["enum"].as_array().into_iter().flatten() {
                        arguments.extend(value.as_str().map(|v| v.replace('_', " ")));
                    }
                }
                ToolDoc::new(function.name.clone(), function.description.clone())
                    .with_arguments(arguments.join(". "))
                    .with_examples(utterances.iter().cloned())
            })
            .collect();
        ToolIndex::build(docs)
    }

    /// The retrieval index over the example pool's requests.
    pub fn example_index(&self) -> ExampleIndex {
        ExampleIndex::build(
            self.example_pool
                .iter()
                .map(|e| (e.request.clone(), e.plan.clone()))
                .collect(),
        )
    }

    /// The stable part of every prompt: the system message (rules and functions), then each
    /// worked example as a user turn answered by an assistant turn, which shows the model
    /// where a plan ends better than examples inside the system message (measured: those
    /// were continued as if part of the plan).
    ///
    /// Today's date comes last, in a system message of its own: when the day changes only
    /// those few tokens are evaluated again (the worker keeps, or loads from its cache file,
    /// everything before them), where a date inside the first system message made the first
    /// request of each day evaluate the whole prompt (33-52 s on 2 cores).
    pub fn stable_messages(&self) -> Vec<ChatMessage> {
        let mut messages = vec![ChatMessage::system(prompt::system_message(&self.functions))];
        for example in &self.examples {
            messages.push(ChatMessage::user(example.request.clone()));
            messages.push(ChatMessage::assistant(example.plan.clone()));
        }
        if let Some(today) = self.today {
            messages.push(ChatMessage::system(calendar_note(today)));
        }
        messages
    }
}

/// Today's date in the user's time zone.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .date()
}

/// The stable prompt's last line. (Naming the six days after today as well was tried: on
/// "tomorrow", "on Friday" and "today" requests the 0.5B model wrote the same dates with or
/// without them, often a worked example's, so the line stays short.)
pub fn calendar_note(today: jiff::civil::Date) -> String {
    format!("Today is {}.", today.strftime("%A, %Y-%m-%d"))
}

/// How many tools the grammar offers by default: on the development set, retrieval finds
/// every tool a request needs within its top 8 (recall@8 = 1.0; recall@5 = 0.986).
pub const DEFAULT_TOP_K: usize = 8;

/// Of the retrieved tools, those within this fraction of the best score are offered: on
/// the development set every needed tool scored at least 0.3 of the best (so 0.25 leaves a
/// margin), which offers 4-5 tools instead of 8 and keeps the model from reaching for
/// unrelated ones.
pub const RELATIVE_SCORE: f32 = 0.25;

/// Below this best score no tool is offered and the plan can only be a reply: on the
/// development set no request a tool serves scored under 0.08, and a quarter of those no
/// tool serves did (margin kept: 0.06).
pub const NOTHING_RELEVANT: f32 = 0.06;

/// For function lists without worked examples: a reply (instead of a call) is allowed only
/// when the best function scores below this. On Sotto's development set, 64% of the
/// requests no tool serves scored below 0.2 and 97% of the others above it.
pub const REPLY_WITHOUT_EXAMPLES: f32 = 0.2;

/// The tools the grammar offers, from retrieval's ranking (best first).
pub fn offered_tools(ranked: &[sotto_toolrag::Ranked]) -> Vec<String> {
    let Some(best) = ranked.first().map(|r| r.score) else {
        return Vec::new();
    };
    if best < NOTHING_RELEVANT {
        return Vec::new();
    }
    ranked
        .iter()
        .filter(|r| r.score >= RELATIVE_SCORE * best)
        .map(|r| r.name.clone())
        .collect()
}

/// Logit adjustments at the plan's two decisions, for a small model's known leanings: it
/// keeps adding calls after the request is covered, and it answers with a refusal when a
/// function would do.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlanNudges {
    /// Added to ending the plan (`join()`) where another step could follow.
    pub join: f32,
    /// Added to answering with a reply instead of a first call.
    pub reply: f32,
}

impl PlanNudges {
    fn to_protocol(self) -> Vec<Nudge> {
        let mut nudges = Vec::new();
        if self.join != 0.0 {
            // After a step's line the grammar allows only the next number or the end.
            nudges.push(Nudge {
                after: "\n".into(),
                text: "join()".into(),
                logit: self.join,
            });
        }
        if self.reply != 0.0 {
            nudges.push(Nudge {
                after: "1. ".into(),
                text: format!("{REPLY}("),
                logit: self.reply,
            });
        }
        nudges
    }
}

/// How many of the pool's examples each request gets, right before it (after the cached
/// prompt, so they cost ~35 tokens of prompt evaluation each, ~90 tokens/s here).
///
/// Measured with the multi-step examples below all in the cached prompt (0.5B model, 2
/// cores, release build): on the development set, 3 gave 69.6% success at a first-step p50
/// of 1592 ms, 1 gave 70.8% at 1240 ms, none 69.0% at 736 ms. Held out, none lost 13 points
/// on single calls (73.2% -> 59.8%; 58.9% overall against 62.3-62.9% with 3): the example of
/// the tool in question is what teaches its argument formats. One example kept that (held
/// out 64.2%, single calls 71.1%) at a quarter less time than three, so one it is;
/// `--retrieved-examples 0` is the fast setting.
pub const DEFAULT_RETRIEVED_EXAMPLES: usize = 1;

/// Plans for requests that need several steps, written for the built-in tools: parallel,
/// dependent (`$N`), and nothing to do. Every one is in every prompt, where the worker's
/// cached prefix makes them free per request; each shows a different way data flows between
/// tools. (Offering the later ones only to requests retrieval found them like was measured:
/// see [`DEFAULT_RETRIEVED_EXAMPLES`].)
const MULTI_STEP_EXAMPLES: &[(&str, &str)] = &[
    (
        "set a timer for 20 minutes and turn the volume down",
        "1. timer_start(minutes=20)\n2. volume(action=\"down\")\njoin()",
    ),
    (
        "find Sam's email address and write him a mail about the meeting",
        "1. contact_lookup(name=\"Sam\")\n2. compose_email(to=[$1], subject=\"The meeting\")\njoin()",
    ),
    (
        "copy my appointments for this week",
        "1. calendar_list(days=7)\n2. clipboard_write(text=$1)\njoin()",
    ),
    (
        "search online for whatever is in my questions note",
        "1. note_read(title=\"questions\")\n2. web_search(query=$1)\njoin()",
    ),
    (
        "order me a pizza",
        "1. reply(text=\"Sorry, I can't order food.\")\njoin()",
    ),
    (
        "work out 250 divided by 4 and put the answer in a note called budget",
        "1. calculator(expression=\"250 / 4\")\n2. note_create(title=\"budget\", text=$1)\njoin()",
    ),
    (
        "find my cv and open it",
        "1. find_files(name=\"cv\")\n2. open_path(path=$1)\njoin()",
    ),
    (
        "send my ideas note to ana@example.org",
        "1. note_read(title=\"ideas\")\n2. compose_email(to=[\"ana@example.org\"], body=$1)\njoin()",
    ),
    (
        "paste what I copied into a new note called links",
        "1. clipboard_read()\n2. note_create(title=\"links\", text=$1)\njoin()",
    ),
    (
        "which note talks about the garage? read it out",
        "1. note_search(query=\"garage\")\n2. note_read(title=$1)\njoin()",
    ),
    (
        "look up Priya's number and type it",
        "1. contact_lookup(name=\"Priya\")\n2. type_text(text=$1)\njoin()",
    ),
    (
        "start a 3 minute timer and pause the music",
        "1. timer_start(minutes=3)\n2. media_control(action=\"pause\")\njoin()",
    ),
    (
        "book a table for two tonight",
        "1. reply(text=\"Sorry, I can't book restaurants.\")\njoin()",
    ),
];

fn examples_from(plans: &[(&str, &str)]) -> Vec<Example> {
    plans
        .iter()
        .map(|(request, plan)| Example {
            request: request.to_string(),
            plan: plan.to_string(),
        })
        .collect()
}

/// `1. f(a=1)` for an example's arguments, in the function's parameter order.
fn one_call_plan(function: &Function, args: &Value) -> Plan {
    let args = function
        .params
        .iter()
        .filter_map(|p| {
            args.get(&p.name)
                .filter(|v| !v.is_null())
                .map(|v| (p.name.clone(), Arg::Value(v.clone())))
        })
        .collect();
    Plan {
        steps: vec![Step {
            id: 1,
            action: Action::Call {
                function: function.name.clone(),
                args,
            },
        }],
    }
}

/// A plan and what it cost.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Plan,
    /// The model's text, as written.
    pub text: String,
    /// The functions the grammar allowed.
    pub offered: Vec<String>,
    /// Retrieval's score for the best tool (0..=1).
    pub best_score: f32,
    pub retrieve: Duration,
    /// From the request to the first step parsed (`None` for a plan without steps).
    pub first_step: Option<Duration>,
    pub total: Duration,
    pub prompt_tokens: u32,
    pub cached_prompt_tokens: u32,
    pub generated_tokens: u32,
    /// The worker's time evaluating the uncached prompt, and generating.
    pub prompt_ms: u64,
    pub generate_ms: u64,
    /// The template that planned it without the model, if one did.
    pub fast_path: Option<String>,
}

/// The planner: a setup, a retriever and the LM worker.
pub struct Planner {
    setup: PlannerSetup,
    stable: Vec<ChatMessage>,
    index: ToolIndex,
    example_index: ExampleIndex,
    lm: LmEngine,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("functions", &self.setup.functions.len())
            .field("top_k", &self.setup.top_k)
            .finish()
    }
}

impl Planner {
    pub fn new(setup: PlannerSetup, lm: LmEngine) -> Planner {
        let stable = setup.stable_messages();
        let index = setup.tool_index();
        let example_index = setup.example_index();
        let mut planner = Planner {
            setup,
            stable,
            index,
            example_index,
            lm,
        };
        planner.keep_prefix();
        planner
    }

    /// Has the worker hold the stable messages from its (re)start, from the cache file.
    fn keep_prefix(&mut self) {
        if let Some(cache) = &self.setup.prefix_cache {
            self.lm.set_prefix(
                Prompt::Chat {
                    messages: self.stable.clone(),
                },
                Some(cache.clone()),
            );
        }
    }

    /// A planner that has run past midnight plans with the new date ("tomorrow" is another
    /// day now).
    fn follow_the_date(&mut self) {
        let Some(dated) = self.setup.today else {
            return;
        };
        let now = today();
        if dated != now {
            self.setup.today = Some(now);
            self.stable = self.setup.stable_messages();
            self.keep_prefix();
        }
    }

    /// The planner model's GGUF file (other uses of the same model, such as summaries, run
    /// it in a worker of their own).
    pub fn model_file(&self) -> &std::path::Path {
        self.lm.model()
    }

    /// Plans against other functions from now on (the worker and its model stay).
    pub fn set_setup(&mut self, setup: PlannerSetup) {
        self.stable = setup.stable_messages();
        self.index = setup.tool_index();
        self.example_index = setup.example_index();
        self.setup = setup;
    }

    pub fn lm(&mut self) -> &mut LmEngine {
        &mut self.lm
    }

    /// The stable messages, then the pool's examples most like the request (the closest
    /// last, next to the request: a small model copies what it read most recently), then the
    /// request. The retrieved turns are evaluated per request (~25 tokens each); the stable
    /// part stays cached.
    fn prompt(&self, request: &str) -> Prompt {
        let mut messages = self.stable.clone();
        let retrieved = self
            .example_index
            .search(request, self.setup.retrieved_examples);
        for &(index, score) in retrieved.iter().rev() {
            if score <= 0.0 {
                continue;
            }
            if let Some((example_request, plan)) = self.example_index.get(index) {
                messages.push(ChatMessage::user(example_request));
                messages.push(ChatMessage::assistant(plan));
            }
        }
        messages.push(ChatMessage::user(request.trim()));
        Prompt::Chat { messages }
    }

    /// Plans `request`, handing each step to `on_step` as soon as it is parsed.
    pub async fn plan(&mut self, request: &str, mut on_step: impl FnMut(&Step)) -> Result<Planned> {
        let started = Instant::now();
        self.follow_the_date();
        if let Some(planned) = self.fast_plan(request, started) {
            planned.plan.steps.iter().for_each(&mut on_step);
            return Ok(planned);
        }
        let ranked = self.index.search(request, self.setup.top_k.max(1));
        let best_score = ranked.first().map_or(0.0, |r| r.score);
        let offered: Vec<String> =
            if self.setup.top_k == 0 || self.setup.top_k >= self.setup.functions.len() {
                self.setup
                    .functions
                    .iter()
                    .map(|f| f.name.clone())
                    .collect()
            } else {
                offered_tools(&ranked)
            };
        let functions = self
            .setup
            .functions
            .subset(offered.iter().map(String::as_str));
        let mut options = self.setup.grammar;
        if self.setup.examples.is_empty() && !functions.is_empty() {
            // Without worked examples (a user's or BFCL's function list) the model answers
            // questions itself through `reply` instead of calling the function that would
            // (measured on BFCL simple: most misses). So a reply is only offered when no
            // function looks relevant.
            options.allow_reply = best_score < REPLY_WITHOUT_EXAMPLES;
        }
        let retrieve = started.elapsed();
        let grammar = plan_grammar(&functions, options);
        let generate = Generate {
            id: 0,
            prompt: self.prompt(request),
            grammar: Some(Grammar::Lark(grammar)),
            max_tokens: MAX_PLAN_TOKENS,
            stop: Vec::new(),
            temperature: 0.0,
            seed: 0,
            nudges: self.setup.nudges.to_protocol(),
            lookup_drafts: self.setup.lookup_drafts,
        };
        let mut parser = PlanParser::new();
        let mut steps: Vec<Step> = Vec::new();
        let mut first_step = None;
        let mut parse_error = None;
        let mut repeated = false;
        let completion = self
            .lm
            .generate(generate, |text| {
                match parser.push(text) {
                    Ok(new_steps) => {
                        for step in new_steps {
                            // A small greedy model can fall into repeating itself; the same
                            // call with the same arguments twice is never what was asked,
                            // so the plan ends before the repeat.
                            if steps.iter().any(|s| s.action == step.action) {
                                repeated = true;
                                return Next::Done;
                            }
                            first_step.get_or_insert_with(|| started.elapsed());
                            on_step(&step);
                            steps.push(step);
                        }
                    }
                    Err(e) => {
                        parse_error.get_or_insert(e);
                        return Next::Done;
                    }
                }
                if parser.is_joined() {
                    Next::Done
                } else {
                    Next::More
                }
            })
            .await?;
        if let Some(error) = parse_error {
            return Err(anyhow::Error::new(error).context(format!(
                "the planner wrote a plan Sotto cannot read:\n{}",
                completion.text
            )));
        }
        let plan = if repeated {
            tracing::info!("the planner repeated a step; the plan ends before it");
            Plan { steps }
        } else if completion.stop == StopReason::MaxTokens && !steps.is_empty() {
            // Out of tokens in the middle of a step (a list that kept growing): the steps
            // that were complete are the plan.
            tracing::info!("the plan ran out of tokens; keeping its complete steps");
            Plan { steps }
        } else {
            parser.finish().with_context(|| {
                format!("the planner's plan is incomplete:\n{}", completion.text)
            })?
        };
        Ok(Planned {
            plan,
            text: completion.text,
            offered,
            best_score,
            retrieve,
            first_step,
            total: started.elapsed(),
            prompt_tokens: completion.prompt_tokens,
            cached_prompt_tokens: completion.cached_prompt_tokens,
            generated_tokens: completion.generated_tokens,
            prompt_ms: completion.prompt_ms,
            generate_ms: completion.generate_ms,
            fast_path: None,
        })
    }

    /// The plan from a template, when the fast path is sure: one tool's template covers the
    /// whole request, retrieval ranks that tool first (a second opinion from the tools'
    /// descriptions and examples), and the arguments type-check. Otherwise `None`, and the
    /// model plans.
    pub fn fast_plan(&self, request: &str, started: Instant) -> Option<Planned> {
        let call = self.setup.fast_path.find(request)?;
        let top = self.index.search(request, 1);
        let best_score = top.first().map_or(0.0, |r| r.score);
        if top.first().map(|r| r.name.as_str()) != Some(call.tool.as_str()) {
            tracing::debug!(
                template = call.template,
                "the fast path and retrieval disagree; the model plans"
            );
            return None;
        }
        let function = self.setup.functions.get(&call.tool)?;
        let plan = one_call_plan(function, &call.args);
        if let Err(problems) = self.setup.functions.check(&plan.steps[0]) {
            tracing::debug!(
                ?problems,
                template = call.template,
                "fast path arguments refused"
            );
            return None;
        }
        let elapsed = started.elapsed();
        Some(Planned {
            text: plan.to_string(),
            plan,
            offered: vec![call.tool],
            best_score,
            retrieve: elapsed,
            first_step: Some(elapsed),
            total: elapsed,
            prompt_tokens: 0,
            cached_prompt_tokens: 0,
            generated_tokens: 0,
            prompt_ms: 0,
            generate_ms: 0,
            fast_path: Some(call.template),
        })
    }

    pub fn functions(&self) -> &Functions {
        &self.setup.functions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_worked_example_parses_and_type_checks_against_the_builtins() {
        let tools = sotto_builtins::all();
        let setup = PlannerSetup::from_manifests(tools.iter().map(|t| t.manifest())).unwrap();
        assert!(setup.examples.len() >= tools.len());
        for example in &setup.examples {
            let plan = PlanParser::parse(&example.plan)
                .unwrap_or_else(|e| panic!("{}: {e}", example.plan));
            for step in &plan.steps {
                setup
                    .functions
                    .check(step)
                    .unwrap_or_else(|p| panic!("{}: {p:?}", example.plan));
            }
        }
    }

    #[test]
    fn a_new_day_changes_only_the_last_stable_message() {
        let tools = sotto_builtins::all();
        let mut setup = PlannerSetup::from_manifests(tools.iter().map(|t| t.manifest())).unwrap();
        setup.today = Some(jiff::civil::date(2026, 11, 28));
        let saturday = setup.stable_messages();
        setup.today = Some(jiff::civil::date(2026, 11, 29));
        let sunday = setup.stable_messages();
        assert_eq!(saturday.len(), sunday.len());
        let last = saturday.len() - 1;
        assert_eq!(
            saturday[..last],
            sunday[..last],
            "all but the date stays cached"
        );
        assert_ne!(saturday[last], sunday[last]);
        assert!(
            sunday[last].content.contains("2026-11-29"),
            "{:?}",
            sunday[last]
        );
        setup.today = None;
        assert_eq!(setup.stable_messages(), saturday[..last]);
    }

    #[test]
    fn the_calendar_note_names_and_dates_today() {
        assert_eq!(
            calendar_note(jiff::civil::date(2028, 2, 29)),
            "Today is Tuesday, 2028-02-29."
        );
    }
}
