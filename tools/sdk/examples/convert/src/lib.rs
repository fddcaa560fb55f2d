//! Converts units (length, mass, volume, temperature, speed, data) and currencies. Currency
//! rates come from a local file the user keeps, `rates.txt` in a folder they granted, so no
//! request ever leaves the machine:
//!
//! ```text
//! # Rates against one base currency, as of the date the user fetched them.
//! base EUR
//! USD 1.0842
//! GBP 0.8571
//! ```

use sotto_plugin_sdk::prelude::*;

mod rates;
mod units;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UnitArgs {
    value: f64,
    /// The unit to convert from, such as `km`, `mile`, `lb`, `°F`, `cup`, `GB`.
    from: String,
    /// The unit to convert to.
    to: String,
}

#[derive(Serialize, JsonSchema)]
struct Converted {
    value: f64,
    unit: String,
}

struct Units;

impl Tool for Units {
    type Args = UnitArgs;
    type Output = Converted;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "convert_quantity",
            "Converts a quantity between units of length, mass, volume, temperature, speed or data size.",
            Risk::ReadOnly,
        )
        .example(
            "how many kilometres is 26.2 miles",
            json!({ "value": 26.2, "from": "mile", "to": "km" }),
        )
        .example(
            "350 fahrenheit in celsius",
            json!({ "value": 350, "from": "°F", "to": "°C" }),
        )
    }

    fn run(&self, args: UnitArgs) -> Result<Reply<Converted>, Error> {
        let (value, unit) =
            units::convert(args.value, &args.from, &args.to).map_err(Error::Refused)?;
        Ok(Reply::new(
            Converted {
                value,
                unit: unit.clone(),
            },
            format!("{} {} is {} {unit}.", args.value, args.from, round(value)),
        ))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MoneyArgs {
    amount: f64,
    /// ISO 4217 code, such as `EUR`.
    from: String,
    /// ISO 4217 code, such as `USD`.
    to: String,
}

#[derive(Serialize, JsonSchema)]
struct Money {
    amount: f64,
    currency: String,
    /// The rate used: one `from` in `to`.
    rate: f64,
}

struct Currency;

impl Tool for Currency {
    type Args = MoneyArgs;
    type Output = Money;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "convert_currency",
            "Converts money between currencies with the rates in the user's rates.txt file.",
            Risk::ReadOnly,
        )
        .needs(Capability::Read(Folder::UserFolders))
        .example(
            "how much is 20 euros in dollars",
            json!({ "amount": 20, "from": "EUR", "to": "USD" }),
        )
    }

    fn run(&self, args: MoneyArgs) -> Result<Reply<Money>, Error> {
        let folder = fs::user_folder()?;
        let path = folder.join("rates.txt");
        let text = fs::read_optional(&path)?.ok_or_else(|| {
            Error::refused("there is no rates.txt in the folder you granted the converter")
        })?;
        let table = rates::Rates::parse(&text).map_err(Error::Refused)?;
        let from = args.from.to_ascii_uppercase();
        let to = args.to.to_ascii_uppercase();
        let rate = table.rate(&from, &to).map_err(Error::Refused)?;
        let amount = (args.amount * rate * 100.0).round() / 100.0;
        Ok(Reply::new(
            Money {
                amount,
                currency: to.clone(),
                rate,
            },
            format!("{} {from} is {amount:.2} {to}.", args.amount),
        ))
    }
}

fn round(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    // Six significant digits: enough for a spoken answer, no float noise.
    let digits = 6 - value.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits.clamp(0, 12));
    (value * scale).round() / scale
}

struct Convert;

impl Plugin for Convert {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "convert",
            "Unit and currency converter",
            env!("CARGO_PKG_VERSION"),
        )
    }

    fn tools() -> Vec<Box<dyn DynTool>> {
        vec![tool(Units), tool(Currency)]
    }
}

export_plugin!(Convert);
