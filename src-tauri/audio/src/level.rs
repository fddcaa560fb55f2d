//! Loudness of a chunk of samples, for the level meter and for "is anyone speaking" checks.

/// RMS and peak of a chunk, both linear in `[0, 1]` for full-scale audio.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Level {
    pub rms: f32,
    pub peak: f32,
}

/// The floor used for silence when converting to decibels.
pub const SILENCE_DBFS: f32 = -100.0;

impl Level {
    /// Measures `samples`; an empty chunk is silence. Non-finite samples are ignored.
    pub fn of(samples: &[f32]) -> Level {
        let mut sum = 0.0f64;
        let mut peak = 0.0f32;
        let mut count = 0usize;
        for &s in samples.iter().filter(|s| s.is_finite()) {
            sum += f64::from(s) * f64::from(s);
            peak = peak.max(s.abs());
            count += 1;
        }
        if count == 0 {
            return Level::default();
        }
        Level {
            rms: (sum / count as f64).sqrt() as f32,
            peak,
        }
    }

    /// RMS in dB relative to full scale, never below [`SILENCE_DBFS`].
    pub fn rms_dbfs(&self) -> f32 {
        to_dbfs(self.rms)
    }

    /// Peak in dB relative to full scale, never below [`SILENCE_DBFS`].
    pub fn peak_dbfs(&self) -> f32 {
        to_dbfs(self.peak)
    }
}

fn to_dbfs(linear: f32) -> f32 {
    if linear <= 0.0 {
        return SILENCE_DBFS;
    }
    (20.0 * linear.log10()).max(SILENCE_DBFS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_sine_and_silence() {
        let sine: Vec<f32> = (0..16_000)
            .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin())
            .collect();
        let level = Level::of(&sine);
        assert!(
            (level.rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3,
            "{level:?}"
        );
        assert!((level.peak - 1.0).abs() < 1e-3, "{level:?}");
        assert!((level.rms_dbfs() + 3.01).abs() < 0.05);
        assert_eq!(Level::of(&[]), Level::default());
        assert_eq!(Level::of(&[0.0; 10]).rms_dbfs(), SILENCE_DBFS);
        assert_eq!(Level::of(&[f32::NAN, 0.5]).peak, 0.5);
    }
}
