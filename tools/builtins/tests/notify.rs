//! Reminders and firing due timers as notifications. The notifier is a stand-in
//! `notify-send` script that records its arguments: this machine has no notification daemon
//! on a session bus to show a real one (the real program would forward the same arguments).

mod support;

use serde_json::json;
use sotto_sandbox::{Launcher, ProgramRule, ScopedDir};
use support::World;

fn notifier(world: &World) -> Launcher {
    Launcher::new(
        world.host().env,
        ProgramRule::Named(vec![sotto_builtins::NOTIFIER.into()]),
    )
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
async fn due_timers_fire_as_notifications_and_only_then_go() {
    let world = World::new();
    world.script(
        "notify-send",
        r#"printf '%s|' "$@" >> "$HOME/notified.txt"; echo >> "$HOME/notified.txt""#,
    );
    let dir = ScopedDir::create(&world.data().join("timers")).unwrap();
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
    let fired = sotto_builtins::fire_due(&dir, &notifier(&world), later)
        .await
        .unwrap();
    assert_eq!(fired.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2]);
    let shown = std::fs::read_to_string(world.home().join("notified.txt")).unwrap();
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        [
            "--app-name=Sotto|--urgency=normal|--|Sotto timer|Time is up: pasta|",
            "--app-name=Sotto|--urgency=normal|--|Sotto reminder|Reminder: -rf take the bins out; $(touch pwned)|",
        ]
    );
    assert!(!world.home().join("pwned").exists());
    assert_eq!(book.list().unwrap().len(), 1, "the hour-long timer stays");
    // Nothing is due twice.
    assert!(sotto_builtins::fire_due(&dir, &notifier(&world), later)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_notification_that_fails_keeps_its_timer_for_the_next_try() {
    let world = World::new();
    world.script("notify-send", "echo 'no notification server' >&2; exit 1");
    let dir = ScopedDir::create(&world.data().join("timers")).unwrap();
    let book = sotto_builtins::TimerBook::new(&dir);
    let now = jiff::Timestamp::now();
    book.add(Some("tea".into()), 1, now).unwrap();
    let err = sotto_builtins::fire_due(
        &dir,
        &notifier(&world),
        now + jiff::SignedDuration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no notification server"), "{err}");
    assert_eq!(book.list().unwrap().len(), 1);
}
