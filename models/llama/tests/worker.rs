//! `sotto-lm` as the app runs it: a real process and real models, through the protocol
//! crate's client and supervisor. Loading, refusing bad models and requests, cancelling.

mod support;

use std::time::Duration;

use sotto_protocol::client::{Next, Supervisor, WorkerError, WorkerSpec};
use sotto_protocol::lm::{LmRequest, LmResponse, Prompt, StopReason};
use sotto_protocol::{ErrorKind, PROTOCOL_VERSION};
use support::*;

#[tokio::test]
async fn hello_and_load_describe_the_worker_and_the_model() {
    let mut worker = LmWorker::spawn(&worker_spec()).await.unwrap();
    assert_eq!(worker.hello().worker, "sotto-lm");
    assert_eq!(worker.hello().protocol, PROTOCOL_VERSION);
    assert_eq!(
        PROTOCOL_VERSION, 4,
        "version 3 added Prime, version 4 its interruption"
    );
    let info = match worker.call(&load(qwen())).await.unwrap() {
        LmResponse::Loaded(info) => info,
        other => panic!("{other:?}"),
    };
    assert_eq!(info.model, qwen());
    assert_eq!(info.architecture.as_deref(), Some("qwen2"), "{info:?}");
    assert!(info.chat_template, "{info:?}");
    assert_eq!(info.n_ctx, 2048);
    assert_eq!(info.n_ctx_train, 32768);
    assert!(info.vocab_size > 150_000, "{info:?}");
    assert!(
        info.parameters > 400_000_000 && info.parameters < 700_000_000,
        "{info:?}"
    );
    assert!(info.load_ms > 0 && info.grammar_setup_ms > 0, "{info:?}");

    // A context larger than the model was trained for is capped; 0 means the trained size.
    match worker
        .call(&LmRequest::Load {
            model: smollm(),
            n_ctx: 0,
            threads: 1,
        })
        .await
        .unwrap()
    {
        LmResponse::Loaded(info) => {
            assert_eq!(info.n_ctx, info.n_ctx_train, "{info:?}");
            assert!(info.chat_template, "{info:?}");
        }
        other => panic!("{other:?}"),
    }
    worker.send(&LmRequest::Shutdown).await.unwrap();
}

#[tokio::test]
async fn a_worker_of_another_protocol_version_is_refused() {
    let hello = r#"{"protocol":1,"worker":"sotto-lm","worker_version":"0.0.1","pid":1}"#;
    let spec = WorkerSpec {
        program: "sh".into(),
        args: vec!["-c".into(), format!("echo '{hello}'; sleep 10")],
        ..worker_spec()
    };
    match LmWorker::spawn(&spec).await {
        Err(WorkerError::VersionMismatch { theirs, ours, .. }) => {
            assert_eq!((theirs, ours), (1, PROTOCOL_VERSION))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_models_are_refused_and_the_worker_goes_on() {
    let mut worker = LmWorker::spawn(&worker_spec()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.gguf");
    std::fs::write(
        &garbage,
        b"\x00\x01 this is not a model at all, only bytes \xff\xfe",
    )
    .unwrap();
    // A real GGUF header whose tensors are cut off.
    let truncated = dir.path().join("truncated.gguf");
    let head: Vec<u8> = std::fs::read(qwen()).unwrap()[..4 << 20].to_vec();
    std::fs::write(&truncated, head).unwrap();
    let missing = dir.path().join("missing.gguf");
    for model in [garbage, truncated, missing] {
        match worker.call(&load(model.clone())).await {
            Ok(LmResponse::Failed { id: None, failure }) => {
                assert_eq!(failure.kind, ErrorKind::Model, "{failure:?}");
                assert!(
                    failure.message.contains(&model.display().to_string()),
                    "the message names the file: {failure:?}"
                );
            }
            other => panic!("{}: {other:?}", model.display()),
        }
    }
    // Nothing is loaded after a failed Load.
    match generate_or_fail(&mut worker, request(1, chat("Be brief.", "Hi"), 4)).await {
        Err(LmResponse::Failed {
            id: Some(1),
            failure,
        }) => assert_eq!(failure.kind, ErrorKind::NotLoaded),
        other => panic!("{other:?}"),
    }
    // And a good model loads and works afterwards.
    assert!(matches!(
        worker.call(&load(smollm())).await.unwrap(),
        LmResponse::Loaded(_)
    ));
    let answer = generate(&mut worker, request(2, chat("Be brief.", "Hi"), 4)).await;
    assert!(answer.completion.generated_tokens > 0, "{answer:?}");
}

#[tokio::test]
async fn bad_requests_are_answered_not_fatal() {
    let mut worker = LmWorker::spawn(&worker_spec()).await.unwrap();
    let count = LmRequest::CountTokens {
        id: 1,
        prompt: chat("a", "b"),
    };
    match worker.call(&count).await.unwrap() {
        LmResponse::Failed {
            id: Some(1),
            failure,
        } => assert_eq!(failure.kind, ErrorKind::NotLoaded),
        other => panic!("{other:?}"),
    }
    worker
        .call(&LmRequest::Load {
            model: smollm(),
            n_ctx: 64,
            threads: 1,
        })
        .await
        .unwrap();
    let long = Prompt::Text {
        text: "word ".repeat(1000),
    };
    let zero_tokens = request(3, chat("a", "b"), 0);
    let mut empty_stop = request(4, chat("a", "b"), 4);
    empty_stop.stop = vec![String::new()];
    let mut bad_temperature = request(5, chat("a", "b"), 4);
    bad_temperature.temperature = -1.0;
    for bad in [
        request(2, long, 4),
        zero_tokens,
        empty_stop,
        bad_temperature,
        request(6, Prompt::Chat { messages: vec![] }, 4),
        request(7, Prompt::Text { text: "".into() }, 4),
    ] {
        let id = bad.id;
        match generate_or_fail(&mut worker, bad).await {
            Err(LmResponse::Failed {
                id: Some(of),
                failure,
            }) => {
                assert_eq!(of, id);
                assert_eq!(failure.kind, ErrorKind::BadRequest, "{failure:?}");
            }
            other => panic!("request {id}: {other:?}"),
        }
    }
    // A Cancel for nothing is ignored; the worker still answers.
    worker.send(&LmRequest::Cancel { id: 99 }).await.unwrap();
    let fine = generate(
        &mut worker,
        request(
            8,
            Prompt::Text {
                text: "Hello".into(),
            },
            4,
        ),
    )
    .await;
    assert_eq!(fine.completion.generated_tokens, 4, "{fine:?}");
    assert_eq!(fine.completion.stop, StopReason::MaxTokens);
}

fn accept_loaded(response: &LmResponse) -> Result<(), String> {
    match response {
        LmResponse::Loaded(_) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test]
async fn a_generation_is_cancelled_between_tokens_and_the_worker_goes_on() {
    let mut supervisor: Supervisor<LmRequest, LmResponse> =
        Supervisor::new(worker_spec(), Duration::from_secs(600));
    supervisor.set_setup(vec![load(qwen())]);
    let story = request(
        1,
        chat(
            "You are a storyteller.",
            "Tell me a very long story about a dragon.",
        ),
        400,
    );
    let (cancel_now, cancel_signal) = tokio::sync::oneshot::channel();
    let mut cancel_now = Some(cancel_now);
    let mut tokens = 0;
    let mut done = None;
    supervisor
        .stream(
            &LmRequest::Generate(story),
            accept_loaded,
            async move {
                let _ = cancel_signal.await;
                LmRequest::Cancel { id: 1 }
            },
            |response| match response {
                LmResponse::Token { .. } => {
                    tokens += 1;
                    if tokens == 5 {
                        let _ = cancel_now.take().map(|now| now.send(()));
                    }
                    Next::More
                }
                other => {
                    done = Some(other);
                    Next::Done
                }
            },
        )
        .await
        .unwrap()
        .unwrap();
    match done {
        Some(LmResponse::Done(c)) => {
            assert_eq!(c.stop, StopReason::Cancelled, "{c:?}");
            assert!(
                c.generated_tokens >= 5 && c.generated_tokens < 100,
                "stopped soon after the Cancel: {c:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The same worker answers the next request.
    let pid = supervisor.pid();
    let mut next = None;
    supervisor
        .stream(
            &LmRequest::Generate(request(2, chat("Be brief.", "Say yes."), 4)),
            accept_loaded,
            std::future::pending(),
            |response| match response {
                LmResponse::Token { .. } => Next::More,
                other => {
                    next = Some(other);
                    Next::Done
                }
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(next, Some(LmResponse::Done(_))), "{next:?}");
    assert_eq!(supervisor.pid(), pid);
}

#[tokio::test]
async fn a_cancel_sent_right_behind_its_request_stops_it_early() {
    let mut worker = loaded_worker(smollm()).await;
    let long = request(
        7,
        chat("You are a storyteller.", "Tell me a very long story."),
        500,
    );
    worker.send(&LmRequest::Generate(long)).await.unwrap();
    worker.send(&LmRequest::Cancel { id: 7 }).await.unwrap();
    let completion = loop {
        match worker.recv().await.unwrap() {
            LmResponse::Token { id: 7, .. } => continue,
            LmResponse::Done(c) => break c,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(completion.stop, StopReason::Cancelled, "{completion:?}");
    assert!(completion.generated_tokens < 100, "{completion:?}");
}
