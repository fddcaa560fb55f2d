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
use sotto_planner::grammar::plan_grammar;
use sotto_planner::plan::{Plan, Step};
use sotto_planner::{Functions, PlanParser};
use sotto_protocol::client::Next;
use sotto_protocol::lm::{ChatMessage, Generate, Grammar, Prompt, StopReason};
use sotto_toolrag::{ExampleIndex, ToolIndex};

use crate::engines::lm::{LmEngine, PrimeReport};

/// The most tokens a plan may take: eight steps of a dozen tokens and `join()`.
const MAX_PLAN_TOKENS: u32 = 200;

mod setup;

use setup::one_call_plan;
pub use setup::*;

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

    /// Gets the worker ready for a request that will start like `partial` (a partial
    /// transcript while the person is still speaking, or text being typed): the example
    /// retrieval picks for it and the words so far are put in the KV cache, so that when the
    /// request comes only what differs from them is evaluated. Retrieval runs again on the
    /// request itself; when it picks another example, or the words changed, the cache keeps
    /// the longest common start and nothing is lost but the time spent here, which is time
    /// the worker would have been idle. Returns `None` (nothing done) for empty text, for text
    /// the fast path answers, and while a speech decode has the cores (a newer partial or the
    /// final transcript is coming).
    pub async fn prepare(&mut self, partial: &str) -> Result<Option<PrimeReport>> {
        let partial = partial.trim();
        // What the fast path already answers will most likely not need the model: priming
        // for it would only hold the cores when the final transcript wants them.
        if partial.is_empty() || self.fast_plan(partial, Instant::now()).is_some() {
            return Ok(None);
        }
        self.follow_the_date();
        // Loading the model and its cached prompt is mostly reading files: it need not wait
        // for the speech worker, and neither need the speech worker wait for it.
        self.lm.start().await?;
        let prompt = self.prompt(partial);
        let cores = &crate::engines::CORES;
        let Some(_turn) = cores.for_speculation() else {
            return Ok(None);
        };
        self.lm
            .prime_until(prompt, cores.speech_wants_them())
            .await
            .map(Some)
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
