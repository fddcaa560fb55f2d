//! Nudges: logit adjustments at decision points of an answer (see `sotto_protocol::lm::Nudge`).
//!
//! Which tokens a nudge applies to depends only on the text written so far and the tokens'
//! bytes, so it is worked out here, apart from the model: the token sets are found once per
//! string by walking the vocabulary, then each step only looks them up.

use std::collections::HashMap;

use llguidance::toktrie::TokTrie;
use sotto_protocol::lm::Nudge;

/// The token sets nudges need, found once per string per loaded model.
#[derive(Debug, Default)]
pub struct NudgeTokens {
    writing: HashMap<String, Vec<u32>>,
}

impl NudgeTokens {
    /// The adjustments for the next token after `so_far`: token -> added logit.
    pub fn at(&mut self, trie: &TokTrie, nudges: &[Nudge], so_far: &str) -> HashMap<u32, f32> {
        let mut adjust = HashMap::new();
        for nudge in nudges {
            let Some(written) = written_of_after(&nudge.after, so_far) else {
                continue;
            };
            let rest = &nudge.after[written..];
            let wanted = format!("{rest}{}", nudge.text);
            let tokens = self.writing.entry(wanted).or_insert_with_key(|wanted| {
                (0..trie.vocab_size() as u32)
                    .filter(|&t| starts_writing(trie.token(t), wanted.as_bytes(), 0))
                    .collect()
            });
            for &token in tokens.iter() {
                // The token must reach past `after` into `text`.
                if trie.token(token).len() > rest.len() {
                    *adjust.entry(token).or_insert(0.0) += nudge.logit;
                }
            }
        }
        adjust
    }
}

/// How much of `after` the text so far already ends with (the longest such prefix of it), so
/// that a nudge whose `after` ends inside the next token ("1." written, " reply" next) still
/// applies. `Some(0)` when none of it is written: the next token must write all of it.
pub fn written_of_after(after: &str, so_far: &str) -> Option<usize> {
    (0..=after.len())
        .rev()
        .filter(|&k| after.is_char_boundary(k))
        .find(|&k| so_far.ends_with(&after[..k]))
}

/// Whether `token` starts writing `wanted` (is a prefix of it, or begins with it) and is
/// longer than `past` bytes.
pub fn starts_writing(token: &[u8], wanted: &[u8], past: usize) -> bool {
    token.len() > past && (wanted.starts_with(token) || token.starts_with(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_part_of_after_is_the_longest_one_the_text_ends_with() {
        assert_eq!(written_of_after("\n", "1. f()\n"), Some(1));
        assert_eq!(written_of_after("1. ", "1."), Some(2));
        assert_eq!(written_of_after("1. ", "1. "), Some(3));
        assert_eq!(written_of_after("1. ", ""), Some(0));
        assert_eq!(written_of_after("1. ", "x"), Some(0));
        assert_eq!(written_of_after("é!", "é"), Some(2));
    }

    #[test]
    fn tokens_start_writing_a_text_from_either_side() {
        assert!(starts_writing(b"join", b"join()", 0));
        assert!(starts_writing(b"join()\n", b"join()", 0));
        assert!(starts_writing(b" reply", b" reply(", 1));
        assert!(
            !starts_writing(b" ", b" reply(", 1),
            "only the rest of `after`"
        );
        assert!(!starts_writing(b"joint", b"join()", 0));
        assert!(!starts_writing(b"", b"join()", 0));
    }
}
