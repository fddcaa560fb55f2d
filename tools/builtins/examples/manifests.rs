//! Prints every built-in tool's manifest as one JSON array: `cargo run -p sotto-builtins --example manifests`.

fn main() {
    let manifests: Vec<_> = sotto_builtins::all()
        .iter()
        .map(|tool| tool.manifest().to_json())
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&manifests).expect("JSON values serialise")
    );
}
