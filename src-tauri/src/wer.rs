//! Word error rate, with the text normalisation speech evaluations need: case, punctuation,
//! number words ("press 1" and "press one" are the same answer), ordinals ("13th" and
//! "thirteenth"), contractions ("you're" and "you are") and initialisms ("P.M." and "PM"), as
//! Whisper's own English normaliser does, and the spoken names of keypad symbols ("press *" is
//! said "press star").

/// Lowercase words, punctuation dropped, digits and ordinals spelled out, contractions
/// expanded, the dots of initialisms dropped, hyphens split,
/// annotations in brackets of any kind removed (`dot [.]`, `<beep>`, `(tone plays)`: transcripts
/// note sounds and spellings that way, and nobody says them), `*` and `#` read as "star" and "pound", and
/// "one hundred" said as "hundred" (both are how people read 100).
pub fn normalize(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    let mut in_brackets = false;
    let lowered: Vec<String> = text
        .to_lowercase()
        .split_whitespace()
        .map(without_initialism_dots)
        .collect();
    for c in lowered.join(" ").chars() {
        match c {
            '[' | '(' | '<' => in_brackets = true,
            ']' | ')' | '>' => in_brackets = false,
            _ if in_brackets => {}
            '*' => cleaned.push_str(" star "),
            '#' => cleaned.push_str(" pound "),
            c if c.is_alphanumeric() || c == '\'' => cleaned.push(c),
            _ => cleaned.push(' '),
        }
    }
    let mut words = Vec::new();
    for word in cleaned.split_whitespace() {
        let word = word.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        if let Some(expanded) = contraction(word) {
            words.extend(expanded.iter().map(|w| w.to_string()));
            continue;
        }
        if let Some(ordinal) = ordinal_words(word) {
            words.extend(ordinal);
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
    let mut i = 0;
    while i + 1 < words.len() {
        let starts_number = i == 0 || !is_number_word(&words[i - 1]);
        if starts_number
            && words[i] == "one"
            && matches!(words[i + 1].as_str(), "hundred" | "thousand")
        {
            words.remove(i);
        } else {
            i += 1;
        }
    }
    words
}

/// "p.m." -> "pm", "u.s.a" -> "usa" (and "e.g." -> "eg"): single letters joined by dots are
/// one written word. Anything else ("end.", "file.txt") is left for the punctuation rule.
fn without_initialism_dots(word: &str) -> String {
    let core = word.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != '.');
    let tail = &word[core.len()..];
    let letters: Vec<&str> = core.trim_end_matches('.').split('.').collect();
    let is_initialism = letters.len() >= 2
        && letters
            .iter()
            .all(|l| l.chars().count() == 1 && l.chars().all(char::is_alphabetic));
    if is_initialism {
        format!("{}{tail}", letters.concat())
    } else {
        word.to_string()
    }
}

/// The words a contraction stands for, as Whisper's English normaliser expands them
/// ("'s" is read "is", "'d" "would": the same on both sides, whatever was meant).
fn contraction(word: &str) -> Option<Vec<&str>> {
    let whole: Option<&[&str]> = match word {
        "won't" => Some(&["will", "not"]),
        "can't" => Some(&["can", "not"]),
        "shan't" => Some(&["shall", "not"]),
        "let's" => Some(&["let", "us"]),
        "ain't" => Some(&["aint"]),
        _ => None,
    };
    if let Some(words) = whole {
        return Some(words.to_vec());
    }
    const SUFFIXES: [(&str, &str); 7] = [
        ("n't", "not"),
        ("'re", "are"),
        ("'s", "is"),
        ("'d", "would"),
        ("'ll", "will"),
        ("'ve", "have"),
        ("'m", "am"),
    ];
    SUFFIXES.iter().find_map(|(suffix, expansion)| {
        let stem = word.strip_suffix(suffix)?;
        (!stem.is_empty()).then(|| vec![stem, *expansion])
    })
}

fn is_number_word(word: &str) -> bool {
    (0..100).any(|n| number_words(n).first().is_some_and(|w| w == word))
        || matches!(word, "hundred" | "thousand")
}

/// "13th" -> ["thirteenth"], "21st" -> ["twenty", "first"]; `None` for anything else.
fn ordinal_words(word: &str) -> Option<Vec<String>> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if digits.is_empty() || !matches!(suffix, "st" | "nd" | "rd" | "th") {
        return None;
    }
    let n: u64 = digits.parse().ok().filter(|&n| n < 1_000_000)?;
    let mut words = number_words(n);
    let last = words.pop()?;
    let ordinal = match last.as_str() {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    words.push(ordinal);
    Some(words)
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
        assert_eq!(normalize("It's 10:30"), ["it", "is", "ten", "thirty"]);
        assert_eq!(normalize("you're"), normalize("you are"));
        assert_eq!(
            normalize("I'm sure we'll see"),
            normalize("I am sure we will see")
        );
        assert_eq!(normalize("don't, won't"), ["do", "not", "will", "not"]);
        assert_eq!(normalize("'quoted'"), ["quoted"]);
        assert_eq!(normalize("P.M."), ["pm"]);
        assert_eq!(
            normalize("at 5 p.m, the U.S.A."),
            ["at", "five", "pm", "the", "usa"]
        );
        assert_eq!(normalize("e.g."), ["eg"]);
        assert_eq!(normalize("end. Next"), ["end", "next"]);
        assert_eq!(normalize("a.b.c.d.e.f"), ["abcdef"]);
        assert_eq!(normalize("file.txt"), ["file", "txt"]);
        assert_eq!(normalize("007"), ["zero", "zero", "seven"]);
        assert_eq!(normalize("1200"), ["thousand", "two", "hundred"]);
        assert_eq!(normalize("13th."), ["thirteenth"]);
        assert_eq!(normalize("the 21st"), ["the", "twenty", "first"]);
        assert_eq!(
            normalize("40th 2nd 3rd 5th 12th"),
            ["fortieth", "second", "third", "fifth", "twelfth"]
        );
        assert_eq!(normalize("100."), ["hundred"]);
        assert_eq!(normalize("one hundred"), ["hundred"]);
        assert_eq!(
            normalize("twenty one hundred"),
            ["twenty", "one", "hundred"]
        );
        assert_eq!(normalize("dot [.]"), ["dot"]);
        assert_eq!(normalize("the key. (tone plays)"), ["the", "key"]);
        assert!(normalize("<beep descending>").is_empty());
        assert_eq!(
            normalize("press * then #"),
            ["press", "star", "then", "pound"]
        );
        assert_eq!(normalize("4th-floor"), ["fourth", "floor"]);
        assert_eq!(normalize("mp3"), ["mp3"]);
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
