//! `convert_units`: length, mass, temperature, volume, time, data, speed. Units are an enum
//! in the schema, so the planner's grammar can only name units that exist; nothing is parsed
//! from free text.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_tools::{Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool};

use crate::calc::format_number;

#[derive(Debug)]
pub struct ConvertUnits;

/// A unit Sotto can convert. US customary volumes unless the name says imperial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    // length
    Millimeter,
    Centimeter,
    Meter,
    Kilometer,
    Inch,
    Foot,
    Yard,
    Mile,
    NauticalMile,
    // mass
    Milligram,
    Gram,
    Kilogram,
    Tonne,
    Ounce,
    Pound,
    Stone,
    // temperature
    Celsius,
    Fahrenheit,
    Kelvin,
    // volume
    Milliliter,
    Liter,
    CubicMeter,
    Teaspoon,
    Tablespoon,
    FluidOunce,
    Cup,
    Pint,
    Quart,
    Gallon,
    ImperialPint,
    ImperialGallon,
    // time
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Year,
    // data
    Bit,
    Byte,
    Kilobyte,
    Megabyte,
    Gigabyte,
    Terabyte,
    Kibibyte,
    Mebibyte,
    Gibibyte,
    Tebibyte,
    Kilobit,
    Megabit,
    Gigabit,
    // speed
    MeterPerSecond,
    KilometerPerHour,
    MilePerHour,
    Knot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Length,
    Mass,
    Temperature,
    Volume,
    Time,
    Data,
    Speed,
}

impl Dimension {
    fn name(self) -> &'static str {
        match self {
            Dimension::Length => "length",
            Dimension::Mass => "mass",
            Dimension::Temperature => "temperature",
            Dimension::Volume => "volume",
            Dimension::Time => "time",
            Dimension::Data => "data",
            Dimension::Speed => "speed",
        }
    }
}

impl Unit {
    /// The dimension and the factor to its base unit (meter, kilogram, kelvin, cubic meter,
    /// second, byte, meter per second). Temperatures are affine and handled apart.
    fn scale(self) -> (Dimension, f64) {
        use Dimension::*;
        use Unit::*;
        const US_GALLON: f64 = 3.785_411_784e-3;
        const IMPERIAL_GALLON: f64 = 4.546_09e-3;
        match self {
            Millimeter => (Length, 1e-3),
            Centimeter => (Length, 1e-2),
            Meter => (Length, 1.0),
            Kilometer => (Length, 1e3),
            Inch => (Length, 0.0254),
            Foot => (Length, 0.3048),
            Yard => (Length, 0.9144),
            Mile => (Length, 1609.344),
            NauticalMile => (Length, 1852.0),
            Milligram => (Mass, 1e-6),
            Gram => (Mass, 1e-3),
            Kilogram => (Mass, 1.0),
            Tonne => (Mass, 1e3),
            Ounce => (Mass, 0.028_349_523_125),
            Pound => (Mass, 0.453_592_37),
            Stone => (Mass, 6.350_293_18),
            Celsius | Fahrenheit | Kelvin => (Temperature, 1.0),
            Milliliter => (Volume, 1e-6),
            Liter => (Volume, 1e-3),
            CubicMeter => (Volume, 1.0),
            Teaspoon => (Volume, US_GALLON / 768.0),
            Tablespoon => (Volume, US_GALLON / 256.0),
            FluidOunce => (Volume, US_GALLON / 128.0),
            Cup => (Volume, US_GALLON / 16.0),
            Pint => (Volume, US_GALLON / 8.0),
            Quart => (Volume, US_GALLON / 4.0),
            Gallon => (Volume, US_GALLON),
            ImperialPint => (Volume, IMPERIAL_GALLON / 8.0),
            ImperialGallon => (Volume, IMPERIAL_GALLON),
            Millisecond => (Time, 1e-3),
            Second => (Time, 1.0),
            Minute => (Time, 60.0),
            Hour => (Time, 3600.0),
            Day => (Time, 86_400.0),
            Week => (Time, 604_800.0),
            // The Julian year (365.25 days), the usual convention for conversions.
            Year => (Time, 31_557_600.0),
            Bit => (Data, 0.125),
            Byte => (Data, 1.0),
            Kilobyte => (Data, 1e3),
            Megabyte => (Data, 1e6),
            Gigabyte => (Data, 1e9),
            Terabyte => (Data, 1e12),
            Kibibyte => (Data, 1024.0),
            Mebibyte => (Data, 1_048_576.0),
            Gibibyte => (Data, 1_073_741_824.0),
            Tebibyte => (Data, 1_099_511_627_776.0),
            Kilobit => (Data, 125.0),
            Megabit => (Data, 125e3),
            Gigabit => (Data, 125e6),
            MeterPerSecond => (Speed, 1.0),
            KilometerPerHour => (Speed, 1.0 / 3.6),
            MilePerHour => (Speed, 0.447_04),
            Knot => (Speed, 1852.0 / 3600.0),
        }
    }

    /// The unit's name as the schema spells it, with underscores as spaces.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default()
    }
}

/// Converts `value` from one unit to another of the same dimension.
pub fn convert(value: f64, from: Unit, to: Unit) -> Result<f64, String> {
    let (from_dim, from_factor) = from.scale();
    let (to_dim, to_factor) = to.scale();
    if from_dim != to_dim {
        return Err(format!(
            "cannot convert {} ({}) to {} ({})",
            from.name(),
            from_dim.name(),
            to.name(),
            to_dim.name()
        ));
    }
    if from_dim == Dimension::Temperature {
        let kelvin = match from {
            Unit::Celsius => value + 273.15,
            Unit::Fahrenheit => (value - 32.0) * 5.0 / 9.0 + 273.15,
            _ => value,
        };
        if kelvin < 0.0 {
            return Err(format!("{value} {} is below absolute zero", from.name()));
        }
        return Ok(match to {
            Unit::Celsius => kelvin - 273.15,
            Unit::Fahrenheit => (kelvin - 273.15) * 9.0 / 5.0 + 32.0,
            _ => kelvin,
        });
    }
    Ok(value * from_factor / to_factor)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertArgs {
    pub value: f64,
    pub from: Unit,
    pub to: Unit,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConvertResult {
    pub value: f64,
    pub from: Unit,
    pub result: f64,
    pub to: Unit,
    /// `5 mile = 8.04672 kilometer`
    pub text: String,
}

impl TypedTool for ConvertUnits {
    type Args = ConvertArgs;
    type Output = ConvertResult;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "convert {value} {from} (to|into|in) {to}",
            "how many {to} (is|are|in) {value} {from}",
            "{value} {from} (to|in|into) {to}",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "convert_units",
            description: "Converts a quantity between units of length, mass, temperature, volume, time, data size or speed.",
            examples: vec![
                Example::new(
                    "how many kilometers is 5 miles",
                    json!({"value": 5, "from": "mile", "to": "kilometer"}),
                ),
                Example::new(
                    "convert 350 fahrenheit to celsius",
                    json!({"value": 350, "from": "fahrenheit", "to": "celsius"}),
                ),
                Example::new(
                    "what is 2 cups in milliliters",
                    json!({"value": 2, "from": "cup", "to": "milliliter"}),
                ),
                Example::new(
                    "how many pounds are 70 kilos",
                    json!({"value": 70, "from": "kilogram", "to": "pound"}),
                ),
                Example::new(
                    "how many seconds in three hours",
                    json!({"value": 3, "from": "hour", "to": "second"}),
                ),
                Example::new(
                    "4.7 gigabytes in mebibytes",
                    json!({"value": 4.7, "from": "gigabyte", "to": "mebibyte"}),
                ),
            ],
            capabilities: vec![],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: ConvertArgs,
        _: &ToolContext,
    ) -> Result<Reply<ConvertResult>, ToolError> {
        let result = convert(args.value, args.from, args.to).map_err(ToolError::Refused)?;
        // Conversions carry binary noise (0.1 ft -> 0.030480000000000004 m); ten significant
        // digits are more than any spoken answer needs.
        let text = format!(
            "{} {} = {} {}",
            format_number(args.value),
            args.from.name(),
            format_number(result),
            args.to.name()
        );
        Ok(Reply::new(
            ConvertResult {
                value: args.value,
                from: args.from,
                result,
                to: args.to,
                text: text.clone(),
            },
            text,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Unit::*;

    fn check(value: f64, from: Unit, to: Unit, expected: Result<&str, &str>) {
        match (convert(value, from, to), expected) {
            (Ok(v), Ok(want)) => assert_eq!(format_number(v), want, "{value} {from:?} -> {to:?}"),
            (Err(e), Err(fragment)) => assert!(e.contains(fragment), "{e}"),
            (got, want) => panic!("{value} {from:?} -> {to:?}: got {got:?}, wanted {want:?}"),
        }
    }

    #[test]
    fn conversions() {
        check(5.0, Mile, Kilometer, Ok("8.04672"));
        check(1.0, Foot, Centimeter, Ok("30.48"));
        check(350.0, Fahrenheit, Celsius, Ok("176.6666667"));
        check(100.0, Celsius, Fahrenheit, Ok("212"));
        check(-40.0, Celsius, Fahrenheit, Ok("-40"));
        check(0.0, Kelvin, Celsius, Ok("-273.15"));
        check(2.0, Cup, Milliliter, Ok("473.176473"));
        check(1.0, ImperialGallon, Liter, Ok("4.54609"));
        check(70.0, Kilogram, Pound, Ok("154.3235835"));
        check(1.0, Stone, Pound, Ok("14"));
        check(3.0, Hour, Second, Ok("10800"));
        check(1.0, Week, Day, Ok("7"));
        check(1.0, Gibibyte, Megabyte, Ok("1073.741824"));
        check(100.0, Megabit, Megabyte, Ok("12.5"));
        check(100.0, KilometerPerHour, MilePerHour, Ok("62.13711922"));
        check(12.0, Inch, Inch, Ok("12"));
    }

    #[test]
    fn mismatches_and_impossible_values_are_explained() {
        check(
            1.0,
            Kilogram,
            Meter,
            Err("cannot convert kilogram (mass) to meter (length)"),
        );
        check(1.0, Celsius, Liter, Err("temperature"));
        check(-500.0, Fahrenheit, Celsius, Err("below absolute zero"));
        check(-1.0, Kelvin, Celsius, Err("below absolute zero"));
        assert_eq!(NauticalMile.name(), "nautical mile");
    }
}
