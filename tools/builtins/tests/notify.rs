//! Reminders, and firing due timers as desktop notifications for real: the real
//! `notify-send` on a private session bus (`dbus-daemon`), where this file serves a fake
//! `org.freedesktop.Notifications` (zbus) that records each notification it is asked to show
//! together with the timer files present at that moment.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::json;
use sotto_sandbox::{Launcher, ProgramRule, ScopedDir};
use support::dbus::SessionBus;
use support::World;

/// A notifier whose session bus is the private one: the address reaches `notify-send` only
/// through the host environment.
fn notifier(world: &World, bus: &SessionBus) -> Launcher {
    Launcher::new(
        world
            .host()
            .env
            .with_var("DBUS_SESSION_BUS_ADDRESS", &bus.address),
        ProgramRule::Named(vec![sotto_builtins::NOTIFIER.into()]),
    )
}

/// One notification as the server received it.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    app: String,
    summary: String,
    body: String,
    /// The timer files in the folder when it was shown.
    timer_files: Vec<String>,
}

/// A fake notification server: the freedesktop Notifications interface, recording instead
/// of drawing.
struct FakeNotifications {
    shown: Arc<Mutex<Vec<Shown>>>,
    timers: PathBuf,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl FakeNotifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut timer_files: Vec<String> = std::fs::read_dir(&self.timers)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .collect();
        timer_files.sort();
        let mut shown = self.shown.lock().unwrap();
        shown.push(Shown {
            app: app_name,
            summary,
            body,
            timer_files,
        });
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "sotto-test".into(),
            "sotto".into(),
            "1.0".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// Serves the fake as `org.freedesktop.Notifications` until the connection is dropped.
async fn serve_notifications(
    bus: &SessionBus,
    timers: PathBuf,
    shown: &Arc<Mutex<Vec<Shown>>>,
) -> zbus::Connection {
    let server = FakeNotifications {
        shown: shown.clone(),
        timers,
    };
    zbus::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at("/org/freedesktop/Notifications", server)
        .unwrap()
        .build()
        .await
        .unwrap()
}

fn shown(summary: &str, body: &str, timer_files: &[&str]) -> Shown {
    Shown {
        app: "Sotto".into(),
        summary: summary.into(),
        body: body.into(),
        timer_files: timer_files.iter().map(|f| f.to_string()).collect(),
    }
}

#[tokio::test]
async fn reminders_are_stored_as_timers_due_at_a_local_time() {
    let world = World::new();
    let zone = jiff::tz::TimeZone::system();
    let in_two_days = jiff::Timestamp::now().to_zoned_datetime(zone) + jiff::Span::new().days(2);
    let at = in_two_days.strftime("%Y-%m-%dT%H:%M").to_string();
    let out = world
        .call("reminder_set", json!({"text": "call mum", "at": at}))
        .await
        .unwrap();
    assert!(
        out.summary.starts_with("I'll remind you to call mum on"),
        "{}",
        out.summary
    );
    // About two days ahead (the minute is truncated; a DST change may add or drop an hour).
    assert!(
        out.summary.contains("(in 1 day 2") || out.summary.contains("(in 2 days"),
        "{}",
        out.summary
    );
    let list = world.call("timer_list", json!({})).await.unwrap();
    assert_eq!(list.value["timers"][0]["label"], "call mum");
    let err = world
        .call(
            "reminder_set",
            json!({"text": "too late", "at": "2001-01-01T10:00"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already passed"), "{err}");
}

#[tokio::test]
async fn due_timers_show_real_notifications_and_only_then_go() {
    let world = World::new();
    let bus = SessionBus::start(&world.base.path().join("dbus"));
    let dir = ScopedDir::create(&world.data().join("timers")).unwrap();
    let notes = Arc::new(Mutex::new(Vec::new()));
    let _server = serve_notifications(&bus, world.data().join("timers"), &notes).await;
    let book = sotto_builtins::TimerBook::new(&dir);
    let now = jiff::Timestamp::now();
    book.add(Some("pasta".into()), 1, now).unwrap();
    book.add_reminder(
        "-rf take the bins out; $(touch pwned)".into(),
        now + jiff::SignedDuration::from_secs(2),
        now,
    )
    .unwrap();
    book.add(None, 3600, now).unwrap();

    let later = now + jiff::SignedDuration::from_secs(5);
    let fired = sotto_builtins::fire_due(&dir, &notifier(&world, &bus), later)
        .await
        .unwrap();
    assert_eq!(fired.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2]);
    // Each timer's file was still there while its notification was shown, and gone before
    // the next one was.
    assert_eq!(
        *notes.lock().unwrap(),
        [
            shown(
                "Sotto timer",
                "Time is up: pasta",
                &["1.json", "2.json", "3.json"]
            ),
            shown(
                "Sotto reminder",
                "Reminder: -rf take the bins out; $(touch pwned)",
                &["2.json", "3.json"]
            ),
        ]
    );
    assert!(!world.home().join("pwned").exists());
    let left: Vec<u32> = book.list().unwrap().iter().map(|t| t.id).collect();
    assert_eq!(left, [3], "the hour-long timer stays");
    // Nothing is due twice.
    assert!(
        sotto_builtins::fire_due(&dir, &notifier(&world, &bus), later)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(notes.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn with_no_notification_server_the_timer_waits_for_the_next_try() {
    let world = World::new();
    let bus = SessionBus::start(&world.base.path().join("dbus"));
    let dir = ScopedDir::create(&world.data().join("timers")).unwrap();
    let book = sotto_builtins::TimerBook::new(&dir);
    let now = jiff::Timestamp::now();
    book.add(Some("tea".into()), 1, now).unwrap();
    let later = now + jiff::SignedDuration::from_secs(2);

    let err = sotto_builtins::fire_due(&dir, &notifier(&world, &bus), later)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("cannot show the notification for Sotto timer 1")
            && text.contains("org.freedesktop.Notifications"),
        "{text}"
    );
    assert_eq!(book.list().unwrap().len(), 1, "the timer is kept");

    // Once a notification server is there, the kept timer fires.
    let notes = Arc::new(Mutex::new(Vec::new()));
    let _server = serve_notifications(&bus, world.data().join("timers"), &notes).await;
    let fired = sotto_builtins::fire_due(&dir, &notifier(&world, &bus), later)
        .await
        .unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(
        *notes.lock().unwrap(),
        [shown("Sotto timer", "Time is up: tea", &["1.json"])]
    );
    assert!(book.list().unwrap().is_empty());
}
