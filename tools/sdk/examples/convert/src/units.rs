//! Units as factors to a base unit per dimension; temperature as an offset and a factor.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Length,
    Mass,
    Volume,
    Temperature,
    Speed,
    Data,
}

/// (names, dimension, factor to the base unit, offset): base = value * factor + offset.
const UNITS: &[(&[&str], Dimension, f64, f64)] = {
    use Dimension::*;
    &[
        (
            &["m", "meter", "metre", "meters", "metres"],
            Length,
            1.0,
            0.0,
        ),
        (
            &["km", "kilometer", "kilometre", "kilometers", "kilometres"],
            Length,
            1000.0,
            0.0,
        ),
        (
            &[
                "cm",
                "centimeter",
                "centimetre",
                "centimeters",
                "centimetres",
            ],
            Length,
            0.01,
            0.0,
        ),
        (
            &[
                "mm",
                "millimeter",
                "millimetre",
                "millimeters",
                "millimetres",
            ],
            Length,
            0.001,
            0.0,
        ),
        (&["mi", "mile", "miles"], Length, 1609.344, 0.0),
        (&["yd", "yard", "yards"], Length, 0.9144, 0.0),
        (&["ft", "foot", "feet"], Length, 0.3048, 0.0),
        (&["in", "inch", "inches"], Length, 0.0254, 0.0),
        (&["kg", "kilogram", "kilograms"], Mass, 1.0, 0.0),
        (&["g", "gram", "grams"], Mass, 0.001, 0.0),
        (&["lb", "lbs", "pound", "pounds"], Mass, 0.453_592_37, 0.0),
        (&["oz", "ounce", "ounces"], Mass, 0.028_349_523_125, 0.0),
        (&["st", "stone", "stones"], Mass, 6.350_293_18, 0.0),
        (
            &["l", "liter", "litre", "liters", "litres"],
            Volume,
            1.0,
            0.0,
        ),
        (
            &[
                "ml",
                "milliliter",
                "millilitre",
                "milliliters",
                "millilitres",
            ],
            Volume,
            0.001,
            0.0,
        ),
        (&["gal", "gallon", "gallons"], Volume, 3.785_411_784, 0.0),
        (&["cup", "cups"], Volume, 0.236_588_236_5, 0.0),
        (
            &["tbsp", "tablespoon", "tablespoons"],
            Volume,
            0.014_786_764_781_25,
            0.0,
        ),
        (
            &["tsp", "teaspoon", "teaspoons"],
            Volume,
            0.004_928_921_593_75,
            0.0,
        ),
        (&["°c", "c", "celsius"], Temperature, 1.0, 0.0),
        (
            &["°f", "f", "fahrenheit"],
            Temperature,
            5.0 / 9.0,
            -160.0 / 9.0,
        ),
        (&["k", "kelvin"], Temperature, 1.0, -273.15),
        (&["m/s"], Speed, 1.0, 0.0),
        (&["km/h", "kph", "kmh"], Speed, 1.0 / 3.6, 0.0),
        (&["mph"], Speed, 0.447_04, 0.0),
        (&["knot", "knots", "kn"], Speed, 0.514_444, 0.0),
        (&["b", "byte", "bytes"], Data, 1.0, 0.0),
        (&["kb", "kilobyte", "kilobytes"], Data, 1e3, 0.0),
        (&["mb", "megabyte", "megabytes"], Data, 1e6, 0.0),
        (&["gb", "gigabyte", "gigabytes"], Data, 1e9, 0.0),
        (&["tb", "terabyte", "terabytes"], Data, 1e12, 0.0),
        (&["kib", "kibibyte", "kibibytes"], Data, 1024.0, 0.0),
        (&["mib", "mebibyte", "mebibytes"], Data, 1_048_576.0, 0.0),
        (
            &["gib", "gibibyte", "gibibytes"],
            Data,
            1_073_741_824.0,
            0.0,
        ),
    ]
};

fn find(name: &str) -> Option<(&'static str, Dimension, f64, f64)> {
    let key = name
        .trim()
        .to_lowercase()
        .replace("degrees ", "")
        .replace("degree ", "");
    UNITS
        .iter()
        .find(|(names, ..)| names.contains(&key.as_str()))
        .map(|(names, d, f, o)| (names[0], *d, *f, *o))
}

/// Returns the converted value and the unit's canonical name.
pub fn convert(value: f64, from: &str, to: &str) -> Result<(f64, String), String> {
    if !value.is_finite() {
        return Err("the value must be a finite number".into());
    }
    let (_, from_dim, from_factor, from_offset) =
        find(from).ok_or_else(|| format!("unknown unit `{from}`"))?;
    let (to_name, to_dim, to_factor, to_offset) =
        find(to).ok_or_else(|| format!("unknown unit `{to}`"))?;
    if from_dim != to_dim {
        return Err(format!(
            "cannot convert {from} to {to}: they measure different things"
        ));
    }
    let base = value * from_factor + from_offset;
    Ok(((base - to_offset) / to_factor, to_name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: f64, from: &str, to: &str, expected: f64) {
        let (got, _) = convert(value, from, to).unwrap();
        assert!(
            (got - expected).abs() < 1e-9 * expected.abs().max(1.0),
            "{value} {from} -> {to}: {got}"
        );
    }

    #[test]
    fn conversions() {
        check(1.0, "mile", "km", 1.609344);
        check(212.0, "°F", "°C", 100.0);
        check(0.0, "celsius", "kelvin", 273.15);
        check(-40.0, "F", "C", -40.0);
        check(1.0, "GiB", "MB", 1073.741824);
        check(1.0, "cup", "ml", 236.5882365);
        assert!(convert(1.0, "kg", "km").unwrap_err().contains("different"));
        assert!(convert(1.0, "parsec", "km").unwrap_err().contains("parsec"));
        assert!(convert(f64::NAN, "kg", "g").is_err());
    }
}
