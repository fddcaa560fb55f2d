//! Measures every retrieval method on the planner's development set.
//!
//! ```text
//! cargo run --release -p sotto-toolrag --example recall -- tests/plans/dev.jsonl \
//!     agent/toolrag/tests/data/builtin-manifests.json
//! ```
//! Prints, per method: how often a single-tool request's tool comes first; recall@k (the
//! share of the requests that need tools whose every reference tool is in the top k; requests
//! no tool serves are left out); query time (each query repeated, release build); the prompt
//! tokens the top k tools save against listing all of them (characters of name, description
//! and argument schema, so tokens as characters / 4 cancel out); and how well the best score
//! separates requests no tool serves (AUC, and the mean best score of those requests against
//! the others'). Then the same with typos typed into the requests, without the manifests'
//! examples (as for BFCL-style functions), with 472 synthetic plugin-like tools added (500 in
//! all), and for the example index.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;
use sotto_toolrag::{ExampleIndex, Method, ToolDoc, ToolIndex};

const KS: [usize; 4] = [1, 3, 5, 8];
const REPEATS: usize = 20;
const SYNTHETIC_SCHEMA_CHARS: usize = 200;

struct Case {
    single: bool,
    request: String,
    tools: BTreeSet<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: recall <dev.jsonl> <manifests.json>");
        std::process::exit(2);
    }
    let cases = read_cases(&args[1]);
    let manifests: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).expect("read manifests"))
            .expect("manifests are a JSON array");
    let docs: Vec<ToolDoc> = manifests.iter().map(doc_of).collect();
    // The prompt's cost of a tool: its name, description and argument schema.
    let sizes: Vec<(String, usize)> = manifests
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap_or_default().to_string();
            let size = name.len()
                + m["description"].as_str().unwrap_or_default().len()
                + m["parameters"].to_string().len();
            (name, size)
        })
        .collect();
    let all_chars: usize = sizes.iter().map(|(_, s)| s).sum();
    println!(
        "all {} tools' names, descriptions and schemas: {} characters, about {} prompt tokens",
        sizes.len(),
        all_chars,
        all_chars / 4
    );
    let served = cases.iter().filter(|c| !c.tools.is_empty()).count();
    println!(
        "{} requests ({} need tools, {} none); {} tools",
        cases.len(),
        served,
        cases.len() - served,
        docs.len()
    );

    println!("\n## Tools: name + description + arguments + examples");
    header();
    for method in Method::ALL {
        report(
            method.name(),
            &ToolIndex::build_with(docs.clone(), method),
            &cases,
            &sizes,
        );
    }

    println!("\n## Tools: the same without the arguments' text");
    header();
    let no_arguments: Vec<ToolDoc> = docs
        .iter()
        .map(|d| ToolDoc {
            arguments: String::new(),
            ..d.clone()
        })
        .collect();
    for method in Method::ALL {
        report(
            method.name(),
            &ToolIndex::build_with(no_arguments.clone(), method),
            &cases,
            &sizes,
        );
    }

    println!("\n## Tools: name + description + arguments, no examples (as BFCL functions)");
    header();
    let bare: Vec<ToolDoc> = docs
        .iter()
        .map(|d| ToolDoc {
            examples: Vec::new(),
            ..d.clone()
        })
        .collect();
    for method in Method::ALL {
        report(
            method.name(),
            &ToolIndex::build_with(bare.clone(), method),
            &cases,
            &sizes,
        );
    }

    println!("\n## Typed with typos: one edit in most words of 5+ letters");
    header();
    let typed: Vec<Case> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| Case {
            single: c.single,
            request: with_typos(&c.request, i as u64),
            tools: c.tools.clone(),
        })
        .collect();
    for method in Method::ALL {
        report(
            method.name(),
            &ToolIndex::build_with(docs.clone(), method),
            &typed,
            &sizes,
        );
    }

    println!("\n## 500 tools: the built-ins + 472 synthetic plugin tools");
    println!("(a synthetic tool's schema is taken as {SYNTHETIC_SCHEMA_CHARS} characters)");
    header();
    let mut many = docs.clone();
    many.extend(synthetic_tools(500 - docs.len()));
    let mut many_sizes = sizes.clone();
    many_sizes.extend(many[docs.len()..].iter().map(|d| {
        (
            d.name.clone(),
            d.name.len() + d.description.len() + SYNTHETIC_SCHEMA_CHARS,
        )
    }));
    for method in Method::ALL {
        report(
            method.name(),
            &ToolIndex::build_with(many.clone(), method),
            &cases,
            &many_sizes,
        );
    }

    println!("\n## In-context examples: the manifests' examples, payload = tool");
    println!("| method | hit@1 | hit@3 | tools covered@4 | mean us |");
    println!("|---|---|---|---|---|");
    let examples: Vec<(String, String)> = manifests
        .iter()
        .flat_map(|m| {
            let tool = m["name"].as_str().unwrap_or_default().to_string();
            m["examples"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |e| {
                    (
                        e["utterance"].as_str().unwrap_or_default().to_string(),
                        tool.clone(),
                    )
                })
        })
        .collect();
    for method in [Method::Bm25, Method::Tfidf, Method::Hybrid] {
        let index = ExampleIndex::build_with(examples.clone(), method);
        let (mut hit1, mut hit3, mut covered, mut micros) = (0, 0, 0, 0.0);
        for case in cases.iter().filter(|c| !c.tools.is_empty()) {
            let start = Instant::now();
            let found = index.search(&case.request, 4);
            micros += start.elapsed().as_secs_f64() * 1e6;
            let tools: Vec<&str> = found
                .iter()
                .map(|(i, _)| index.get(*i).unwrap().1)
                .collect();
            hit1 += usize::from(tools.first().is_some_and(|t| case.tools.contains(*t)));
            hit3 += usize::from(tools.iter().take(3).any(|t| case.tools.contains(*t)));
            covered += usize::from(case.tools.iter().all(|t| tools.contains(&t.as_str())));
        }
        println!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.1} |",
            method.name(),
            hit1 as f64 / served as f64,
            hit3 as f64 / served as f64,
            covered as f64 / served as f64,
            micros / served as f64
        );
    }
}

fn header() {
    println!(
        "| method | top1 single | R@1 | R@3 | R@5 | R@8 | mean us | p95 us | saved@3 | saved@5 | saved@8 | none AUC | top score none/served |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
}

fn report(label: &str, index: &ToolIndex, cases: &[Case], sizes: &[(String, usize)]) {
    let total: usize = sizes.iter().map(|(_, s)| s).sum();
    let size_of = |name: &str| {
        sizes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
            .unwrap_or(0)
    };
    let served: Vec<&Case> = cases.iter().filter(|c| !c.tools.is_empty()).collect();
    let mut hits = [0usize; 4];
    let (mut singles, mut single_hits) = (0, 0);
    let mut saved = [0f64; 3];
    let mut times = Vec::new();
    let (mut top_none, mut top_served) = (Vec::new(), Vec::new());
    for case in cases {
        let start = Instant::now();
        for _ in 0..REPEATS {
            std::hint::black_box(index.search(&case.request, 8));
        }
        times.push(start.elapsed().as_secs_f64() * 1e6 / REPEATS as f64);
        let ranked = index.search(&case.request, 8);
        let top = ranked.first().map(|r| r.score).unwrap_or(0.0);
        if case.tools.is_empty() {
            top_none.push(top);
            continue;
        }
        top_served.push(top);
        if case.single {
            singles += 1;
            single_hits +=
                usize::from(ranked.first().is_some_and(|r| case.tools.contains(&r.name)));
        }
        for (slot, k) in KS.iter().enumerate() {
            let names: Vec<&str> = ranked.iter().take(*k).map(|r| r.name.as_str()).collect();
            hits[slot] += usize::from(case.tools.iter().all(|t| names.contains(&t.as_str())));
        }
        for (slot, k) in [3, 5, 8].iter().enumerate() {
            let used: usize = ranked.iter().take(*k).map(|r| size_of(&r.name)).sum();
            saved[slot] += 1.0 - used as f64 / total as f64;
        }
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let p95 = times[((times.len() as f64 * 0.95).ceil() as usize).min(times.len()) - 1];
    let n = served.len() as f64;
    println!(
        "| {label} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} | {:.0}% | {:.0}% | {:.0}% | {:.3} | {:.2}/{:.2} |",
        single_hits as f64 / singles as f64,
        hits[0] as f64 / n,
        hits[1] as f64 / n,
        hits[2] as f64 / n,
        hits[3] as f64 / n,
        mean,
        p95,
        100.0 * saved[0] / n,
        100.0 * saved[1] / n,
        100.0 * saved[2] / n,
        auc(&top_served, &top_none),
        mean_of(&top_none),
        mean_of(&top_served),
    );
}

fn mean_of(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

/// The probability that a served request's best score beats a none request's (ties half).
fn auc(positive: &[f32], negative: &[f32]) -> f64 {
    if positive.is_empty() || negative.is_empty() {
        return f64::NAN;
    }
    let mut wins = 0.0;
    for p in positive {
        for q in negative {
            wins += if p > q {
                1.0
            } else if p == q {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (positive.len() * negative.len()) as f64
}

fn read_cases(path: &str) -> Vec<Case> {
    std::fs::read_to_string(path)
        .expect("read the development set")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            Case {
                single: v["kind"] == "single",
                request: v["request"].as_str().unwrap_or_default().to_string(),
                tools: v["plan"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["tool"].as_str().map(str::to_string))
                    .collect(),
            }
        })
        .collect()
}

/// Argument names, their descriptions and enum values, as plain text.
fn argument_text(schema: &Value) -> String {
    let mut out = Vec::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        out.push(name.replace('_', " "));
        if let Some(d) = property["description"].as_str() {
            out.push(d.to_string());
        }
        for value in property["enum"].as_array().into_iter().flatten() {
            if let Some(v) = value.as_str() {
                out.push(v.replace('_', " "));
            }
        }
    }
    out.join(" ")
}

fn doc_of(m: &Value) -> ToolDoc {
    ToolDoc::new(
        m["name"].as_str().unwrap_or_default(),
        m["description"].as_str().unwrap_or_default(),
    )
    .with_arguments(argument_text(&m["parameters"]))
    .with_examples(
        m["examples"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["utterance"].as_str()),
    )
}

/// The request with one deterministic edit (swap, drop, double or replace a letter) in three
/// of every four words of five letters or more.
fn with_typos(request: &str, seed: u64) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    request
        .split(' ')
        .map(|word| {
            let mut chars: Vec<char> = word.chars().collect();
            if chars.len() < 5 || !chars.iter().all(|c| c.is_alphabetic()) || next(4) == 0 {
                return word.to_string();
            }
            let at = 1 + next(chars.len() - 2);
            match next(4) {
                0 => chars.swap(at, at + 1),
                1 => {
                    chars.remove(at);
                }
                2 => chars.insert(at, chars[at]),
                _ => chars[at] = (b'a' + next(26) as u8) as char,
            }
            chars.into_iter().collect()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Plugin-like tools built from everyday words (some shared with the built-ins, as real
/// plugins' would be), deterministic.
fn synthetic_tools(n: usize) -> Vec<ToolDoc> {
    const VERBS: &[&str] = &[
        "get",
        "set",
        "create",
        "delete",
        "list",
        "update",
        "send",
        "check",
        "track",
        "book",
        "order",
        "share",
        "sync",
        "scan",
        "print",
        "translate",
        "record",
        "measure",
        "rate",
        "archive",
    ];
    const OBJECTS: &[&str] = &[
        "invoice",
        "ticket",
        "weather",
        "stock",
        "recipe",
        "playlist",
        "photo",
        "package",
        "flight",
        "hotel",
        "expense",
        "habit",
        "workout",
        "password",
        "bookmark",
        "task",
        "project",
        "issue",
        "doorbell",
        "thermostat",
        "light",
        "plant",
        "meal",
        "budget",
        "podcast",
        "document",
        "message",
        "news",
        "score",
        "route",
    ];
    const QUALIFIERS: &[&str] = &[
        "for the user's account",
        "in the cloud service",
        "on the smart home hub",
        "from the company portal",
        "with an optional date range",
        "by its identifier or title",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    (0..n)
        .map(|i| {
            let verb = VERBS[next(VERBS.len())];
            let object = OBJECTS[next(OBJECTS.len())];
            let qualifier = QUALIFIERS[next(QUALIFIERS.len())];
            let other = OBJECTS[next(OBJECTS.len())];
            ToolDoc::new(
                format!("{verb}_{object}_{i}"),
                format!("Will {verb} the {object} {qualifier}, and link it to a {other}."),
            )
            .with_examples([
                format!("{verb} my {object}"),
                format!("please {verb} the {object} for the {other}"),
            ])
        })
        .collect()
}
