//! Lists the development requests whose reference tools are not all in the top k.
//! `cargo run -p sotto-toolrag --example misses -- dev.jsonl manifests.json [method] [k]`
use serde_json::Value;
use sotto_toolrag::{Method, ToolDoc, ToolIndex};

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
    let method = Method::ALL
        .into_iter()
        .find(|m| Some(m.name()) == args.get(3).map(String::as_str))
        .unwrap_or(Method::Tfidf);
    let k: usize = args.get(4).and_then(|k| k.parse().ok()).unwrap_or(3);
    let index = ToolIndex::build_with(docs, method);
    for line in std::fs::read_to_string(&args[1]).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let request = v["request"].as_str().unwrap();
        let tools: Vec<&str> = v["plan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["tool"].as_str().unwrap())
            .collect();
        let ranked = index.search(request, 8);
        let top: Vec<&str> = ranked.iter().take(k).map(|r| r.name.as_str()).collect();
        let miss = !tools.iter().all(|t| top.contains(t));
        if miss || (tools.is_empty() && ranked[0].score > 0.3) {
            let shown: Vec<String> = ranked
                .iter()
                .take(5)
                .map(|r| format!("{}:{:.2}", r.name, r.score))
                .collect();
            println!(
                "{:40} want {:?}\n    got {}",
                request,
                tools,
                shown.join(" ")
            );
        }
    }
}
