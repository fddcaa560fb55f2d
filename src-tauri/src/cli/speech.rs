//! `sotto bench asr` and `sotto eval asr`: speed and accuracy of speech recognition on the
//! real and synthetic speech sets, with the full-window decode as the baseline in the same run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Args, ValueEnum};
use sotto_protocol::asr::{AudioContext, DecodeOptions};

use crate::app::App;
use crate::engines::asr::{self, AsrEngine};
use crate::speech_sets::{self, Clip};
use crate::wer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpeechSet {
    /// Spoken assistant commands (espeak-ng, several voices and speeds, some with noise).
    Commands,
    /// Real recorded prompts from Debian's asterisk-core-sounds-en.
    Asterisk,
    All,
}

#[derive(Debug, Args)]
pub struct AsrRunArgs {
    #[arg(long, value_enum, default_value = "all")]
    pub set: SpeechSet,
    /// How many Asterisk clips (spread over the whole set).
    #[arg(long, default_value_t = 40)]
    pub limit: usize,
    /// Speech model id (default: the configured or recommended one).
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// Print every clip's reference and transcript.
    #[arg(long)]
    pub verbose_clips: bool,
    /// Beam width; 1 decodes greedily.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub beam_size: u32,
    /// Bias recognition with this vocabulary prompt text (as `transcribe --prompt`).
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
}

struct Outcome {
    set: &'static str,
    clip: Clip,
    text: String,
    latency_ms: f64,
    decode_ms: u64,
    fell_back: bool,
}

pub async fn run(app: &App, args: AsrRunArgs, contexts: &[AudioContext]) -> Result<ExitCode> {
    let id = asr::choose_model(app, args.model.as_deref()).await?;
    let model_file = asr::model_file(app, &id).await?;
    let scratch = tempfile::tempdir()?;
    let mut sets: Vec<(&'static str, Vec<Clip>)> = Vec::new();
    if matches!(args.set, SpeechSet::Commands | SpeechSet::All) {
        sets.push(("commands", speech_sets::spoken_commands(scratch.path())?));
    }
    if matches!(args.set, SpeechSet::Asterisk | SpeechSet::All) {
        sets.push(("asterisk", speech_sets::asterisk(args.limit, 10.0)?));
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let decoding = match args.beam_size {
        1 => "greedy decoding".to_string(),
        n => format!("beam search ({n})"),
    };
    println!("model {id}, {threads} cores, {decoding}; latency = audio in -> final transcript, worker warm\n");
    println!(
        "{:<9} {:<9} {:>4} {:>7} {:>8} {:>8} {:>7} {:>9} {:>10}",
        "context", "set", "n", "WER", "p50 ms", "p95 ms", "RTF", "fallback", "peak MB"
    );
    for &context in contexts {
        let mut engine = AsrEngine::new(
            model_file.clone(),
            asr::vad_file(app),
            Duration::from_secs(600),
        );
        let options = DecodeOptions {
            language: Some(app.settings.config.speech.language.clone()),
            initial_prompt: args.prompt.clone(),
            audio_context: context,
            beam_size: args.beam_size,
        };
        // Warm up: start the worker and load the model outside the measurement.
        if let Some(first) = sets.first().and_then(|(_, clips)| clips.first()) {
            engine
                .transcribe(first.samples.clone(), options.clone())
                .await?;
        }
        let mut outcomes = Vec::new();
        for (set, clips) in &sets {
            for clip in clips {
                let started = Instant::now();
                let t = engine
                    .transcribe(clip.samples.clone(), options.clone())
                    .await?;
                outcomes.push(Outcome {
                    set,
                    clip: clip.clone(),
                    text: t.text,
                    latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                    decode_ms: t.decode_ms,
                    fell_back: t.fell_back,
                });
            }
        }
        let peak_mb = engine.pid().and_then(peak_rss_mb);
        let name = match context {
            AudioContext::Full => "full",
            AudioContext::Scaled => "scaled",
        };
        for (set, _) in &sets {
            let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.set == *set).collect();
            print_row(name, set, &mine, peak_mb);
            if args.verbose_clips {
                for o in &mine {
                    let (errors, words) = wer::errors(&o.clip.reference, &o.text);
                    if errors > 0 {
                        println!(
                            "    {errors}/{words}  {}\n      ref: {}\n      hyp: {}",
                            o.clip.name, o.clip.reference, o.text
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_row(context: &str, set: &str, outcomes: &[&Outcome], peak_mb: Option<f64>) {
    let wer = wer::corpus_wer(
        outcomes
            .iter()
            .map(|o| (o.clip.reference.as_str(), o.text.as_str())),
    );
    let mut latencies: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    let audio_ms: u64 = outcomes.iter().map(|o| o.clip.audio_ms()).sum();
    let decode_ms: u64 = outcomes.iter().map(|o| o.decode_ms).sum();
    let fallbacks = outcomes.iter().filter(|o| o.fell_back).count();
    println!(
        "{:<9} {:<9} {:>4} {:>6.1}% {:>8.0} {:>8.0} {:>7.3} {:>9} {:>10}",
        context,
        set,
        outcomes.len(),
        wer * 100.0,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        decode_ms as f64 / audio_ms.max(1) as f64,
        fallbacks,
        peak_mb
            .map(|m| format!("{m:.0}"))
            .unwrap_or_else(|| "?".into()),
    );
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The peak resident memory of process `pid` (Linux: VmHWM), in MB.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    status_mb(pid, "VmHWM:")
}

/// The resident memory of process `pid` now (Linux: VmRSS), in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    status_mb(pid, "VmRSS:")
}

fn status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 10.0);
        assert_eq!(percentile(&values, 0.95), 19.0);
        assert_eq!(percentile(&[3.0], 0.95), 3.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
