//! Numbers as people say them: `10`, `2.5`, `ten`, `twenty five`, `a hundred and twenty`,
//! `a` / `an` (one), `half` (0.5 as a whole phrase).

/// The value of `words` if all of them together say one number.
pub fn parse_number(words: &[&str]) -> Option<f64> {
    match words {
        [] => None,
        [one] => {
            if let Ok(value) = one.parse::<f64>() {
                return value.is_finite().then_some(value);
            }
            match *one {
                "a" | "an" => Some(1.0),
                "half" => Some(0.5),
                _ => spelled(words),
            }
        }
        _ => spelled(words),
    }
}

fn unit(word: &str) -> Option<u64> {
    Some(match word {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn tens(word: &str) -> Option<u64> {
    Some(match word {
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// Spelled-out whole numbers below a million: a strict reading, so that `five five` or
/// `twenty ten` are not numbers (the words then stay text for the planner).
fn spelled(words: &[&str]) -> Option<f64> {
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    // What may come next: after a unit only a multiplier; after tens a unit or multiplier.
    #[derive(PartialEq, Clone, Copy)]
    enum Last {
        Start,
        Unit,
        Tens,
        Hundred,
        Thousand,
        And,
    }
    let mut last = Last::Start;
    for (i, word) in words.iter().enumerate() {
        let word = *word;
        if let Some(n) = unit(word) {
            let may_follow = matches!(
                last,
                Last::Start | Last::Hundred | Last::Thousand | Last::And
            ) || (last == Last::Tens && (1..10).contains(&n));
            if !may_follow {
                return None;
            }
            current += n;
            last = Last::Unit;
        } else if let Some(n) = tens(word) {
            if !matches!(
                last,
                Last::Start | Last::Hundred | Last::Thousand | Last::And
            ) {
                return None;
            }
            current += n;
            last = Last::Tens;
        } else if word == "hundred" {
            if current >= 10 && last != Last::Unit || current == 0 && i > 0 {
                return None;
            }
            current = current.max(1) * 100;
            last = Last::Hundred;
        } else if word == "thousand" {
            if last == Last::Thousand || total > 0 {
                return None;
            }
            total = current.max(1) * 1000;
            current = 0;
            last = Last::Thousand;
        } else if (word == "a" || word == "an")
            && i == 0
            && matches!(words.get(1), Some(&"hundred" | &"thousand"))
        {
            // "a hundred": the article stands for one.
            current = 1;
            last = Last::Unit;
        } else if word == "and" && matches!(last, Last::Hundred | Last::Thousand) {
            last = Last::And;
        } else {
            return None;
        }
    }
    if matches!(last, Last::And | Last::Start) {
        return None;
    }
    Some((total + current) as f64)
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    fn check(text: &str, expected: Option<f64>) {
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(parse_number(&words), expected, "{text}");
    }

    #[test]
    fn numbers_people_say() {
        check("10", Some(10.0));
        check("2.5", Some(2.5));
        check("ten", Some(10.0));
        check("twenty five", Some(25.0));
        check("ninety", Some(90.0));
        check("a hundred", Some(100.0));
        check("one hundred and twenty", Some(120.0));
        check("three thousand four hundred", Some(3400.0));
        check("a thousand", Some(1000.0));
        check("an", Some(1.0));
        check("a", Some(1.0));
        check("half", Some(0.5));
        check("zero", Some(0.0));
    }

    #[test]
    fn word_salad_is_not_a_number() {
        for text in [
            "",
            "five five",
            "twenty ten",
            "ten twenty",
            "and",
            "hundred hundred",
            "one and",
            "a five",
            "inf",
            "NaN",
            "minutes",
            "twenty twenty",
            "thousand thousand",
        ] {
            check(text, None);
        }
    }
}
