//! Locking the screen and media keys.
//!
//! Locking uses stand-in scripts that record their arguments: a test machine has no logind
//! session to lock, so the real `loginctl` could only fail here.
//!
//! Media keys are real end to end: the real `playerctl` on a private session bus
//! (`dbus-daemon`), talking MPRIS to fake players this file serves with zbus, which record
//! every call and answer `PlaybackStatus` from their own state.

mod support;

use std::sync::{Arc, Mutex};

use serde_json::json;
use sotto_tools::Host;
use support::dbus::SessionBus;
use support::World;

#[tokio::test]
async fn lock_screen_asks_logind_then_falls_back_to_xdg_screensaver() {
    let world = World::new();
    world.script("loginctl", r#"echo "loginctl $*" >> "$HOME/calls.txt""#);
    let out = world.call("lock_screen", json!({})).await.unwrap();
    assert_eq!(out.value["by"], "loginctl");
    world.script(
        "loginctl",
        r#"echo "loginctl $*" >> "$HOME/calls.txt"; echo 'Failed to issue method call: No session' >&2; exit 1"#,
    );
    world.script(
        "xdg-screensaver",
        r#"echo "xdg-screensaver $*" >> "$HOME/calls.txt""#,
    );
    let out = world.call("lock_screen", json!({})).await.unwrap();
    assert_eq!(out.value["by"], "xdg-screensaver");
    let calls = std::fs::read_to_string(world.home().join("calls.txt")).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "loginctl lock-session",
            "loginctl lock-session",
            "xdg-screensaver lock"
        ]
    );
    world.script("xdg-screensaver", "echo 'no screensaver' >&2; exit 4");
    let err = world.call("lock_screen", json!({})).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("No session") && text.contains("no screensaver"),
        "{text}"
    );
}

/// A fake MPRIS player: records `<name> <Method>` for each call, and plays, pauses and stops
/// as a real one would, so the status the tool reports afterwards is the player's own.
struct FakePlayer {
    name: &'static str,
    status: &'static str,
    calls: Arc<Mutex<Vec<String>>>,
}

impl FakePlayer {
    fn record(&mut self, method: &str, status: Option<&'static str>) {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{} {method}", self.name));
        if let Some(status) = status {
            self.status = status;
        }
    }
}

#[zbus::interface(name = "org.mpris.MediaPlayer2.Player")]
impl FakePlayer {
    fn play_pause(&mut self) {
        let next = if self.status == "Playing" {
            "Paused"
        } else {
            "Playing"
        };
        self.record("PlayPause", Some(next));
    }
    fn play(&mut self) {
        self.record("Play", Some("Playing"));
    }
    fn pause(&mut self) {
        self.record("Pause", Some("Paused"));
    }
    fn stop(&mut self) {
        self.record("Stop", Some("Stopped"));
    }
    fn next(&mut self) {
        self.record("Next", None);
    }
    fn previous(&mut self) {
        self.record("Previous", None);
    }

    #[zbus(property)]
    fn playback_status(&self) -> String {
        self.status.to_string()
    }
    #[zbus(property)]
    fn can_control(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn can_play(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn can_pause(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn can_go_next(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn can_go_previous(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn can_seek(&self) -> bool {
        false
    }
}

/// The MPRIS root interface every player also serves.
struct FakeRoot {
    identity: &'static str,
}

#[zbus::interface(name = "org.mpris.MediaPlayer2")]
impl FakeRoot {
    fn raise(&self) {}
    fn quit(&self) {}
    #[zbus(property)]
    fn identity(&self) -> String {
        self.identity.to_string()
    }
    #[zbus(property)]
    fn can_quit(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn can_raise(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn has_track_list(&self) -> bool {
        false
    }
}

/// Serves a fake player as `org.mpris.MediaPlayer2.<name>` until the connection is dropped.
async fn serve_player(
    bus: &SessionBus,
    name: &'static str,
    status: &'static str,
    calls: &Arc<Mutex<Vec<String>>>,
) -> zbus::Connection {
    let player = FakePlayer {
        name,
        status,
        calls: calls.clone(),
    };
    zbus::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name(format!("org.mpris.MediaPlayer2.{name}"))
        .unwrap()
        .serve_at("/org/mpris/MediaPlayer2", player)
        .unwrap()
        .serve_at("/org/mpris/MediaPlayer2", FakeRoot { identity: name })
        .unwrap()
        .build()
        .await
        .unwrap()
}

/// The world's host, with the private bus as the session bus: the only route by which the
/// address reaches playerctl.
fn on_bus(world: &World, bus: &SessionBus) -> Host {
    let mut host = world.host();
    host.env = host.env.with_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    host
}

#[tokio::test]
async fn media_keys_reach_the_player_over_the_session_bus_and_report_its_status() {
    let world = World::new();
    let bus = SessionBus::start(&world.base.path().join("dbus"));
    let host = on_bus(&world, &bus);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let _vlc = serve_player(&bus, "vlc", "Paused", &calls).await;
    let grants = world.allowed(&[]);

    for (action, method, status) in [
        ("play_pause", "PlayPause", "Playing"),
        ("play_pause", "PlayPause", "Paused"),
        ("play", "Play", "Playing"),
        ("next", "Next", "Playing"),
        ("previous", "Previous", "Playing"),
        ("pause", "Pause", "Paused"),
        ("stop", "Stop", "Stopped"),
    ] {
        let out = world
            .call_in(&host, "media_control", json!({"action": action}), &grants)
            .await
            .unwrap();
        assert_eq!(
            out.value,
            json!({"action": action, "status": status}),
            "{action}"
        );
        assert_eq!(
            out.summary,
            format!("Done; the player is {}.", status.to_lowercase())
        );
        let last = calls.lock().unwrap().pop();
        assert_eq!(last.as_deref(), Some(format!("vlc {method}").as_str()));
        assert!(calls.lock().unwrap().is_empty(), "one call per action");
    }
}

#[tokio::test]
async fn a_named_player_gets_the_call_and_the_others_do_not() {
    let world = World::new();
    let bus = SessionBus::start(&world.base.path().join("dbus"));
    let host = on_bus(&world, &bus);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let _vlc = serve_player(&bus, "vlc", "Playing", &calls).await;
    let _spotify = serve_player(&bus, "spotify", "Paused", &calls).await;
    let grants = world.allowed(&[]);

    let out = world
        .call_in(
            &host,
            "media_control",
            json!({"action": "play", "player": " Spotify "}),
            &grants,
        )
        .await
        .unwrap();
    assert_eq!(out.value["status"], "Playing");
    world
        .call_in(
            &host,
            "media_control",
            json!({"action": "pause", "player": "vlc"}),
            &grants,
        )
        .await
        .unwrap();
    assert_eq!(*calls.lock().unwrap(), ["spotify Play", "vlc Pause"]);

    let err = world
        .call_in(
            &host,
            "media_control",
            json!({"action": "next", "player": "mpv"}),
            &grants,
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no media player called mpv is running");

    for bad in ["-x", "vlc; rm -rf ~", "a b", "spotify --all-players"] {
        let err = world
            .call_in(
                &host,
                "media_control",
                json!({"action": "next", "player": bad}),
                &grants,
            )
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("not a player name") || text.contains("may not start with '-'"),
            "{bad}: {text}"
        );
    }
    assert_eq!(
        calls.lock().unwrap().len(),
        2,
        "no refused call reached a player"
    );
}

#[tokio::test]
async fn with_no_player_running_the_error_says_so() {
    let world = World::new();
    let bus = SessionBus::start(&world.base.path().join("dbus"));
    let host = on_bus(&world, &bus);
    let err = world
        .call_in(
            &host,
            "media_control",
            json!({"action": "pause"}),
            &world.allowed(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no media player is running");
}
