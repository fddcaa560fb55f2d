//! Hands-free endpointing, driven by a scripted detector: the "speech" is a list of intervals,
//! the stream's samples are numbered (value = index) at 1 kHz so 1 sample = 1 ms, and each
//! check looks at exactly which samples an utterance kept.

// One speech interval is a list of one range here, not a range of numbers.
#![allow(clippy::single_range_in_vec_init)]

use std::ops::Range;
use std::time::Duration;

use sotto_audio::{HandsFree, HandsFreeConfig, HandsFreeEvent, Utterance, UtteranceEnd};

fn config() -> HandsFreeConfig {
    HandsFreeConfig {
        sample_rate: 1000,
        pre_roll: Duration::from_millis(300),
        hangover: Duration::from_millis(700),
        tail: Duration::from_millis(200),
        min_speech: Duration::from_millis(200),
        max_length: Duration::from_secs(30),
        vad_window: Duration::from_secs(2),
    }
}

/// What the detector would say about a window, given where the speech really is.
fn detect(speech: &[Range<u64>], start: u64, len: u64) -> Vec<Range<u64>> {
    let end = start + len;
    speech
        .iter()
        .filter(|s| s.start < end && s.end > start)
        .map(|s| s.start.max(start) - start..s.end.min(end) - start)
        .collect()
}

/// Streams `total` ms in chunks of `chunk`, running the detector after every chunk.
/// Returns the utterances and the stream position at which each came out.
fn run(
    hands_free: &mut HandsFree,
    speech: &[Range<u64>],
    total: u64,
    chunk: u64,
) -> Vec<(u64, Utterance, u64)> {
    let mut out = Vec::new();
    let mut next = hands_free.position();
    while next < total {
        let size = chunk.min(total - next);
        let samples: Vec<f32> = (next..next + size).map(|i| i as f32).collect();
        next += size;
        hands_free.push(&samples);
        let (start, window) = hands_free.vad_window();
        let len = window.len() as u64;
        let segments = detect(speech, start, len);
        for event in hands_free.observe(start, len, &segments) {
            if let HandsFreeEvent::Ended {
                utterance,
                speech_end_sample,
            } = event
            {
                out.push((next, utterance, speech_end_sample));
            }
        }
    }
    out
}

fn first_and_last(u: &Utterance) -> (u64, u64) {
    (u.samples[0] as u64, *u.samples.last().unwrap() as u64)
}

fn contiguous(u: &Utterance) -> bool {
    u.samples.windows(2).all(|w| w[1] == w[0] + 1.0)
}

#[test]
fn an_utterance_spans_pre_roll_to_tail_and_ends_after_the_hangover() {
    let mut hf = HandsFree::new(config());
    let speech = [1000..2500];
    let done = run(&mut hf, &speech, 5000, 100);
    assert_eq!(done.len(), 1);
    let (emitted_at, u, speech_end) = &done[0];
    assert_eq!(first_and_last(u), (700, 2699));
    assert!(contiguous(u));
    assert_eq!(*speech_end, 2500);
    assert_eq!(u.end, UtteranceEnd::Silence);
    assert_eq!(u.pre_roll_samples, 300);
    assert_eq!(u.tail_samples, 200);
    // Decided within one chunk of the hangover running out.
    assert!((3200..=3300).contains(emitted_at), "ended at {emitted_at}");
}

#[test]
fn a_pause_shorter_than_the_hangover_does_not_split_the_utterance() {
    let mut hf = HandsFree::new(config());
    let speech = [1000..2000, 2500..3500];
    let done = run(&mut hf, &speech, 6000, 160);
    assert_eq!(done.len(), 1);
    assert_eq!(first_and_last(&done[0].1), (700, 3699));
}

#[test]
fn a_longer_pause_gives_two_utterances_and_no_sample_is_in_both() {
    let mut hf = HandsFree::new(config());
    let speech = [1000..2000, 3500..4500];
    let done = run(&mut hf, &speech, 7000, 100);
    assert_eq!(done.len(), 2);
    assert_eq!(first_and_last(&done[0].1), (700, 2199));
    assert_eq!(first_and_last(&done[1].1), (3200, 4699));
}

#[test]
fn a_short_blip_starts_nothing() {
    let mut hf = HandsFree::new(config());
    let speech = [1000..1100, 3000..3050];
    assert!(run(&mut hf, &speech, 6000, 100).is_empty());
    assert!(!hf.is_speaking());
}

#[test]
fn pre_roll_never_reaches_before_the_stream() {
    let mut hf = HandsFree::new(config());
    let speech = [100..1000];
    let done = run(&mut hf, &speech, 3000, 50);
    assert_eq!(first_and_last(&done[0].1), (0, 1199));
    assert_eq!(done[0].1.pre_roll_samples, 100);
}

#[test]
fn endless_speech_is_cut_at_max_length() {
    let mut cfg = config();
    cfg.max_length = Duration::from_secs(5);
    let mut hf = HandsFree::new(cfg);
    let speech = [1000..20_000];
    let done = run(&mut hf, &speech, 12_000, 100);
    assert!(!done.is_empty());
    let u = &done[0].1;
    assert_eq!(u.end, UtteranceEnd::MaxLength);
    assert_eq!(u.samples.len(), 5000);
    assert!(contiguous(u));
}

#[test]
fn current_shows_the_utterance_so_far_and_finish_keeps_it() {
    let mut hf = HandsFree::new(config());
    let speech = [500..10_000];
    assert!(run(&mut hf, &speech, 1500, 100).is_empty());
    let so_far = hf.current().expect("speaking");
    assert_eq!((so_far[0], *so_far.last().unwrap()), (200.0, 1499.0));
    let u = hf.finish().expect("an utterance in progress");
    assert_eq!(u.end, UtteranceEnd::Finished);
    assert_eq!(first_and_last(&u), (200, 1499));
    assert!(hf.finish().is_none());
}

#[test]
fn memory_stays_bounded_while_nobody_speaks() {
    let mut hf = HandsFree::new(config());
    run(&mut hf, &[], 60_000, 100);
    let (start, window) = hf.vad_window();
    assert_eq!(window.len(), 2000);
    assert_eq!(start, 58_000);
}

#[test]
fn detector_results_past_the_stream_are_clamped() {
    let mut hf = HandsFree::new(config());
    hf.push(&vec![0.0; 1000]);
    // A detector that claims speech beyond what it was given.
    let event = hf.observe(
        0,
        1000,
        &[Range {
            start: 500,
            end: 5000,
        }],
    );
    assert_eq!(event, [HandsFreeEvent::Started { at_sample: 200 }]);
    hf.push(&vec![0.0; 800]);
    let (start, window) = hf.vad_window();
    match hf.observe(start, window.len() as u64, &[]).as_slice() {
        [HandsFreeEvent::Ended { utterance, .. }] => {
            assert_eq!(utterance.samples.len(), 1000)
        }
        other => panic!("expected the end, got {other:?}"),
    }
}

#[test]
fn a_backlog_window_holding_two_utterances_splits_them() {
    // The detector runs rarely (every 1.5 s over a 2 s window, as when catching up), so one
    // window sees the end of the first command, the pause and the start of the second.
    let mut hf = HandsFree::new(config());
    let speech = [1000..2400, 3300..4500];
    let done = run(&mut hf, &speech, 8000, 1500);
    assert_eq!(
        done.len(),
        2,
        "{:?}",
        done.iter()
            .map(|d| first_and_last(&d.1))
            .collect::<Vec<_>>()
    );
    assert_eq!(first_and_last(&done[0].1), (700, 2599));
    assert_eq!(first_and_last(&done[1].1), (3000, 4699));
    assert!(contiguous(&done[1].1));
}

#[test]
fn the_same_speech_seen_in_overlapping_windows_starts_one_utterance() {
    let mut hf = HandsFree::new(config());
    let speech = [1000..3000];
    let done = run(&mut hf, &speech, 6000, 50);
    assert_eq!(done.len(), 1);
    assert_eq!(first_and_last(&done[0].1), (700, 3199));
}
