//! Text to terms: words, stop words, number folding, a small desktop synonym table, light stemming.
//!
//! Every index in this crate sees text only through [`terms`] (and [`words`] for character
//! n-grams), so documents and requests are normalised the same way.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The term every number (digits or a number word) becomes: "10 minutes" and "ten minutes"
/// look alike, and no document is about one particular number. A text counts it once: that
/// it holds a number says something, how many (a date and time has five) does not.
pub(crate) const NUMBER: &str = "#num";

/// Lowercase words: letters and digits; `snake_case`, `camelCase`, `kebab-case`, paths and
/// addresses are split; a digit run is its own word; `what's` is `what`.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '\u{2019}' {
            // An English clitic ('s 're 'll 'm 't 've 'd) ends the word and is dropped.
            while chars.peek().is_some_and(|c| c.is_alphabetic()) {
                chars.next();
            }
            flush(&mut word, &mut out);
            prev = None;
            continue;
        }
        if !c.is_alphanumeric() {
            flush(&mut word, &mut out);
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let camel = p.is_lowercase() && c.is_uppercase();
            let digit_edge = p.is_ascii_digit() != c.is_ascii_digit();
            if camel || digit_edge {
                flush(&mut word, &mut out);
            }
        }
        word.extend(c.to_lowercase());
        prev = Some(c);
    }
    flush(&mut word, &mut out);
    out
}

fn flush(word: &mut String, out: &mut Vec<String>) {
    if !word.is_empty() {
        out.push(std::mem::take(word));
    }
}

/// The clauses of a request joined by "and", "then", "also" or punctuation, each with at least
/// one term ("pause the music and lock the screen": two). A single clause when there is none.
pub(crate) fn clauses(request: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut has_term = false;
    let bytes = request.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let separator_len = if matches!(c, b',' | b';' | b'!' | b'?') {
            1
        } else if (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) && c.is_ascii_alphabetic() {
            let end = (i..bytes.len())
                .find(|&j| !bytes[j].is_ascii_alphanumeric())
                .unwrap_or(bytes.len());
            let word = &request[i..end];
            if matches!(word.to_ascii_lowercase().as_str(), "and" | "then" | "also") {
                word.len()
            } else {
                if !has_term && term(&word.to_lowercase()).is_some() {
                    has_term = true;
                }
                i = end;
                continue;
            }
        } else {
            i += 1;
            continue;
        };
        if has_term {
            parts.push(&request[start..i]);
        }
        i += separator_len;
        start = i;
        has_term = false;
    }
    if has_term {
        parts.push(&request[start..]);
    }
    parts
}

/// The terms a text is indexed and searched by, in order: repeats kept, except numbers.
pub(crate) fn terms(text: &str) -> Vec<String> {
    let mut seen_number = false;
    words(text)
        .iter()
        .filter_map(|w| term(w))
        .filter(|t| !(t == NUMBER && std::mem::replace(&mut seen_number, true)))
        .collect()
}

/// One lowercase word as a term: `None` for a stop word.
pub(crate) fn term(word: &str) -> Option<String> {
    if is_stop_word(word) {
        return None;
    }
    if word.bytes().all(|b| b.is_ascii_digit()) || is_number_word(word) {
        return Some(NUMBER.to_string());
    }
    if let Some(canonical) = synonym(word) {
        return Some(canonical.to_string());
    }
    let stemmed = stem(word);
    if let Some(canonical) = synonym(&stemmed) {
        return Some(canonical.to_string());
    }
    Some(stemmed)
}

/// Function words and fillers. "up" is one ("look up", "pick up", "fire up" outnumber "turn
/// it up"), "one" too ("start a new one"); "down", "all", "next", "off" are not.
#[rustfmt::skip]
pub(crate) fn is_stop_word(word: &str) -> bool {
    matches!(
        word,
        "a" | "an" | "the" | "and" | "or" | "but" | "if" | "then" | "of" | "to" | "in" | "on" |
            "at" | "by" | "for" | "with" | "from" | "into" | "onto" | "about" | "as" | "is" |
            "are" | "was" | "were" | "be" | "been" | "am" | "do" | "does" | "did" | "have" |
            "has" | "had" | "got" | "i" | "me" | "my" | "mine" | "you" | "your" | "we" | "us" |
            "our" | "it" | "its" | "this" | "that" | "these" | "those" | "there" | "here" |
            "what" | "which" | "who" | "when" | "where" | "why" | "how" | "can" | "could" |
            "would" | "should" | "will" | "shall" | "may" | "might" | "must" | "please" | "pls" |
            "uh" | "um" | "uhm" | "er" | "erm" | "hmm" | "like" | "just" | "so" | "some" | "any" |
            "also" | "too" | "very" | "really" | "okay" | "ok" | "hey" | "thanks" | "thank" |
            "want" | "wanna" | "need" | "let" | "lets" | "e" | "g" | "s" | "t" | "not" | "no" |
            "up" | "whatever" | "anything" | "something" | "them" | "they" | "their" | "him" |
            "her" | "his" | "she" | "he" | "one"
    )
}

#[rustfmt::skip]
fn is_number_word(word: &str) -> bool {
    matches!(
        word,
        "zero" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine" | "ten" |
            "eleven" | "twelve" | "thirteen" | "fourteen" | "fifteen" | "sixteen" | "seventeen" |
            "eighteen" | "nineteen" | "twenty" | "thirty" | "forty" | "fifty" | "sixty" |
            "seventy" | "eighty" | "ninety" | "hundred" | "thousand" | "million" | "billion" |
            "half" | "quarter" | "dozen" | "pi"
    )
}

/// Words that mean the same thing to a desktop assistant, folded onto one term. Each word
/// belongs to one class; a word that means different things in different tools (`start`,
/// `stop`, `add`, `find`, `save`) is deliberately absent.
#[rustfmt::skip]
const SYNONYMS: &[(&str, &[&str])] = &[
    ("music", &["music", "song", "songs", "track", "tracks", "tune", "tunes", "playback",
        "playlist", "album", "video", "videos", "movie", "podcast"]),
    ("next", &["next", "skip", "forward"]),
    ("previous", &["previous", "prev", "rewind"]),
    ("volume", &["volume", "louder", "quieter", "loud", "quiet", "softer", "sound", "audio",
        "speaker", "speakers", "loudness"]),
    ("mute", &["mute", "unmute", "muted", "silence", "silent"]),
    ("remind", &["remind", "reminder", "reminders", "reminded", "remember", "forget",
        "notification"]),
    ("timer", &["timer", "timers", "countdown", "stopwatch"]),
    ("note", &["note", "notes", "memo", "memos", "jot", "notepad"]),
    ("email", &["email", "emails", "mail", "mails", "inbox", "cc", "bcc"]),
    ("calendar", &["calendar", "calendars", "schedule", "agenda", "appointment", "appointments",
        "event", "events", "meeting", "meetings", "diary", "icalendar"]),
    ("contact", &["contact", "contacts", "phone", "vcard", "vcf", "addressbook"]),
    ("clipboard", &["clipboard", "copy", "copied", "paste", "pasted"]),
    ("app", &["app", "apps", "application", "applications", "program", "programs"]),
    ("launch", &["launch", "launches", "launched", "fire"]),
    ("web", &["web", "internet", "online", "google", "bing", "duckduckgo", "browser"]),
    ("url", &["url", "urls", "link", "links", "website", "websites", "site", "sites", "webpage",
        "http", "https", "www", "com", "org", "net"]),
    ("file", &["file", "files", "document", "documents", "doc", "docs", "folder", "folders",
        "directory", "directories", "pdf", "txt", "docx", "xlsx", "csv", "png", "jpg", "jpeg",
        "odt", "ods", "spreadsheet", "spreadsheets"]),
    ("screen", &["screen", "screens", "desktop", "computer", "pc", "laptop", "display", "monitor"]),
    ("time", &["time", "clock", "oclock"]),
    ("date", &["date", "day", "weekday", "today", "tomorrow", "yesterday", "tonight"]),
    ("timezone", &["timezone", "zone"]),
    ("calc", &["calculate", "calculation", "compute", "math", "arithmetic", "plus", "minus",
        "times", "multiply", "multiplied", "divide", "divided", "sqrt", "square", "root",
        "squared", "power", "sum", "evaluate", "expression"]),
    ("unit", &["unit", "units", "meter", "meters", "metre", "metres", "km", "cm", "mm",
        "kilometer", "kilometers", "kilometre", "kilometres", "centimeter", "centimeters",
        "millimeter", "millimeters", "mile", "miles", "feet", "foot", "inch", "inches", "yard",
        "yards", "gram", "grams", "kg", "kilo", "kilos", "kilogram", "kilograms", "milligram",
        "milligrams", "pound", "pounds", "lb", "lbs", "ounce", "ounces", "oz", "stone", "stones",
        "tonne", "tonnes", "ton", "tons", "celsius", "fahrenheit", "kelvin", "degree", "degrees",
        "liter", "liters", "litre", "litres", "ml", "milliliter", "milliliters", "gallon",
        "gallons", "pint", "pints", "quart", "quarts", "cup", "cups", "teaspoon", "teaspoons",
        "tablespoon", "tablespoons", "byte", "bytes", "kilobyte", "kilobytes", "megabyte",
        "megabytes", "gigabyte", "gigabytes", "terabyte", "terabytes", "kb", "mb", "gb", "tb",
        "mph", "kph", "knot", "knots", "mebibyte", "mebibytes", "gibibyte", "gibibytes"]),
    ("hour", &["hour", "hours", "hr", "hrs"]),
    ("minute", &["minute", "minutes", "min", "mins"]),
    ("second", &["second", "seconds", "sec", "secs"]),
    ("convert", &["convert", "conversion", "converts", "converted"]),
    ("cancel", &["cancel", "cancels", "cancelled", "abort", "kill", "clear"]),
    ("export", &["export", "exports", "exported", "backup", "dump"]),
];

fn synonym_table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        for (canonical, words) in SYNONYMS {
            for word in *words {
                table.insert(*word, *canonical);
            }
        }
        table
    })
}

pub(crate) fn synonym(word: &str) -> Option<&'static str> {
    synonym_table().get(word).copied()
}

/// Every word of the synonym table with its term, for typo lookup.
pub(crate) fn synonym_words() -> impl Iterator<Item = (&'static str, &'static str)> {
    SYNONYMS
        .iter()
        .flat_map(|(canonical, words)| words.iter().map(move |w| (*w, *canonical)))
}

/// Light suffix stripping for English (plural, -ing, -ed, final e), so that "notes",
/// "noting" and "noted" meet. Crude on purpose: both sides get the same treatment, so only
/// collisions matter, and the suffixes stripped are the ones desktop requests use.
pub(crate) fn stem(word: &str) -> String {
    let mut w = word.to_string();
    let n = w.len();
    if !w.is_ascii() || n <= 3 {
        return w;
    }
    if w.ends_with("ies") && n > 4 {
        w.truncate(n - 3);
        w.push('y');
    } else if w.ends_with("sses")
        || w.ends_with("ches")
        || w.ends_with("shes")
        || w.ends_with("xes")
    {
        w.truncate(n - 2);
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.truncate(n - 1);
    } else if w.ends_with("ing") && n > 5 {
        w.truncate(n - 3);
        undouble(&mut w);
    } else if w.ends_with("ed") && n > 4 {
        w.truncate(n - 2);
        undouble(&mut w);
    }
    if w.len() > 3 && w.ends_with('e') {
        w.pop();
    }
    w
}

fn undouble(w: &mut String) {
    let b = w.as_bytes();
    let n = b.len();
    if n >= 2 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z') {
        w.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_names_paths_and_numbers() {
        assert_eq!(words("timer_start"), ["timer", "start"]);
        assert_eq!(words("getWeatherForecast"), ["get", "weather", "forecast"]);
        assert_eq!(
            words("what's 3pm at news.ycombinator.com?"),
            ["what", "3", "pm", "at", "news", "ycombinator", "com"]
        );
        assert_eq!(words("Don’t"), ["don"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn clauses_split_at_conjunctions() {
        assert_eq!(
            clauses("pause the music and lock the screen"),
            ["pause the music ", " lock the screen"]
        );
        assert_eq!(
            clauses("open firefox, spotify and then uh"),
            ["open firefox", " spotify "]
        );
        assert_eq!(clauses("brandy andante"), ["brandy andante"]);
        assert!(clauses("and the").is_empty());
    }

    #[test]
    fn terms_fold_numbers_synonyms_and_suffixes() {
        assert_eq!(
            terms("set a timer for ten minutes"),
            ["set", "timer", NUMBER, "minute"]
        );
        assert_eq!(terms("Play the next song"), ["play", "next", "music"]);
        assert_eq!(terms("notes memo"), ["note", "note"]);
        assert_eq!(terms("running stopped"), ["run", "stop"]);
        assert_eq!(terms("uh the of"), Vec::<String>::new());
    }
}
