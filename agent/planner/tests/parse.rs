//! The incremental plan parser: steps come out the moment they are complete, whatever way
//! the text is split into pieces; broken plans are errors that say where and why.

use serde_json::json;
use sotto_planner::{Action, Arg, PlanError, PlanParser, Step};

const PLAN: &str = "1. contact_lookup(name=\"Alice (work)\")\n\
2. timer_start(minutes=10, label=\"tea\")\n\
3. compose_email(to=$1, subject=\"Notes)\", cc=[$1, \"bob@example.com\"])\n\
join()";

/// Feeds `text` in pieces of `size` characters; returns (characters fed when each step
/// came out, the step).
fn feed(text: &str, size: usize) -> Vec<(usize, Step)> {
    let chars: Vec<char> = text.chars().collect();
    let mut parser = PlanParser::new();
    let mut out = Vec::new();
    for (n, piece) in chars.chunks(size).enumerate() {
        let piece: String = piece.iter().collect();
        for step in parser.push(&piece).unwrap() {
            out.push(((n + 1) * size, step));
        }
    }
    let plan = parser.finish().unwrap();
    assert_eq!(
        plan.steps,
        out.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>()
    );
    out
}

#[test]
fn steps_come_out_at_their_closing_parenthesis() {
    let out = feed(PLAN, 1);
    assert_eq!(out.len(), 3);
    // One character at a time: each step comes out exactly at the `)` that ends its line,
    // not at the `)` inside a string, and not later at the line break.
    for (fed, step) in &out {
        let line_end = PLAN[..*fed].chars().last().unwrap();
        assert_eq!(
            line_end,
            ')',
            "step {} came out after {:?}",
            step.id,
            &PLAN[..*fed]
        );
        let rest = &PLAN[*fed..];
        assert!(rest.starts_with('\n'), "{rest:?}");
    }
    let third = &out[2].1;
    assert_eq!(third.deps(), vec![1]);
    assert_eq!(third.arg("to"), Some(&Arg::Ref(1)));
    assert_eq!(third.arg("subject"), Some(&Arg::Value(json!("Notes)"))));
    assert_eq!(
        third.arg("cc"),
        Some(&Arg::List(vec![
            Arg::Ref(1),
            Arg::Value(json!("bob@example.com"))
        ]))
    );
    assert_eq!(
        out[0].1.arg("name"),
        Some(&Arg::Value(json!("Alice (work)")))
    );
}

#[test]
fn any_split_gives_the_same_plan() {
    let whole = feed(PLAN, PLAN.len());
    for size in [2, 3, 5, 7, 11, 64] {
        let steps: Vec<Step> = feed(PLAN, size).into_iter().map(|(_, s)| s).collect();
        let expected: Vec<Step> = whole.iter().map(|(_, s)| s.clone()).collect();
        assert_eq!(steps, expected, "pieces of {size}");
    }
}

#[test]
fn a_plan_prints_back_to_the_same_plan() {
    let plan = PlanParser::parse(PLAN).unwrap();
    let again = PlanParser::parse(&plan.to_string()).unwrap();
    assert_eq!(plan, again);
    assert!(plan.to_string().ends_with("join()"));
}

#[test]
fn values_of_every_json_type() {
    let plan = PlanParser::parse(
        "1. f(a=1, b=-2.5, c=true, d=null, e=[1, 2], f={\"x\": [\"y\"]}, g=\"q\\\"uote\")\njoin()",
    )
    .unwrap();
    let Action::Call { args, .. } = &plan.steps[0].action else {
        panic!("{plan:?}")
    };
    let values: Vec<_> = args
        .iter()
        .map(|(_, a)| a.to_json_with_ref_strings())
        .collect();
    assert_eq!(
        values,
        vec![
            json!(1),
            json!(-2.5),
            json!(true),
            json!(null),
            json!([1, 2]),
            json!({"x": ["y"]}),
            json!("q\"uote")
        ]
    );
}

#[test]
fn a_reply_is_a_step_without_a_function() {
    for text in [
        "1. reply(text=\"I can't book flights.\")\njoin()",
        "1. reply(\"I can't book flights.\")\njoin()",
    ] {
        let plan = PlanParser::parse(text).unwrap();
        assert_eq!(plan.reply(), Some("I can't book flights."));
        assert_eq!(plan.calls().count(), 0);
    }
}

#[test]
fn an_empty_plan_is_just_join() {
    let plan = PlanParser::parse("join()").unwrap();
    assert!(plan.steps.is_empty());
    // Whatever follows join() is not part of the plan.
    let plan = PlanParser::parse("1. f()\njoin()\n2. g()").unwrap();
    assert_eq!(plan.steps.len(), 1);
}

fn error(text: &str) -> PlanError {
    PlanParser::parse(text).expect_err(text)
}

#[test]
fn broken_plans_say_where_and_why() {
    let cases: &[(&str, &str)] = &[
        ("1. f(a=1)", "without `join()`"),
        ("1. f(a=1)\n", "without `join()`"),
        ("1. f(a=one)\njoin()", "`one` is not a value"),
        ("1. f(1)\njoin()", "has no name"),
        ("f(a=1)\njoin()", "starts with its number"),
        ("1. f(a=1, a=2)\njoin()", "given twice"),
        ("1. f(a=\"x)\njoin()", "line 1"),
        ("1. f(a=$)\njoin()", "step number"),
        ("1. f(a=1) extra\njoin()", "unexpected"),
        ("1. reply(text=1)\njoin()", "reply takes"),
        ("2. f()\njoin()", "expected step 1, found step 2"),
        ("1. f()\n1. g()\njoin()", "expected step 2, found step 1"),
        ("1. f(a=$1)\njoin()", "not an earlier step"),
        ("1. f()\n2. g(a=$3)\njoin()", "not an earlier step"),
        ("1. f(a=$0)\njoin()", "not an earlier step"),
    ];
    for (text, expected) in cases {
        let message = error(text).to_string();
        assert!(message.contains(expected), "{text:?}: {message}");
    }
    let long: String = (1..=9).map(|n| format!("{n}. f()\n")).collect::<String>() + "join()";
    assert_eq!(error(&long), PlanError::TooLong);
}

mod score {
    use std::collections::BTreeMap;

    use serde_json::json;
    use sotto_planner::score::{matches, Expected, ExpectedCall};
    use sotto_planner::PlanParser;

    fn call(function: &str, args: &[(&str, Vec<Expected>)]) -> ExpectedCall {
        ExpectedCall {
            function: function.into(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn v(value: serde_json::Value) -> Expected {
        Expected::Value(value)
    }

    #[test]
    fn same_calls_same_graph_in_any_order() {
        let reference = vec![
            call("lookup", &[("name", vec![v(json!("Alice"))])]),
            call("timer", &[("minutes", vec![v(json!(5))])]),
            call(
                "email",
                &[
                    ("to", vec![Expected::Ref(1)]),
                    ("subject", vec![v(json!("Budget")), Expected::Absent]),
                ],
            ),
        ];
        let check = |text: &str| matches(&PlanParser::parse(text).unwrap(), &reference);
        // Renumbered, values loosely equal, an optional argument left out.
        assert_eq!(
            check("1. timer(minutes=5.0)\n2. lookup(name=\"alice\")\n3. email(to=$2)\njoin()"),
            Ok(())
        );
        assert_eq!(
            check("1. lookup(name=\"Alice\")\n2. timer(minutes=5)\n3. email(to=[$1], subject=\"budget!\")\njoin()"),
            Ok(())
        );
        // The reference to the wrong step: the graphs differ.
        assert!(
            check("1. lookup(name=\"Alice\")\n2. timer(minutes=5)\n3. email(to=$2)\njoin()")
                .is_err()
        );
        // An invented argument, a wrong value, a missing call.
        assert!(check(
            "1. lookup(name=\"Alice\")\n2. timer(minutes=5)\n3. email(to=$1, cc=\"x\")\njoin()"
        )
        .unwrap_err()
        .contains("should not be given"));
        assert!(
            check("1. lookup(name=\"Bob\")\n2. timer(minutes=5)\n3. email(to=$1)\njoin()").is_err()
        );
        assert!(check("1. lookup(name=\"Alice\")\n2. email(to=$1)\njoin()")
            .unwrap_err()
            .contains("2 calls, expected 3"));
        // A missing required argument.
        let required = vec![call("timer", &[("minutes", vec![v(json!(5))])])];
        assert!(
            matches(&PlanParser::parse("1. timer()\njoin()").unwrap(), &required)
                .unwrap_err()
                .contains("missing")
        );
    }

    #[test]
    fn no_calls_match_an_empty_reference() {
        let reply = PlanParser::parse("1. reply(text=\"I can't.\")\njoin()").unwrap();
        assert_eq!(matches(&reply, &[]), Ok(()));
        let call = PlanParser::parse("1. f()\njoin()").unwrap();
        assert!(matches(&call, &[]).is_err());
    }

    #[test]
    fn bfcl_nested_alternatives() {
        let reference = vec![call(
            "f",
            &[("opts", vec![v(json!({"unit": ["cm", ""], "n": [1]}))])],
        )];
        let check = |text: &str| matches(&PlanParser::parse(text).unwrap(), &reference);
        assert_eq!(check("1. f(opts={\"n\": 1})\njoin()"), Ok(()));
        assert_eq!(
            check("1. f(opts={\"n\": 1, \"unit\": \"cm\"})\njoin()"),
            Ok(())
        );
        assert!(check("1. f(opts={\"n\": 2})\njoin()").is_err());
        assert!(check("1. f(opts={\"n\": 1, \"x\": 1})\njoin()").is_err());
    }
}
