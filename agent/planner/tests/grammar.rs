//! The plan grammar, run through llguidance itself (byte-level tokens) against the real
//! built-in tools' schemas: what it admits is exactly plans that parse and type-check.

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::ApproximateTokEnv;
use llguidance::{Matcher, ParserFactory};
use serde_json::{json, Value};
use sotto_planner::grammar::{plan_grammar, GrammarOptions};
use sotto_planner::{Function, Functions, PlanParser};

fn builtins() -> Functions {
    let manifests: Value =
        serde_json::from_str(include_str!("data/builtin-manifests.json")).unwrap();
    Functions::from_json(&manifests).unwrap()
}

struct Checker {
    factory: ParserFactory,
    grammar: String,
}

impl Checker {
    fn new(functions: &Functions, options: GrammarOptions) -> Checker {
        let env = ApproximateTokEnv::single_byte_env();
        Checker {
            factory: ParserFactory::new_simple(&env).unwrap(),
            grammar: plan_grammar(functions, options),
        }
    }

    /// Whether the grammar admits exactly `text` as a whole plan.
    fn admits(&self, text: &str) -> bool {
        let parser = self
            .factory
            .create_parser(TopLevelGrammar::from_lark(self.grammar.clone()))
            .unwrap_or_else(|e| panic!("{e}\n{}", self.grammar));
        let mut matcher = Matcher::new(Ok(parser));
        let tokens: Vec<u32> = text.bytes().map(u32::from).collect();
        let valid = matcher.validate_tokens(&tokens).unwrap();
        if valid < tokens.len() {
            return false;
        }
        matcher.consume_tokens(&tokens).unwrap();
        matcher.is_accepting().unwrap()
    }
}

fn check(checker: &Checker, functions: &Functions, cases: &[(&str, bool)]) {
    for (text, admitted) in cases {
        assert_eq!(checker.admits(text), *admitted, "{text}");
        if *admitted {
            // Everything the grammar admits parses and type-checks.
            let plan = PlanParser::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            for step in &plan.steps {
                functions
                    .check(step)
                    .unwrap_or_else(|p| panic!("{text}: {p:?}"));
            }
        }
    }
}

#[test]
fn only_existing_tools_with_typed_arguments() {
    let functions = builtins();
    let checker = Checker::new(&functions, GrammarOptions::default());
    check(
        &checker,
        &functions,
        &[
            ("1. timer_start(minutes=10)\njoin()", true),
            ("1. timer_start(minutes=10, label=\"pasta\")\njoin()", true),
            ("1. timer_start()\njoin()", true),
            (
                "1. timer_start(hours=1, minutes=30, label=\"laundry\")\njoin()",
                true,
            ),
            // Unknown tools, unknown arguments, wrong types.
            ("1. delete_everything(path=\"/\")\njoin()", false),
            ("1. timer_start(days=2)\njoin()", false),
            ("1. timer_start(minutes=\"ten\")\njoin()", false),
            ("1. timer_start(minutes=10.5)\njoin()", false),
            ("1. timer_start(minutes=-3)\njoin()", false),
            // Parameters in the schema's order, each once; `null` is never written.
            ("1. timer_start(label=\"pasta\", minutes=10)\njoin()", false),
            ("1. timer_start(minutes=1, minutes=2)\njoin()", false),
            ("1. timer_start(label=null)\njoin()", false),
            // Enums.
            ("1. volume(action=\"up\")\njoin()", true),
            ("1. volume(action=\"explode\")\njoin()", false),
            // Required arguments.
            ("1. open_url()\njoin()", false),
            // Numbering, references to earlier steps only, the end.
            (
                "1. contact_lookup(name=\"Alice\")\n2. compose_email(to=$1)\njoin()",
                true,
            ),
            ("1. compose_email(to=$1)\njoin()", false),
            (
                "1. contact_lookup(name=\"Alice\")\n2. compose_email(to=$2)\njoin()",
                false,
            ),
            ("1. timer_start(minutes=1)\n3. timer_list()\njoin()", false),
            ("1. timer_start(minutes=1)", false),
            ("join()", false),
            // A reply, only as the whole plan.
            ("1. reply(text=\"I can't book flights.\")\njoin()", true),
            (
                "1. timer_start(minutes=1)\n2. reply(text=\"Done.\")\njoin()",
                false,
            ),
            ("1. reply(text=\"\")\njoin()", false),
            // No line breaks inside a step.
            ("1. timer_start(\nminutes=10)\njoin()", false),
        ],
    );
}

#[test]
fn volume_has_the_expected_schema() {
    // The cases above rely on `volume(action=...)`; fail clearly if the tool changes.
    let functions = builtins();
    let volume = functions.get("volume").unwrap();
    assert!(volume.param("action").unwrap().schema["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("up")));
    assert!(
        functions
            .get("open_url")
            .unwrap()
            .param("url")
            .unwrap()
            .required
    );
    assert_eq!(
        functions.get("timer_start").unwrap().signature(),
        "timer_start(hours?: int, minutes?: int, seconds?: int, label?: str)"
    );
}

#[test]
fn lists_may_mix_values_and_references() {
    let functions = Functions::new(vec![
        Function::new(
            "lookup",
            "",
            &json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
        )
        .unwrap(),
        Function::new(
            "send",
            "",
            &json!({"type": "object", "properties": {
                "to": {"type": "array", "items": {"type": "string"}},
                "urgent": {"type": "boolean"}
            }, "required": ["to"]}),
        )
        .unwrap(),
    ])
    .unwrap();
    let checker = Checker::new(&functions, GrammarOptions::default());
    check(
        &checker,
        &functions,
        &[
            ("1. send(to=[\"a@b.c\"])\njoin()", true),
            ("1. send(to=[\"a@b.c\"], urgent=true)\njoin()", true),
            ("1. send(to=\"a@b.c\")\njoin()", false),
            (
                "1. lookup(name=\"A\")\n2. lookup(name=\"B\")\n3. send(to=[$1, $2, \"c@d.e\"])\njoin()",
                true,
            ),
            ("1. lookup(name=\"A\")\n2. send(to=[$1, 3])\njoin()", false),
            ("1. send(to=[$1])\njoin()", false),
        ],
    );
}

#[test]
fn bfcl_type_names_and_step_limits() {
    // As the Berkeley Function Calling Leaderboard writes functions.
    let functions = Functions::from_json(&json!([{
        "name": "math.area",
        "description": "Area of a triangle.",
        "parameters": {"type": "dict", "properties": {
            "base": {"type": "float", "description": "The base."},
            "sides": {"type": "tuple", "items": {"type": "integer"}},
            "meta": {"type": "dict", "properties": {"unit": {"type": "string", "enum": ["cm", "m"]}}},
            "anything": {"type": "any"}
        }, "required": ["base"]}
    }]))
    .unwrap();
    let options = GrammarOptions {
        max_steps: 2,
        allow_reply: false,
    };
    let checker = Checker::new(&functions, options);
    check(
        &checker,
        &functions,
        &[
            ("1. math.area(base=2.5)\njoin()", true),
            ("1. math.area(base=3, sides=[1, 2])\njoin()", true),
            (
                "1. math.area(base=3, meta={\"unit\": \"cm\"})\njoin()",
                true,
            ),
            (
                "1. math.area(base=3, meta={\"unit\": \"km\"})\njoin()",
                false,
            ),
            ("1. math.area(base=3, anything=[\"x\", 1])\njoin()", true),
            ("1. math.area(base=\"3\")\njoin()", false),
            ("1. math.area(base=1)\n2. math.area(base=2)\njoin()", true),
            (
                "1. math.area(base=1)\n2. math.area(base=2)\n3. math.area(base=3)\njoin()",
                false,
            ),
            ("1. reply(text=\"no\")\njoin()", false),
        ],
    );
    assert_eq!(
        functions.get("math.area").unwrap().signature(),
        "math.area(base: number, sides?: list[int], meta?: object, anything?: any)"
    );
}

#[test]
fn reserved_and_bad_names_are_refused() {
    let empty = json!({"type": "object", "properties": {}});
    assert!(Function::new("reply", "", &empty).is_err());
    assert!(Function::new("rm -rf", "", &empty).is_err());
    assert!(Function::new("ok", "", &json!({"properties": {"a b": {}}})).is_err());
    let twice = json!([{"name": "a"}, {"name": "a"}]);
    assert!(Functions::from_json(&twice).is_err());
}
