//! For choosing how many tools to offer: per development request, the score of each needed
//! tool relative to the best score, and the best score of requests no tool serves.
//! `cargo run -p sotto-toolrag --example cutoffs -- dev.jsonl manifests.json`
use serde_json::Value;
use sotto_toolrag::{ToolDoc, ToolIndex};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let manifests: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let docs: Vec<ToolDoc> = manifests
        .iter()
        .map(|m| {
            ToolDoc::new(
                m["name"].as_str().unwrap(),
                m["description"].as_str().unwrap(),
            )
            .with_examples(
                m["examples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["utterance"].as_str().unwrap()),
            )
        })
        .collect();
    let index = ToolIndex::build(docs);
    let (mut worst_ratio, mut served_tops, mut none_tops) = (Vec::new(), Vec::new(), Vec::new());
    let mut offered = Vec::new();
    for line in std::fs::read_to_string(&args[1]).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let request = v["request"].as_str().unwrap();
        let tools: Vec<&str> = v["plan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["tool"].as_str().unwrap())
            .collect();
        let ranked = index.search(request, 28);
        let top = ranked[0].score;
        if tools.is_empty() {
            none_tops.push(top);
            continue;
        }
        served_tops.push(top);
        let worst = tools
            .iter()
            .map(|t| {
                ranked
                    .iter()
                    .find(|r| r.name == *t)
                    .map(|r| r.score / top)
                    .unwrap_or(0.0)
            })
            .fold(f32::INFINITY, f32::min);
        worst_ratio.push(worst);
        offered.push(ranked.iter().map(|r| r.score / top).collect::<Vec<f32>>());
    }
    for rho in [0.2f32, 0.3, 0.4, 0.5, 0.6] {
        let kept = worst_ratio.iter().filter(|&&w| w >= rho).count();
        let mean_offered: f32 = offered
            .iter()
            .map(|o| o.iter().take(8).filter(|&&r| r >= rho).count() as f32)
            .sum::<f32>()
            / offered.len() as f32;
        println!(
            "ratio >= {rho}: recall {}/{} mean offered {mean_offered:.1}",
            kept,
            worst_ratio.len()
        );
    }
    for theta in [0.05f32, 0.08, 0.1, 0.12, 0.15, 0.2] {
        let lost = served_tops.iter().filter(|&&t| t < theta).count();
        let caught = none_tops.iter().filter(|&&t| t < theta).count();
        println!(
            "top < {theta}: served requests lost {lost}/{}, none caught {caught}/{}",
            served_tops.len(),
            none_tops.len()
        );
    }
}
