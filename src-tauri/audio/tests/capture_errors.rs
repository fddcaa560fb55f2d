//! Capture's errors when there is no usable microphone, through the real ALSA library with
//! a private configuration: the default device is a sound card that does not exist, and one
//! named device is listed but cannot be opened. (One test function: it sets the process
//! environment before ALSA first reads it.)

use sotto_audio::{list_input_devices, Capture, CaptureConfig, CaptureError};

const ALSA_CONF: &str = r#"
pcm.!default { type hw card 41 }
ctl.!default { type hw card 41 }
pcm.sotto_unplugged {
    type hw
    card 42
    hint { show on description "Sotto Test Headset" }
}
"#;

#[test]
fn missing_microphones_give_errors_that_say_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("asound.conf");
    std::fs::write(&conf, ALSA_CONF).expect("write ALSA config");
    // Edition 2021: `set_var` is safe; the only test in this binary, set before ALSA runs.
    std::env::set_var("ALSA_CONFIG_PATH", &conf);

    let devices = list_input_devices().expect("listing works without any microphone");
    assert!(
        devices
            .iter()
            .any(|d| d.name == "Sotto Test Headset" && d.id == "sotto_unplugged"),
        "{devices:?}"
    );

    let error = Capture::start(CaptureConfig::default()).expect_err("no default microphone");
    let message = error.to_string();
    println!("default: {message}");
    assert!(
        matches!(error, CaptureError::NoMicrophone { .. }),
        "{error:?}"
    );
    assert!(message.starts_with("no microphone found"), "{message}");
    assert!(message.contains("plug one in"), "{message}");
    assert!(
        message.contains("Sotto Test Headset (sotto_unplugged)"),
        "the choices are listed: {message}"
    );

    let config = CaptureConfig {
        device: Some("Studio Mic".into()),
        ..CaptureConfig::default()
    };
    let error = Capture::start(config).expect_err("no such device");
    println!("unknown name: {error}");
    assert!(
        matches!(error, CaptureError::DeviceNotFound { ref name, .. } if name == "Studio Mic"),
        "{error:?}"
    );
    assert!(error.to_string().contains("available: "), "{error}");

    // Found by a part of its name, but the card behind it is gone.
    let config = CaptureConfig {
        device: Some("test headset".into()),
        ..CaptureConfig::default()
    };
    let error = Capture::start(config).expect_err("cannot be opened");
    println!("unplugged: {error}");
    assert!(
        matches!(error, CaptureError::Open { ref device, .. } if device == "Sotto Test Headset"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("check that it is plugged in"),
        "{error}"
    );
}
