//! `date_time`: the current date and time, here or in a named time zone (jiff, with the
//! system's time zone database).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_tools::{Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool};

#[derive(Debug)]
pub struct DateTime;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DateTimeArgs {
    /// An IANA time zone such as `Europe/Paris` or `America/New_York`. Leave it out for the
    /// user's own time zone.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DateTimeResult {
    /// RFC 3339 with the offset, e.g. `2026-12-01T14:05:09+01:00`.
    pub iso: String,
    /// `2026-12-01`
    pub date: String,
    /// `14:05`
    pub time: String,
    /// `Tuesday`
    pub weekday: String,
    pub timezone: String,
    /// `+01:00`
    pub utc_offset: String,
    pub unix_seconds: i64,
}

impl TypedTool for DateTime {
    type Args = DateTimeArgs;
    type Output = DateTimeResult;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "what time is it right now",
            "what's the time right now",
            "(what's|what is) the date today",
            "what time is it [now]",
            "what's the time [now]",
            "what is the time [now]",
            "(what's|what is) the date [today]",
            "what day is it [today]",
            "(what's|what is) today's date",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "date_time",
            description:
                "Tells the current date, time and weekday, optionally in another time zone.",
            examples: vec![
                Example::new("what time is it", json!({})),
                Example::new("what's the date today", json!({})),
                Example::new("what day of the week is it", json!({})),
                Example::new(
                    "what time is it in Tokyo",
                    json!({"timezone": "Asia/Tokyo"}),
                ),
                Example::new(
                    "current time in New York",
                    json!({"timezone": "America/New_York"}),
                ),
            ],
            capabilities: vec![],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: DateTimeArgs,
        _: &ToolContext,
    ) -> Result<Reply<DateTimeResult>, ToolError> {
        let zone = match args.timezone.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => jiff::tz::TimeZone::get(name).map_err(|_| {
                ToolError::Refused(format!(
                    "`{name}` is not a time zone I know (use a name like Europe/Paris)"
                ))
            })?,
            _ => jiff::tz::TimeZone::system(),
        };
        let now = jiff::Timestamp::now().to_zoned_datetime(zone);
        let timezone = now
            .time_zone()
            .iana_name()
            .unwrap_or("local time")
            .to_string();
        let result = DateTimeResult {
            iso: now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            date: now.strftime("%Y-%m-%d").to_string(),
            time: now.strftime("%H:%M").to_string(),
            weekday: now.strftime("%A").to_string(),
            utc_offset: now.strftime("%:z").to_string(),
            unix_seconds: now.timestamp().as_second(),
            timezone,
        };
        let summary = format!(
            "It is {} on {} ({}).",
            result.time,
            now.strftime("%A, %-d %B %Y"),
            result.timezone
        );
        Ok(Reply::new(result, summary))
    }
}
