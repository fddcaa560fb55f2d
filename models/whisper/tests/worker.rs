//! `sotto-asr` as the app runs it: a real process, real models, real (synthetic) speech,
//! through the protocol crate's client and supervisor.

mod support;

use std::time::Duration;

use sotto_protocol::asr::{AsrRequest, AsrResponse, AudioContext, DecodeOptions, Pcm, Transcript};
use sotto_protocol::client::{Supervisor, Worker, WorkerError};
use sotto_protocol::ErrorKind;
use support::*;

type AsrWorker = Worker<AsrRequest, AsrResponse>;

fn load(threads: u32) -> AsrRequest {
    AsrRequest::Load {
        model: tiny_en().to_path_buf(),
        vad_model: Some(silero()),
        threads,
    }
}

async fn loaded_worker() -> AsrWorker {
    let mut worker = AsrWorker::spawn(&worker_spec()).await.unwrap();
    assert_eq!(worker.hello().worker, "sotto-asr");
    match worker.call(&load(2)).await.unwrap() {
        AsrResponse::Loaded { multilingual, .. } => {
            assert!(!multilingual, "tiny.en is English-only")
        }
        other => panic!("load failed: {other:?}"),
    }
    worker
}

async fn transcribe(worker: &mut AsrWorker, audio: Pcm, audio_context: AudioContext) -> Transcript {
    let options = DecodeOptions {
        audio_context,
        ..DecodeOptions::default()
    };
    match worker
        .call(&AsrRequest::Transcribe {
            id: 7,
            audio,
            options,
        })
        .await
        .unwrap()
    {
        AsrResponse::Transcript(t) => t,
        other => panic!("transcription failed: {other:?}"),
    }
}

#[tokio::test]
async fn a_spoken_command_is_transcribed_with_scaled_and_full_context() {
    let mut worker = loaded_worker().await;
    let audio = speak("set a timer for ten minutes", "en-us", 150);
    let scaled = transcribe(&mut worker, audio.clone(), AudioContext::Scaled).await;
    let full = transcribe(&mut worker, audio, AudioContext::Full).await;
    for t in [&scaled, &full] {
        let w = words(&t.text);
        assert!(
            w.contains("timer") && (w.contains("ten minutes") || w.contains("10 minutes")),
            "{t:?}"
        );
        assert_eq!(t.id, 7);
    }
    assert!(scaled.audio_ctx < 1500 && !scaled.fell_back, "{scaled:?}");
    assert_eq!(full.audio_ctx, 1500);
    assert!(
        scaled.audio_ms > 1000 && scaled.audio_ms < 5000,
        "{scaled:?}"
    );
}

#[tokio::test]
async fn bad_requests_are_answered_and_the_worker_goes_on() {
    let mut worker = AsrWorker::spawn(&worker_spec()).await.unwrap();
    // Before Load.
    let audio = Pcm {
        sample_rate: 16_000,
        samples: silence(500),
    };
    let options = DecodeOptions::default();
    match worker
        .call(&AsrRequest::Transcribe {
            id: 1,
            audio: audio.clone(),
            options: options.clone(),
        })
        .await
        .unwrap()
    {
        AsrResponse::Failed {
            id: Some(1),
            failure,
        } => assert_eq!(failure.kind, ErrorKind::NotLoaded),
        other => panic!("{other:?}"),
    }
    // A model that does not exist, and one that is not a model.
    let missing = AsrRequest::Load {
        model: "/nonexistent/model.bin".into(),
        vad_model: None,
        threads: 1,
    };
    match worker.call(&missing).await.unwrap() {
        AsrResponse::Failed { failure, .. } => {
            assert_eq!(failure.kind, ErrorKind::Model);
            assert!(
                failure.message.contains("/nonexistent/model.bin"),
                "{failure:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(
        &garbage,
        b"this is not a whisper model at all, just some text",
    )
    .unwrap();
    let corrupt = AsrRequest::Load {
        model: garbage,
        vad_model: None,
        threads: 1,
    };
    match worker.call(&corrupt).await {
        Ok(AsrResponse::Failed { failure, .. }) => assert_eq!(failure.kind, ErrorKind::Model),
        // whisper.cpp may also abort on some garbage; then the crash is the clear error.
        Err(WorkerError::Crashed { .. }) => return,
        other => panic!("{other:?}"),
    }
    // Wrong sample rate and empty audio, once a model is loaded.
    assert!(matches!(
        worker.call(&load(1)).await.unwrap(),
        AsrResponse::Loaded { .. }
    ));
    for audio in [
        Pcm {
            sample_rate: 8_000,
            samples: silence(500),
        },
        Pcm {
            sample_rate: 16_000,
            samples: Vec::new(),
        },
    ] {
        match worker
            .call(&AsrRequest::Transcribe {
                id: 2,
                audio,
                options: options.clone(),
            })
            .await
            .unwrap()
        {
            AsrResponse::Failed { failure, .. } => {
                assert_eq!(failure.kind, ErrorKind::Audio, "{failure:?}")
            }
            other => panic!("{other:?}"),
        }
    }
    // Still working afterwards.
    let t = transcribe(
        &mut worker,
        speak("open the browser", "en-us", 150),
        AudioContext::Scaled,
    )
    .await;
    assert!(words(&t.text).contains("browser"), "{t:?}");
}

#[tokio::test]
async fn speech_is_found_between_silences() {
    let mut worker = loaded_worker().await;
    let spoken = speak("please call my sister tonight", "en-us", 150);
    let speech_ms = spoken.samples.len() as u64 / 16;
    let mut samples = silence(1500);
    samples.extend_from_slice(&spoken.samples);
    samples.extend(silence(1500));
    match worker
        .call(&AsrRequest::DetectSpeech {
            id: 3,
            audio: Pcm {
                sample_rate: 16_000,
                samples,
            },
        })
        .await
        .unwrap()
    {
        AsrResponse::Speech { id: 3, segments } => {
            assert!(!segments.is_empty(), "no speech found");
            let first = segments.first().unwrap();
            let last = segments.last().unwrap();
            assert!((1200..=1800).contains(&first.start_ms), "{segments:?}");
            let end = 1500 + speech_ms;
            assert!(
                last.end_ms + 400 >= end && last.end_ms <= end + 600,
                "{segments:?} (speech ends at {end})"
            );
        }
        other => panic!("{other:?}"),
    }
}

fn accept_loaded(response: &AsrResponse) -> Result<(), String> {
    match response {
        AsrResponse::Loaded { .. } => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test]
async fn a_worker_killed_mid_utterance_is_restarted_and_the_next_one_works() {
    let mut supervisor: Supervisor<AsrRequest, AsrResponse> =
        Supervisor::new(worker_spec(), Duration::from_secs(600));
    supervisor.set_setup(vec![load(2)]);
    let audio = speak("what is the weather like tomorrow", "en-us", 150);
    let request = |audio: Pcm| AsrRequest::Transcribe {
        id: 9,
        audio,
        options: DecodeOptions {
            audio_context: AudioContext::Full,
            ..DecodeOptions::default()
        },
    };
    // Warm up, so the worker exists and we know its pid.
    supervisor
        .call(&request(audio.clone()), accept_loaded)
        .await
        .unwrap()
        .unwrap();
    let pid = supervisor.pid().unwrap();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
    });
    let long = Pcm {
        sample_rate: 16_000,
        samples: audio.samples.repeat(4),
    };
    let crashed = supervisor.call(&request(long), accept_loaded).await;
    killer.await.unwrap();
    match crashed {
        Err(WorkerError::Crashed { status, .. }) => {
            assert!(status.contains("9") || status.contains("KILL"), "{status}")
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    assert!(!supervisor.is_running());
    let next = supervisor
        .call(&request(audio), accept_loaded)
        .await
        .unwrap()
        .unwrap();
    match next {
        AsrResponse::Transcript(t) => assert!(words(&t.text).contains("weather"), "{t:?}"),
        other => panic!("{other:?}"),
    }
    assert_ne!(supervisor.pid(), Some(pid), "a new process");
}

#[tokio::test]
async fn an_idle_worker_is_stopped_and_comes_back_on_demand() {
    let mut supervisor: Supervisor<AsrRequest, AsrResponse> =
        Supervisor::new(worker_spec(), Duration::from_millis(1));
    supervisor.set_setup(vec![load(1)]);
    let audio = speak("stop the music", "en-us", 150);
    let request = AsrRequest::Transcribe {
        id: 1,
        audio,
        options: DecodeOptions::default(),
    };
    supervisor
        .call(&request, accept_loaded)
        .await
        .unwrap()
        .unwrap();
    let pid = supervisor.pid().unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(supervisor.stop_if_idle());
    assert!(!supervisor.is_running());
    // The process is gone, its memory returned.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "worker {pid} still running"
    );
    match supervisor
        .call(&request, accept_loaded)
        .await
        .unwrap()
        .unwrap()
    {
        AsrResponse::Transcript(t) => assert!(words(&t.text).contains("music"), "{t:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_setup_that_fails_is_reported_not_retried_forever() {
    let mut supervisor: Supervisor<AsrRequest, AsrResponse> =
        Supervisor::new(worker_spec(), Duration::from_secs(60));
    supervisor.set_setup(vec![AsrRequest::Load {
        model: "/missing.bin".into(),
        vad_model: None,
        threads: 1,
    }]);
    let request = AsrRequest::Transcribe {
        id: 1,
        audio: Pcm {
            sample_rate: 16_000,
            samples: silence(100),
        },
        options: DecodeOptions::default(),
    };
    let rejected = supervisor.call(&request, accept_loaded).await.unwrap();
    let message = rejected.unwrap_err();
    assert!(message.contains("/missing.bin"), "{message}");
}

/// A worker whose app died (killed: no chance to close the worker's stdin) exits by itself.
#[test]
fn an_orphaned_worker_exits() {
    use std::io::BufRead;
    // The "app" is a shell that starts the worker and waits. The worker's stdin is a pipe this
    // test keeps open, so only the parent check can end it once the shell is killed.
    let mut app = std::process::Command::new("sh")
        .arg("-c")
        // A background command's stdin is /dev/null unless it comes from a saved descriptor.
        .arg("exec 3<&0; \"$0\" <&3 3<&- >/dev/null 2>&1 & echo $!; wait")
        .arg(env!("CARGO_BIN_EXE_sotto-asr"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(app.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line.trim().parse().expect("the worker's pid");
    let _held_open = app.stdin.take();
    std::thread::sleep(Duration::from_millis(300));
    app.kill().unwrap();
    app.wait().unwrap();
    let stat = std::path::PathBuf::from(format!("/proc/{pid}/stat"));
    // A zombie (about to be reaped by init) counts as gone.
    let alive = || {
        std::fs::read_to_string(&stat).is_ok_and(|s| {
            s.split_whitespace()
                .nth(2)
                .is_some_and(|state| state != "Z")
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(), "the orphaned worker {pid} is still running");
}
