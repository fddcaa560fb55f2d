//! The streaming resampler against the whole-buffer one: any chunking, same audio out.

mod support;

use sotto_audio::{resample, StreamResampler};
use support::{frequency, middle, rms};

fn sine(rate: u32, seconds: f64) -> Vec<f32> {
    let len = (f64::from(rate) * seconds) as usize;
    (0..len)
        .map(|i| 0.5 * (i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin() as f32)
        .collect()
}

fn stream(resampler: &mut StreamResampler, input: &[f32], sizes: &[usize]) -> Vec<f32> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut turn = 0;
    while at < input.len() {
        let size = sizes[turn % sizes.len()].min(input.len() - at);
        resampler.push_into(&input[at..at + size], &mut out);
        at += size;
        turn += 1;
    }
    out.extend(resampler.flush());
    out
}

#[test]
fn any_chunking_gives_the_whole_buffer_result() {
    for from in [48_000, 44_100, 8_000, 22_050, 44_101, 16_000] {
        let input = sine(from, 1.3);
        let whole = resample(&input, from, 16_000);
        let mut resampler = StreamResampler::to_16k(from).expect("valid rates");
        for sizes in [&[480][..], &[1, 2, 3, 5000, 17][..], &[100_000][..]] {
            let streamed = stream(&mut resampler, &input, sizes);
            assert_eq!(
                streamed.len(),
                whole.len(),
                "{from} Hz, chunks {sizes:?}: length"
            );
            // Same signal; the FFT block sizes differ between the two paths, so allow
            // a tiny numeric difference.
            let worst = streamed
                .iter()
                .zip(&whole)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst < 2e-3,
                "{from} Hz, chunks {sizes:?}: differs by {worst}"
            );
            let hz = frequency(middle(&streamed, 0.1), 16_000);
            assert!((hz - 440.0).abs() < 1.0, "{from} Hz: {hz} Hz");
            assert!((rms(middle(&streamed, 0.1)) - 0.3536).abs() < 0.005);
        }
    }
}

#[test]
fn output_flows_while_pushing_not_only_at_flush() {
    let mut resampler = StreamResampler::to_16k(48_000).expect("valid rates");
    let latency = resampler.latency();
    assert!(
        latency.as_millis() < 100,
        "latency {latency:?} is too high for live capture"
    );
    let input = sine(48_000, 1.0);
    let mut out = Vec::new();
    for chunk in input.chunks(480) {
        resampler.push_into(chunk, &mut out);
    }
    // Everything except what is still inside the resampler is out already.
    let held_back = 16_000 - out.len();
    assert!(
        (held_back as f64) < latency.as_secs_f64() * 16_000.0 + 1.0,
        "{held_back} samples held back"
    );
}

#[test]
fn zero_rates_are_an_error_not_a_panic() {
    assert!(StreamResampler::new(0, 16_000).is_err());
    assert!(StreamResampler::new(48_000, 0).is_err());
    let mut same = StreamResampler::new(16_000, 16_000).expect("valid");
    assert_eq!(same.push(&[0.25, f32::INFINITY]), vec![0.25, 0.0]);
    assert!(same.flush().is_empty());
}
