//! Calendar: `calendar_add`, `calendar_list`, `calendar_export`.
//!
//! Each event is an iCalendar (RFC 5545) file in Sotto's `calendar` folder (`<uid>.ics`,
//! times in UTC), created whole and never rewritten, so concurrent adds cannot clash.
//! `calendar_export` joins them into one `.ics` in Sotto's `calendar-export` folder, which
//! any calendar program imports. Times the user gives are read in their own time zone.

use jiff::civil;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool,
};

const FOLDER: &str = "calendar";
const EXPORT_FOLDER: &str = "calendar-export";
const EXPORT_FILE: &str = "sotto-calendar.ics";

fn folder(name: &str, write: bool) -> Capability {
    let scope = DirScope::Sotto {
        folder: name.into(),
    };
    if write {
        Capability::WriteDir(scope)
    } else {
        Capability::ReadDir(scope)
    }
}

/// When an event happens: a time span, or whole days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Timed { start: Timestamp, end: Timestamp },
    AllDay { first: civil::Date, days: i32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub uid: String,
    pub title: String,
    pub location: Option<String>,
    pub when: When,
}

impl When {
    /// The span as instants in `zone` (whole days start and end at local midnight).
    fn span(&self, zone: &TimeZone) -> Option<(Timestamp, Timestamp)> {
        match self {
            When::Timed { start, end } => Some((*start, *end)),
            When::AllDay { first, days } => {
                let start = first.to_zoned_datetime(zone.clone()).ok()?.timestamp();
                let last = first.checked_add(jiff::Span::new().days(*days)).ok()?;
                let end = last.to_zoned_datetime(zone.clone()).ok()?.timestamp();
                Some((start, end))
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
        .replace('\r', "")
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Folds a content line at 75 octets, never inside a character (RFC 5545 3.1).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out + "\r\n"
}

fn utc(time: Timestamp) -> String {
    time.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The VEVENT block of one event.
fn vevent(event: &Event, stamp: Timestamp) -> String {
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", event.uid),
        format!("DTSTAMP:{}", utc(stamp)),
    ];
    match &event.when {
        When::Timed { start, end } => {
            lines.push(format!("DTSTART:{}", utc(*start)));
            lines.push(format!("DTEND:{}", utc(*end)));
        }
        When::AllDay { first, days } => {
            let end = first
                .checked_add(jiff::Span::new().days(*days))
                .unwrap_or(*first);
            lines.push(format!("DTSTART;VALUE=DATE:{}", first.strftime("%Y%m%d")));
            lines.push(format!("DTEND;VALUE=DATE:{}", end.strftime("%Y%m%d")));
        }
    }
    lines.push(format!("SUMMARY:{}", escape(&event.title)));
    if let Some(location) = &event.location {
        lines.push(format!("LOCATION:{}", escape(location)));
    }
    lines.push("END:VEVENT".to_string());
    lines.iter().map(|l| fold(l)).collect()
}

fn calendar(body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sotto//Sotto//EN\r\n{body}END:VCALENDAR\r\n"
    )
}

/// Reads the events in an iCalendar text (the subset Sotto writes, and the usual
/// `DTSTART`/`DTEND` forms other programs write in UTC or as dates).
pub fn parse_events(text: &str) -> Vec<Event> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match (line.chars().next(), lines.last_mut()) {
            (Some(' ' | '\t'), Some(last)) => last.push_str(&line[1..]),
            _ => lines.push(line.to_string()),
        }
    }
    let mut events = Vec::new();
    let mut fields: Option<Vec<(String, String)>> = None;
    for line in lines {
        let Some((head, value)) = line.split_once(':') else {
            continue;
        };
        match (head, value) {
            ("BEGIN", "VEVENT") => fields = Some(Vec::new()),
            ("END", "VEVENT") => {
                if let Some(event) = fields.take().and_then(|f| event_from(&f)) {
                    events.push(event);
                }
            }
            _ => {
                if let Some(fields) = fields.as_mut() {
                    fields.push((head.to_uppercase(), value.to_string()));
                }
            }
        }
    }
    events
}

fn event_from(fields: &[(String, String)]) -> Option<Event> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(head, _)| head.split(';').next() == Some(name))
    };
    let (start_head, start) = get("DTSTART")?;
    let end = get("DTEND");
    let when = if start_head.contains("VALUE=DATE") {
        let first = civil::Date::strptime("%Y%m%d", start).ok()?;
        let days = end
            .and_then(|(_, e)| civil::Date::strptime("%Y%m%d", e).ok())
            .and_then(|last| first.until(last).ok())
            .map(|span| span.get_days().max(1))
            .unwrap_or(1);
        When::AllDay { first, days }
    } else {
        let start = Timestamp::strptime("%Y%m%dT%H%M%S%#z", start.replace('Z', "+0000")).ok()?;
        let end = end
            .and_then(|(_, e)| {
                Timestamp::strptime("%Y%m%dT%H%M%S%#z", e.replace('Z', "+0000")).ok()
            })
            .unwrap_or(start);
        When::Timed { start, end }
    };
    Some(Event {
        uid: get("UID")?.1.clone(),
        title: get("SUMMARY").map(|(_, v)| unescape(v)).unwrap_or_default(),
        location: get("LOCATION").map(|(_, v)| unescape(v)),
        when,
    })
}

fn all_events(context: &ToolContext) -> Result<Vec<Event>, ToolError> {
    let dir = context.sotto_dir(FOLDER)?;
    let mut events = Vec::new();
    for entry in dir.list(".")? {
        if entry.is_file && entry.path.ends_with(".ics") && !entry.path.starts_with('.') {
            events.extend(parse_events(&dir.read_to_string(&entry.path)?));
        }
    }
    Ok(events)
}

fn describe(event: &Event, zone: &TimeZone) -> String {
    match &event.when {
        When::Timed { start, .. } => format!(
            "{} on {}",
            event.title,
            start
                .to_zoned_datetime(zone.clone())
                .strftime("%A %-d %B at %H:%M")
        ),
        When::AllDay { first, .. } => {
            format!("{} on {}", event.title, first.strftime("%A %-d %B"))
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EventInfo {
    pub uid: String,
    pub title: String,
    pub location: Option<String>,
    /// RFC 3339 with the user's offset; for all-day events the first day's midnight.
    pub start: String,
    pub end: String,
    pub all_day: bool,
}

fn info(event: &Event, zone: &TimeZone) -> EventInfo {
    let (start, end) = event
        .when
        .span(zone)
        .unwrap_or((Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH));
    let local = |t: Timestamp| {
        t.to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    EventInfo {
        uid: event.uid.clone(),
        title: event.title.clone(),
        location: event.location.clone(),
        start: local(start),
        end: local(end),
        all_day: matches!(event.when, When::AllDay { .. }),
    }
}

#[derive(Debug)]
pub struct CalendarAdd;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarAddArgs {
    #[schemars(length(min = 1, max = 300))]
    pub title: String,
    /// Local date and time `YYYY-MM-DDTHH:MM`, or just `YYYY-MM-DD` for an all-day event.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$"))]
    pub start: String,
    /// Length in minutes (default 60); for all-day events, ignored.
    #[serde(default)]
    #[schemars(range(min = 1, max = 43200))]
    pub minutes: Option<u32>,
    #[serde(default)]
    #[schemars(length(max = 300))]
    pub location: Option<String>,
}

impl TypedTool for CalendarAdd {
    type Args = CalendarAddArgs;
    type Output = EventInfo;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "calendar_add",
            description: "Adds an event to the user's calendar at a local date and time.",
            examples: vec![
                Example::new(
                    "add dentist appointment on 2026-03-14 at 9:30",
                    json!({"title": "Dentist appointment", "start": "2026-03-14T09:30"}),
                ),
                Example::new(
                    "put a two hour team meeting in room 4 on 2026-05-02 at 14:00",
                    json!({"title": "Team meeting", "start": "2026-05-02T14:00", "minutes": 120, "location": "room 4"}),
                ),
                Example::new(
                    "mark 2026-08-01 as mum's birthday",
                    json!({"title": "Mum's birthday", "start": "2026-08-01"}),
                ),
            ],
            capabilities: vec![folder(FOLDER, false), folder(FOLDER, true)],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: CalendarAddArgs,
        context: &ToolContext,
    ) -> Result<Reply<EventInfo>, ToolError> {
        let zone = TimeZone::system();
        let bad = |e: jiff::Error| {
            ToolError::Refused(format!("`{}` is not a date I can use: {e}", args.start))
        };
        let when = if args.start.len() == 10 {
            When::AllDay {
                first: args.start.parse::<civil::Date>().map_err(bad)?,
                days: 1,
            }
        } else {
            let local: civil::DateTime = args.start.parse().map_err(bad)?;
            let start = local
                .to_zoned_datetime(zone.clone())
                .map_err(bad)?
                .timestamp();
            let minutes = i64::from(args.minutes.unwrap_or(60));
            let end = start
                .checked_add(jiff::SignedDuration::from_mins(minutes))
                .map_err(bad)?;
            When::Timed { start, end }
        };
        let now = Timestamp::now();
        let uid = format!(
            "{}-{}-{}@sotto",
            now.strftime("%Y%m%dT%H%M%S"),
            now.subsec_nanosecond(),
            std::process::id()
        );
        let event = Event {
            uid: uid.clone(),
            title: args.title.trim().to_string(),
            location: args
                .location
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
            when,
        };
        let dir = context.sotto_dir(FOLDER)?;
        let file = format!("{}.ics", uid.replace('@', "-"));
        dir.create_new(&file, calendar(&vevent(&event, now)).as_bytes())?;
        let summary = format!("Added {}.", describe(&event, &zone));
        Ok(Reply::new(info(&event, &zone), summary))
    }
}

#[derive(Debug)]
pub struct CalendarList;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarListArgs {
    /// The first day to show, `YYYY-MM-DD` (default today).
    #[serde(default)]
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub from: Option<String>,
    /// How many days to show (default 7).
    #[serde(default)]
    #[schemars(range(min = 1, max = 366))]
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalendarListResult {
    pub events: Vec<EventInfo>,
}

impl TypedTool for CalendarList {
    type Args = CalendarListArgs;
    type Output = CalendarListResult;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "(what's|what is) on my calendar today {days=1}",
            "(what's|what is) on my calendar [this week]",
            "show [me] my calendar",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "calendar_list",
            description: "Lists calendar events in the coming days, or from a given date.",
            examples: vec![
                Example::new("what's on my calendar this week", json!({})),
                Example::new("do I have anything today", json!({"days": 1})),
                Example::new(
                    "what's planned for the month from 2026-06-01",
                    json!({"from": "2026-06-01", "days": 30}),
                ),
            ],
            capabilities: vec![folder(FOLDER, false)],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: CalendarListArgs,
        context: &ToolContext,
    ) -> Result<Reply<CalendarListResult>, ToolError> {
        let zone = TimeZone::system();
        let first = match &args.from {
            Some(text) => text
                .parse::<civil::Date>()
                .map_err(|e| ToolError::Refused(format!("`{text}` is not a date: {e}")))?,
            None => Timestamp::now().to_zoned_datetime(zone.clone()).date(),
        };
        let days = args.days.unwrap_or(7) as i32;
        let range = When::AllDay { first, days }
            .span(&zone)
            .ok_or_else(|| ToolError::Refused("that range is outside the calendar".into()))?;
        let mut events: Vec<(Timestamp, Event)> = all_events(context)?
            .into_iter()
            .filter_map(|e| {
                let (start, end) = e.when.span(&zone)?;
                (start < range.1 && end > range.0).then_some((start, e))
            })
            .collect();
        events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.title.cmp(&b.1.title)));
        let summary = if events.is_empty() {
            "Nothing is on the calendar then.".to_string()
        } else {
            events
                .iter()
                .map(|(_, e)| describe(e, &zone))
                .collect::<Vec<_>>()
                .join("; ")
                + "."
        };
        let events = events.iter().map(|(_, e)| info(e, &zone)).collect();
        Ok(Reply::new(CalendarListResult { events }, summary))
    }
}

#[derive(Debug)]
pub struct CalendarExport;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarExportArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalendarExportResult {
    /// The `.ics` file written.
    pub path: String,
    pub events: usize,
}

impl TypedTool for CalendarExport {
    type Args = CalendarExportArgs;
    type Output = CalendarExportResult;

    fn templates(&self) -> &'static [&'static str] {
        &["export my calendar"]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "calendar_export",
            description:
                "Exports the whole calendar as one .ics file other calendar programs can import.",
            examples: vec![
                Example::new("export my calendar", json!({})),
                Example::new("save the calendar as an ics file", json!({})),
                Example::new("give me my events in iCalendar format", json!({})),
            ],
            capabilities: vec![folder(FOLDER, false), folder(EXPORT_FOLDER, true)],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        _: CalendarExportArgs,
        context: &ToolContext,
    ) -> Result<Reply<CalendarExportResult>, ToolError> {
        let now = Timestamp::now();
        let events = all_events(context)?;
        let body: String = events.iter().map(|e| vevent(e, now)).collect();
        let out = context.sotto_dir(EXPORT_FOLDER)?;
        out.write_atomic(EXPORT_FILE, calendar(&body).as_bytes())?;
        let path = out.display_path(EXPORT_FILE).display().to_string();
        let summary = format!("Exported {} events to {path}.", events.len());
        Ok(Reply::new(
            CalendarExportResult {
                path,
                events: events.len(),
            },
            summary,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_icalendar() {
        let stamp: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let timed = Event {
            uid: "a@sotto".into(),
            title: "Lunch; with Anna, Bob\nand \\ more".into(),
            location: Some("Café Ünïcode ".repeat(8)),
            when: When::Timed {
                start: "2026-12-03T12:00:00Z".parse().unwrap(),
                end: "2026-12-03T13:30:00Z".parse().unwrap(),
            },
        };
        let all_day = Event {
            uid: "b@sotto".into(),
            title: "Holiday".into(),
            location: None,
            when: When::AllDay {
                first: civil::date(2026, 12, 24),
                days: 3,
            },
        };
        let text = calendar(&(vevent(&timed, stamp) + &vevent(&all_day, stamp)));
        assert!(text.lines().all(|l| l.len() <= 76), "{text}");
        assert!(text.contains("SUMMARY:Lunch\\; with Anna\\, Bob\\nand \\\\ more"));
        assert!(text.contains("DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227"));
        assert_eq!(parse_events(&text), vec![timed, all_day]);
    }
}
