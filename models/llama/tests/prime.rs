//! `Prime`: the planner's stable prompt start put in the KV cache ahead of a request, and kept
//! in a file for the next worker process. Real models, real processes.

mod support;

use std::path::Path;

use sotto_protocol::lm::{ChatMessage, LmRequest, LmResponse, Prompt};
use sotto_protocol::ErrorKind;
use support::*;

/// A planner-like system prompt: tool signatures (about 150 tokens with SmolLM2; the tests
/// share two busy cores).
fn system_prompt() -> String {
    let mut prompt = String::from(
        "You plan tool calls for a desktop assistant. Write one numbered call per line, \
         then join().\nTools:\n",
    );
    for n in 0..3 {
        prompt.push_str(&format!(
            "- tool_{n}(city: string, day: string, count: integer). Does task number {n} for \
             the user, in a city, on a day, a number of times.\n"
        ));
    }
    prompt
}

/// The stable start: system prompt and one worked example.
fn stable() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system(system_prompt()),
        ChatMessage::user("Do task 3 in Paris tomorrow, twice."),
        ChatMessage::assistant("1. tool_3(city=\"Paris\", day=\"tomorrow\", count=2)\njoin()"),
    ]
}

/// The stable start followed by a request.
fn full(user: &str) -> Prompt {
    let mut messages = stable();
    messages.push(ChatMessage::user(user));
    Prompt::Chat { messages }
}

fn stable_prompt() -> Prompt {
    Prompt::Chat { messages: stable() }
}

const REQUEST: &str = "Do task 7 in Rome today, once.";

/// The greedy answer to `full(REQUEST)` from a fresh worker, without any prime.
async fn unprimed_answer(model: std::path::PathBuf) -> String {
    let mut worker = loaded_worker(model).await;
    let answer = generate(&mut worker, request(1, full(REQUEST), 12)).await;
    assert_eq!(answer.completion.cached_prompt_tokens, 0);
    answer.completion.text
}

#[tokio::test]
async fn a_primed_prefix_is_reused_and_the_answer_is_unchanged() {
    let expected = unprimed_answer(smollm()).await;
    let mut worker = loaded_worker(smollm()).await;
    let primed = prime(&mut worker, 1, stable_prompt(), None).await;
    assert!(!primed.from_file);
    assert!(primed.tokens > 100, "{primed:?}");
    let answer = generate(&mut worker, request(2, full(REQUEST), 12)).await;
    let c = &answer.completion;
    // The chat rendered without the assistant's opening is a token prefix of the longer one.
    assert_eq!(c.cached_prompt_tokens, primed.tokens, "{c:?}");
    assert!(c.prompt_tokens > primed.tokens + 5, "{c:?}");
    assert_eq!(c.text, expected, "priming changes no answer");

    // Priming again after a generation keeps all of it: nothing is evaluated.
    let again = prime(&mut worker, 3, stable_prompt(), None).await;
    assert_eq!(again.tokens, primed.tokens);
    let answer = generate(&mut worker, request(4, full(REQUEST), 12)).await;
    assert_eq!(answer.completion.cached_prompt_tokens, primed.tokens);
    assert_eq!(answer.completion.text, expected);

    // A generation of exactly the primed text evaluates its last token again (for its
    // logits) and answers as it would without the prime.
    let text = Prompt::Text {
        text: "The capital of France is".into(),
    };
    let unprimed = generate(&mut worker, request(5, text.clone(), 4)).await;
    prime(&mut worker, 6, Prompt::Text { text: "x".into() }, None).await;
    let primed_text = prime(&mut worker, 7, text.clone(), None).await;
    let same = generate(&mut worker, request(8, text, 4)).await;
    assert_eq!(same.completion.cached_prompt_tokens + 1, primed_text.tokens);
    assert_eq!(same.completion.text, unprimed.completion.text);
}

#[tokio::test]
async fn the_planner_models_template_renders_a_primed_chat_as_a_token_prefix() {
    let expected = unprimed_answer(qwen()).await;
    let mut worker = loaded_worker(qwen()).await;
    let primed = prime(&mut worker, 1, stable_prompt(), None).await;
    let answer = generate(&mut worker, request(2, full(REQUEST), 12)).await;
    assert_eq!(
        answer.completion.cached_prompt_tokens, primed.tokens,
        "{answer:?}"
    );
    assert_eq!(answer.completion.text, expected);
}

/// The files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_new_worker_loads_the_primed_prefix_from_its_file() {
    let expected = unprimed_answer(smollm()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smollm.state");

    let mut first = loaded_worker(smollm()).await;
    let evaluated = prime(&mut first, 1, stable_prompt(), Some(&file)).await;
    assert!(!evaluated.from_file, "{evaluated:?}");
    assert_eq!(files_in(dir.path()), ["smollm.state", "smollm.state.meta"]);
    first.send(&LmRequest::Shutdown).await.unwrap();

    let mut second = loaded_worker(smollm()).await;
    let loaded = prime(&mut second, 1, stable_prompt(), Some(&file)).await;
    println!(
        "prime of {} tokens: evaluated in {} ms, loaded from the file in {} ms",
        evaluated.tokens, evaluated.ms, loaded.ms
    );
    assert!(loaded.from_file, "{loaded:?}");
    assert_eq!(loaded.tokens, evaluated.tokens);
    let answer = generate(&mut second, request(2, full(REQUEST), 12)).await;
    assert_eq!(answer.completion.cached_prompt_tokens, loaded.tokens);
    assert_eq!(answer.completion.text, expected);

    // Priming what the cache already holds neither loads nor rewrites the file.
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    let again = prime(&mut second, 3, stable_prompt(), Some(&file)).await;
    assert!(!again.from_file);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        modified
    );
}

/// The stable start ending with a dated note, as the planner's ends with today's date.
fn dated(day: &str) -> Vec<ChatMessage> {
    let mut messages = stable();
    messages.push(ChatMessage::system(format!("Today is {day}.")));
    messages
}

#[tokio::test]
async fn a_prompt_changed_at_its_end_takes_the_common_start_from_the_file() {
    let tomorrow = |user: Option<&str>| {
        let mut messages = dated("Sunday, 2026-11-29");
        messages.extend(user.map(ChatMessage::user));
        Prompt::Chat { messages }
    };
    let yesterday = || Prompt::Chat {
        messages: dated("Saturday, 2026-11-28"),
    };
    // The same work with the common start kept in memory instead of in the file: yesterday's
    // prompt, then only the new end. (Not one evaluation of the whole prompt: how ggml splits
    // the work into batches moves the last bits of the numbers, and with AVX-512 kernels that
    // once changed SmolLM's greedy answer, "task_7" for "tool_7".)
    let expected = {
        let mut worker = loaded_worker(smollm()).await;
        prime(&mut worker, 1, yesterday(), None).await;
        prime(&mut worker, 2, tomorrow(None), None).await;
        generate(&mut worker, request(3, tomorrow(Some(REQUEST)), 12))
            .await
            .completion
            .text
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smollm.state");
    let mut today = loaded_worker(smollm()).await;
    prime(&mut today, 1, yesterday(), Some(&file)).await;
    today.send(&LmRequest::Shutdown).await.unwrap();

    // The next day, a new worker: only the date is evaluated; the rest comes from the file.
    let mut next_day = loaded_worker(smollm()).await;
    let primed = prime(&mut next_day, 1, tomorrow(None), Some(&file)).await;
    assert!(!primed.from_file, "not all of it: {primed:?}");
    assert!(
        primed.evaluated > 0 && primed.evaluated * 5 < primed.tokens,
        "only the changed end is evaluated: {primed:?}"
    );
    let answer = generate(&mut next_day, request(2, tomorrow(Some(REQUEST)), 12)).await;
    assert_eq!(answer.completion.cached_prompt_tokens, primed.tokens);
    assert_eq!(
        answer.completion.text, expected,
        "a partial load changes no answer"
    );

    // The file was rewritten for the new prompt: a third worker loads all of it.
    next_day.send(&LmRequest::Shutdown).await.unwrap();
    let mut later = loaded_worker(smollm()).await;
    let reloaded = prime(&mut later, 1, tomorrow(None), Some(&file)).await;
    assert!(reloaded.from_file, "{reloaded:?}");
    assert_eq!(reloaded.evaluated, 0);
    assert_eq!(files_in(dir.path()), ["smollm.state", "smollm.state.meta"]);
}

/// Does something to the cache file.
type Damage<'a> = Box<dyn Fn() + 'a>;

#[tokio::test]
async fn a_damaged_or_mismatched_file_is_evaluated_and_rewritten() {
    let expected = unprimed_answer(smollm()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smollm.state");
    let mut worker = loaded_worker(smollm()).await;
    prime(&mut worker, 1, stable_prompt(), Some(&file)).await;
    let good = std::fs::read(&file).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let other_prompt = || {
        let mut messages = stable();
        messages[1] = ChatMessage::user("Do task 4 in Oslo tomorrow, twice.");
        Prompt::Chat { messages }
    };
    let damages: [(&str, Damage); 5] = [
        (
            "garbage",
            Box::new(|| std::fs::write(&file, b"\x00garbage\xff".repeat(1000)).unwrap()),
        ),
        (
            "truncated",
            Box::new(|| std::fs::write(&file, &good[..good.len() - 4096]).unwrap()),
        ),
        (
            "one byte changed",
            Box::new(|| std::fs::write(&file, &flipped).unwrap()),
        ),
        (
            "no sidecar",
            Box::new(|| {
                std::fs::write(&file, &good).unwrap();
                std::fs::remove_file(dir.path().join("smollm.state.meta")).unwrap();
            }),
        ),
        // Written for another prompt, by another worker.
        ("another prompt", Box::new(|| {})),
    ];
    let mut id = 10;
    for (damage, apply) in damages {
        if damage == "another prompt" {
            let mut other = loaded_worker(smollm()).await;
            prime(&mut other, 1, other_prompt(), Some(&file)).await;
        }
        apply();
        // Something else in the cache, so that the file would be needed.
        id += 1;
        prime(&mut worker, id, Prompt::Text { text: "x".into() }, None).await;
        id += 1;
        let primed = prime(&mut worker, id, stable_prompt(), Some(&file)).await;
        assert!(!primed.from_file, "{damage}: {primed:?}");
        id += 1;
        let answer = generate(&mut worker, request(id, full(REQUEST), 12)).await;
        assert_eq!(answer.completion.text, expected, "{damage}");
        assert_eq!(answer.completion.cached_prompt_tokens, primed.tokens);
        // Rewritten: the next load uses it.
        id += 1;
        prime(&mut worker, id, Prompt::Text { text: "x".into() }, None).await;
        id += 1;
        let reloaded = prime(&mut worker, id, stable_prompt(), Some(&file)).await;
        assert!(reloaded.from_file, "{damage}: {reloaded:?}");
        assert_eq!(
            files_in(dir.path()),
            ["smollm.state", "smollm.state.meta"],
            "{damage}: no temporary files are left"
        );
    }
    let answer = generate(&mut worker, request(99, full(REQUEST), 12)).await;
    assert_eq!(answer.completion.text, expected);
}

#[tokio::test]
async fn a_folder_that_cannot_be_written_is_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("file");
    std::fs::write(&not_a_folder, b"").unwrap();
    let mut worker = loaded_worker(smollm()).await;
    for (id, file) in [
        (1, dir.path().join("missing").join("smollm.state")),
        (2, not_a_folder.join("smollm.state")),
    ] {
        prime(&mut worker, 100, Prompt::Text { text: "x".into() }, None).await;
        let primed = prime(&mut worker, id, stable_prompt(), Some(&file)).await;
        assert!(!primed.from_file, "{primed:?}");
        assert!(!file.exists());
    }
    assert_eq!(files_in(dir.path()), ["file"]);
    let answer = generate(&mut worker, request(3, full(REQUEST), 4)).await;
    assert!(answer.completion.cached_prompt_tokens > 100, "{answer:?}");
}

#[tokio::test]
async fn bad_primes_are_answered_not_fatal() {
    let mut worker = LmWorker::spawn(&worker_spec()).await.unwrap();
    match prime_or_fail(&mut worker, 1, stable_prompt(), None).await {
        Err(LmResponse::Failed {
            id: Some(1),
            failure,
        }) => assert_eq!(failure.kind, ErrorKind::NotLoaded),
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
    for (id, prompt) in [
        (2, Prompt::Chat { messages: vec![] }),
        (3, Prompt::Text { text: "".into() }),
        (
            4,
            Prompt::Text {
                text: "word ".repeat(1000), // longer than the context
            },
        ),
    ] {
        match prime_or_fail(&mut worker, id, prompt, None).await {
            Err(LmResponse::Failed {
                id: Some(of),
                failure,
            }) => {
                assert_eq!(of, id);
                assert_eq!(failure.kind, ErrorKind::BadRequest, "{failure:?}");
            }
            other => panic!("prime {id}: {other:?}"),
        }
    }
    let fine = prime(&mut worker, 5, chat("Be brief.", "Hi"), None).await;
    assert!(fine.tokens > 3, "{fine:?}");
}

/// An interruptible prime (speculative work: a partial transcript while the person still
/// speaks) stops at a `Cancel` between two small chunks, keeps the start it evaluated, and a
/// generation after it answers as it would have without any prime.
#[tokio::test]
async fn an_interruptible_prime_stops_at_a_cancel_and_keeps_its_start() {
    let expected = unprimed_answer(smollm()).await;
    let mut worker = loaded_worker(smollm()).await;
    let prime = LmRequest::Prime {
        id: 1,
        prompt: stable_prompt(),
        cache_file: None,
        interruptible: true,
    };
    // Sent together: the cancel is in the worker's inbox within a chunk or two.
    worker.send(&prime).await.unwrap();
    worker.send(&LmRequest::Cancel { id: 1 }).await.unwrap();
    let (tokens, evaluated, cancelled) = match worker.recv().await.unwrap() {
        LmResponse::Primed {
            id: 1,
            tokens,
            evaluated,
            cancelled,
            from_file: false,
            ..
        } => (tokens, evaluated, cancelled),
        other => panic!("{other:?}"),
    };
    assert!(cancelled, "a cancel waiting in the inbox stops it");
    assert!(tokens > 100, "{tokens}");
    assert!(
        evaluated < tokens && evaluated <= 16,
        "stopped within two small chunks: {evaluated} of {tokens}"
    );
    let answer = generate(&mut worker, request(2, full(REQUEST), 12)).await;
    assert_eq!(
        answer.completion.cached_prompt_tokens, evaluated,
        "the evaluated start is kept: {:?}",
        answer.completion
    );
    assert_eq!(answer.completion.text, expected, "and changes no answer");

    // Uninterrupted, it primes all of it; a late cancel (after its answer) is ignored.
    let whole = LmRequest::Prime {
        id: 3,
        prompt: stable_prompt(),
        cache_file: None,
        interruptible: true,
    };
    match worker.call(&whole).await.unwrap() {
        LmResponse::Primed {
            id: 3,
            tokens: all,
            cancelled: false,
            ..
        } => assert_eq!(all, tokens),
        other => panic!("{other:?}"),
    }
    worker.send(&LmRequest::Cancel { id: 3 }).await.unwrap();
    let answer = generate(&mut worker, request(4, full(REQUEST), 12)).await;
    assert_eq!(answer.completion.cached_prompt_tokens, tokens);
    assert_eq!(answer.completion.text, expected);
}
