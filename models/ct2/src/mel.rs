//! The mel filter bank whisper.cpp reads from the model file. OpenAI ships it as
//! `mel_filters.npz`, made with `librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)` (Slaney
//! mel scale, Slaney area normalisation, float32), and whisper.cpp's converters copy it. It is
//! computed here the way librosa does, step for step and in the same precision, so the
//! numbers match the shipped file rather than merely resembling it.

/// Whisper's sample rate.
const SAMPLE_RATE: f64 = 16_000.0;
/// Whisper's FFT size (25 ms windows).
pub(crate) const N_FFT: usize = 400;
/// Frequency bins of a real FFT of `N_FFT` samples.
pub(crate) const N_BINS: usize = N_FFT / 2 + 1;

// librosa's Slaney mel scale: linear below 1 kHz, logarithmic above.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / logstep()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (logstep() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// `n_mels` triangular filters over the `N_BINS` FFT bins, row-major (`n_mels` rows).
pub(crate) fn mel_filters(n_mels: usize) -> Vec<f32> {
    // np.fft.rfftfreq(n=400, d=1/16000): bin k is k * (1 / (n * d)).
    let bin_hz = 1.0 / (N_FFT as f64 * (1.0 / SAMPLE_RATE));
    let fft_freqs: Vec<f64> = (0..N_BINS).map(|k| k as f64 * bin_hz).collect();

    // mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): np.linspace over the mel range (whose
    // last point numpy sets to the end exactly), then back to Hz.
    let max_mel = hz_to_mel(SAMPLE_RATE / 2.0);
    let points = n_mels + 2;
    let step = max_mel / (points - 1) as f64;
    let mel_hz: Vec<f64> = (0..points)
        .map(|i| {
            let mel = if i == points - 1 {
                max_mel
            } else {
                i as f64 * step
            };
            mel_to_hz(mel)
        })
        .collect();

    let mut weights = vec![0f32; n_mels * N_BINS];
    for (i, row) in weights.chunks_exact_mut(N_BINS).enumerate() {
        let lower_width = mel_hz[i + 1] - mel_hz[i];
        let upper_width = mel_hz[i + 2] - mel_hz[i + 1];
        // Slaney normalisation: each triangle has unit area in Hz.
        let enorm = 2.0 / (mel_hz[i + 2] - mel_hz[i]);
        for (w, &f) in row.iter_mut().zip(&fft_freqs) {
            let lower = -(mel_hz[i] - f) / lower_width;
            let upper = (mel_hz[i + 2] - f) / upper_width;
            // librosa stores the triangle into a float32 array first and scales it afterwards
            // (`weights *= enorm`, computed in f64 and cast back), so round twice as it does.
            let triangle = lower.min(upper).max(0.0) as f32;
            *w = (f64::from(triangle) * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values read from OpenAI whisper's assets/mel_filters.npz (release 20250625).

    #[test]
    fn first_filter_is_a_single_bin() {
        let m = mel_filters(80);
        let row0: Vec<(usize, f32)> = m[..N_BINS]
            .iter()
            .enumerate()
            .filter(|(_, &v)| v != 0.0)
            .map(|(i, &v)| (i, v))
            .collect();
        assert_eq!(row0, vec![(1, 0.024_862_595_f32)]);
    }

    #[test]
    fn row_sums_peaks_and_support_match_openai() {
        let m = mel_filters(80);
        let rows: Vec<&[f32]> = m.chunks_exact(N_BINS).collect();
        let sum = |r: &[f32]| r.iter().map(|&v| f64::from(v)).sum::<f64>();
        let peak = |r: &[f32]| {
            (0..N_BINS)
                .max_by(|&a, &b| r[a].total_cmp(&r[b]).then(b.cmp(&a)))
                .unwrap()
        };
        for (row, want) in [
            (0, 0.024_862_594_902_515_41),
            (1, 0.024_862_593_738_362_193),
            (77, 0.025_015_751_649_334_56),
            (78, 0.025_022_621_965_035_796),
            (79, 0.024_925_339_792_389_423),
        ] {
            assert!(
                (sum(rows[row]) - want).abs() < 1e-9,
                "row {row}: {}",
                sum(rows[row])
            );
        }
        let peaks: Vec<usize> = rows.iter().map(|r| peak(r)).collect();
        assert_eq!(&peaks[..10], &[1, 2, 3, 4, 5, 6, 7, 7, 8, 9]);
        assert_eq!(&peaks[75..], &[165, 172, 178, 185, 192]);
        assert_eq!(m.iter().filter(|&&v| v != 0.0).count(), 391);
        let total: f64 = m.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 1.999_024_092_387_117).abs() < 1e-9, "{total}");
    }

    #[test]
    fn large_v3_bank_has_128_rows_like_openai() {
        let m = mel_filters(128);
        assert_eq!(m.len(), 128 * N_BINS);
        assert_eq!(m.iter().filter(|&&v| v != 0.0).count(), 394);
        let total: f64 = m.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 3.190_985_540_940_346_3).abs() < 1e-9, "{total}");
    }
}
