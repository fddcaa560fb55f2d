//! The rates file: `base CODE`, then `CODE rate` lines (one base unit in CODE); `#` comments.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    base: String,
    per_base: BTreeMap<String, f64>,
}

fn is_code(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}

impl Rates {
    pub fn parse(text: &str) -> Result<Rates, String> {
        let mut base = None;
        let mut per_base = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(first), Some(second), None) = (words.next(), words.next(), words.next())
            else {
                return Err(format!("rates.txt line {}: expected two words", index + 1));
            };
            if first == "base" {
                if !is_code(second) {
                    return Err(format!(
                        "rates.txt line {}: `{second}` is not a currency code",
                        index + 1
                    ));
                }
                base = Some(second.to_string());
                continue;
            }
            let rate: f64 = second
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r > 0.0)
                .ok_or_else(|| {
                    format!(
                        "rates.txt line {}: `{second}` is not a positive rate",
                        index + 1
                    )
                })?;
            if !is_code(first) {
                return Err(format!(
                    "rates.txt line {}: `{first}` is not a currency code",
                    index + 1
                ));
            }
            per_base.insert(first.to_string(), rate);
        }
        let base = base.ok_or("rates.txt has no `base CODE` line")?;
        per_base.insert(base.clone(), 1.0);
        Ok(Rates { base, per_base })
    }

    /// One `from` in `to`, through the base currency.
    pub fn rate(&self, from: &str, to: &str) -> Result<f64, String> {
        let get = |code: &str| {
            self.per_base
                .get(code)
                .copied()
                .ok_or_else(|| format!("rates.txt has no rate for {code} (base {})", self.base))
        };
        Ok(get(to)? / get(from)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_rates() {
        let rates = Rates::parse("# test\nbase EUR\nUSD 1.25\nGBP 0.8 # old\n").unwrap();
        assert_eq!(rates.rate("EUR", "USD").unwrap(), 1.25);
        assert!((rates.rate("GBP", "USD").unwrap() - 1.5625).abs() < 1e-12);
        assert!(rates.rate("EUR", "JPY").unwrap_err().contains("JPY"));
        for bad in [
            "USD 1",
            "base EUR\nUSD -1",
            "base EUR\nusd 1",
            "base EUR\nUSD 1 2",
        ] {
            assert!(Rates::parse(bad).is_err(), "{bad}");
        }
    }
}
