//! Measures `sotto-lm` the way the planner will use it: load time, prompt evaluation with and
//! without the kept prefix, generation speed with and without a grammar, and `Prime` of the
//! system prompt evaluated versus loaded from its cache file by a new worker process.
//!
//! ```sh
//! cargo build --release -p sotto-llama --bins --examples
//! target/release/examples/bench MODEL.gguf [THREADS] [RUNS]
//! ```
//! The worker is the `sotto-lm` next to the example's directory (override with SOTTO_LM).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sotto_protocol::client::{Next, Worker, WorkerSpec};
use sotto_protocol::lm::{
    ChatMessage, Completion, Generate, Grammar, LmRequest, LmResponse, ModelInfo, Prompt,
};

type LmWorker = Worker<LmRequest, LmResponse>;

const TOOLS: [(&str, &str); 12] = [
    (
        "get_time",
        "city: string. The current time, here or in a city.",
    ),
    (
        "get_weather",
        "city: string, day: string. The weather forecast.",
    ),
    (
        "set_timer",
        "seconds: integer, label: string. Starts a countdown.",
    ),
    (
        "set_alarm",
        "time: string (HH:MM), label: string. Rings at a time of day.",
    ),
    ("open_app", "name: string. Starts a desktop application."),
    ("close_app", "name: string. Quits a running application."),
    (
        "send_message",
        "to: string, text: string. Sends a chat message to a contact.",
    ),
    (
        "search_web",
        "query: string. Opens a web search in the browser.",
    ),
    (
        "play_music",
        "query: string. Plays songs matching the query.",
    ),
    (
        "set_volume",
        "percent: integer (0-100). Sets the output volume.",
    ),
    ("create_note", "title: string, text: string. Saves a note."),
    ("read_calendar", "day: string. Lists the events of a day."),
];

const REQUESTS: [&str; 6] = [
    "What time is it in Tokyo?",
    "Set a timer for five minutes for the pasta.",
    "Open Firefox and search for rust tutorials.",
    "Text Ann that I'm running late, then play some jazz.",
    "What's the weather tomorrow in Paris?",
    "Turn the volume down to 20 percent.",
];

fn system_prompt() -> String {
    let mut prompt = String::from(
        "You plan tool calls for a desktop assistant. Write one numbered call per line, \
         `N. tool(arg=value, ...)`, using $N for the result of step N, then `join()`.\n\
         Tools:\n",
    );
    for (name, doc) in TOOLS {
        prompt.push_str(&format!("- {name}({doc})\n"));
    }
    prompt.push_str(
        "Example:\nRequest: remind me in ten minutes to call mum\n\
         1. set_timer(seconds=600, label=\"call mum\")\njoin()\n",
    );
    prompt
}

fn plan_grammar() -> Grammar {
    let names: Vec<String> = TOOLS.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    Grammar::Lark(format!(
        r#"
start: step+ "join()"
step: NUMBER ". " TOOL "(" (arg (", " arg)*)? ")\n"
arg: NAME "=" value
value: STRING | INT | REF
TOOL: {}
NAME: /[a-z_]+/
STRING: /"[^"\n]*"/
INT: /[0-9]+/
REF: /\$[0-9]+/
NUMBER: /[1-9]/
"#,
        names.join(" | ")
    ))
}

fn chat(user: &str) -> Prompt {
    Prompt::Chat {
        messages: vec![
            ChatMessage::system(system_prompt()),
            ChatMessage::user(user),
        ],
    }
}

/// One generation, and the wall time from sending it to its first token (ms).
async fn run(worker: &mut LmWorker, request: Generate) -> (Completion, u128) {
    let mut done = None;
    let sent = Instant::now();
    let mut first_token = None;
    worker
        .stream(
            &LmRequest::Generate(request),
            std::future::pending(),
            |response| match response {
                LmResponse::Token { .. } => {
                    first_token.get_or_insert_with(|| sent.elapsed().as_millis());
                    Next::More
                }
                other => {
                    done = Some(other);
                    Next::Done
                }
            },
        )
        .await
        .expect("the worker answers");
    match done {
        Some(LmResponse::Done(completion)) => (completion, first_token.unwrap_or(0)),
        other => panic!("generation failed: {other:?}"),
    }
}

fn generate(id: u64, prompt: Prompt, grammar: Option<Grammar>, max_tokens: u32) -> Generate {
    Generate {
        id,
        prompt,
        grammar,
        max_tokens,
        stop: Vec::new(),
        temperature: 0.0,
        seed: 0,
        nudges: Vec::new(),
        lookup_drafts: true,
    }
}

fn per_second(tokens: u32, ms: u64) -> f64 {
    f64::from(tokens) * 1000.0 / (ms.max(1) as f64)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let model = PathBuf::from(
        args.next()
            .expect("usage: bench MODEL.gguf [THREADS] [RUNS]"),
    );
    let threads: u32 = args.next().map_or(2, |t| t.parse().expect("THREADS"));
    let runs: usize = args.next().map_or(3, |r| r.parse().expect("RUNS"));
    let program = std::env::var_os("SOTTO_LM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("own path");
            exe.parent()
                .and_then(|examples| examples.parent())
                .expect("target/<profile>/examples/bench")
                .join("sotto-lm")
        });
    let spec = WorkerSpec {
        name: "sotto-lm".into(),
        program,
        args: Vec::new(),
        hello_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(300),
    };

    let spawned = Instant::now();
    let mut worker = LmWorker::spawn(&spec).await.expect("the worker starts");
    let load = LmRequest::Load {
        model,
        n_ctx: 4096,
        threads,
    };
    let info: ModelInfo = match worker.call(&load).await.expect("the worker answers") {
        LmResponse::Loaded(info) => info,
        other => panic!("load failed: {other:?}"),
    };
    println!(
        "model {:?}: load {} ms, grammar token table {} ms (spawn to ready {} ms), n_ctx {}",
        info.name.as_deref().unwrap_or("?"),
        info.load_ms,
        info.grammar_setup_ms,
        spawned.elapsed().as_millis(),
        info.n_ctx
    );

    let mut id = 0;
    let mut next_id = || {
        id += 1;
        id
    };
    // Cold prompts: a different system prompt each time defeats the cache.
    let mut cold = Vec::new();
    for run_index in 0..runs {
        let prompt = Prompt::Chat {
            messages: vec![
                ChatMessage::system(format!("Session {run_index}.\n{}", system_prompt())),
                ChatMessage::user(REQUESTS[0]),
            ],
        };
        let (c, _) = run(&mut worker, generate(next_id(), prompt, None, 1)).await;
        cold.push(per_second(
            c.prompt_tokens - c.cached_prompt_tokens,
            c.prompt_ms,
        ));
        println!(
            "cold prompt: {} tokens ({} cached) in {} ms",
            c.prompt_tokens, c.cached_prompt_tokens, c.prompt_ms
        );
    }
    println!("prompt evaluation: {:.0} tokens/s (median)", median(cold));

    // The planner's case: same system prompt, new request (after one that puts it in the
    // cache).
    let _warm_up = run(
        &mut worker,
        generate(next_id(), chat(REQUESTS[0]), Some(plan_grammar()), 1),
    )
    .await;
    let mut warm_ms = Vec::new();
    for user in REQUESTS.iter().cycle().skip(1).take(runs.max(3)) {
        let (c, first_token_ms) = run(
            &mut worker,
            generate(next_id(), chat(user), Some(plan_grammar()), 64),
        )
        .await;
        warm_ms.push(c.prompt_ms as f64);
        println!(
            "cached prefix: {} tokens, {} cached, {} evaluated in {} ms; first token after \
             {first_token_ms} ms; plan {:?} ({} tokens in {} ms)",
            c.prompt_tokens,
            c.cached_prompt_tokens,
            c.prompt_tokens - c.cached_prompt_tokens,
            c.prompt_ms,
            c.text,
            c.generated_tokens,
            c.generate_ms
        );
    }
    println!(
        "prompt with cached prefix: {:.0} ms (median)",
        median(warm_ms)
    );

    // Generation speed: free text, then the same length under grammars.
    let story = Prompt::Chat {
        messages: vec![ChatMessage::user(
            "Write a long story about a lighthouse keeper.",
        )],
    };
    let cases: [(&str, Option<Grammar>); 3] = [
        ("no grammar", None),
        (
            "regex grammar",
            Some(Grammar::Regex(r"[A-Za-z0-9 ,.'\n-]+".into())),
        ),
        (
            "JSON schema",
            Some(Grammar::JsonSchema(serde_json::json!({
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "paragraphs": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["title", "paragraphs"]
            }))),
        ),
    ];
    for (name, grammar) in cases {
        let mut speeds = Vec::new();
        for _ in 0..runs {
            let (c, _) = run(
                &mut worker,
                generate(next_id(), story.clone(), grammar.clone(), 128),
            )
            .await;
            speeds.push(per_second(c.generated_tokens, c.generate_ms));
            println!(
                "{name}: {} tokens in {} ms ({:?})",
                c.generated_tokens, c.generate_ms, c.stop
            );
        }
        println!(
            "generation, {name}: {:.1} tokens/s (median)",
            median(speeds)
        );
    }
    worker.send(&LmRequest::Shutdown).await.ok();

    // A new worker process: prime the system prompt, evaluated (and written to the file), then
    // in another new process loaded from the file.
    let file = std::env::temp_dir().join(format!("sotto-bench-{}.state", std::process::id()));
    let stable = Prompt::Chat {
        messages: vec![ChatMessage::system(system_prompt())],
    };
    for attempt in ["evaluated", "from file"] {
        let mut worker = LmWorker::spawn(&spec).await.expect("the worker starts");
        worker.call(&load).await.expect("the worker answers");
        let request = LmRequest::Prime {
            id: 1,
            prompt: stable.clone(),
            cache_file: Some(file.clone()),
            interruptible: false,
        };
        match worker.call(&request).await.expect("the worker answers") {
            LmResponse::Primed {
                tokens,
                from_file,
                evaluated,
                ms,
                ..
            } => println!(
                "prime ({attempt}): {tokens} tokens in {ms} ms, from_file {from_file}, \
                 {evaluated} evaluated"
            ),
            other => panic!("prime failed: {other:?}"),
        }
        worker.send(&LmRequest::Shutdown).await.ok();
    }
    let mut sidecar = file.clone().into_os_string();
    sidecar.push(".meta");
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(sidecar).ok();
}
