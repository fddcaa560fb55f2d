//! `sotto timers watch`: due timers ring as notifications, from the files the timer tools
//! wrote, and only one Sotto process rings them. The notifier is a stand-in `notify-send`
//! that records its arguments (the real one over a real session bus is tested with the
//! built-in tools); everything else is the real `sotto` binary.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Fixture;
use sotto_builtins::TimerBook;
use sotto_sandbox::ScopedDir;

struct Desk {
    fixture: Fixture,
    bin: PathBuf,
}

impl Desk {
    fn new(notifier_body: &str) -> Desk {
        let fixture = Fixture::new();
        let bin = fixture.file("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = bin.join("notify-send");
        std::fs::write(&script, format!("#!/bin/sh\n{notifier_body}\n")).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Desk { fixture, bin }
    }

    fn timers(&self) -> ScopedDir {
        ScopedDir::create(&self.fixture.home().join("data/timers")).unwrap()
    }

    fn add(&self, label: &str, seconds_from_now: i64) {
        let now = jiff::Timestamp::now();
        let due = now + jiff::SignedDuration::from_secs(seconds_from_now);
        let dir = self.timers();
        TimerBook::new(&dir)
            .add_reminder(
                label.into(),
                due,
                now - jiff::SignedDuration::from_secs(600),
            )
            .unwrap();
    }

    fn labels(&self) -> Vec<String> {
        let dir = self.timers();
        let book = TimerBook::new(&dir);
        book.list()
            .unwrap()
            .into_iter()
            .filter_map(|t| t.label)
            .collect()
    }

    fn watch(&self, extra: &[&str]) -> Command {
        let mut args = vec!["timers", "watch"];
        args.extend_from_slice(extra);
        let mut command = self.fixture.command(&args);
        command.env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()));
        command
    }
}

fn recorder(home: &Path) -> String {
    format!(
        r#"printf '%s|' "$@" >> "{}/notified.txt"; echo >> "{}/notified.txt""#,
        home.display(),
        home.display()
    )
}

#[test]
fn due_timers_ring_once_and_are_removed_and_later_ones_wait() {
    let home = tempfile::tempdir().unwrap();
    let desk = Desk::new(&recorder(home.path()));
    // Due while nothing was running: rings at the next start, saying it is late.
    desk.add("call the plumber", -300);
    desk.add("water the plants", 3600);
    let output = desk.watch(&["--once"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Time is up: call the plumber (it was due at")
            && stdout.contains("while Sotto was not running"),
        "{stdout}"
    );
    let notified = std::fs::read_to_string(home.path().join("notified.txt")).unwrap();
    assert_eq!(
        notified,
        "--app-name=Sotto|--urgency=normal|--|Sotto reminder|Reminder: call the plumber|\n"
    );
    assert_eq!(desk.labels(), ["water the plants"]);
    // Nothing more is due: a second pass shows nothing.
    let output = desk.watch(&["--once"]).output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        std::fs::read_to_string(home.path().join("notified.txt")).unwrap(),
        notified
    );
}

#[test]
fn a_timer_that_cannot_be_shown_is_kept_for_later() {
    let desk = Desk::new("echo 'Cannot connect to the session bus' >&2; exit 1");
    desk.add("stretch", -1);
    let output = desk.watch(&["--once"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot ring a timer") && stderr.contains("session bus"),
        "{stderr}"
    );
    assert_eq!(desk.labels(), ["stretch"]);
}

#[test]
fn only_one_process_rings_and_another_takes_over_when_it_stops() {
    let home = tempfile::tempdir().unwrap();
    let desk = Desk::new(&recorder(home.path()));
    let mut first = desk
        .watch(&[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_err = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    first_err.read_line(&mut line).unwrap();
    assert!(line.contains("Ringing timers"), "{line}");

    // A second watcher sees the first and leaves the ringing to it.
    let second = desk.watch(&["--once"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("Another Sotto rings"), "{stderr}");

    // A timer due in a second rings from the running watcher, once.
    desk.add("tea", 1);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !desk_notified(&home, "tea") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let notified = std::fs::read_to_string(home.path().join("notified.txt")).unwrap();
    assert_eq!(notified.matches("Reminder: tea").count(), 1, "{notified}");
    assert!(desk.labels().is_empty());

    // When it stops, the lock goes with it and the next watcher rings.
    first.kill().unwrap();
    first.wait().unwrap();
    desk.add("stand up", -1);
    let third = desk.watch(&["--once"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&third.stdout);
    assert!(stdout.contains("Time is up: stand up"), "{third:?}");
    let notified = std::fs::read_to_string(home.path().join("notified.txt")).unwrap();
    assert_eq!(
        notified.matches("Reminder: stand up").count(),
        1,
        "{notified}"
    );
}

fn desk_notified(home: &tempfile::TempDir, label: &str) -> bool {
    std::fs::read_to_string(home.path().join("notified.txt"))
        .is_ok_and(|text| text.contains(&format!("Reminder: {label}")))
}
