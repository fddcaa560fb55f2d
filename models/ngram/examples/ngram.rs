//! A small command line over `sotto-ngram`:
//!
//! ```text
//! cargo run -p sotto-ngram --release --example ngram -- build corpus.txt -o model.arpa --order 3 [--min-counts 1,1,2]
//! cargo run -p sotto-ngram --release --example ngram -- score model.arpa "create a note called groceries" ...
//! cargo run -p sotto-ngram --release --example ngram -- prune model.arpa -o pruned.arpa --threshold 1e-7
//! cargo run -p sotto-ngram --release --example ngram -- bench corpus.txt [--order 3] [--sentences 10000] [--model-sentences N] [--split sentences]
//! cargo run -p sotto-ngram --release --example ngram -- speed model.arpa corpus.txt [--words 10000000]
//! cargo run -p sotto-ngram --release --example ngram -- sphinx en-us.lm.bin [-o out.arpa] [--threshold T | --target N]
//! cargo run -p sotto-ngram --release --example ngram -- perplexity model.arpa corpus.txt
//! ```
//!
//! Corpora are text files, one sentence per line (or prose, with `--split sentences`). `bench`
//! times estimation on the first `--sentences` sentences, ARPA loading of a model built from
//! the first `--model-sentences` (default: all), and word-by-word
//! scoring (nanoseconds per word), against a sorted-array variant of the same lookups. Times
//! are this thread's CPU time where Linux reports it, so a busy machine inflates them less.
//! `sphinx` reads a CMU Sphinx binary trie model (PocketSphinx's `en-us.lm.bin`), optionally
//! prunes it (by entropy threshold, or to about `--target` n-grams by searching the threshold)
//! and writes it as ARPA, timing each step. `perplexity` is over the corpus lines without
//! unknown words. `score`, `prune`, `speed` and `perplexity` take either format.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sotto_ngram::{
    estimate_text, prune_entropy, read_sphinx_trie_bytes, tokenize, EstimateConfig, LanguageModel,
    Mixture, Model, WordId, MAX_ORDER,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ngram: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Options after the command: positional arguments and `--name value` pairs.
struct Options {
    positional: Vec<String>,
    named: Vec<(String, String)>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            positional: Vec::new(),
            named: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if let Some(name) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
                let value = args.next().ok_or(format!("{arg} needs a value"))?;
                options.named.push((name.to_owned(), value.clone()));
            } else {
                options.positional.push(arg.clone());
            }
        }
        Ok(options)
    }

    fn get(&self, names: &[&str]) -> Option<&str> {
        self.named
            .iter()
            .find(|(name, _)| names.contains(&name.as_str()))
            .map(|(_, value)| value.as_str())
    }

    fn number<T: std::str::FromStr>(&self, names: &[&str], default: T) -> Result<T> {
        match self.get(names) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("--{} {text:?} is not a number", names[0]).into()),
        }
    }

    fn output(&self) -> Result<PathBuf> {
        Ok(self
            .get(&["o", "output"])
            .ok_or("-o OUTPUT is required")?
            .into())
    }

    fn input(&self) -> Result<&str> {
        Ok(self.positional.first().ok_or("an input file is required")?)
    }
}

const USAGE: &str = "usage: ngram build CORPUS -o OUT [--order N] [--min-counts 1,1,2]
       ngram score MODEL TEXT...
       ngram prune MODEL -o OUT --threshold T
       ngram bench CORPUS [--order N] [--sentences N] [--model-sentences N] [--split sentences]
       ngram speed MODEL CORPUS [--words N]
       ngram sphinx MODEL.lm.bin [-o OUT.arpa] [--threshold T | --target N]
       ngram perplexity MODEL CORPUS";

fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        return Err(USAGE.into());
    };
    let options = Options::parse(rest)?;
    match command.as_str() {
        "build" => build(&options),
        "score" => score(&options),
        "prune" => prune(&options),
        "bench" => bench(&options),
        "speed" => speed(&options),
        "sphinx" => sphinx(&options),
        "perplexity" => perplexity(&options),
        _ => Err(USAGE.into()),
    }
}

fn build(options: &Options) -> Result<()> {
    let corpus = std::fs::read_to_string(options.input()?)?;
    let mut config = EstimateConfig::new(options.number(&["order"], 3)?);
    if let Some(list) = options.get(&["min-counts"]) {
        config.min_counts = list
            .split(',')
            .map(|n| n.trim().parse())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| format!("--min-counts {list:?}: expected numbers like 1,1,2"))?;
    }
    let started = Instant::now();
    let estimate = estimate_text(&corpus, &config)?;
    let elapsed = started.elapsed();
    for (k, d) in estimate.discounts.iter().enumerate() {
        eprintln!(
            "order {}: n1..n4 {:?}, D1 {:.3} D2 {:.3} D3+ {:.3}{}",
            k + 1,
            d.count_of_counts,
            d.discounts.d1,
            d.discounts.d2,
            d.discounts.d3_plus,
            if d.fallback { " (fallback)" } else { "" }
        );
    }
    let output = options.output()?;
    estimate.model.write_arpa_file(&output)?;
    println!(
        "{}: n-grams {:?}, estimated in {:.1} ms",
        output.display(),
        estimate.model.counts(),
        ms(elapsed)
    );
    Ok(())
}

fn score(options: &Options) -> Result<()> {
    let model = load(options.input()?)?;
    let vocabulary = model.vocabulary();
    for text in &options.positional[1..] {
        let mut state = model.begin_sentence();
        let mut total = 0.0f64;
        let words = tokenize(text);
        for word in &words {
            let known = vocabulary.get(word).is_some();
            let (log_prob, next) = model.score_text_word(&state, word);
            println!(
                "  {word}{}\t{log_prob:.4}",
                if known { "" } else { " <unk>" }
            );
            total += f64::from(log_prob);
            state = next;
        }
        let end = model.end_sentence(&state);
        println!("  </s>\t{end:.4}");
        total += f64::from(end);
        let perplexity = 10f64.powf(-total / (words.len() + 1) as f64);
        println!("{text:?}: log10 {total:.4}, perplexity {perplexity:.2}");
    }
    Ok(())
}

fn prune(options: &Options) -> Result<()> {
    let model = load(options.input()?)?;
    let threshold: f64 = options.number(&["threshold"], 1e-7)?;
    let started = Instant::now();
    let pruned = prune_entropy(&model, threshold);
    let elapsed = started.elapsed();
    let output = options.output()?;
    pruned.write_arpa_file(&output)?;
    println!(
        "{}: n-grams {:?} -> {:?} in {:.1} ms",
        output.display(),
        model.counts(),
        pruned.counts(),
        ms(elapsed)
    );
    Ok(())
}

/// An ARPA file (gzipped or not) or a Sphinx binary trie, told apart by the first bytes.
fn load(path: &str) -> Result<Model> {
    let bytes = std::fs::read(path)?;
    if bytes.starts_with(b"Trie Language Model") {
        Ok(read_sphinx_trie_bytes(&bytes).map_err(|e| format!("{path}: {e}"))?)
    } else {
        Ok(Model::read_arpa_file(path)?)
    }
}

fn sphinx(options: &Options) -> Result<()> {
    let input = options.input()?;
    let bytes = std::fs::read(input)?;
    let (model, elapsed) = timed(|| read_sphinx_trie_bytes(&bytes));
    let model = model?;
    describe(
        &format!("read {input} ({:.1} MB)", bytes.len() as f64 / 1e6),
        &model,
        elapsed,
    );
    drop(bytes);

    let threshold: Option<f64> = options.get(&["threshold"]).map(str::parse).transpose()?;
    let target: Option<usize> = options.get(&["target"]).map(str::parse).transpose()?;
    let model = match (threshold, target) {
        (Some(threshold), _) => {
            let (pruned, elapsed) = timed(|| prune_entropy(&model, threshold));
            describe(&format!("pruned at {threshold:e}"), &pruned, elapsed);
            pruned
        }
        (None, Some(target)) => prune_to(&model, target),
        (None, None) => model,
    };

    if let Ok(output) = options.output() {
        let (written, elapsed) = timed(|| model.write_arpa_file(&output));
        written?;
        let size = std::fs::metadata(&output)?.len();
        println!(
            "wrote {} ({:.1} MB) in {:.0} ms",
            output.display(),
            size as f64 / 1e6,
            ms(elapsed)
        );
        let (again, elapsed) = timed(|| Model::read_arpa_file(&output));
        let again = again?;
        describe("read that ARPA file back", &again, elapsed);
        if again.counts() != model.counts() {
            return Err("the ARPA file read back with other counts".into());
        }
    }
    Ok(())
}

/// Prunes by entropy to about `target` n-grams in all: bisects the threshold's logarithm
/// (each try prunes the whole model) until within 5%.
fn prune_to(model: &Model, target: usize) -> Model {
    let (mut low, mut high) = (-12.0f64, -3.0f64);
    let mut best: Option<(usize, Model)> = None;
    for _ in 0..12 {
        let exponent = (low + high) / 2.0;
        let threshold = 10f64.powf(exponent);
        let (pruned, elapsed) = timed(|| prune_entropy(model, threshold));
        describe(&format!("pruned at {threshold:.3e}"), &pruned, elapsed);
        let total: usize = pruned.counts().iter().sum();
        let miss = total.abs_diff(target);
        if best.as_ref().is_none_or(|(best_miss, _)| miss < *best_miss) {
            best = Some((miss, pruned));
        }
        if miss * 20 <= target {
            break;
        }
        // A higher threshold prunes more.
        if total > target {
            low = exponent;
        } else {
            high = exponent;
        }
    }
    best.map_or_else(|| model.clone(), |(_, model)| model)
}

fn perplexity(options: &Options) -> Result<()> {
    let model = load(options.input()?)?;
    let corpus = std::fs::read_to_string(options.positional.get(1).ok_or("a corpus is required")?)?;
    let vocabulary = model.vocabulary();
    let (mut total, mut tokens, mut sentences, mut skipped) = (0.0f64, 0, 0, 0);
    for line in corpus.lines() {
        let words = tokenize(line);
        if words.is_empty() {
            continue;
        }
        let Some(ids) = words
            .iter()
            .map(|w| vocabulary.get(w))
            .collect::<Option<Vec<_>>>()
        else {
            skipped += 1;
            continue;
        };
        total += model.score_sentence(&ids);
        tokens += ids.len() + 1;
        sentences += 1;
    }
    println!(
        "perplexity {:.1} over {sentences} sentences ({tokens} words with </s>); {skipped} with unknown words left out",
        10f64.powf(-total / tokens.max(1) as f64)
    );
    Ok(())
}

fn describe(what: &str, model: &Model, elapsed: Duration) {
    let counts = model.counts();
    let total: usize = counts.iter().sum();
    println!(
        "{what}: {:.0} ms, n-grams {counts:?} ({total} in all), {:.1} MB of tables",
        ms(elapsed),
        model.heap_bytes() as f64 / 1e6
    );
}

fn bench(options: &Options) -> Result<()> {
    let text = std::fs::read_to_string(options.input()?)?;
    let order: usize = options.number(&["order"], 3)?;
    let sentences: usize = options.number(&["sentences"], 10_000)?;
    let all = corpus_sentences(&text, options.get(&["split"]) == Some("sentences"));
    let model_sentences: usize = options.number(&["model-sentences"], all.len())?;
    let lines: Vec<&str> = all[..model_sentences.min(all.len())]
        .iter()
        .map(String::as_str)
        .collect();
    let corpus = lines.join("\n");
    let config = EstimateConfig::new(order);

    let head = lines[..sentences.min(lines.len())].join("\n");
    let words_in_head: usize = head.lines().map(|l| tokenize(l).len()).sum();
    let (estimate, elapsed) = timed(|| estimate_text(&head, &config));
    let small = estimate?.model;
    println!(
        "estimate order {order}, {} sentences ({} words): {:.1} ms, n-grams {:?}",
        sentences.min(lines.len()),
        words_in_head,
        ms(elapsed),
        small.counts()
    );

    let (estimate, elapsed) = timed(|| estimate_text(&corpus, &config));
    let model = estimate?.model;
    let total: usize = model.counts().iter().sum();
    println!(
        "estimate order {order}, {} sentences: {:.1} ms, n-grams {:?} ({total} total, {:.1} MB of tables)",
        lines.len(),
        ms(elapsed),
        model.counts(),
        model.heap_bytes() as f64 / 1e6
    );
    let path = std::env::temp_dir().join(format!("sotto-ngram-bench-{}.arpa", std::process::id()));
    model.write_arpa_file(&path)?;
    let size = std::fs::metadata(&path)?.len();
    let (loaded, elapsed) = timed(|| Model::read_arpa_file(&path));
    std::fs::remove_file(&path)?;
    let loaded = loaded?;
    println!(
        "read ARPA ({total} n-grams, {:.1} MB): {:.1} ms",
        size as f64 / 1e6,
        ms(elapsed)
    );

    // Scoring: every sentence word by word, repeated until about two million words.
    let vocabulary = loaded.vocabulary();
    let ids: Vec<Vec<WordId>> = lines
        .iter()
        .map(|l| tokenize(l).iter().map(|w| vocabulary.id(w)).collect())
        .collect();
    let words: usize = ids.iter().map(|s| s.len() + 1).sum();
    let rounds = (2_000_000 / words.max(1)).max(1);
    let (checksum, elapsed) = timed(|| score_rounds(&loaded, &ids, rounds));
    println!(
        "score_word (hash tables): {:.1} ns/word over {} words",
        ns_per(elapsed, rounds * words),
        rounds * words
    );

    let sorted = SortedModel::new(&loaded);
    let mut sorted_checksum = 0.0f64;
    let (_, elapsed) = timed(|| {
        for _ in 0..rounds {
            for sentence in &ids {
                sorted_checksum += sorted.score_sentence(&loaded, sentence);
            }
        }
    });
    println!(
        "score_word (sorted arrays, binary search): {:.1} ns/word (same scores: {})",
        ns_per(elapsed, rounds * words),
        (checksum - sorted_checksum).abs() < 1e-3 * checksum.abs().max(1.0)
    );

    let personal = estimate_text(
        &lines[..lines.len().min(200)].join("\n"),
        &EstimateConfig::new(2),
    )?
    .model;
    let mixture = Mixture::new(personal, loaded.clone(), 0.3)?;
    let mixed_ids: Vec<Vec<WordId>> = lines
        .iter()
        .map(|l| {
            tokenize(l)
                .iter()
                .map(|w| mixture.vocabulary().id(w))
                .collect()
        })
        .collect();
    let (mixed_checksum, elapsed) = timed(|| score_rounds(&mixture, &mixed_ids, rounds));
    println!(
        "score_word (mixture of two models): {:.1} ns/word",
        ns_per(elapsed, rounds * words)
    );
    std::hint::black_box(mixed_checksum);
    Ok(())
}

/// The corpus's sentences: its lines, or (`--split sentences`, for prose such as licence
/// texts) runs of text ended by `.`, `!`, `?`, `;` or `:` before whitespace, or by a blank
/// line. Whitespace is collapsed; sentences of fewer than three words are dropped.
fn corpus_sentences(text: &str, prose: bool) -> Vec<String> {
    let pieces: Vec<String> = if prose {
        let mut pieces = Vec::new();
        for paragraph in text.split("\n\n") {
            let mut current = String::new();
            let mut chars = paragraph.chars().peekable();
            while let Some(c) = chars.next() {
                let ends = matches!(c, '.' | '!' | '?' | ';' | ':')
                    && chars.peek().is_some_and(|next| next.is_whitespace());
                if ends {
                    pieces.push(std::mem::take(&mut current));
                } else {
                    current.push(c);
                }
            }
            pieces.push(current);
        }
        pieces
    } else {
        text.lines().map(String::from).collect()
    };
    pieces
        .iter()
        .map(|piece| piece.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|sentence| !prose || sentence.split(' ').count() >= 3)
        .filter(|sentence| !tokenize(sentence).is_empty())
        .collect()
}

/// Scoring alone (for `perf stat`): the corpus, word by word, until `--words` words.
fn speed(options: &Options) -> Result<()> {
    let model = load(options.input()?)?;
    let corpus = std::fs::read_to_string(options.positional.get(1).ok_or("a corpus is required")?)?;
    let target: usize = options.number(&["words"], 10_000_000)?;
    let vocabulary = model.vocabulary();
    let ids: Vec<Vec<WordId>> = corpus
        .lines()
        .map(|l| tokenize(l).iter().map(|w| vocabulary.id(w)).collect())
        .collect();
    let words: usize = ids.iter().map(|s| s.len() + 1).sum();
    let rounds = (target / words.max(1)).max(1);
    let (checksum, elapsed) = timed(|| score_rounds(&model, &ids, rounds));
    println!(
        "{:.1} ns/word over {} words (checksum {checksum:.1})",
        ns_per(elapsed, rounds * words),
        rounds * words
    );
    Ok(())
}

/// Scores every sentence `rounds` times; returns the sum of the scores.
fn score_rounds<M: LanguageModel>(model: &M, sentences: &[Vec<WordId>], rounds: usize) -> f64 {
    let mut total = 0.0;
    for _ in 0..rounds {
        for sentence in sentences {
            total += model.score_sentence(sentence);
        }
    }
    total
}

/// The same model with each order in a sorted array (binary search), scored with the same
/// incremental algorithm, to compare the storage choice.
struct SortedModel {
    /// Per order: (reversed key padded with 0, log10 prob, log10 backoff), sorted by key.
    orders: Vec<Vec<([WordId; MAX_ORDER], f32, f32)>>,
}

impl SortedModel {
    fn new(model: &Model) -> SortedModel {
        let orders = (1..=model.order())
            .map(|k| {
                let mut entries: Vec<_> = model
                    .ngrams(k)
                    .map(|ngram| {
                        let mut key = [WordId(0); MAX_ORDER];
                        for (slot, &word) in key.iter_mut().zip(ngram.words.iter().rev()) {
                            *slot = word;
                        }
                        (key, ngram.log_prob, ngram.backoff)
                    })
                    .collect();
                entries.sort_by_key(|entry| entry.0);
                entries
            })
            .collect();
        SortedModel { orders }
    }

    fn find(&self, key: &[WordId; MAX_ORDER], len: usize) -> Option<(f32, f32)> {
        let entries = &self.orders[len - 1];
        entries
            .binary_search_by(|entry| entry.0[..len].cmp(&key[..len]))
            .ok()
            .map(|i| (entries[i].1, entries[i].2))
    }

    fn score_sentence(&self, model: &Model, words: &[WordId]) -> f64 {
        let order = self.orders.len();
        let vocabulary = model.vocabulary();
        // Context most recent first, with each context's backoff; no allocation per word.
        let mut context = [(WordId(0), 0.0f32); MAX_ORDER];
        let mut context_len = 0;
        let bos = vocabulary.bos();
        if let Some((_, backoff)) = self.find(&pad(&[bos]), 1) {
            context[0] = (bos, backoff);
            context_len = 1;
        }
        let mut total = 0.0f64;
        for &word in words.iter().chain([&vocabulary.eos()]) {
            let mut key = [WordId(0); MAX_ORDER];
            key[0] = vocabulary.clamp(word);
            let keep = context_len.min(order - 1);
            for (slot, &(w, _)) in key[1..].iter_mut().zip(&context[..keep]) {
                *slot = w;
            }
            let mut log_prob = 0.0;
            let mut matched = 0;
            let mut next = [(WordId(0), 0.0f32); MAX_ORDER];
            let mut next_len = 0;
            for k in 0..=keep {
                let found = self.find(&key, k + 1);
                if let Some((prob, _)) = found {
                    log_prob = prob;
                    matched = k + 1;
                }
                if k + 1 < order {
                    next[next_len] = (key[k], found.map_or(0.0, |(_, backoff)| backoff));
                    next_len += 1;
                }
            }
            for &(_, backoff) in &context[matched.max(1) - 1..keep] {
                log_prob += backoff;
            }
            total += f64::from(log_prob);
            context = next;
            context_len = next_len;
        }
        total
    }
}

fn pad(words: &[WordId]) -> [WordId; MAX_ORDER] {
    let mut key = [WordId(0); MAX_ORDER];
    key[..words.len()].copy_from_slice(words);
    key
}

/// Runs `f`, returning how much CPU time this thread spent in it (from Linux's
/// `/proc/thread-self/schedstat`, so that other processes on a busy machine do not count), or
/// the wall-clock time where that is unavailable.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let cpu_started = thread_cpu_time();
    let value = f();
    match (cpu_started, thread_cpu_time()) {
        (Some(start), Some(end)) => (value, end.saturating_sub(start)),
        _ => (value, started.elapsed()),
    }
}

fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn ns_per(duration: Duration, count: usize) -> f64 {
    duration.as_secs_f64() * 1e9 / count.max(1) as f64
}
