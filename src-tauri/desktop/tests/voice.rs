//! Speaking to the desktop app: a private PulseAudio server whose null sink's monitor is the
//! microphone; espeak-ng speech is played into it while the push-to-talk key is "held"
//! (`Voice::start`/`stop`, what the hotkey handler calls). The real speech model hears it,
//! the real planner plans it, the window's stand-in confirms it, and the history keeps the
//! recording with the request. Its own test binary: routing audio changes the process
//! environment.

mod common;

use std::time::Duration;

use common::Fixture;
use sotto_desktop::voice::{self, Voice};
use sotto_e2e::pulse::{route_this_process_to, PulseServer};
use sotto_window_api::{ConfirmAnswer, ConfirmReply, MicrophoneView, RequestUpdate, VoiceUpdate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_request_is_heard_confirmed_in_the_window_and_kept() {
    let pulse_dir = tempfile::tempdir().unwrap();
    let server = PulseServer::start(pulse_dir.path()).unwrap_or_else(|why| {
        panic!("ENVIRONMENT: cannot start a private PulseAudio server, so voice cannot be tested: {why}")
    });
    route_this_process_to(pulse_dir.path());
    let mut f = Fixture::new(Duration::from_secs(60));
    let speech = f.home.path().join("timer.wav");
    sotto_e2e::speak_to(
        "set a timer for five minutes",
        "en-us",
        150,
        &speech,
        sotto_e2e::WAV_48K_STEREO,
    );
    let voice = Voice::new(f.assistant.clone(), f.recorder.clone());

    // Muted: the microphone stays closed and the key does nothing but say so.
    voice.set_muted(true);
    let refused = voice.start().unwrap_err();
    assert!(refused.contains("muted"), "{refused}");
    assert_eq!(f.assistant.status().microphone, MicrophoneView::Muted);
    assert!(f.assistant.status().muted);

    // Unmuted from the tray's thread, which runs no async runtime (neither do the hotkey
    // handler's or the app's setup): the session must start from there too.
    std::thread::spawn({
        let voice = voice.clone();
        move || voice.set_muted(false)
    })
    .join()
    .expect("unmuting from a thread without a runtime");
    let device = voice::wait_ready(&f.assistant, Duration::from_secs(120))
        .await
        .expect("the microphone opens");
    assert!(!device.is_empty());

    // Hold the key, speak, release.
    voice.start().unwrap();
    assert_eq!(
        f.assistant.status().state,
        sotto_window_api::AssistantState::Listening
    );
    let mut player = server.play(&speech);
    assert!(player.wait().unwrap().success(), "paplay failed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    voice.stop().unwrap();

    // The timer asks the first time: the window's dialog (here, its stand-in) allows it.
    let prompt = tokio::time::timeout(Duration::from_secs(180), f.prompts.recv())
        .await
        .expect("a question within three minutes")
        .unwrap();
    assert_eq!(prompt.tool, "timer_start");
    f.assistant
        .confirmations
        .answer(&ConfirmReply {
            id: prompt.id,
            answer: ConfirmAnswer::AllowOnce,
        })
        .unwrap();
    let done = common::wait_for_done(&f.recorder, Duration::from_secs(120)).await;
    let RequestUpdate::Done { ok, utterance, .. } = done else {
        panic!("the request failed: {done:?}");
    };
    assert!(ok);
    assert_eq!(f.timers(), 1);

    // What the overlay saw: recording began, levels while recording, the words heard.
    let updates = f.recorder.voice.lock().unwrap().clone();
    assert!(
        matches!(updates.first(), Some(VoiceUpdate::Started)),
        "{updates:?}"
    );
    assert!(
        updates
            .iter()
            .any(|u| matches!(u, VoiceUpdate::Level { dbfs } if *dbfs > -50.0)),
        "the level meter moved while speaking: {updates:?}"
    );
    let heard = updates
        .iter()
        .find_map(|u| match u {
            VoiceUpdate::Heard {
                utterance, text, ..
            } => Some((*utterance, text.clone())),
            _ => None,
        })
        .expect("a transcript");
    let words = sotto_e2e::words(&heard.1);
    assert!(words.contains("timer"), "{words:?}");
    // The request continued the listener's history row: one row, spoken, with its audio.
    assert_eq!(heard.0, Some(utterance));
    let rows = f.assistant.history(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].input, "voice");
    assert_eq!(rows[0].status, "done");
    let detail = f.assistant.history_detail(utterance).await.unwrap();
    let audio = detail.audio_path.expect("the recording is kept");
    assert!(std::path::Path::new(&audio).is_file(), "{audio}");
    assert_eq!(detail.plans[0].calls[0].decision, "confirmed");

    // Muting while idle closes the microphone; the tray and window say so.
    voice.set_muted(true);
    assert_eq!(f.assistant.status().microphone, MicrophoneView::Muted);
}
