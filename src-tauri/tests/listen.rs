//! `sotto listen` through a real audio server: a private PulseAudio daemon whose null sink's
//! monitor is the microphone; speech synthesised with espeak-ng is played into it with
//! `paplay`. The real `sotto` binary captures it, endpoints it (hands-free with the Silero VAD,
//! or push-to-talk from Enter presses on stdin), transcribes it with the real tiny.en model,
//! and keeps each utterance (WAV + transcript + timings) in the history.
//!
//! One test function: the audio server is shared, and the cases run one after the other.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::Fixture;
use serde_json::Value;
use sotto_e2e::pulse::{client_env, PulseServer};
use sotto_e2e::{speak_to, words, WAV_48K_STEREO};

#[test]
fn listening_through_a_real_audio_server() {
    let f = Fixture::new();
    let pulse_dir = tempfile::tempdir().unwrap();
    let server = PulseServer::start(pulse_dir.path()).unwrap_or_else(|why| {
        panic!("ENVIRONMENT: cannot start a private PulseAudio server, so listening cannot be tested: {why}")
    });
    let timer = f.file("timer.wav");
    speak_to(
        "set a timer for ten minutes",
        "en-us",
        150,
        &timer,
        WAV_48K_STEREO,
    );
    let browser = f.file("browser.wav");
    speak_to(
        "open the web browser",
        "en-us",
        150,
        &browser,
        WAV_48K_STEREO,
    );
    let pause = f.file("pause.wav");
    sox(&[
        "-n",
        "-r",
        "48000",
        "-c",
        "2",
        "-b",
        "16",
        path(&pause),
        "trim",
        "0",
        "1.6",
    ]);
    let both = f.file("both.wav");
    sox(&[
        path(&timer),
        path(&pause),
        path(&browser),
        path(&pause),
        path(&both),
    ]);

    hands_free_gives_one_transcript_per_command(&f, &server, pulse_dir.path(), &both);
    push_to_talk_follows_enter_presses(&f, &server, pulse_dir.path(), &timer);
    the_history_keeps_every_utterance(&f);
}

fn hands_free_gives_one_transcript_per_command(
    f: &Fixture,
    server: &PulseServer,
    pulse_dir: &Path,
    speech: &Path,
) {
    let mut run = Listening::start(f, pulse_dir, &["--count", "2"]);
    run.wait_for_device();
    let mut player = server.play(speech);
    assert!(player.wait().unwrap().success(), "paplay failed");
    let events = run.finish(Duration::from_secs(180));
    let finals: Vec<&Value> = events.iter().filter(|e| e["event"] == "final").collect();
    assert_eq!(finals.len(), 2, "two commands, two utterances: {events:#?}");
    let first = words(finals[0]["text"].as_str().unwrap());
    assert!(
        first.contains("timer") && (first.contains("ten minutes") || first.contains("10 minutes")),
        "{first:?}"
    );
    assert!(
        words(finals[1]["text"].as_str().unwrap()).contains("browser"),
        "{finals:?}"
    );
    // Partials are not asserted here: on a loaded machine the listener rightly skips them
    // while it catches up. The push-to-talk case waits for one.
    for event in &finals {
        // The hangover (700 ms by default) is the endpoint wait; decoding follows.
        let endpoint = event["endpoint_ms"].as_u64().unwrap();
        assert!((500..2500).contains(&endpoint), "{event}");
        assert!(event["transcribe_ms"].as_u64().is_some(), "{event}");
        let audio = Path::new(event["audio_path"].as_str().expect("recording kept"));
        let reader = hound::WavReader::open(audio).expect("a readable WAV");
        let seconds = reader.duration() as f64 / f64::from(reader.spec().sample_rate);
        assert!(
            (1.0..4.0).contains(&seconds),
            "the recording holds the command with pre-roll and tail: {seconds} s, {event}"
        );
    }
}

fn push_to_talk_follows_enter_presses(
    f: &Fixture,
    server: &PulseServer,
    pulse_dir: &Path,
    speech: &Path,
) {
    let mut run = Listening::start(f, pulse_dir, &["--push-to-talk", "--count", "1"]);
    run.wait_for_device();
    run.press_enter();
    let mut player = server.play(speech);
    assert!(player.wait().unwrap().success(), "paplay failed");
    // The key stays down until a partial transcript shows what was said (earlier ones may
    // hold only its beginning).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let partial = run.wait_for("partial", left);
        if words(partial["text"].as_str().unwrap()).contains("timer") {
            break;
        }
    }
    run.press_enter();
    let events = run.finish(Duration::from_secs(120));
    let finals: Vec<&Value> = events.iter().filter(|e| e["event"] == "final").collect();
    assert_eq!(finals.len(), 1, "{events:#?}");
    let text = words(finals[0]["text"].as_str().unwrap());
    assert!(text.contains("timer"), "{text:?}");
}

fn the_history_keeps_every_utterance(f: &Fixture) {
    let output = f.sotto(&["history", "list", "--json"]);
    assert!(output.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for row in &rows {
        assert_eq!(row["input"], "voice", "{row}");
        assert_eq!(row["status"], "transcribed", "{row}");
    }
    let recordings = std::fs::read_dir(f.home().join("data/recordings"))
        .expect("the recordings folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "wav"))
        })
        .count();
    assert_eq!(recordings, 3);
}

/// A running `sotto listen --json`, its stdout read line by line on a thread.
struct Listening {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl Listening {
    fn start(f: &Fixture, pulse_dir: &Path, extra: &[&str]) -> Listening {
        let mut args = vec!["listen", "--json", "--seconds", "120"];
        args.extend_from_slice(extra);
        let mut command = f.command(&args);
        for (key, value) in client_env(pulse_dir) {
            command.env(key, value);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sotto runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Listening {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the microphone to be open (the first run also imports the model).
    fn wait_for_device(&mut self) {
        self.wait_for("device_ready", Duration::from_secs(120));
        // A moment of silence before speaking, as a real session has.
        std::thread::sleep(Duration::from_millis(1000));
    }

    /// Waits for the next event named `name`, returning it.
    fn wait_for(&mut self, name: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(event) => {
                    let found = event["event"] == name;
                    self.seen.push(event.clone());
                    if found {
                        return event;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("sotto listen exited early ({status}): {}", self.stderr());
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("sotto listen closed stdout: {}", self.stderr())
                }
            }
        }
        panic!("no {name} event within {within:?}: {:?}", self.seen);
    }

    fn press_enter(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for `sotto listen` to exit by itself (its --count), returning every event.
    fn finish(mut self, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.seen.extend(self.lines.try_iter());
                let stderr = self.stderr();
                assert!(status.success(), "sotto listen failed ({status}): {stderr}");
                assert!(!stderr.contains("panicked"), "{stderr}");
                return self.seen;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                self.seen.extend(self.lines.try_iter());
                let stderr = self.stderr();
                panic!(
                    "sotto listen did not finish within {within:?}; events: {:#?}\nstderr: {stderr}",
                    self.seen
                );
            }
            self.seen.extend(self.lines.try_iter());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        text
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn sox(args: &[&str]) {
    let status = std::process::Command::new("sox")
        .args(args)
        .status()
        .expect("sox is installed (.ci/setup installs it)");
    assert!(status.success(), "sox {args:?} failed");
}
