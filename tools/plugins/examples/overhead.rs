//! What a plugin call costs next to a built-in tool, in one run: a fresh store, instantiation
//! and the call for two plugin tools, against the built-in calculator; plus loading a plugin
//! with a cold and a warm compiled-code cache.
//!
//! `cargo run --release -p sotto-plugins --example overhead [-- ITERATIONS]`
//! (builds the guest plugins first through `tools/sdk/build-wasm`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sotto_plugins::{HostConfig, Limits, NoDesktop, PluginHost};
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{FolderGrant, ToolGrants};
use sotto_tools::{Host, Tool, ToolContext};

fn guests() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/build-wasm");
    let out = Command::new(script)
        .output()
        .expect("run tools/sdk/build-wasm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}

fn report(label: &str, samples: Vec<Duration>) {
    let (p50, p95) = percentiles(samples);
    println!(
        "{label:<48} p50 {:>9.1} µs   p95 {:>9.1} µs",
        p50.as_secs_f64() * 1e6,
        p95.as_secs_f64() * 1e6
    );
}

fn host(cache: &Path) -> PluginHost {
    PluginHost::new(HostConfig {
        cache_dir: Some(cache.to_path_buf()),
        limits: Limits::default(),
        services: Arc::new(NoDesktop),
    })
    .expect("host")
}

#[tokio::main]
async fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let dir = guests();
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("rates.txt"), "base EUR\nUSD 1.25\n").unwrap();

    // Loading: compile with an empty cache, then again from the cache (a new host, as after
    // a restart).
    let started = Instant::now();
    let cold = host(cache.path())
        .load(&dir.join("sotto_plugin_convert.wasm"))
        .unwrap();
    let cold_time = started.elapsed();
    drop(cold);
    // wasmtime writes cache entries from a background worker; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    let host = host(cache.path());
    let started = Instant::now();
    let convert = host.load(&dir.join("sotto_plugin_convert.wasm")).unwrap();
    let warm_time = started.elapsed();
    let template = host.load(&dir.join("sotto_plugin_template.wasm")).unwrap();
    println!(
        "load convert plugin, empty cache: {:>8.1} ms",
        cold_time.as_secs_f64() * 1e3
    );
    println!(
        "load convert plugin, warm cache:  {:>8.1} ms",
        warm_time.as_secs_f64() * 1e3
    );

    let env = HostEnv::from_lookup(|_| None);
    let sotto_host = Host::new(data.path().to_path_buf(), env);
    let grants = ToolGrants {
        folders: vec![FolderGrant {
            path: folder.path().to_path_buf(),
            write: false,
        }],
        ..ToolGrants::default()
    };
    let calculator = sotto_builtins::all()
        .into_iter()
        .find(|t| t.manifest().name == "calculator")
        .expect("the calculator built-in");

    let cases: Vec<(&str, Arc<dyn Tool>, serde_json::Value)> = vec![
        (
            "built-in calculator (2*(3+4))",
            calculator,
            json!({"expression": "2*(3+4)"}),
        ),
        (
            "plugin template_greet",
            template.tool("template_greet").unwrap(),
            json!({"name": "Ada"}),
        ),
        (
            "plugin convert_quantity (mile -> km)",
            convert.tool("convert_quantity").unwrap(),
            json!({"value": 26.2, "from": "mile", "to": "km"}),
        ),
        (
            "plugin convert_currency (reads rates.txt)",
            convert.tool("convert_currency").unwrap(),
            json!({"amount": 20, "from": "EUR", "to": "USD"}),
        ),
    ];
    println!("{iterations} calls each, through Tool::call (async, as the executor calls):");
    for (label, tool, args) in cases {
        let context = ToolContext::build(tool.manifest(), &sotto_host, &grants).unwrap();
        for _ in 0..20 {
            tool.call(&args, &context).await.unwrap();
        }
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let started = Instant::now();
            let out = tool.call(&args, &context).await.unwrap();
            samples.push(started.elapsed());
            std::hint::black_box(out);
        }
        report(label, samples);
    }

    // The same plugin call without the hop to a blocking thread: the store + instantiate +
    // call cost alone.
    let tool = convert.tool("convert_quantity").unwrap();
    let context = ToolContext::build(tool.manifest(), &sotto_host, &grants).unwrap();
    let args = json!({"value": 26.2, "from": "mile", "to": "km"});
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        std::hint::black_box(tool.call_blocking(&args, &context).unwrap());
        samples.push(started.elapsed());
    }
    report("plugin convert_quantity, on the calling thread", samples);
}
