//! Prompt-lookup drafts: guesses of the next few tokens, taken from what followed the last
//! occurrence of the latest tokens earlier in the context.
//!
//! A plan mostly repeats what it was given: argument values copied from the request ("...
//! called groceries" -> `title="groceries"`), and the plan syntax of the worked examples
//! (`)\n2. join()`). Evaluating a guess costs little next to sampling a token one by one
//! (llama.cpp evaluates a batch of 8 tokens in not much more time than one on a CPU), and the
//! generation loop keeps a guessed token only where the model, greedy and under the grammar,
//! would have chosen it anyway: the answer does not change, only how many times the model
//! is run to write it.

/// The longest run of latest tokens looked for; longer matches are tried first, as they
/// predict better.
const LONGEST_KEY: usize = 3;

/// How many tokens a draft guesses at most: a wrong guess costs the evaluation of the
/// tokens after it, so drafts stay short.
pub const MAX_DRAFT: usize = 6;

/// Up to `max` tokens that followed the latest earlier occurrence, in `context`, of the last
/// `n` tokens of `context` (`n` from [`LONGEST_KEY`] down to 1), or nothing if they never
/// occurred before. `context` is what the model has seen and written, ending with the token
/// just chosen.
pub fn lookup<T: PartialEq + Copy>(context: &[T], max: usize) -> Vec<T> {
    for n in (1..=LONGEST_KEY.min(context.len().saturating_sub(1))).rev() {
        let key = &context[context.len() - n..];
        // Earlier occurrences only: the one ending at the end of `context` is the key.
        let found = (0..context.len() - n)
            .rev()
            .find(|&start| &context[start..start + n] == key);
        if let Some(start) = found {
            let from = start + n;
            return context[from..(from + max).min(context.len())].to_vec();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::lookup;

    fn words(text: &str) -> Vec<&str> {
        text.split(' ').collect()
    }

    #[test]
    fn continues_the_latest_earlier_occurrence_of_the_longest_key() {
        // "b c" occurs twice before the end; the later one wins.
        let context = words("a b c x y b c p q r b c");
        assert_eq!(lookup(&context, 2), ["p", "q"]);
        assert_eq!(lookup(&context, 10), ["p", "q", "r", "b", "c"]);
    }

    #[test]
    fn a_longer_key_beats_a_more_recent_shorter_one() {
        // "c" alone last occurred before "z"; "b c" before "d".
        let context = words("b c d e a c z b c");
        assert_eq!(lookup(&context, 2), ["d", "e"]);
    }

    #[test]
    fn copies_a_value_from_the_request() {
        let context = words("note called my grocery list please <end> 1. note(title= my grocery");
        assert_eq!(lookup(&context, 3), ["list", "please", "<end>"]);
    }

    #[test]
    fn nothing_to_guess_from() {
        assert!(lookup(&words("a b c d"), 4).is_empty());
        assert!(lookup::<&str>(&[], 4).is_empty());
        assert!(lookup(&["a"], 4).is_empty());
        assert!(lookup(&words("a a"), 0).is_empty());
        // The only earlier "a" is followed by the key itself.
        assert_eq!(lookup(&words("a a"), 4), ["a"]);
    }
}
