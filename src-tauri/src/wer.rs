//! Word error rate, with the text normalisation speech evaluations need: case, punctuation
//! and number words ("press 1" and "press one" are the same answer).

/// Lowercase words, punctuation dropped, digits spelled out, hyphens split.
pub fn normalize(text: &str) -> Vec<String> {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut words = Vec::new();
    for word in cleaned.split_whitespace() {
        let word = word.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        match word.parse::<u64>() {
            Ok(n) if n < 1_000_000 && !(word.len() > 1 && word.starts_with('0')) => {
                words.extend(number_words(n))
            }
            // Zero-padded or very long digit strings (phone numbers) are read digit by digit.
            Ok(_) | Err(_) if word.chars().all(|c| c.is_ascii_digit()) => {
                for digit in word.chars() {
                    words.extend(number_words(digit.to_digit(10).unwrap_or(0) as u64));
                }
            }
            _ => words.push(word.to_string()),
        }
    }
    words
}

fn number_words(n: u64) -> Vec<String> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let mut out = Vec::new();
    let mut n = n;
    if n >= 1000 {
        out.extend(number_words(n / 1000));
        out.push("thousand".into());
        n %= 1000;
        if n == 0 {
            return out;
        }
    }
    if n >= 100 {
        out.push(SMALL[(n / 100) as usize].into());
        out.push("hundred".into());
        n %= 100;
        if n == 0 {
            return out;
        }
    }
    if n >= 20 {
        out.push(TENS[(n / 10) as usize].into());
        if !n.is_multiple_of(10) {
            out.push(SMALL[(n % 10) as usize].into());
        }
    } else {
        out.push(SMALL[n as usize].into());
    }
    out
}

/// Word-level edit distance between reference and hypothesis (after normalisation).
pub fn errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    let mut previous: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut current = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let substitution = previous[j] + usize::from(rw != hw);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    (previous[h.len()], r.len())
}

/// Corpus WER: total errors over total reference words.
pub fn corpus_wer<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> f64 {
    let (mut errors_total, mut words_total) = (0, 0);
    for (reference, hypothesis) in pairs {
        let (e, n) = errors(reference, hypothesis);
        errors_total += e;
        words_total += n;
    }
    if words_total == 0 {
        0.0
    } else {
        errors_total as f64 / words_total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_equates_what_should_be_equal() {
        assert_eq!(
            normalize("Press 1, then the pound key."),
            ["press", "one", "then", "the", "pound", "key"]
        );
        assert_eq!(normalize("twenty-one"), ["twenty", "one"]);
        assert_eq!(normalize("21"), ["twenty", "one"]);
        assert_eq!(normalize("It's 10:30"), ["it's", "ten", "thirty"]);
        assert_eq!(normalize("007"), ["zero", "zero", "seven"]);
        assert_eq!(normalize("1200"), ["one", "thousand", "two", "hundred"]);
    }

    #[test]
    fn errors_count_substitutions_insertions_and_deletions() {
        let cases: &[(&str, &str, usize, usize)] = &[
            ("set a timer", "set a timer", 0, 3),
            ("set a timer", "set the timer", 1, 3),
            ("set a timer", "set a timer now", 1, 3),
            ("set a timer", "timer", 2, 3),
            ("", "hello", 1, 0),
            ("Press one.", "press 1", 0, 2),
        ];
        for (r, h, e, n) in cases {
            assert_eq!(errors(r, h), (*e, *n), "{r:?} vs {h:?}");
        }
        assert!((corpus_wer([("a b c d", "a b c x"), ("e f", "e f")]) - 1.0 / 6.0).abs() < 1e-9);
    }
}
