//! The tokenizer for command text, shared by estimation and scoring so that both see the same
//! words.

/// Splits `text` into lowercase words: runs of letters, digits and apostrophes. Everything else
/// separates words; apostrophes at a word's ends are dropped ("'groceries'" -> "groceries",
/// "don't" stays). Case folding is Unicode's.
///
/// ```
/// assert_eq!(
///     sotto_ngram::tokenize("Create a note called \"Groceries\", don't wait 5 min!"),
///     ["create", "a", "note", "called", "groceries", "don't", "wait", "5", "min"]
/// );
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        let trimmed = word.trim_matches(is_apostrophe);
        if !trimmed.is_empty() {
            words.push(trimmed.replace('\u{2019}', "'"));
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || is_apostrophe(c) {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word);
        }
    }
    flush(&mut word);
    words
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(tokenize(text), expected, "{text:?}");
    }

    #[test]
    fn splits_and_normalises() {
        check("", &[]);
        check("  ...  ", &[]);
        check("Hello, World", &["hello", "world"]);
        check("it's O\u{2019}Brien's", &["it's", "o'brien's"]);
        check("'quoted' ''", &["quoted"]);
        check(
            "set a timer for 10 minutes.",
            &["set", "a", "timer", "for", "10", "minutes"],
        );
        check("e-mail Zoë", &["e", "mail", "zoë"]);
        check("ÄBC", &["äbc"]);
    }
}
