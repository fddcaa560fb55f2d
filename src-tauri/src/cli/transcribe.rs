//! `sotto transcribe FILE...`: speech files to text with the speech worker.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use sotto_protocol::asr::{AudioContext, DecodeOptions};

use crate::app::App;
use crate::engines::asr::{self, AsrEngine};

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// Audio files: WAV at any rate, FLAC, MP3, OGG; resampled to 16 kHz mono.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per file and line: {"file", "text", "duration_s", "elapsed_ms", ...}.
    #[arg(long)]
    pub json: bool,
    /// A speech model id from the catalog (default: the configured or recommended one).
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// How to decode. Files are not a conversation, so the default is the most accurate this
    /// model gets; `fast` is how Sotto hears what you say to it live.
    #[arg(long, value_enum, default_value = "accurate")]
    pub decode: Decode,
    /// Language spoken (ISO 639-1), for multilingual models; default from the configuration.
    #[arg(long)]
    pub language: Option<String>,
    /// Text that biases recognition, e.g. "Glossary: Siobhan, Inkscape." (default: built
    /// from `speech.vocabulary` in the configuration).
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Fuse the language models (your personal vocabulary, `sotto vocab`) into recognition,
    /// or not, for this run (default: `speech.fusion.enabled`). On, the decode is a beam search
    /// of `speech.fusion.beam_size` or wider.
    #[arg(long, value_enum, value_name = "on|off")]
    pub fusion: Option<Switch>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Decode {
    /// Whisper's whole 30 s window, beam search 5 wide: on real recorded speech (Asterisk
    /// prompts) WER 5.5% against 6.5% for `fast`, at about 1.1 s per short clip here.
    Accurate,
    /// The window fitted to the audio, greedy: ~0.15 s per short command on 2 cores.
    Fast,
}

/// The beam width of the accurate decode: Whisper's reference setting.
const ACCURATE_BEAM: u32 = 5;

pub async fn run(app: &App, args: TranscribeArgs) -> Result<ExitCode> {
    let id = asr::choose_model(app, args.model.as_deref()).await?;
    let model_file = asr::model_file(app, &id).await?;
    let mut engine = AsrEngine::new(model_file, asr::vad_file(app), Duration::from_secs(300));
    let (audio_context, beam_size) = match args.decode {
        Decode::Accurate => (AudioContext::Full, ACCURATE_BEAM),
        Decode::Fast => (AudioContext::Scaled, 1),
    };
    let options = DecodeOptions {
        language: Some(
            args.language
                .clone()
                .unwrap_or_else(|| app.settings.config.speech.language.clone()),
        ),
        initial_prompt: args.prompt.clone().or_else(|| {
            sotto_protocol::asr::glossary_prompt(
                app.settings
                    .config
                    .speech
                    .vocabulary
                    .iter()
                    .map(String::as_str),
            )
        }),
        audio_context,
        beam_size,
        fusion: None,
    };
    let options = asr::with_fusion(app, options, args.fusion.map(|s| s == Switch::On)).await;
    let mut failures = 0;
    for file in &args.files {
        let started = Instant::now();
        let result = async {
            let audio = sotto_audio::decode_file(file)?;
            let samples = sotto_audio::to_16k_mono_i16(&audio);
            let transcript = engine.transcribe(samples, options.clone()).await?;
            anyhow::Ok(transcript)
        }
        .await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(t) if args.json => println!(
                "{}",
                serde_json::json!({
                    "file": file, "text": t.text, "duration_s": t.audio_ms as f64 / 1000.0,
                    "elapsed_ms": elapsed_ms, "decode_ms": t.decode_ms, "audio_ctx": t.audio_ctx,
                    "fell_back": t.fell_back, "model": id, "fusion": options.fusion.is_some(),
                })
            ),
            Ok(t) if args.files.len() > 1 => println!("{}: {}", file.display(), t.text),
            Ok(t) => println!("{}", t.text),
            Err(error) => {
                failures += 1;
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"file": file, "error": format!("{error:#}")})
                    );
                } else {
                    eprintln!("{}: {error:#}", file.display());
                }
            }
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
