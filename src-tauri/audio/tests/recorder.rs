//! Push-to-talk endpointing, driven with synthetic chunks: every sample's value is its index
//! in the stream, so an utterance shows exactly which samples it kept, and any loss or
//! duplicate at a boundary is a gap or a repeat in the numbers.

use std::time::Duration;

use sotto_audio::{Recorder, RecorderConfig, Utterance, UtteranceEnd};

/// A stream of numbered samples pushed in chunks of varying sizes.
struct Stream {
    next: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl Stream {
    fn new(sizes: &[usize]) -> Self {
        Stream {
            next: 0,
            sizes: sizes.to_vec(),
            turn: 0,
        }
    }

    /// Pushes `count` samples; returns the utterances completed and after which sample each
    /// came out.
    fn feed(&mut self, recorder: &mut Recorder, count: usize) -> Vec<(usize, Utterance)> {
        let end = self.next + count;
        let mut done = Vec::new();
        while self.next < end {
            let size = self.sizes[self.turn % self.sizes.len()].min(end - self.next);
            self.turn += 1;
            let chunk: Vec<f32> = (self.next..self.next + size).map(|i| i as f32).collect();
            self.next += size;
            if let Some(utterance) = recorder.push(&chunk) {
                done.push((self.next, utterance));
            }
        }
        done
    }
}

/// Asserts the utterance is exactly samples `first..end` of the stream, in order.
fn assert_span(utterance: &Utterance, first: usize, end: usize) {
    let expected: Vec<f32> = (first..end).map(|i| i as f32).collect();
    if utterance.samples != expected {
        let got_first = utterance.samples.first().copied().unwrap_or(-1.0);
        let got_last = utterance.samples.last().copied().unwrap_or(-1.0);
        let gaps: Vec<(f32, f32)> = utterance
            .samples
            .windows(2)
            .filter(|w| w[1] != w[0] + 1.0)
            .map(|w| (w[0], w[1]))
            .take(5)
            .collect();
        panic!(
            "expected samples {first}..{end} ({} samples), got {got_first}..={got_last} ({} samples); discontinuities: {gaps:?}",
            end - first,
            utterance.samples.len()
        );
    }
}

fn recorder() -> Recorder {
    Recorder::new(RecorderConfig::default())
}

const PRE_ROLL: usize = 4_800; // 300 ms at 16 kHz
const TAIL: usize = 3_200; // 200 ms

#[test]
fn pre_roll_and_tail_are_kept_with_nothing_lost_or_repeated() {
    // Odd chunk sizes, so start/stop and the buffer edges never line up with a chunk.
    for sizes in [&[160][..], &[1][..], &[173, 7, 991, 64][..], &[16_000][..]] {
        let mut recorder = recorder();
        let mut stream = Stream::new(sizes);
        assert!(
            stream.feed(&mut recorder, 16_000).is_empty(),
            "idle: nothing comes out"
        );
        assert!(recorder.start());
        assert!(
            stream.feed(&mut recorder, 16_000).is_empty(),
            "recording: nothing yet"
        );
        assert!(recorder.stop().is_none(), "the tail is still to come");
        let done = stream.feed(&mut recorder, 8_000);
        assert_eq!(done.len(), 1, "chunks {sizes:?}: one utterance");
        let (after, utterance) = &done[0];
        assert_span(utterance, 16_000 - PRE_ROLL, 32_000 + TAIL);
        assert_eq!(utterance.pre_roll_samples, PRE_ROLL);
        assert_eq!(utterance.tail_samples, TAIL);
        assert_eq!(utterance.end, UtteranceEnd::Stopped);
        assert_eq!(utterance.sample_rate, 16_000);
        assert_eq!(utterance.duration(), Duration::from_millis(1_500));
        // It comes out with the chunk that completes the tail, not later.
        let chunk_end_after_tail = *after;
        assert!(chunk_end_after_tail >= 32_000 + TAIL);
        assert!(chunk_end_after_tail < 32_000 + TAIL + sizes.iter().max().copied().unwrap_or(1));
        assert!(!recorder.is_recording());
    }
}

#[test]
fn a_start_soon_after_launch_keeps_what_pre_roll_there_is() {
    let mut recorder = recorder();
    let mut stream = Stream::new(&[100]);
    stream.feed(&mut recorder, 1_000);
    recorder.start();
    stream.feed(&mut recorder, 2_000);
    recorder.stop();
    let done = stream.feed(&mut recorder, TAIL);
    assert_span(&done[0].1, 0, 3_000 + TAIL);
    assert_eq!(done[0].1.pre_roll_samples, 1_000);
}

#[test]
fn the_next_utterance_starts_where_the_last_one_ended() {
    let mut recorder = recorder();
    let mut stream = Stream::new(&[333]);
    stream.feed(&mut recorder, 10_000);
    recorder.start();
    stream.feed(&mut recorder, 5_000);
    recorder.stop();
    // The tail ends at 18 200; 800 samples later the key goes down again: the new pre-roll
    // is those 800, not the previous utterance's samples a second time.
    let first = stream.feed(&mut recorder, TAIL + 800);
    assert_span(&first[0].1, 10_000 - PRE_ROLL, 15_000 + TAIL);
    recorder.start();
    stream.feed(&mut recorder, 4_000);
    recorder.stop();
    let second = stream.feed(&mut recorder, TAIL);
    assert_span(&second[0].1, 15_000 + TAIL, 23_000 + TAIL);
    assert_eq!(second[0].1.pre_roll_samples, 800);
}

#[test]
fn pressing_again_during_the_tail_continues_the_same_utterance() {
    let mut recorder = recorder();
    let mut stream = Stream::new(&[160]);
    stream.feed(&mut recorder, 8_000);
    recorder.start();
    stream.feed(&mut recorder, 8_000);
    recorder.stop();
    stream.feed(&mut recorder, 1_600); // 100 ms into the 200 ms tail
    assert!(!recorder.start(), "no new utterance: the old one goes on");
    stream.feed(&mut recorder, 4_000);
    recorder.stop();
    let done = stream.feed(&mut recorder, TAIL);
    assert_eq!(done.len(), 1);
    assert_span(&done[0].1, 8_000 - PRE_ROLL, 21_600 + TAIL);
    assert_eq!(done[0].1.tail_samples, TAIL);
}

#[test]
fn a_zero_tail_returns_the_utterance_from_stop() {
    let mut recorder = Recorder::new(RecorderConfig {
        tail: Duration::ZERO,
        ..RecorderConfig::default()
    });
    let mut stream = Stream::new(&[160]);
    stream.feed(&mut recorder, 8_000);
    recorder.start();
    stream.feed(&mut recorder, 3_200);
    let utterance = recorder.stop().expect("no tail to wait for");
    assert_span(&utterance, 8_000 - PRE_ROLL, 11_200);
    assert_eq!(utterance.tail_samples, 0);
}

#[test]
fn a_stuck_key_is_cut_at_max_length_and_the_rest_is_pre_roll() {
    let config = RecorderConfig {
        max_length: Duration::from_secs(1),
        ..RecorderConfig::default()
    };
    let mut recorder = Recorder::new(config);
    let mut stream = Stream::new(&[1_000]);
    stream.feed(&mut recorder, 10_000);
    recorder.start();
    let done = stream.feed(&mut recorder, 20_000);
    assert_eq!(done.len(), 1, "one cut, then idle until the next start");
    assert_span(&done[0].1, 10_000 - PRE_ROLL, 10_000 - PRE_ROLL + 16_000);
    assert_eq!(done[0].1.end, UtteranceEnd::MaxLength);
    assert!(recorder.stop().is_none(), "already over");
    recorder.start();
    stream.feed(&mut recorder, 1_000);
    let rest = recorder.finish().expect("finish hands out what there is");
    assert_span(&rest, 30_000 - PRE_ROLL, 31_000);
    assert_eq!(rest.end, UtteranceEnd::Finished);
}

#[test]
fn finish_and_stop_when_idle_do_nothing() {
    let mut recorder = recorder();
    assert!(recorder.finish().is_none());
    assert!(recorder.stop().is_none());
    assert!(recorder.push(&[]).is_none());
}

#[test]
fn a_chunk_holding_the_tail_end_and_more_splits_exactly() {
    let mut recorder = recorder();
    let mut stream = Stream::new(&[50_000]);
    recorder.start();
    stream.feed(&mut recorder, 100);
    recorder.stop();
    // One chunk: the 3 200-sample tail, then 46 800 samples that belong to nobody yet.
    let done = stream.feed(&mut recorder, 50_000);
    assert_span(&done[0].1, 0, 100 + TAIL);
    recorder.start();
    let next = recorder.finish().expect("pre-roll only");
    assert_span(&next, 50_100 - PRE_ROLL, 50_100);
}
