//! Okapi BM25 over terms, with field weights folded into term frequencies and typo correction
//! for words no document contains. Scores are normalised to 0..=1 per request.

use std::collections::HashMap;

use crate::fuzzy::Corrector;
use crate::text;

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// A corrected typo counts less than a word spelt right.
pub(crate) const CORRECTED_WEIGHT: f32 = 0.8;

#[derive(Debug)]
pub(crate) struct Bm25 {
    vocab: HashMap<String, u32>,
    /// term -> (document, weighted term frequency)
    postings: Vec<Vec<(u32, f32)>>,
    idf: Vec<f32>,
    /// K1 * (1 - B + B * length / average length), per document.
    length_norm: Vec<f32>,
    /// What a word no document contains weighs in the normaliser: as much as the rarest
    /// known word, so an unknown word makes every score smaller.
    unseen_idf: f32,
    corrector: Corrector,
    n_docs: usize,
}

impl Bm25 {
    /// `docs`: each document's terms with their weights (a field weight, repeated per use).
    pub(crate) fn build(docs: &[Vec<(String, f32)>]) -> Bm25 {
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut lengths = Vec::with_capacity(docs.len());
        for (d, doc) in docs.iter().enumerate() {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            let mut length = 0.0;
            for (term, weight) in doc {
                let next = vocab.len() as u32;
                let id = *vocab.entry(term.clone()).or_insert(next);
                if id as usize == postings.len() {
                    postings.push(Vec::new());
                }
                *tf.entry(id).or_default() += weight;
                length += weight;
            }
            let mut tf: Vec<_> = tf.into_iter().collect();
            tf.sort_by_key(|(id, _)| *id);
            for (id, f) in tf {
                postings[id as usize].push((d as u32, f));
            }
            lengths.push(length);
        }
        let n = docs.len() as f32;
        let idf_of = |df: f32| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        let idf = postings.iter().map(|p| idf_of(p.len() as f32)).collect();
        let average = (lengths.iter().sum::<f32>() / n.max(1.0)).max(1e-6);
        let length_norm = lengths
            .iter()
            .map(|l| K1 * (1.0 - B + B * l / average))
            .collect();
        Bm25 {
            corrector: Corrector::for_terms(vocab.keys().map(String::as_str)),
            vocab,
            postings,
            idf,
            length_norm,
            unseen_idf: idf_of(1.0),
            n_docs: docs.len(),
        }
    }

    /// The request's terms known to the index, with weights; and the normaliser (the best
    /// score a document could reach for these terms).
    fn query(&self, request: &str) -> (Vec<(u32, f32)>, f32) {
        let mut found: Vec<(u32, f32)> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut max_score = 0.0;
        for word in text::words(request) {
            let Some(term) = text::term(&word) else {
                continue;
            };
            if seen.contains(&term) {
                continue;
            }
            seen.push(term.clone());
            let matches: Vec<(u32, f32)> = match self.vocab.get(&term) {
                Some(&id) => vec![(id, 1.0)],
                None => {
                    let ids: Vec<u32> = self
                        .corrector
                        .resolve(&word, &term)
                        .into_iter()
                        .filter_map(|t| self.vocab.get(t).copied())
                        .collect();
                    let share = CORRECTED_WEIGHT / ids.len().max(1) as f32;
                    ids.into_iter().map(|id| (id, share)).collect()
                }
            };
            if matches.is_empty() {
                max_score += self.unseen_idf * (K1 + 1.0);
            }
            for (id, weight) in matches {
                max_score += weight * self.idf[id as usize] * (K1 + 1.0);
                match found.iter_mut().find(|(f, _)| *f == id) {
                    Some(existing) => existing.1 = existing.1.max(weight),
                    None => found.push((id, weight)),
                }
            }
        }
        (found, max_score)
    }

    /// Every document's score for the request, 0..=1 (1: every request word matched as well
    /// as BM25 allows).
    pub(crate) fn scores(&self, request: &str) -> Vec<f32> {
        let mut scores = vec![0.0f32; self.n_docs];
        let (terms, max_score) = self.query(request);
        if max_score <= 0.0 {
            return scores;
        }
        for (id, weight) in terms {
            let idf = self.idf[id as usize];
            for &(doc, tf) in &self.postings[id as usize] {
                let norm = self.length_norm[doc as usize];
                scores[doc as usize] += weight * idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        for s in &mut scores {
            *s /= max_score;
        }
        scores
    }
}
