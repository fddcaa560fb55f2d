//! A Markdown journal in the plugin's own data folder: one file per day
//! (`YYYY-MM-DD.md`, a `# date` heading, then `- HH:MM text` entries), readable and editable
//! in any editor. Dates are UTC unless the request names one (WASI has no time zone).

use std::path::PathBuf;

use sotto_plugin_sdk::prelude::*;

fn day_file(date: &time::Date, write: bool) -> Result<PathBuf, Error> {
    let folder = if write {
        fs::writable_data_dir("journal")?
    } else {
        fs::data_dir("journal")?
    };
    Ok(folder.join(format!("{date}.md")))
}

fn parse_date(date: Option<&str>) -> Result<time::Date, Error> {
    match date {
        None => Ok(time::today_utc()),
        Some(text) => time::Date::parse(text)
            .ok_or_else(|| Error::InvalidArgs(format!("`{text}` is not a date (YYYY-MM-DD)"))),
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WriteArgs {
    /// What to write down, as said.
    text: String,
    /// The day's date, YYYY-MM-DD; today if left out.
    #[serde(default)]
    date: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct Written {
    date: String,
    entry: String,
}

struct Write;

impl Tool for Write {
    type Args = WriteArgs;
    type Output = Written;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "journal_write",
            "Adds an entry to the user's Markdown journal for today or a given day.",
            Risk::ChangesLocalData,
        )
        .needs(Capability::Write(Folder::Data("journal".into())))
        .example(
            "journal: finally fixed the bike brakes",
            json!({ "text": "finally fixed the bike brakes" }),
        )
    }

    fn run(&self, args: WriteArgs) -> Result<Reply<Written>, Error> {
        let text = args.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(Error::InvalidArgs("the entry is empty".into()));
        }
        let date = parse_date(args.date.as_deref())?;
        let path = day_file(&date, true)?;
        let mut addition = String::new();
        if fs::read_optional(&path)?.is_none() {
            addition.push_str(&format!("# {date}\n\n"));
        }
        let entry = format!("{} {text}", time::time_utc());
        addition.push_str(&format!("- {entry}\n"));
        fs::append(&path, &addition)?;
        Ok(Reply::new(
            Written {
                date: date.to_string(),
                entry,
            },
            format!("Written in your journal for {date}."),
        ))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadArgs {
    /// The day, YYYY-MM-DD; today if left out.
    #[serde(default)]
    date: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct Day {
    date: String,
    /// The day's entries, oldest first, each `HH:MM text`.
    entries: Vec<String>,
}

struct Read;

impl Tool for Read {
    type Args = ReadArgs;
    type Output = Day;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "journal_read",
            "Reads the user's journal entries for today or a given day.",
            Risk::ReadOnly,
        )
        .needs(Capability::Read(Folder::Data("journal".into())))
        .example("what did I write in my journal today", json!({}))
        .example(
            "read my journal from march 3 2026",
            json!({ "date": "2026-03-03" }),
        )
    }

    fn run(&self, args: ReadArgs) -> Result<Reply<Day>, Error> {
        let date = parse_date(args.date.as_deref())?;
        let text = fs::read_optional(&day_file(&date, false)?)?.unwrap_or_default();
        // Entries are the list items; anything else the user added by hand stays in the file.
        let entries: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .map(str::to_string)
            .collect();
        let summary = match entries.len() {
            0 => format!("Nothing in your journal for {date}."),
            1 => format!("One entry for {date}."),
            n => format!("{n} entries for {date}."),
        };
        Ok(Reply::new(
            Day {
                date: date.to_string(),
                entries,
            },
            summary,
        ))
    }
}

struct Journal;

impl Plugin for Journal {
    fn info() -> PluginInfo {
        PluginInfo::new("journal", "Markdown journal", env!("CARGO_PKG_VERSION"))
    }

    fn tools() -> Vec<Box<dyn DynTool>> {
        vec![tool(Write), tool(Read)]
    }
}

export_plugin!(Journal);
