//! Timers: `timer_start`, `timer_list`, `timer_cancel`, and [`TimerBook`], their storage.
//!
//! Storage: one small JSON file per timer in Sotto's `timers` folder (`<id>.json`, holding
//! the due time as an absolute UTC instant), so timers survive restarts: after a restart,
//! whatever is in the folder is still running, or overdue. Each file is created whole (a
//! finished temporary file hard-linked into place, which fails if the id is taken, so two
//! processes never share an id) and removed on cancel; there is no shared file to rewrite, so
//! the app and a `sotto do` in a terminal can add timers at the same time without a lock.
//!
//! Firing is `reminders::fire_due`: the app calls it when the earliest `due_at` passes (the
//! loop that does so is the app's, not built yet); it shows a desktop notification for each
//! due timer and only then removes its file, so a timer due while Sotto was closed fires at
//! the next start.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{SandboxError, ScopedDir};
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool,
};

const FOLDER: &str = "timers";
const MAX_SECONDS: u64 = 31 * 24 * 3600;
const FORMAT_VERSION: u32 = 1;

/// A countdown (`timer_start`) or a reminder at a set time (`reminder_set`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    #[default]
    Timer,
    Reminder,
}

/// One stored timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: u32,
    pub kind: TimerKind,
    pub label: Option<String>,
    pub created_at: jiff::Timestamp,
    pub due_at: jiff::Timestamp,
    pub seconds: u64,
}

/// The file format: the edge, so it has its own serialisable type.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimerFile {
    version: u32,
    id: u32,
    /// Absent in files from before reminders: those are timers.
    #[serde(default)]
    kind: TimerKind,
    label: Option<String>,
    created_at: String,
    due_at: String,
    seconds: u64,
}

/// The timers in one folder.
#[derive(Debug)]
pub struct TimerBook<'d> {
    dir: &'d ScopedDir,
}

impl<'d> TimerBook<'d> {
    pub fn new(dir: &'d ScopedDir) -> TimerBook<'d> {
        TimerBook { dir }
    }

    /// All readable timers, soonest first. Damaged files are skipped (and left for the user
    /// to inspect) rather than failing every listing.
    pub fn list(&self) -> Result<Vec<Timer>, ToolError> {
        let mut timers = Vec::new();
        for entry in self.dir.list(".")? {
            if !entry.is_file || !entry.path.ends_with(".json") || entry.path.starts_with('.') {
                continue;
            }
            let Ok(text) = self.dir.read_to_string(&entry.path) else {
                continue;
            };
            if let Some(timer) = decode(&text) {
                timers.push(timer);
            }
        }
        timers.sort_by_key(|t| (t.due_at, t.id));
        Ok(timers)
    }

    /// Stores a new timer of `seconds` from `now`, with the next free id.
    pub fn add(
        &self,
        label: Option<String>,
        seconds: u64,
        now: jiff::Timestamp,
    ) -> Result<Timer, ToolError> {
        let due_at = now
            .checked_add(jiff::SignedDuration::from_secs(seconds as i64))
            .map_err(|e| ToolError::Refused(format!("that timer ends too far away: {e}")))?;
        self.insert(TimerKind::Timer, label, due_at, now)
    }

    /// Stores a reminder of `text` due at an instant, with the next free id.
    pub fn add_reminder(
        &self,
        text: String,
        due_at: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Result<Timer, ToolError> {
        self.insert(TimerKind::Reminder, Some(text), due_at, now)
    }

    fn insert(
        &self,
        kind: TimerKind,
        label: Option<String>,
        due_at: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Result<Timer, ToolError> {
        let seconds = due_at.duration_since(now).as_secs().max(0) as u64;
        let mut id = self.list()?.iter().map(|t| t.id).max().unwrap_or(0) + 1;
        for _ in 0..100 {
            let timer = Timer {
                id,
                kind,
                label: label.clone(),
                created_at: now,
                due_at,
                seconds,
            };
            match self
                .dir
                .create_new(&file_name(id), encode(&timer).as_bytes())
            {
                Ok(()) => return Ok(timer),
                Err(SandboxError::AlreadyExists { .. }) => id += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ToolError::Failed("cannot find a free timer number".into()))
    }

    /// Removes a timer; `false` if there was none with that id.
    pub fn remove(&self, id: u32) -> Result<bool, ToolError> {
        match self.dir.remove_file(&file_name(id)) {
            Ok(()) => Ok(true),
            Err(SandboxError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Timers whose time has come by `now`.
    pub fn due(&self, now: jiff::Timestamp) -> Result<Vec<Timer>, ToolError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|t| t.due_at <= now)
            .collect())
    }
}

fn file_name(id: u32) -> String {
    format!("{id}.json")
}

fn encode(timer: &Timer) -> String {
    let file = TimerFile {
        version: FORMAT_VERSION,
        id: timer.id,
        kind: timer.kind,
        label: timer.label.clone(),
        created_at: timer.created_at.to_string(),
        due_at: timer.due_at.to_string(),
        seconds: timer.seconds,
    };
    serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
}

fn decode(text: &str) -> Option<Timer> {
    let file: TimerFile = serde_json::from_str(text).ok()?;
    if file.version != FORMAT_VERSION {
        return None;
    }
    Some(Timer {
        id: file.id,
        kind: file.kind,
        label: file.label,
        created_at: file.created_at.parse().ok()?,
        due_at: file.due_at.parse().ok()?,
        seconds: file.seconds,
    })
}

/// `1 hour 5 minutes`, `30 seconds`.
pub fn spoken_duration(seconds: u64) -> String {
    let parts = [
        (seconds / 86_400, "day"),
        (seconds % 86_400 / 3600, "hour"),
        (seconds % 3600 / 60, "minute"),
        (seconds % 60, "second"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if words.is_empty() {
        "0 seconds".into()
    } else {
        words.join(" ")
    }
}

fn timers_read() -> Capability {
    Capability::ReadDir(DirScope::Sotto {
        folder: FOLDER.into(),
    })
}
fn timers_write() -> Capability {
    Capability::WriteDir(DirScope::Sotto {
        folder: FOLDER.into(),
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimerInfo {
    pub id: u32,
    pub label: Option<String>,
    /// RFC 3339, UTC.
    pub due_at: String,
    /// 0 when the timer is already due.
    pub remaining_seconds: u64,
}

pub(crate) fn info_of(timer: &Timer, now: jiff::Timestamp) -> TimerInfo {
    TimerInfo {
        id: timer.id,
        label: timer.label.clone(),
        due_at: timer.due_at.to_string(),
        remaining_seconds: timer.due_at.duration_since(now).as_secs().max(0) as u64,
    }
}

fn describe(timer: &Timer) -> String {
    match &timer.label {
        Some(label) => format!("the {label} timer"),
        None => format!("timer {}", timer.id),
    }
}

#[derive(Debug)]
pub struct TimerStart;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimerStartArgs {
    #[serde(default)]
    #[schemars(range(max = 744))]
    pub hours: Option<u32>,
    #[serde(default)]
    #[schemars(range(max = 44640))]
    pub minutes: Option<u32>,
    #[serde(default)]
    #[schemars(range(max = 2678400))]
    pub seconds: Option<u32>,
    /// What the timer is for, if the user said (`pasta`, `laundry`).
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub label: Option<String>,
}

impl TypedTool for TimerStart {
    type Args = TimerStartArgs;
    type Output = TimerInfo;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "(countdown|count down) {minutes} (minute|minutes)",
            "(countdown|count down) {seconds} (second|seconds)",
            "(set|start) [a|an] {minutes} minute timer (for [the]|called) {label}",
            "(set|start) [a|an] {hours} hour timer (for [the]|called) {label}",
            "[set|start] [a|an] timer (for|of) {minutes} (minute|minutes|min|mins)",
            "[set|start] [a|an] timer (for|of) {seconds} (second|seconds|sec|secs)",
            "[set|start] [a|an] timer (for|of) {hours} (hour|hours)",
            "(set|start) [a|an] {minutes} minute timer",
            "(set|start) [a|an] {hours} hour timer",
            "(set|start) [a|an] {seconds} second timer",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "timer_start",
            description: "Starts a countdown timer of hours, minutes and/or seconds, optionally with a label.",
            examples: vec![
                Example::new("set a timer for five minutes", json!({"minutes": 5})),
                Example::new(
                    "timer 10 minutes for the pasta",
                    json!({"minutes": 10, "label": "pasta"}),
                ),
                Example::new("wake me in 90 seconds", json!({"seconds": 90})),
                Example::new(
                    "start a one and a half hour timer for the laundry",
                    json!({"hours": 1, "minutes": 30, "label": "laundry"}),
                ),
            ],
            capabilities: vec![timers_read(), timers_write()],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: TimerStartArgs,
        context: &ToolContext,
    ) -> Result<Reply<TimerInfo>, ToolError> {
        let total = u64::from(args.hours.unwrap_or(0)) * 3600
            + u64::from(args.minutes.unwrap_or(0)) * 60
            + u64::from(args.seconds.unwrap_or(0));
        if total == 0 {
            return Err(ToolError::Refused(
                "a timer needs a length: how long?".into(),
            ));
        }
        if total > MAX_SECONDS {
            return Err(ToolError::Refused(
                "timers can be at most 31 days long".into(),
            ));
        }
        let label = args
            .label
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty());
        let now = jiff::Timestamp::now();
        let timer = TimerBook::new(context.sotto_dir(FOLDER)?).add(label, total, now)?;
        let summary = format!(
            "Started {} for {}.",
            describe(&timer),
            spoken_duration(total)
        );
        Ok(Reply::new(info_of(&timer, now), summary))
    }
}

#[derive(Debug)]
pub struct TimerList;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimerListArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimerListResult {
    /// Soonest first.
    pub timers: Vec<TimerInfo>,
}

impl TypedTool for TimerList {
    type Args = TimerListArgs;
    type Output = TimerListResult;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "which timers do i have [going|running]",
            "what timers are running",
            "(list|show) [me] [my|the] timers",
            "how long is left on [my|the] timer",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "timer_list",
            description: "Lists the running timers and how long each has left.",
            examples: vec![
                Example::new("what timers are running", json!({})),
                Example::new("how long is left on my timer", json!({})),
                Example::new("list timers", json!({})),
            ],
            capabilities: vec![timers_read()],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        _: TimerListArgs,
        context: &ToolContext,
    ) -> Result<Reply<TimerListResult>, ToolError> {
        let now = jiff::Timestamp::now();
        let timers = TimerBook::new(context.sotto_dir(FOLDER)?).list()?;
        let summary = if timers.is_empty() {
            "No timers are running.".to_string()
        } else {
            timers
                .iter()
                .map(|t| {
                    let left = info_of(t, now).remaining_seconds;
                    if left == 0 {
                        format!("{} is due", describe(t))
                    } else {
                        format!("{} has {} left", describe(t), spoken_duration(left))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
                + "."
        };
        let timers = timers.iter().map(|t| info_of(t, now)).collect();
        Ok(Reply::new(TimerListResult { timers }, summary))
    }
}

#[derive(Debug)]
pub struct TimerCancel;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimerCancelArgs {
    /// The timer's number.
    #[serde(default)]
    pub id: Option<u32>,
    /// The timer's label; every timer with this label is cancelled.
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub label: Option<String>,
    /// Cancel every timer.
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimerCancelResult {
    pub cancelled: Vec<u32>,
}

impl TypedTool for TimerCancel {
    type Args = TimerCancelArgs;
    type Output = TimerCancelResult;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "(cancel|stop|clear) (all|every) [my|the] (timer|timers) {all=true}",
            "(cancel|stop) timer [number] {id}",
            "(cancel|stop) [the|my] {label} timer",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "timer_cancel",
            description: "Cancels a timer by its number or label, or all timers.",
            examples: vec![
                Example::new("cancel the pasta timer", json!({"label": "pasta"})),
                Example::new("stop timer 2", json!({"id": 2})),
                Example::new("cancel all my timers", json!({"all": true})),
            ],
            capabilities: vec![timers_read(), timers_write()],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: TimerCancelArgs,
        context: &ToolContext,
    ) -> Result<Reply<TimerCancelResult>, ToolError> {
        let book = TimerBook::new(context.sotto_dir(FOLDER)?);
        let label = args.label.as_deref().map(|l| l.trim().to_lowercase());
        if args.id.is_none() && label.is_none() && !args.all {
            return Err(ToolError::Refused(
                "which timer? Say its number or label, or cancel all".into(),
            ));
        }
        let chosen: Vec<Timer> = book
            .list()?
            .into_iter()
            .filter(|t| {
                args.all
                    || Some(t.id) == args.id
                    || label.is_some() && t.label.as_deref().map(str::to_lowercase) == label
            })
            .collect();
        if chosen.is_empty() {
            return Err(ToolError::Refused("no running timer matches that".into()));
        }
        let mut cancelled = Vec::new();
        for timer in &chosen {
            if book.remove(timer.id)? {
                cancelled.push(timer.id);
            }
        }
        let summary = match chosen.as_slice() {
            [one] => format!("Cancelled {}.", describe(one)),
            many => format!("Cancelled {} timers.", many.len()),
        };
        Ok(Reply::new(TimerCancelResult { cancelled }, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_spoken() {
        assert_eq!(spoken_duration(300), "5 minutes");
        assert_eq!(spoken_duration(3661), "1 hour 1 minute 1 second");
        assert_eq!(spoken_duration(90_000), "1 day 1 hour");
        assert_eq!(spoken_duration(0), "0 seconds");
    }

    #[test]
    fn the_file_format_round_trips_and_refuses_other_versions() {
        let now: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let timer = Timer {
            id: 7,
            kind: TimerKind::Reminder,
            label: Some("tea".into()),
            created_at: now,
            due_at: "2026-12-01T10:03:00Z".parse().unwrap(),
            seconds: 180,
        };
        assert_eq!(decode(&encode(&timer)), Some(timer));
        assert_eq!(decode("{\"version\": 2}"), None);
        let old = r#"{"version": 1, "id": 1, "label": null, "created_at": "2026-12-01T10:00:00Z", "due_at": "2026-12-01T10:01:00Z", "seconds": 60}"#;
        assert_eq!(decode(old).map(|t| t.kind), Some(TimerKind::Timer));
        assert_eq!(decode("not json"), None);
    }
}
