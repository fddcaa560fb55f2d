//! ToolRAG: picks the tools relevant to a request, and the in-context examples most like it.
//!
//! The planner cannot put every tool in its small model's prompt once plugins bring hundreds,
//! so it asks a [`ToolIndex`] for the few tools a request needs, and an [`ExampleIndex`] for
//! the worked examples most like it. Pure Rust: no IO, no model, no other Sotto crate, so
//! anything that has a name and a description (a BFCL function list too) can be indexed.
//!
//! ```
//! use sotto_toolrag::{ToolDoc, ToolIndex};
//!
//! let index = ToolIndex::build(vec![
//!     ToolDoc::new("timer_start", "Starts a countdown timer.")
//!         .with_examples(["set a timer for five minutes"]),
//!     ToolDoc::new("volume", "Turns the sound volume up or down."),
//!     ToolDoc::new("note_create", "Creates a new note with a title and text."),
//! ]);
//! let best = index.search("make it louder", 2);
//! assert_eq!(best[0].name, "volume");
//! ```
//!
//! # How it was chosen
//! Every method shares one text pipeline (`text`): words split at `snake_case`, `camelCase`
//! and punctuation; stop words out; every number one term; a small table of desktop synonyms
//! (song/track/music, louder/volume, remind/reminder, tomorrow/date, ...); light suffix
//! stripping; and a misspelt word corrected to the known terms within one edit that share its
//! first letter. A compound request is also scored clause by clause ("... and ..."). Three
//! scorers were measured with `examples/recall.rs` on the planner's development set
//! (`tests/plans/dev.jsonl`: 146 requests needing 1-3 of the 28 built-in tools, 22 needing
//! none), tools indexed by name, description, argument text and example utterances:
//!
//! | method | top-1 (single) | R@3 | R@5 | R@8 | R@5 typos | R@5 500 tools | R@5 no examples | none AUC | µs (28 / 500 tools) |
//! |---|---|---|---|---|---|---|---|---|---|
//! | **tfidf** (words + trigrams, cosine) | **0.936** | 0.952 | **0.986** | **1.000** | 0.979 | **0.966** | 0.952 | **0.950** | 12 / 22 |
//! | bm25 | 0.904 | **0.959** | 0.966 | 1.000 | 0.966 | 0.966 | **0.959** | 0.931 | 10 / 25 |
//! | hybrid (mean of both) | 0.926 | 0.952 | 0.986 | 1.000 | **0.986** | 0.959 | 0.959 | 0.950 | 20 / 34 |
//! | nearest example (removed; measured earlier, weaker pipeline) | — | 0.890 | 0.952 | 0.973 | 0.932 | 0.925 | — | 0.897 | 23 / 52 |
//!
//! R@k: the share of requests all of whose tools are in the top k. top-1 (single): the 94
//! one-tool requests whose tool comes first. "typos": one edit in three of four words of five
//! letters or more. "500 tools": the built-ins among 472 synthetic plugin-like tools. "no
//! examples": as a BFCL function list. "none AUC": how well the best score tells the 22
//! requests no tool serves from the rest. Times: mean per query, release build, 2 cores
//! shared with other work (p95: 21 µs for 28 tools, 38 µs for 500).
//!
//! **TF-IDF wins for tools** and is [`ToolIndex::build`]'s method: against BM25 it puts the
//! tool of 3 more single-tool requests first (88 of 94 against 85), finds every tool of 3
//! more requests in the top 5 (144 of 146 against 141) and of 2 more with typos, and
//! separates unserved requests better; BM25 finds 1 more in the top 3 and 1 more without
//! examples, and is slightly faster, but everything is far under a millisecond. The hybrid
//! costs both for one typo case, and the nearest-example scorer lost everywhere, so it was
//! removed. The argument text is worth giving: without it TF-IDF's top-1 drops to 0.904.
//! **BM25 wins for examples** ([`ExampleIndex::build`]): the top example's tool is one the
//! request needs for 81% of requests against 75% with TF-IDF. The differences are a few
//! requests on a development set the synonym table was written against (a held-out set
//! should confirm them); with 146 requests one request is 0.7 points.
//!
//! Scores run from 0 (nothing in common) to 1. Requests no tool serves average 0.14 at the
//! top, served ones 0.43, but the ranges overlap: the planner's model, not a
//! threshold here, decides that nothing fits.

mod bm25;
mod fuzzy;
mod text;
mod vector;

use bm25::Bm25;
use vector::VectorSpace;

/// What the index knows about one tool. Only text: a plugin's manifest, a built-in's, or a
/// BFCL-style function (name and description, perhaps arguments, no examples) all fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDoc {
    /// The tool's name; its words count most (`timer_start` is "timer start").
    pub name: String,
    pub description: String,
    /// The arguments as plain text: their names, descriptions and enum values (measured: a
    /// single-tool request's tool comes first 3 points more often with them).
    pub arguments: String,
    /// Example requests the tool serves.
    pub examples: Vec<String>,
}

impl ToolDoc {
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> ToolDoc {
        ToolDoc {
            name: name.into(),
            description: description.into(),
            arguments: String::new(),
            examples: Vec::new(),
        }
    }

    pub fn with_arguments(mut self, arguments: impl Into<String>) -> Self {
        self.arguments = arguments.into();
        self
    }

    pub fn with_examples(mut self, examples: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.examples.extend(examples.into_iter().map(Into::into));
        self
    }
}

/// A tool and how well it matches a request: 0 (nothing in common) to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub name: String,
    pub score: f32,
}

/// How an index scores (see the crate documentation for how they compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// TF-IDF cosine over word terms and character trigrams, one vector per tool (name words,
    /// description, arguments and examples together). The default for tools.
    Tfidf,
    /// Okapi BM25 over word terms, one document per tool. The default for examples.
    Bm25,
    /// The mean of [`Method::Bm25`] and [`Method::Tfidf`].
    Hybrid,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Tfidf, Method::Bm25, Method::Hybrid];

    pub fn name(self) -> &'static str {
        match self {
            Method::Bm25 => "bm25",
            Method::Tfidf => "tfidf",
            Method::Hybrid => "hybrid",
        }
    }
}

/// Field weights: a word of the name counts as much as this many words of the description
/// or of the arguments' text (name weights 1 to 5 and example weights 0.5 to 2 measured
/// within a request or two of each other).
const NAME_WEIGHT: f32 = 3.0;
const DESCRIPTION_WEIGHT: f32 = 1.0;
const EXAMPLE_WEIGHT: f32 = 1.0;
/// A compound request's score is its whole score plus this much of its best clause's (then
/// scaled back to 0..=1): taking the plain maximum let a short clause ("copy that") lift
/// unrelated tools, and a weight of 0.5 kept recall while better separating requests no
/// tool serves.
const CLAUSE_WEIGHT: f32 = 0.5;

/// The tools, indexed for [`ToolIndex::search`].
#[derive(Debug)]
pub struct ToolIndex {
    names: Vec<String>,
    method: Method,
    engine: Engine,
}

#[derive(Debug)]
enum Engine {
    Bm25(Bm25),
    Vector(VectorSpace),
    Hybrid(Bm25, VectorSpace),
}

fn bm25_terms(doc: &ToolDoc) -> Vec<(String, f32)> {
    let mut terms = Vec::new();
    let mut add = |text: &str, weight: f32| {
        terms.extend(text::terms(text).into_iter().map(|t| (t, weight)));
    };
    add(&doc.name, NAME_WEIGHT);
    add(&doc.description, DESCRIPTION_WEIGHT);
    add(&doc.arguments, DESCRIPTION_WEIGHT);
    for example in &doc.examples {
        add(example, EXAMPLE_WEIGHT);
    }
    terms
}

fn vector_texts(doc: &ToolDoc) -> Vec<(&str, f32)> {
    let mut texts = vec![
        (doc.name.as_str(), NAME_WEIGHT),
        (doc.description.as_str(), DESCRIPTION_WEIGHT),
        (doc.arguments.as_str(), DESCRIPTION_WEIGHT),
    ];
    texts.extend(doc.examples.iter().map(|e| (e.as_str(), EXAMPLE_WEIGHT)));
    texts
}

impl ToolIndex {
    /// Indexes the tools with [`Method::Tfidf`], the best measured for tools.
    pub fn build(docs: Vec<ToolDoc>) -> ToolIndex {
        ToolIndex::build_with(docs, Method::Tfidf)
    }

    pub fn build_with(docs: Vec<ToolDoc>, method: Method) -> ToolIndex {
        let engine = match method {
            Method::Bm25 => Engine::Bm25(Bm25::build(
                &docs.iter().map(bm25_terms).collect::<Vec<_>>(),
            )),
            Method::Tfidf => Engine::Vector(VectorSpace::build(
                &docs.iter().map(vector_texts).collect::<Vec<_>>(),
            )),
            Method::Hybrid => Engine::Hybrid(
                Bm25::build(&docs.iter().map(bm25_terms).collect::<Vec<_>>()),
                VectorSpace::build(&docs.iter().map(vector_texts).collect::<Vec<_>>()),
            ),
        };
        ToolIndex {
            names: docs.into_iter().map(|d| d.name).collect(),
            method,
            engine,
        }
    }

    pub fn method(&self) -> Method {
        self.method
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every tool's score for the request (0..=1), in the order the tools were given. A
    /// compound request ("set a timer and add a note") also scores each clause, which names
    /// its tool more clearly than the whole does; see `CLAUSE_WEIGHT`.
    pub fn scores(&self, request: &str) -> Vec<f32> {
        let mut scores = self.scores_of(request);
        let parts = text::clauses(request);
        if parts.len() > 1 {
            let mut best = vec![0.0f32; scores.len()];
            for part in parts {
                for (b, p) in best.iter_mut().zip(self.scores_of(part)) {
                    *b = b.max(p);
                }
            }
            for (s, b) in scores.iter_mut().zip(best) {
                *s = (*s + CLAUSE_WEIGHT * b) / (1.0 + CLAUSE_WEIGHT);
            }
        }
        scores
    }

    fn scores_of(&self, request: &str) -> Vec<f32> {
        match &self.engine {
            Engine::Bm25(bm25) => bm25.scores(request),
            Engine::Vector(space) => space.scores(request),
            Engine::Hybrid(bm25, space) => bm25
                .scores(request)
                .into_iter()
                .zip(space.scores(request))
                .map(|(a, b)| (a + b) / 2.0)
                .collect(),
        }
    }

    /// The `k` best tools for the request, best first; ties are broken by name. Every tool
    /// is scored, so with `k >= len()` all tools come back, unrelated ones with score 0.
    pub fn search(&self, request: &str, k: usize) -> Vec<Ranked> {
        let scores = self.scores(request);
        let by_rank = |a: &usize, b: &usize| {
            scores[*b]
                .total_cmp(&scores[*a])
                .then_with(|| self.names[*a].cmp(&self.names[*b]))
        };
        best_k((0..self.names.len()).collect(), k, by_rank)
            .into_iter()
            .map(|i| Ranked {
                name: self.names[i].clone(),
                score: scores[i],
            })
            .collect()
    }
}

/// In-context examples (an utterance and any payload, such as its plan), found by how much
/// their utterance is like the request.
#[derive(Debug)]
pub struct ExampleIndex {
    examples: Vec<(String, String)>,
    engine: ExampleEngine,
}

#[derive(Debug)]
enum ExampleEngine {
    Bm25(Bm25),
    Vector(VectorSpace),
    Hybrid(Bm25, VectorSpace),
}

impl ExampleIndex {
    /// Indexes `(utterance, payload)` pairs with [`Method::Bm25`], the best measured for
    /// examples.
    pub fn build(examples: Vec<(String, String)>) -> ExampleIndex {
        ExampleIndex::build_with(examples, Method::Bm25)
    }

    pub fn build_with(examples: Vec<(String, String)>, method: Method) -> ExampleIndex {
        let bm25 = || {
            let docs: Vec<Vec<(String, f32)>> = examples
                .iter()
                .map(|(u, _)| text::terms(u).into_iter().map(|t| (t, 1.0)).collect())
                .collect();
            Bm25::build(&docs)
        };
        let space = || {
            let docs: Vec<Vec<(&str, f32)>> = examples
                .iter()
                .map(|(u, _)| vec![(u.as_str(), 1.0)])
                .collect();
            VectorSpace::build(&docs)
        };
        let engine = match method {
            Method::Bm25 => ExampleEngine::Bm25(bm25()),
            Method::Tfidf => ExampleEngine::Vector(space()),
            Method::Hybrid => ExampleEngine::Hybrid(bm25(), space()),
        };
        ExampleIndex { examples, engine }
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The example at `index`: (utterance, payload).
    pub fn get(&self, index: usize) -> Option<(&str, &str)> {
        self.examples
            .get(index)
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The `k` examples most like the request: (index, score 0..=1), best first, ties by
    /// index.
    pub fn search(&self, request: &str, k: usize) -> Vec<(usize, f32)> {
        let scores = match &self.engine {
            ExampleEngine::Bm25(bm25) => bm25.scores(request),
            ExampleEngine::Vector(space) => space.scores(request),
            ExampleEngine::Hybrid(bm25, space) => bm25
                .scores(request)
                .into_iter()
                .zip(space.scores(request))
                .map(|(a, b)| (a + b) / 2.0)
                .collect(),
        };
        let order: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
        best_k(order, k, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)))
    }
}

/// The first `k` items in `order`, sorted; the rest are only partitioned away (with 500 tools
/// mostly scoring 0, sorting them all by name cost more than scoring).
fn best_k<T>(mut items: Vec<T>, k: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    if k == 0 {
        return Vec::new();
    }
    if k < items.len() {
        items.select_nth_unstable_by(k - 1, &order);
        items.truncate(k);
    }
    items.sort_by(order);
    items
}
