//! Capture through a real audio server: a private PulseAudio daemon whose null sink's
//! monitor is the default source, reached by cpal's ALSA backend through the pulse plugin.
//! A tone played into the server with `paplay` must come out of [`Capture`] as 16 kHz audio
//! at the right time, pitch and level; a stalled reader must cause counted drops, not a stuck
//! stream; a crashed server must be reported and capture must resume when it is back.
//!
//! One test function on purpose: routing ALSA and libpulse to the private server changes the
//! process environment, which is only sound while no other test thread runs.

mod support;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use sotto_audio::{list_input_devices, Capture, CaptureConfig, CaptureEvent, Level, TARGET_RATE};
use support::pulse::{route_this_process_to, PulseServer};
use support::{frequency, pearson, rms, sox, speech_file};

const RATE: usize = TARGET_RATE as usize;
/// 20 ms analysis windows.
const WINDOW: usize = RATE / 50;

#[test]
fn capture_through_a_real_pulseaudio_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    route_this_process_to(dir.path());
    let server = PulseServer::start(dir.path()).unwrap_or_else(|why| {
        panic!("ENVIRONMENT: cannot start a private PulseAudio server, so the capture path cannot be tested: {why}")
    });
    let tone = dir.path().join("tone.wav");
    let tone_str = tone.to_str().expect("utf-8 path");
    sox(&[
        "-n", "-r", "48000", "-c", "2", "-b", "16", tone_str, "synth", "1.0", "sine", "440", "vol",
        "0.5",
    ]);

    the_server_is_the_default_input();
    a_played_tone_is_captured_at_the_right_time_pitch_and_level(&server, &tone);
    played_speech_is_captured_with_its_envelope(&server, dir.path());
    a_stalled_reader_causes_counted_drops_and_capture_recovers();
    restart_reopens_the_device();
    let server =
        a_crashed_server_is_reported_and_capture_resumes_when_it_returns(server, dir.path(), &tone);
    drop(server);
}

fn the_server_is_the_default_input() {
    let devices = list_input_devices().expect("ALSA lists devices");
    let default = devices
        .iter()
        .find(|d| d.is_default)
        .unwrap_or_else(|| panic!("no default input among {devices:?}"));
    assert_eq!(default.id, "default", "{devices:?}");
    assert!(
        devices.iter().any(|d| d.id == "pulse"),
        "the pulse plugin's device is listed: {devices:?}"
    );
}

fn a_played_tone_is_captured_at_the_right_time_pitch_and_level(
    server: &PulseServer,
    tone: &std::path::Path,
) {
    let (capture, events) = Capture::start(CaptureConfig::default())
        .unwrap_or_else(|e| panic!("capture starts: {e}\nserver log:\n{}", server.log()));
    let format = expect_started(&events);
    println!("capturing from the server as {format}");

    // 0.6 s of silence, then the 1 s tone, then silence until 3 s.
    let mut captured = Capture16k::default();
    captured.collect_until(&events, RATE * 6 / 10);
    let played_at = captured.samples.len();
    let mut player = server.play(tone);
    captured.collect_until(&events, RATE * 3);
    assert!(
        player.wait().expect("paplay ran").success(),
        "paplay failed"
    );
    drop(capture);
    assert_eq!(
        captured.dropped, 0,
        "nothing may be dropped while the reader keeps up"
    );

    let loud = captured.loud_windows(0.05);
    let (first, last) = (
        *loud.first().expect("the tone was captured"),
        *loud.last().unwrap_or(&0),
    );
    let span_ms = (last - first + 1) * 20;
    let latency_ms = (first * WINDOW).saturating_sub(played_at) * 1000 / RATE;
    let tone = &captured.samples[first * WINDOW..(last + 1) * WINDOW];
    let steady = &tone[tone.len() / 10..tone.len() * 9 / 10];
    let floor = rms(&captured.samples[..played_at]);
    let hz = frequency(steady, TARGET_RATE);
    println!(
        "tone: {span_ms} ms long, {latency_ms} ms after paplay started, {hz:.2} Hz, RMS {:.4} over a floor of {floor:.6}, {} loud windows",
        rms(steady),
        loud.len()
    );
    assert!(
        first * WINDOW + WINDOW >= played_at,
        "sound before paplay started: window {first}, played at sample {played_at}"
    );
    assert!(
        latency_ms < 700,
        "the tone arrived {latency_ms} ms after paplay started"
    );
    assert!(
        (900..=1_100).contains(&span_ms),
        "the 1 s tone lasted {span_ms} ms"
    );
    assert_eq!(loud.len(), last - first + 1, "the tone has holes: {loud:?}");
    assert!((hz - 440.0).abs() < 2.0, "captured {hz} Hz instead of 440");
    assert!(floor < 1e-3, "the silence before the tone has RMS {floor}");
    assert!(
        rms(steady) > 100.0 * floor.max(1e-6),
        "tone RMS {} is not well above the floor {floor}",
        rms(steady)
    );
    // Played at 0.5 (RMS 0.354) at 100 % volume: the level survives the trip.
    assert!(
        (rms(steady) - 0.3536).abs() < 0.02,
        "tone RMS {}",
        rms(steady)
    );
    // The level meter in the events agrees with the samples.
    let metered = captured
        .levels
        .iter()
        .map(|l| l.peak)
        .fold(0.0f32, f32::max);
    let measured = captured.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(
        (metered - measured).abs() < 1e-6,
        "meter peak {metered}, samples peak {measured}"
    );
}

fn played_speech_is_captured_with_its_envelope(server: &PulseServer, dir: &std::path::Path) {
    let speech = speech_file(dir, "speech.wav", "Set a timer for five minutes.");
    let reference =
        sotto_audio::to_16k_mono(&sotto_audio::decode_file(&speech).expect("espeak WAV"));
    let (capture, events) = Capture::start(CaptureConfig::default()).expect("capture starts");
    expect_started(&events);
    let mut captured = Capture16k::default();
    captured.collect_until(&events, RATE / 2);
    let mut player = server.play(&speech);
    captured.collect_until(&events, RATE / 2 + reference.len() + RATE);
    assert!(player.wait().expect("paplay ran").success());
    drop(capture);
    let (lag, best) = best_alignment(&reference, &captured.samples);
    println!(
        "speech: waveform correlation {best:.3} with what espeak-ng wrote, found {lag} samples in"
    );
    assert!(
        best > 0.9,
        "the captured speech does not match what was played (correlation {best:.3})"
    );
}

fn a_stalled_reader_causes_counted_drops_and_capture_recovers() {
    let config = CaptureConfig {
        queue_ms: 100,
        ..CaptureConfig::default()
    };
    let (capture, events) = Capture::start(config).expect("capture starts");
    expect_started(&events);
    // Read nothing for 3 s: far more than the 100 ms queue plus the event buffer hold.
    std::thread::sleep(Duration::from_secs(3));
    let mut dropped = None;
    let mut after = 0usize;
    let deadline = Instant::now() + Duration::from_secs(5);
    while after < RATE / 2 && Instant::now() < deadline {
        match events.recv_timeout(Duration::from_secs(1)) {
            Ok(CaptureEvent::Dropped { chunks, samples }) => dropped = Some((chunks, samples)),
            Ok(CaptureEvent::Audio(chunk)) if dropped.is_some() => after += chunk.samples.len(),
            Ok(CaptureEvent::Audio(_)) => {}
            Ok(other) => panic!("unexpected during the stall: {other:?}"),
            Err(e) => panic!("capture went quiet after the stall: {e}"),
        }
    }
    drop(capture);
    let (chunks, samples) = dropped.expect("the stall was reported as dropped chunks");
    println!("stall: {chunks} chunks ({samples} samples) dropped and counted; capture went on");
    assert!(chunks > 0 && samples > 0);
    assert!(after >= RATE / 2, "audio kept flowing after the stall");
}

fn restart_reopens_the_device() {
    let (capture, events) = Capture::start(CaptureConfig::default()).expect("capture starts");
    expect_started(&events);
    Capture16k::default().collect_until(&events, RATE / 4);
    capture.restart();
    // Audio already queued may still arrive; then the stream is reopened.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(CaptureEvent::Audio(_)) => {}
            Ok(CaptureEvent::Started { .. }) => break,
            other => panic!("expected the stream to reopen, got {other:?}"),
        }
    }
    Capture16k::default().collect_until(&events, RATE / 4);
    capture.stop();
    // Stopping closes the channel once the queued events are read.
    let rest = events
        .iter()
        .filter(|e| !matches!(e, CaptureEvent::Audio(_)))
        .count();
    assert_eq!(rest, 0, "only audio may follow until the channel closes");
}

fn a_crashed_server_is_reported_and_capture_resumes_when_it_returns(
    server: PulseServer,
    dir: &std::path::Path,
    tone: &std::path::Path,
) -> PulseServer {
    let config = CaptureConfig {
        reconnect_every: Some(Duration::from_millis(300)),
        stall_timeout: Duration::from_millis(1_500),
        ..CaptureConfig::default()
    };
    let (capture, events) = Capture::start(config).expect("capture starts");
    expect_started(&events);
    // Asked while the server is up: ALSA describes its default device differently without it.
    let name = default_input_name();
    Capture16k::default().collect_until(&events, RATE / 4);

    let crashed_at = Instant::now();
    server.crash();
    let message = loop {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(CaptureEvent::DeviceLost { message, .. }) => break message,
            Ok(CaptureEvent::Audio(_)) => {}
            Ok(other) => panic!("expected DeviceLost, got {other:?}"),
            Err(e) => panic!("no DeviceLost within 10 s of the server's crash: {e}"),
        }
    };
    println!("lost after {:?}: {message}", crashed_at.elapsed());
    assert!(
        message.contains(&name),
        "the message names the device ({name}): {message}"
    );

    let server = PulseServer::start(dir).expect("the server starts again");
    let format = expect_started(&events);
    println!(
        "reopened {:?} after the crash, as {format}",
        crashed_at.elapsed()
    );
    let mut captured = Capture16k::default();
    captured.collect_until(&events, RATE / 4);
    let played_at = captured.samples.len();
    let mut player = server.play(tone);
    captured.collect_until(&events, played_at + RATE * 2);
    assert!(player.wait().expect("paplay ran").success());
    drop(capture);
    let loud = captured.loud_windows(0.05);
    assert!(
        loud.len() > 40,
        "the tone is captured after the reconnect ({} loud windows)",
        loud.len()
    );
    let tone = &captured.samples[loud[0] * WINDOW..(loud[loud.len() - 1] + 1) * WINDOW];
    let hz = frequency(&tone[tone.len() / 10..tone.len() * 9 / 10], TARGET_RATE);
    assert!((hz - 440.0).abs() < 2.0, "{hz} Hz after the reconnect");
    server
}

/// Waits for `Started` and describes the native format.
fn expect_started(events: &Receiver<CaptureEvent>) -> String {
    match events.recv_timeout(Duration::from_secs(15)) {
        Ok(CaptureEvent::Started { device, format }) => {
            assert_eq!(
                device,
                default_input_name(),
                "capture opens the default input"
            );
            format!(
                "{} Hz, {} ch, {}",
                format.sample_rate, format.channels, format.sample_format
            )
        }
        other => panic!("expected Started, got {other:?}"),
    }
}

/// The name ALSA gives its `default` device.
fn default_input_name() -> String {
    let devices = list_input_devices().expect("ALSA lists devices");
    devices
        .into_iter()
        .find(|d| d.is_default)
        .map(|d| d.name)
        .expect("a default input")
}

/// What a capture delivered.
#[derive(Default)]
struct Capture16k {
    samples: Vec<f32>,
    levels: Vec<Level>,
    dropped: u64,
}

impl Capture16k {
    fn collect_until(&mut self, events: &Receiver<CaptureEvent>, samples: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.samples.len() < samples {
            assert!(
                Instant::now() < deadline,
                "only {} of {samples} samples arrived in 20 s",
                self.samples.len()
            );
            match events.recv_timeout(Duration::from_secs(5)) {
                Ok(CaptureEvent::Audio(chunk)) => {
                    self.samples.extend_from_slice(&chunk.samples);
                    self.levels.push(chunk.level);
                    self.dropped = chunk.dropped_chunks;
                }
                Ok(CaptureEvent::Dropped { chunks, .. }) => self.dropped = chunks,
                Ok(other) => panic!("unexpected while capturing: {other:?}"),
                Err(e) => panic!("no audio for 5 s: {e}"),
            }
        }
    }

    /// Indices of the 20 ms windows louder than `threshold` RMS.
    fn loud_windows(&self, threshold: f64) -> Vec<usize> {
        self.samples
            .chunks(WINDOW)
            .enumerate()
            .filter(|(_, w)| rms(w) > threshold)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Where `reference` sits inside `captured` and how well it matches there: the 20 ms RMS
/// envelopes find the rough place, then the waveforms are correlated sample by sample around
/// it (the server and two resamplers sit in between, so a perfect 1.0 is not expected).
fn best_alignment(reference: &[f32], captured: &[f32]) -> (usize, f64) {
    let envelope = |s: &[f32]| s.chunks(WINDOW).map(rms).collect::<Vec<f64>>();
    let (a, b) = (envelope(reference), envelope(captured));
    let rough = (0..b.len().saturating_sub(a.len()))
        .map(|lag| {
            (
                lag,
                pearson(
                    &a.iter()
                        .copied()
                        .zip(b[lag..].iter().copied())
                        .collect::<Vec<_>>(),
                ),
            )
        })
        .fold((0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best });
    let from = (rough.0 * WINDOW).saturating_sub(WINDOW);
    let to = (rough.0 * WINDOW + WINDOW).min(captured.len().saturating_sub(reference.len()));
    (from..=to)
        .map(|lag| {
            let pairs: Vec<(f64, f64)> = reference
                .iter()
                .zip(&captured[lag..])
                .map(|(&x, &y)| (f64::from(x), f64::from(y)))
                .collect();
            (lag, pearson(&pairs))
        })
        .fold((0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best })
}
