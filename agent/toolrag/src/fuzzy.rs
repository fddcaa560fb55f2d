//! Typo tolerance for word-level indexes: a term the index does not know is matched to a known
//! one at edit distance 1 (SymSpell's deletion trick: two words within one edit share a
//! one-deletion variant, so lookup costs a few hash probes, not a scan of the vocabulary).

use std::collections::HashMap;

/// Shortest term that is corrected: shorter words have too many neighbours.
const MIN_LEN: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct Corrector {
    /// A word or one of its one-deletion variants -> the entries that produce it.
    variants: HashMap<String, Vec<u32>>,
    /// (spelling, term it stands for)
    entries: Vec<(String, String)>,
}

impl Corrector {
    /// `known`: (spelling, the term it stands for), e.g. ("songs", "music").
    pub(crate) fn build(known: impl IntoIterator<Item = (String, String)>) -> Corrector {
        let mut corrector = Corrector::default();
        let mut seen = HashMap::new();
        for (spelling, target) in known {
            if spelling.chars().count() < MIN_LEN || seen.contains_key(&spelling) {
                continue;
            }
            let id = corrector.entries.len() as u32;
            seen.insert(spelling.clone(), id);
            for variant in variants(&spelling) {
                let ids = corrector.variants.entry(variant).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
            corrector.entries.push((spelling, target));
        }
        corrector
    }

    /// A corrector to the given terms and to the synonym table's words whose term is one of
    /// them.
    pub(crate) fn for_terms<'a>(terms: impl IntoIterator<Item = &'a str>) -> Corrector {
        let known: std::collections::BTreeSet<&str> = terms.into_iter().collect();
        let synonyms = crate::text::synonym_words()
            .filter(|(_, canonical)| known.contains(canonical))
            .map(|(w, c)| (w.to_string(), c.to_string()))
            .collect::<Vec<_>>();
        // Sorted, so corrections never depend on hash order.
        Corrector::build(
            known
                .iter()
                .map(|t| (t.to_string(), t.to_string()))
                .chain(synonyms),
        )
    }

    /// The known terms a word that is not one may stand for: those of its spelling's
    /// corrections, else those of its term's (usually one; "timr" is "time" or "timer").
    pub(crate) fn resolve(&self, word: &str, term: &str) -> Vec<&str> {
        let found = self.correct(word);
        if found.is_empty() {
            self.correct(term)
        } else {
            found
        }
    }

    /// The terms of every entry within one edit of an unknown word that begins with the
    /// same letter (people rarely mistype the first letter, and allowing it made "bread"
    /// "read"), in build order without repeats.
    pub(crate) fn correct(&self, word: &str) -> Vec<&str> {
        let mut ids: Vec<u32> = Vec::new();
        if word.chars().count() < MIN_LEN {
            return Vec::new();
        }
        let first = word.chars().next();
        for variant in variants(word) {
            for &id in self.variants.get(&variant).into_iter().flatten() {
                let spelling = &self.entries[id as usize].0;
                if !ids.contains(&id)
                    && spelling.chars().next() == first
                    && within_one_edit(word, spelling)
                {
                    ids.push(id);
                }
            }
        }
        // A dropped or doubled letter is the commonest slip: when one explains the word
        // ("timr" -> "timer"), a changed letter ("timr" -> "time") is not also assumed.
        let length = word.chars().count();
        let changes_length = |id: &u32| self.entries[*id as usize].0.chars().count() != length;
        if ids.iter().any(changes_length) {
            ids.retain(changes_length);
        }
        ids.sort_unstable();
        let mut terms: Vec<&str> = Vec::new();
        for id in ids {
            let term = self.entries[id as usize].1.as_str();
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        terms
    }
}

/// The word itself and every one-character deletion of it.
fn variants(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::with_capacity(chars.len() + 1);
    out.push(word.to_string());
    for skip in 0..chars.len() {
        out.push(
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| c)
                .collect(),
        );
    }
    out
}

/// Optimal string alignment distance <= 1 (one insertion, deletion, substitution or
/// transposition of neighbours).
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if short.len() == long.len() {
        if prefix == short.len() {
            return true;
        }
        let i = prefix;
        // substitution
        if short[i + 1..] == long[i + 1..] {
            return true;
        }
        // transposition
        i + 1 < short.len()
            && short[i] == long[i + 1]
            && short[i + 1] == long[i]
            && short[i + 2..] == long[i + 2..]
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(within_one_edit("calender", "calendar"));
        assert!(within_one_edit("timr", "timer"));
        assert!(within_one_edit("tiemr", "timer"));
        assert!(within_one_edit("timers", "timer"));
        assert!(!within_one_edit("tmr", "timer"));
        assert!(!within_one_edit("volume", "column"));
    }

    #[test]
    fn corrects_to_the_term() {
        let c = Corrector::build([
            ("calendar".to_string(), "calendar".to_string()),
            ("songs".to_string(), "music".to_string()),
            ("set".to_string(), "set".to_string()),
        ]);
        assert_eq!(c.correct("calender"), ["calendar"]);
        assert_eq!(c.correct("sogns"), ["music"]);
        assert!(c.correct("xalendar").is_empty(), "the first letter is kept");
        assert!(
            c.correct("sett").is_empty(),
            "short entries are not corrected to"
        );
        assert!(c.correct("pizza").is_empty());
    }
}
