//! `reminder_set` (a timer due at a local date and time, whose label is the reminder) and
//! [`fire_due`], which shows a desktop notification for every due timer or reminder.
//!
//! Notifications go through `notify-send` (Debian `libnotify-bin`), which speaks the
//! freedesktop notification protocol over the session D-Bus; no D-Bus code lives in Sotto.

use std::time::Duration;

use jiff::civil;
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use sotto_sandbox::{Arg, Launcher, SafeText, ScopedDir};
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool,
};

use crate::timers::{spoken_duration, Timer, TimerBook, TimerInfo, TimerKind};

/// The program that shows notifications.
pub const NOTIFIER: &str = "notify-send";
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct ReminderSet;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderSetArgs {
    /// What to remind the user of.
    #[schemars(length(min = 1, max = 300))]
    pub text: String,
    /// Local date and time, `YYYY-MM-DDTHH:MM`.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"))]
    pub at: String,
}

impl TypedTool for ReminderSet {
    type Args = ReminderSetArgs;
    type Output = TimerInfo;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "reminder_set",
            description: "Sets a reminder with a message at a local date and time; it pops up as a notification.",
            examples: vec![
                Example::new(
                    "remind me to call mum on 2026-03-01 at 18:00",
                    json!({"text": "call mum", "at": "2026-03-01T18:00"}),
                ),
                Example::new(
                    "reminder at 2026-06-10 08:15 take the bins out",
                    json!({"text": "take the bins out", "at": "2026-06-10T08:15"}),
                ),
                Example::new(
                    "don't let me forget the dentist on 2026-09-09 at 9",
                    json!({"text": "dentist", "at": "2026-09-09T09:00"}),
                ),
            ],
            capabilities: vec![
                Capability::ReadDir(DirScope::Sotto {
                    folder: "timers".into(),
                }),
                Capability::WriteDir(DirScope::Sotto {
                    folder: "timers".into(),
                }),
            ],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: ReminderSetArgs,
        context: &ToolContext,
    ) -> Result<Reply<TimerInfo>, ToolError> {
        let zone = TimeZone::system();
        let local: civil::DateTime = args.at.parse().map_err(|e| {
            ToolError::Refused(format!("`{}` is not a time I can use: {e}", args.at))
        })?;
        let due_at = local
            .to_zoned_datetime(zone.clone())
            .map_err(|e| ToolError::Refused(format!("`{}` does not exist here: {e}", args.at)))?
            .timestamp();
        let now = jiff::Timestamp::now();
        if due_at <= now {
            return Err(ToolError::Refused(format!(
                "{} has already passed",
                args.at.replace('T', " ")
            )));
        }
        let text = args.text.trim().to_string();
        let book = TimerBook::new(context.sotto_dir("timers")?);
        let timer = book.add_reminder(text.clone(), due_at, now)?;
        let summary = format!(
            "I'll remind you to {text} on {} (in {}).",
            due_at
                .to_zoned_datetime(zone)
                .strftime("%A %-d %B at %H:%M"),
            spoken_duration(timer.seconds)
        );
        Ok(Reply::new(crate::timers::info_of(&timer, now), summary))
    }
}

/// Shows a notification for each timer in `timers` that is due at `now`, removing each one
/// only after its notification was shown. Returns the timers that fired. A failure stops
/// there and leaves the rest for the next call.
///
/// `launcher` must allow [`NOTIFIER`]; the app builds it from its host environment (the
/// session bus address is on the allow-list).
pub async fn fire_due(
    timers: &ScopedDir,
    launcher: &Launcher,
    now: jiff::Timestamp,
) -> Result<Vec<Timer>, ToolError> {
    let book = TimerBook::new(timers);
    let mut fired = Vec::new();
    for timer in book.due(now)? {
        let (title, body) = match (timer.kind, &timer.label) {
            (TimerKind::Reminder, Some(text)) => ("Sotto reminder", format!("Reminder: {text}")),
            (_, Some(label)) => ("Sotto timer", format!("Time is up: {label}")),
            (_, None) => ("Sotto timer", format!("Timer {} is done", timer.id)),
        };
        let args = [
            Arg::Fixed("--app-name=Sotto"),
            Arg::Fixed("--urgency=normal"),
            Arg::Fixed("--"),
            Arg::Text(SafeText::new(title)?),
            Arg::Text(SafeText::new(&body)?),
        ];
        let out = launcher.run(NOTIFIER, &args, NOTIFY_TIMEOUT).await?;
        if !out.success {
            return Err(ToolError::Failed(format!(
                "cannot show the notification for {title} {}: {}",
                timer.id, out.stderr_tail
            )));
        }
        book.remove(timer.id)?;
        fired.push(timer);
    }
    Ok(fired)
}
