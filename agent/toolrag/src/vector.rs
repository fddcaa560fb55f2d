//! TF-IDF vectors over word terms and character trigrams, compared by cosine. The trigrams
//! make misspellings and word variants the stemmer misses partly match.

use std::collections::HashMap;

use crate::bm25::CORRECTED_WEIGHT;
use crate::fuzzy::Corrector;
use crate::text;

/// How much all of a word's character trigrams weigh together, against 1 for the word term.
const TRIGRAMS_WEIGHT: f32 = 1.0;

/// The features of a text: `w:term` per word term and `c:abc` per trigram of each (non-stop)
/// word, each scaled by `weight`.
pub(crate) fn features(text: &str, weight: f32, out: &mut Vec<(String, f32)>) {
    features_with(text, weight, out, |_, term| {
        vec![(format!("w:{term}"), weight)]
    });
}

/// [`features`], with the word features chosen by `word_features(word, term)`.
fn features_with(
    text: &str,
    weight: f32,
    out: &mut Vec<(String, f32)>,
    mut word_features: impl FnMut(&str, &str) -> Vec<(String, f32)>,
) {
    let mut seen_number = false;
    for word in text::words(text) {
        let Some(term) = text::term(&word) else {
            continue;
        };
        if term == text::NUMBER {
            // Counted once per text, as in `text::terms`.
            if !std::mem::replace(&mut seen_number, true) {
                out.extend(word_features(&word, &term));
            }
            continue;
        }
        out.extend(word_features(&word, &term));
        let padded: Vec<char> = format!("#{word}#").chars().collect();
        let grams = padded.len().saturating_sub(2);
        for window in padded.windows(3) {
            let gram: String = window.iter().collect();
            out.push((format!("c:{gram}"), weight * TRIGRAMS_WEIGHT / grams as f32));
        }
    }
}

#[derive(Debug)]
pub(crate) struct VectorSpace {
    features: HashMap<String, u32>,
    idf: Vec<f32>,
    /// feature -> (document, weight in the document's unit vector)
    postings: Vec<Vec<(u32, f32)>>,
    /// Misspelt words are corrected to known word terms (the trigrams alone recover little).
    corrector: Corrector,
    n_docs: usize,
}

impl VectorSpace {
    pub(crate) fn build(docs: &[Vec<(String, f32)>]) -> VectorSpace {
        let mut features: HashMap<String, u32> = HashMap::new();
        let mut doc_tf: Vec<HashMap<u32, f32>> = Vec::with_capacity(docs.len());
        let mut df: Vec<u32> = Vec::new();
        for doc in docs {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            for (feature, weight) in doc {
                let next = features.len() as u32;
                let id = *features.entry(feature.clone()).or_insert(next);
                if id as usize == df.len() {
                    df.push(0);
                }
                *tf.entry(id).or_default() += weight;
            }
            for id in tf.keys() {
                df[*id as usize] += 1;
            }
            doc_tf.push(tf);
        }
        let n = docs.len() as f32;
        // Smoothed idf, as scikit-learn's: never zero, so a feature every document has still
        // counts a little.
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); df.len()];
        for (d, tf) in doc_tf.into_iter().enumerate() {
            let mut vector: Vec<(u32, f32)> = tf
                .into_iter()
                .map(|(id, f)| (id, sublinear(f) * idf[id as usize]))
                .collect();
            vector.sort_by_key(|(id, _)| *id);
            let norm = vector.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (id, w) in vector {
                    postings[id as usize].push((d as u32, w / norm));
                }
            }
        }
        let corrector = Corrector::for_terms(features.keys().filter_map(|f| f.strip_prefix("w:")));
        VectorSpace {
            corrector,
            features,
            idf,
            postings,
            n_docs: docs.len(),
        }
    }

    /// Cosine similarity of the request with every document, 0..=1.
    pub(crate) fn scores(&self, request: &str) -> Vec<f32> {
        let mut raw = Vec::new();
        features_with(request, 1.0, &mut raw, |word, term| {
            let feature = format!("w:{term}");
            if self.features.contains_key(&feature) {
                return vec![(feature, 1.0)];
            }
            let known = self.corrector.resolve(word, term);
            if known.is_empty() {
                return vec![(feature, 1.0)];
            }
            let share = CORRECTED_WEIGHT / known.len() as f32;
            known
                .into_iter()
                .map(|k| (format!("w:{k}"), share))
                .collect()
        });
        let mut query: HashMap<u32, f32> = HashMap::new();
        let mut norm = 0.0f32;
        let mut tf: HashMap<&str, f32> = HashMap::new();
        for (feature, weight) in &raw {
            *tf.entry(feature.as_str()).or_default() += weight;
        }
        for (feature, f) in tf {
            // An unknown feature still lengthens the request's vector, so a request of
            // unknown words scores low against everything.
            let idf = match self.features.get(feature) {
                Some(&id) => {
                    let w = sublinear(f) * self.idf[id as usize];
                    query.insert(id, w);
                    self.idf[id as usize]
                }
                None => (1.0 + self.n_docs as f32).ln() + 1.0,
            };
            let w = sublinear(f) * idf;
            norm += w * w;
        }
        let mut scores = vec![0.0f32; self.n_docs];
        if norm <= 0.0 {
            return scores;
        }
        let norm = norm.sqrt();
        for (id, w) in query {
            for &(doc, dw) in &self.postings[id as usize] {
                scores[doc as usize] += w * dw / norm;
            }
        }
        scores
    }
}

fn sublinear(tf: f32) -> f32 {
    if tf > 1.0 {
        1.0 + tf.ln()
    } else {
        tf
    }
}
