//! `sotto vocab`: the words recognition should favour (`speech.vocabulary` in config.toml)
//! and the personal vocabulary model built from them and the user's other sources.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use sotto_config::{Config, Settings};

use crate::app::App;
use crate::vocab::{self, Built};

#[derive(Debug, Subcommand)]
pub enum VocabCommand {
    /// Add words or phrases (one per argument: `sotto vocab add Siobhan "pull request"`).
    Add {
        #[arg(required = true, value_name = "WORD_OR_PHRASE")]
        words: Vec<String>,
    },
    /// Remove words or phrases (case does not matter).
    Remove {
        #[arg(required = true, value_name = "WORD_OR_PHRASE")]
        words: Vec<String>,
    },
    /// The custom words, then how much each source gives the personal model.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Build the personal vocabulary model if its sources changed.
    Build {
        /// Build even if nothing changed.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Print the personal model's training sentences, one a line.
    Sentences,
}

pub async fn run(command: VocabCommand, app: impl FnOnce() -> Result<App>) -> Result<ExitCode> {
    match command {
        VocabCommand::Add { words } => add(&words),
        VocabCommand::Remove { words } => remove(&words),
        VocabCommand::List { json } => list(&app()?, json).await,
        VocabCommand::Build { force, json } => build(&app()?, force, json).await,
        VocabCommand::Sentences => {
            for sentence in vocab::corpus(&vocab::gather(&app()?).await) {
                println!("{sentence}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The configuration as written in config.toml (not `App`'s: no database or catalog needed).
fn load_config() -> Result<(Settings, Config)> {
    let settings = Settings::load()?;
    let config = settings.config.clone();
    Ok((settings, config))
}

/// A word or phrase as stored: surrounding and repeated spaces removed.
fn normalise(word: &str) -> String {
    word.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn same(a: &str, b: &str) -> bool {
    normalise(a).to_lowercase() == normalise(b).to_lowercase()
}

fn add(words: &[String]) -> Result<ExitCode> {
    let (settings, mut config) = load_config()?;
    let vocabulary = &mut config.speech.vocabulary;
    for word in words {
        let word = normalise(word);
        if word.is_empty() {
            anyhow::bail!("an empty word cannot be added; nothing was changed");
        }
        if vocabulary.iter().any(|w| same(w, &word)) {
            println!("already there: {word}");
        } else {
            println!("added: {word}");
            vocabulary.push(word);
        }
    }
    sotto_config::save(&settings.config_file, &config)?;
    Ok(ExitCode::SUCCESS)
}

fn remove(words: &[String]) -> Result<ExitCode> {
    let (settings, mut config) = load_config()?;
    let vocabulary = &mut config.speech.vocabulary;
    let missing: Vec<&str> = words
        .iter()
        .filter(|word| !vocabulary.iter().any(|w| same(w, word)))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "not in the vocabulary: {}; nothing was removed (see `sotto vocab list`)",
            missing.join(", ")
        );
    }
    vocabulary.retain(|w| {
        let gone = words.iter().any(|word| same(w, word));
        if gone {
            println!("removed: {w}");
        }
        !gone
    });
    sotto_config::save(&settings.config_file, &config)?;
    Ok(ExitCode::SUCCESS)
}

async fn list(app: &App, json: bool) -> Result<ExitCode> {
    let sources = vocab::gather(app).await;
    if json {
        let out = serde_json::json!({
            "custom": sources.custom,
            "sources": {
                "contacts": sources.contacts.len(),
                "apps": sources.apps.len(),
                "note_titles": sources.note_titles.len(),
                "history": sources.history.len(),
                "tool_examples": sources.tool_examples(),
                "templates": sources.tools.iter().map(|t| t.templates.len()).sum::<usize>(),
            },
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    if sources.custom.is_empty() {
        println!("no custom words (add some with `sotto vocab add WORD_OR_PHRASE`)");
    } else {
        for word in &sources.custom {
            println!("{word}");
        }
    }
    println!(
        "\nfrom your sources: {}, {}, {}, {}, {}",
        count(sources.contacts.len(), "contact name", "contact names"),
        count(sources.apps.len(), "app", "apps"),
        count(sources.note_titles.len(), "note title", "note titles"),
        count(
            sources.history.len(),
            "history transcript",
            "history transcripts"
        ),
        count(sources.tool_examples(), "tool example", "tool examples"),
    );
    Ok(ExitCode::SUCCESS)
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

async fn build(app: &App, force: bool, json: bool) -> Result<ExitCode> {
    let built = vocab::build(app, force)
        .await
        .context("cannot build the personal vocabulary model")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&built_json(&built))?);
        return Ok(ExitCode::SUCCESS);
    }
    let ngrams: Vec<String> = built.ngrams.iter().map(usize::to_string).collect();
    println!(
        "{}: {} sentences, {} words, n-grams {} ({} KB), {} ms",
        if built.rebuilt { "built" } else { "unchanged" },
        built.sentences,
        built.words,
        ngrams.join(" / "),
        built.bytes.div_ceil(1024),
        built.elapsed_ms
    );
    println!("{}", built.path.display());
    Ok(ExitCode::SUCCESS)
}

fn built_json(built: &Built) -> serde_json::Value {
    serde_json::json!({
        "path": built.path,
        "sentences": built.sentences,
        "words": built.words,
        "ngrams": built.ngrams,
        "bytes": built.bytes,
        "rebuilt": built.rebuilt,
        "elapsed_ms": built.elapsed_ms,
    })
}
