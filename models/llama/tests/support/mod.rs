//! The real models and the worker process the `sotto-lm` tests share.
//!
//! Models: the GGUF files the model manager fetched into SOTTO_TEST_MODELS_DIR (`.ci/test`
//! does this first).

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::time::Duration;

use sotto_protocol::client::{Next, Worker, WorkerSpec};
use sotto_protocol::lm::{ChatMessage, Completion, Generate, LmRequest, LmResponse, Prompt};

pub type LmWorker = Worker<LmRequest, LmResponse>;

fn model(dir: &str, file: &str) -> PathBuf {
    let path = sotto_e2e::test_models_dir().join(dir).join(file);
    assert!(
        path.is_file(),
        "test model missing: {}. Run .ci/test (it fetches the test models) or `sotto models fetch {dir}` with SOTTO_MODELS_DIR set to the test models directory",
        path.display()
    );
    path
}

/// The planner model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M.
pub fn qwen() -> PathBuf {
    model(
        "qwen2.5-coder-0.5b-instruct-q4_k_m",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    )
}

/// A small, fast model: SmolLM2-135M-Instruct, Q4_1.
pub fn smollm() -> PathBuf {
    model(
        "smollm2-135m-instruct-q4_1",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
    )
}

pub fn worker_spec() -> WorkerSpec {
    WorkerSpec {
        name: "sotto-lm".into(),
        program: env!("CARGO_BIN_EXE_sotto-lm").into(),
        args: Vec::new(),
        hello_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(120),
    }
}

pub fn load(model: PathBuf) -> LmRequest {
    LmRequest::Load {
        model,
        n_ctx: 2048,
        threads: 2,
    }
}

pub async fn loaded_worker(model: PathBuf) -> LmWorker {
    let mut worker = LmWorker::spawn(&worker_spec()).await.unwrap();
    match worker.call(&load(model)).await.unwrap() {
        LmResponse::Loaded(_) => worker,
        other => panic!("load failed: {other:?}"),
    }
}

pub fn chat(system: &str, user: &str) -> Prompt {
    Prompt::Chat {
        messages: vec![ChatMessage::system(system), ChatMessage::user(user)],
    }
}

/// A greedy request without grammar or stop strings.
pub fn request(id: u64, prompt: Prompt, max_tokens: u32) -> Generate {
    Generate {
        id,
        prompt,
        grammar: None,
        max_tokens,
        stop: Vec::new(),
        temperature: 0.0,
        seed: 0,
        nudges: Vec::new(),
        lookup_drafts: true,
    }
}

/// What one generation sent back.
#[derive(Debug)]
pub struct Answer {
    pub pieces: Vec<String>,
    pub completion: Completion,
}

/// Runs one generation to its end; panics on a failure (see `generate_or_fail`).
pub async fn generate(worker: &mut LmWorker, request: Generate) -> Answer {
    match generate_or_fail(worker, request).await {
        Ok(answer) => answer,
        Err(response) => panic!("generation failed: {response:?}"),
    }
}

/// Runs one generation; `Err` is the worker's `Failed` answer.
pub async fn generate_or_fail(
    worker: &mut LmWorker,
    request: Generate,
) -> Result<Answer, LmResponse> {
    let id = request.id;
    let mut pieces = Vec::new();
    let mut end = None;
    worker
        .stream(
            &LmRequest::Generate(request),
            std::future::pending(),
            |response| match response {
                LmResponse::Token { id: of, text } => {
                    assert_eq!(of, id);
                    pieces.push(text);
                    Next::More
                }
                other => {
                    end = Some(other);
                    Next::Done
                }
            },
        )
        .await
        .unwrap();
    match end {
        Some(LmResponse::Done(completion)) => {
            assert_eq!(completion.id, id);
            assert_eq!(
                pieces.concat(),
                completion.text,
                "the streamed pieces are the answer"
            );
            Ok(Answer { pieces, completion })
        }
        Some(other) => Err(other),
        None => unreachable!("the stream ends with an answer"),
    }
}

/// What a `Prime` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Primed {
    pub tokens: u32,
    pub from_file: bool,
    pub evaluated: u32,
    pub ms: u64,
}

/// Primes the worker's cache; `Err` is the worker's `Failed` answer.
pub async fn prime_or_fail(
    worker: &mut LmWorker,
    id: u64,
    prompt: Prompt,
    cache_file: Option<&std::path::Path>,
) -> Result<Primed, LmResponse> {
    let request = LmRequest::Prime {
        id,
        prompt,
        cache_file: cache_file.map(std::path::Path::to_path_buf),
        interruptible: false,
    };
    match worker.call(&request).await.unwrap() {
        LmResponse::Primed {
            id: of,
            tokens,
            from_file,
            evaluated,
            ms,
            cancelled,
        } => {
            assert!(!cancelled, "only an interruptible prime can be cancelled");
            assert_eq!(of, id);
            Ok(Primed {
                tokens,
                from_file,
                evaluated,
                ms,
            })
        }
        other => Err(other),
    }
}

/// Primes the worker's cache; panics on a failure.
pub async fn prime(
    worker: &mut LmWorker,
    id: u64,
    prompt: Prompt,
    cache_file: Option<&std::path::Path>,
) -> Primed {
    match prime_or_fail(worker, id, prompt, cache_file).await {
        Ok(primed) => primed,
        Err(response) => panic!("prime failed: {response:?}"),
    }
}
