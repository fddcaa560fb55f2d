//! What the planner offers the model: the functions, the worked examples (the stable prompt
//! and the pool retrieval picks from), how many tools retrieval lets the grammar offer, and
//! the calibrating nudges.

use anyhow::{Context, Result};
use serde_json::Value;
use sotto_fastpath::FastPath;
use sotto_planner::grammar::GrammarOptions;
use sotto_planner::plan::{Action, Arg, Plan, Step, REPLY};
use sotto_planner::prompt::{self, Example};
use sotto_planner::{Function, Functions};
use sotto_protocol::lm::{ChatMessage, Nudge};
use sotto_toolrag::{ExampleIndex, ToolDoc, ToolIndex};
use sotto_tools::ToolManifest;

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
    pub(super) fn to_protocol(self) -> Vec<Nudge> {
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
pub(super) fn one_call_plan(function: &Function, args: &Value) -> Plan {
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

#[cfg(test)]
mod tests {
    use super::*;
    use sotto_planner::PlanParser;

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
