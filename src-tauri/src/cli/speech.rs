//! `sotto bench asr` and `sotto eval asr`: speed and accuracy of speech recognition on the
//! real and synthetic speech sets, with the full-window decode as the baseline in the same run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

use sotto_protocol::asr::{AudioContext, DecodeOptions, Fusion, FusionMethod};

use crate::app::App;
use crate::engines::asr::{self, AsrEngine};
use crate::speech_sets::{self, Clip, Half};
use crate::wer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpeechSet {
    /// Spoken assistant commands (espeak-ng, several voices and speeds, some with noise).
    Commands,
    /// Real recorded prompts from Debian's asterisk-core-sounds-en.
    Asterisk,
    /// Commands that name people, applications, notes and jargon (espeak-ng): the half that
    /// tunes the fusion weights.
    NamesTune,
    /// The other half of the names set: the one to report.
    NamesReport,
    /// Commands and Asterisk prompts.
    All,
}

#[derive(Debug, Args)]
pub struct AsrRunArgs {
    /// Which sets, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub set: Vec<SpeechSet>,
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
    /// Bias recognition with this vocabulary prompt text (as `transcribe --prompt`) in the
    /// `none` decoder; the others prompt with the names set's user's glossary, as recognition
    /// does when fusion is on.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// One JSON object per context and set instead of the table (for scripts and tests);
    /// with --verbose-clips, one per clip too.
    #[arg(long)]
    pub json: bool,
    /// Which decodes to run, in order (default: full and scaled for bench, scaled for eval).
    #[arg(
        long = "context",
        value_enum,
        value_delimiter = ',',
        value_name = "CONTEXT,..."
    )]
    pub contexts: Vec<ContextChoice>,
    /// Which decoders to compare, in order: `none` (Whisper alone), `glossary` (Whisper with
    /// the user's names in its prompt), `own` (Sotto's beam search with the glossary, no
    /// language model: the baseline for fusion's cost), `exact` (`own` with the language
    /// model: what fusion is), `bias` (Whisper's beam search with the glossary, the language
    /// model added to its logits), `gated` (Whisper alone, then `exact` with the names its
    /// transcript sounds like first in the glossary, only when there are some: what `--fusion
    /// on` runs).
    #[arg(
        long = "fusion",
        value_enum,
        value_delimiter = ',',
        value_name = "DECODER,...",
        default_value = "none"
    )]
    pub fusions: Vec<FusionChoice>,
    /// Language models (ARPA) for fusion: the personal one, then optionally a base to mix
    /// with it. Default: the personal model of the names set's user (built from the tools'
    /// examples and that user's contacts, applications, notes and words), mixed with the
    /// general-English base when it is installed and --weight is below 1.
    #[arg(long = "lm", value_name = "ARPA")]
    pub lms: Vec<PathBuf>,
    /// The language model's weight (in natural-log units per word).
    #[arg(long, default_value_t = sotto_config::FusionConfig::default().alpha)]
    pub alpha: f32,
    /// The bonus per word, against the model's pull towards fewer words.
    #[arg(long, default_value_t = sotto_config::FusionConfig::default().beta)]
    pub beta: f32,
    /// The personal model's share when two models are mixed.
    #[arg(long, default_value_t = 1.0)]
    pub weight: f32,
    /// How the imported model stores its weight matrices, in order: q8_0 (what Sotto
    /// imports) and/or f16 (the lossless import, the baseline). Models published in
    /// whisper.cpp format are used as they are.
    #[arg(
        long = "weights",
        value_enum,
        value_delimiter = ',',
        value_name = "WEIGHTS,...",
        default_value = "q8_0"
    )]
    pub weights: Vec<crate::cli::models::MatrixFormat>,
    /// How alike a transcript's words and a name must sound for `gated` to fuse (0-1).
    #[arg(long, default_value_t = sotto_config::FusionConfig::default().name_match)]
    pub name_match: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FusionChoice {
    None,
    Glossary,
    Own,
    Exact,
    Bias,
    Gated,
}

impl FusionChoice {
    fn name(self) -> &'static str {
        match self {
            FusionChoice::None => "none",
            FusionChoice::Glossary => "glossary",
            FusionChoice::Own => "own",
            FusionChoice::Exact => "exact",
            FusionChoice::Bias => "bias",
            FusionChoice::Gated => "gated",
        }
    }

    /// The prompt this decoder recognises with: the user's glossary, except plain Whisper's
    /// (and gated fusion's first pass, which is plain Whisper).
    fn prompt(self, glossary: &Option<String>, args: &AsrRunArgs) -> Option<String> {
        match self {
            FusionChoice::None | FusionChoice::Gated => args.prompt.clone(),
            _ => glossary.clone(),
        }
    }

    /// The fusion request for this decoder; `own` is the exact search with zero weights.
    fn fusion(self, lms: &[PathBuf], names: &[String], args: &AsrRunArgs) -> Option<Fusion> {
        let (method, alpha, beta) = match self {
            FusionChoice::None | FusionChoice::Glossary => return None,
            FusionChoice::Own => (FusionMethod::Beam, 0.0, 0.0),
            FusionChoice::Exact | FusionChoice::Gated => {
                (FusionMethod::Beam, args.alpha, args.beta)
            }
            FusionChoice::Bias => (FusionMethod::LogitBias, args.alpha, args.beta),
        };
        Some(Fusion {
            models: lms.to_vec(),
            weight: args.weight,
            alpha,
            beta,
            method,
            names: if self == FusionChoice::Gated {
                names.to_vec()
            } else {
                Vec::new()
            },
            name_match: args.name_match,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContextChoice {
    /// Whisper's whole 30 s window: the baseline.
    Full,
    /// Fitted to the utterance, redone on the full window when it looks wrong (what Sotto uses).
    Scaled,
    /// Fitted to the utterance with no fallback: what the fallback is worth.
    Unchecked,
}

impl From<ContextChoice> for AudioContext {
    fn from(choice: ContextChoice) -> Self {
        match choice {
            ContextChoice::Full => AudioContext::Full,
            ContextChoice::Scaled => AudioContext::Scaled,
            ContextChoice::Unchecked => AudioContext::ScaledUnchecked,
        }
    }
}

/// One line of the results: how one audio context did on one set.
#[derive(Debug, serde::Serialize)]
struct Row<'a> {
    model: &'a str,
    /// How the model's matrices are stored (`q8_0`, `f16`).
    weights: &'static str,
    beam_size: u32,
    fusion: &'static str,
    context: &'static str,
    set: &'static str,
    clips: usize,
    /// Corpus word error rate, 0-1.
    wer: f64,
    p50_ms: f64,
    p95_ms: f64,
    /// Decoding time over audio time.
    rtf: f64,
    fallbacks: usize,
    peak_mb: Option<f64>,
}

struct Outcome {
    set: &'static str,
    clip: Clip,
    text: String,
    latency_ms: f64,
    decode_ms: u64,
    fell_back: bool,
    mean_logprob: f32,
}

pub async fn run(app: &App, args: AsrRunArgs, contexts: &[AudioContext]) -> Result<ExitCode> {
    let chosen: Vec<AudioContext> = args.contexts.iter().map(|&c| c.into()).collect();
    let contexts = if chosen.is_empty() { contexts } else { &chosen };
    let id = asr::choose_model(app, args.model.as_deref()).await?;
    let mut model_files = Vec::new();
    for &weights in &args.weights {
        model_files.push((
            weights,
            asr::model_file_with(app, &id, weights.into()).await?,
        ));
    }
    let scratch = tempfile::tempdir()?;
    let mut sets: Vec<(&'static str, Vec<Clip>)> = Vec::new();
    for set in &args.set {
        let dir = scratch.path();
        match set {
            SpeechSet::Commands => sets.push(("commands", speech_sets::spoken_commands(dir)?)),
            SpeechSet::Asterisk => {
                sets.push(("asterisk", speech_sets::asterisk(args.limit, 10.0)?))
            }
            SpeechSet::NamesTune => sets.push((
                "names-tune",
                speech_sets::spoken_names(dir, Some(Half::Tune))?,
            )),
            SpeechSet::NamesReport => sets.push((
                "names-rep",
                speech_sets::spoken_names(dir, Some(Half::Report))?,
            )),
            SpeechSet::All => {
                sets.push(("commands", speech_sets::spoken_commands(dir)?));
                sets.push(("asterisk", speech_sets::asterisk(args.limit, 10.0)?));
            }
        }
    }
    let needs_lm = args
        .fusions
        .iter()
        .any(|f| !matches!(f, FusionChoice::None | FusionChoice::Glossary));
    // The made-up user's glossary and model, built only for decoders that use them.
    let profile = if args.fusions.iter().any(|f| *f != FusionChoice::None) {
        let dir = scratch.path();
        let with_base = args.weight < 1.0;
        Some(crate::vocab::profile_models(app, &speech_sets::NAMES_PROFILE, dir, with_base).await?)
    } else {
        None
    };
    let glossary = profile
        .as_ref()
        .and_then(|p| sotto_protocol::asr::glossary_prompt(p.glossary.iter().map(String::as_str)));
    let names = profile
        .as_ref()
        .map(|p| p.names.clone())
        .unwrap_or_default();
    let lms = match profile {
        Some(profile) if args.lms.is_empty() => profile.models,
        _ => args.lms.clone(),
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let decoding = match args.beam_size {
        1 => "greedy decoding".to_string(),
        n => format!("beam search ({n})"),
    };
    if !args.json {
        println!("model {id}, {threads} cores, {decoding}; latency = audio in -> final transcript, worker warm");
        if needs_lm {
            let files: Vec<String> = lms.iter().map(|f| f.display().to_string()).collect();
            let mixed = if lms.len() > 1 {
                format!(", the first weighted {}", args.weight)
            } else {
                String::new()
            };
            println!(
                "fusion: alpha {}, beta {}, models {}{mixed}",
                args.alpha,
                args.beta,
                files.join(" + ")
            );
        }
        println!(
            "\n{:<7} {:<6} {:<9} {:<10} {:>4} {:>7} {:>8} {:>8} {:>7} {:>9} {:>10}",
            "weights",
            "fusion",
            "context",
            "set",
            "n",
            "WER",
            "p50 ms",
            "p95 ms",
            "RTF",
            "fallback",
            "peak MB"
        );
    }
    let mut runs = Vec::new();
    for (weights, file) in &model_files {
        for &context in contexts {
            for &fusion in &args.fusions {
                runs.push((*weights, file.clone(), context, fusion));
            }
        }
    }
    for (weights, model_file, context, fusion) in runs {
        let mut engine = AsrEngine::new(model_file, asr::vad_file(app), Duration::from_secs(600));
        let options = DecodeOptions {
            language: Some(app.settings.config.speech.language.clone()),
            initial_prompt: fusion.prompt(&glossary, &args),
            audio_context: context,
            beam_size: args.beam_size,
            fusion: fusion.fusion(&lms, &names, &args),
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
                    mean_logprob: t.mean_logprob,
                });
            }
        }
        let peak_mb = engine.pid().and_then(peak_rss_mb);
        let name = match context {
            AudioContext::Full => "full",
            AudioContext::Scaled => "scaled",
            AudioContext::ScaledUnchecked => "unchecked",
        };
        for (set, _) in &sets {
            let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.set == *set).collect();
            let decode = Decode {
                weights: weights.name(),
                fusion: fusion.name(),
                context: name,
            };
            let row = summarise(&id, args.beam_size, decode, set, &mine, peak_mb);
            if args.json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                print_row(&row);
            }
            if args.verbose_clips {
                for o in &mine {
                    let (errors, words) = wer::errors(&o.clip.reference, &o.text);
                    if args.json {
                        let clip = serde_json::json!({
                            "weights": weights.name(), "fusion": fusion.name(), "context": name, "set": set, "clip": o.clip.name,
                            "reference": o.clip.reference, "text": o.text,
                            "errors": errors, "words": words, "audio_ms": o.clip.audio_ms(),
                            "latency_ms": o.latency_ms, "fell_back": o.fell_back,
                            "mean_logprob": o.mean_logprob,
                        });
                        println!("{clip}");
                    } else if errors > 0 {
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

/// Which decode of the model a row is about.
struct Decode {
    weights: &'static str,
    fusion: &'static str,
    context: &'static str,
}

fn summarise<'a>(
    model: &'a str,
    beam_size: u32,
    decode: Decode,
    set: &'static str,
    outcomes: &[&Outcome],
    peak_mb: Option<f64>,
) -> Row<'a> {
    let mut latencies: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    let audio_ms: u64 = outcomes.iter().map(|o| o.clip.audio_ms()).sum();
    let decode_ms: u64 = outcomes.iter().map(|o| o.decode_ms).sum();
    let Decode {
        weights,
        fusion,
        context,
    } = decode;
    Row {
        model,
        weights,
        beam_size,
        fusion,
        context,
        set,
        clips: outcomes.len(),
        wer: wer::corpus_wer(
            outcomes
                .iter()
                .map(|o| (o.clip.reference.as_str(), o.text.as_str())),
        ),
        p50_ms: percentile(&latencies, 0.50),
        p95_ms: percentile(&latencies, 0.95),
        rtf: decode_ms as f64 / audio_ms.max(1) as f64,
        fallbacks: outcomes.iter().filter(|o| o.fell_back).count(),
        peak_mb,
    }
}

fn print_row(row: &Row) {
    println!(
        "{:<7} {:<6} {:<9} {:<10} {:>4} {:>6.1}% {:>8.0} {:>8.0} {:>7.3} {:>9} {:>10}",
        row.weights,
        row.fusion,
        row.context,
        row.set,
        row.clips,
        row.wer * 100.0,
        row.p50_ms,
        row.p95_ms,
        row.rtf,
        row.fallbacks,
        row.peak_mb
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
