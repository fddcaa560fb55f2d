//! How much of the KV cache a new prompt can keep.
//!
//! The cache holds the keys and values of the tokens the previous request evaluated (its
//! prompt and the answer it generated). A new prompt that starts with the same tokens (the
//! planner's system prompt, tool list and examples) only has to evaluate the rest.

/// The number of leading tokens of `prompt` whose cache entries can be kept from `cached`
/// for a generation.
///
/// At least the last prompt token is always evaluated again, even when the whole prompt is
/// cached: its logits, which choose the first answer token, are not kept between requests.
pub fn reusable<T: PartialEq>(cached: &[T], prompt: &[T]) -> usize {
    common(cached, prompt).min(prompt.len().saturating_sub(1))
}

/// The number of leading tokens `cached` and `prompt` share: all of them can be kept when no
/// logits are needed (priming the cache).
pub fn common<T: PartialEq>(cached: &[T], prompt: &[T]) -> usize {
    cached
        .iter()
        .zip(prompt)
        .take_while(|(a, b)| a == b)
        .count()
}

#[cfg(test)]
mod tests {
    use super::{common, reusable};

    fn check(cached: &str, prompt: &str, expected: usize) {
        let cached: Vec<char> = cached.chars().collect();
        let prompt: Vec<char> = prompt.chars().collect();
        assert_eq!(
            reusable(&cached, &prompt),
            expected,
            "cached {cached:?}, prompt {prompt:?}"
        );
    }

    #[test]
    fn the_common_start_is_kept_and_the_last_prompt_token_redone() {
        check("", "abc", 0);
        check("abcxy", "abcd", 3); // a new question after the same system prompt
        check("abcd", "abcd", 3); // the same prompt again
        check("abcdxyz", "abcd", 3); // the same prompt after an answer
        check("ab", "abcd", 2); // a longer prompt
        check("xbcd", "abcd", 0);
        check("abc", "", 0);
    }

    #[test]
    fn a_primed_prefix_is_kept_whole_and_the_generation_after_it_redoes_one_token() {
        let primed: Vec<char> = "abc".chars().collect();
        assert_eq!(
            common(&primed, &primed),
            3,
            "priming again evaluates nothing"
        );
        assert_eq!(common(&['a', 'b', 'x'], &primed), 2);
        check("abc", "abcde", 3); // the generation after a prime keeps all of it
        check("abc", "abc", 2); // a generation of exactly the primed prompt needs its logits
    }
}
