//! `volume` against a real PulseAudio server (a private one with a null sink).

mod support;

use serde_json::json;
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{decide, Decision, Input, Origin};
use sotto_tools::{authorize, Host, ToolContext};
use support::pulse::Pulse;
use support::World;

#[tokio::test]
async fn volume_up_down_set_and_mute_on_a_real_sound_server() {
    let world = World::new();
    std::fs::create_dir_all(world.home().join(".config/pulse")).unwrap();
    std::fs::write(
        world.home().join(".config/pulse/client.conf"),
        "autospawn = no\n",
    )
    .unwrap();
    let pulse = Pulse::start(world.base.path());
    let runtime = pulse.runtime.clone();
    let home = world.home();
    let host = Host::new(
        world.data(),
        HostEnv::from_lookup(move |key| match key {
            "HOME" => Some(home.clone().into()),
            "PATH" => Some("/usr/bin:/bin".into()),
            "XDG_RUNTIME_DIR" => Some(runtime.clone().into()),
            // A translated locale must not break parsing: the tool forces C.
            "LANG" => Some("de_DE.UTF-8".into()),
            _ => None,
        }),
    );
    let grants = world.allowed(&[]);
    let run = |args: serde_json::Value| {
        let call = world.registry.validate("volume", args).unwrap();
        let decision = decide(call.manifest(), &grants, Origin::user(Input::Voice));
        assert!(matches!(decision, Decision::Allow(_)), "{decision}");
        let context = ToolContext::build(call.manifest(), &host, &grants).unwrap();
        let authorized = authorize(call, &decision, None).unwrap();
        async move { authorized.run(&context).await }
    };
    let server_volume = || {
        let text = pulse.pactl(&["get-sink-volume", "@DEFAULT_SINK@"]).unwrap();
        sotto_builtins::parse_percent(&text).unwrap()
    };

    let out = run(json!({"action": "set", "percent": 40})).await.unwrap();
    assert_eq!(out.value, json!({"percent": 40, "muted": false}));
    assert_eq!(server_volume(), 40);
    let out = run(json!({"action": "up"})).await.unwrap();
    assert_eq!(out.value["percent"], 50);
    assert_eq!(server_volume(), 50);
    run(json!({"action": "down", "percent": 5})).await.unwrap();
    assert_eq!(server_volume(), 45);
    // Louder never goes past 100%.
    run(json!({"action": "set", "percent": 95})).await.unwrap();
    let out = run(json!({"action": "up", "percent": 20})).await.unwrap();
    assert_eq!(out.value["percent"], 100);
    assert_eq!(server_volume(), 100);

    let out = run(json!({"action": "mute"})).await.unwrap();
    assert_eq!(out.summary, "Sound muted.");
    assert_eq!(
        pulse
            .pactl(&["get-sink-mute", "@DEFAULT_SINK@"])
            .unwrap()
            .trim(),
        "Mute: yes"
    );
    let out = run(json!({"action": "toggle_mute"})).await.unwrap();
    assert_eq!(out.value["muted"], false);
    let out = run(json!({"action": "get"})).await.unwrap();
    assert_eq!(out.summary, "Volume 100%.");
    let err = run(json!({"action": "set"})).await.unwrap_err();
    assert!(err.to_string().contains("how many percent"), "{err}");
}

#[tokio::test]
async fn without_a_sound_server_the_error_says_so() {
    let world = World::new();
    // Never let libpulse start a server of its own for this test.
    std::fs::create_dir_all(world.home().join(".config/pulse")).unwrap();
    std::fs::write(
        world.home().join(".config/pulse/client.conf"),
        "autospawn = no\n",
    )
    .unwrap();
    let err = world
        .call("volume", json!({"action": "up"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sound server refused"), "{err}");
}
