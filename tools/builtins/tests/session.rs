//! Locking the screen and media keys. The programs are stand-in scripts that record their
//! arguments: this machine has no logind session to lock and no MPRIS player on a session
//! bus to control, so the real `loginctl` and `playerctl` could only fail here.

mod support;

use serde_json::json;
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

#[tokio::test]
async fn media_keys_go_to_playerctl_and_report_the_status() {
    let world = World::new();
    world.script(
        "playerctl",
        r#"echo "$*" >> "$HOME/calls.txt"
case "$*" in *status) echo Paused ;; esac"#,
    );
    let out = world
        .call("media_control", json!({"action": "play_pause"}))
        .await
        .unwrap();
    assert_eq!(
        out.value,
        json!({"action": "play_pause", "status": "Paused"})
    );
    assert_eq!(out.summary, "Done; the player is paused.");
    world
        .call(
            "media_control",
            json!({"action": "next", "player": "Spotify"}),
        )
        .await
        .unwrap();
    let calls = std::fs::read_to_string(world.home().join("calls.txt")).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "play-pause",
            "status",
            "--player spotify next",
            "--player spotify status"
        ]
    );
    for bad in ["-x", "vlc; rm -rf ~", "a b"] {
        let err = world
            .call("media_control", json!({"action": "next", "player": bad}))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not a player name") || err.to_string().contains("refused"),
            "{bad}: {err}"
        );
    }
    world.script("playerctl", "echo 'No players found' >&2; exit 1");
    let err = world
        .call("media_control", json!({"action": "pause"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nothing is playing"), "{err}");
}
