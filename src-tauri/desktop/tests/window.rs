//! The real app in a real window: `sotto-desktop` under a private X server (Xvfb) and D-Bus
//! session, driven through WebDriver (tauri-driver in front of Debian's WebKitWebDriver) as a
//! person would: type a request, answer the confirmation dialog, see the tool's effect on
//! disk and the row in the history. Screenshots of each state are saved (the path is
//! printed). Real planner model, real SQLite file, real tools in a private home.

#[path = "../../../tools/builtins/tests/support/dbus.rs"]
mod dbus;
#[path = "../../../tools/builtins/tests/support/xvfb.rs"]
mod xvfb;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use sotto_e2e::pulse::{client_env, PulseServer};

struct Driver {
    http: reqwest::Client,
    session: String,
    base: String,
    shots: PathBuf,
}

impl Driver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let json: Value = response.json().await.unwrap();
        json["value"].clone()
    }

    /// A command whose failure matters (a click, typing): WebDriver's error, if it gave one
    /// ("element click intercepted", "element not interactable", "stale element reference").
    async fn act(&self, path: &str, body: Value) -> Result<(), String> {
        let value = self.call(reqwest::Method::POST, path, Some(body)).await;
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(format!(
                "{error}: {}",
                value["message"].as_str().unwrap_or_default()
            )),
            None => Ok(()),
        }
    }

    async fn find_all(&self, css: &str) -> Vec<String> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_object()?.values().next()?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching `css`, waiting up to `timeout` for it.
    async fn wait_for(&self, css: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                return element;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!(
                    "no {css} after {timeout:?}; screenshot in {}",
                    self.shots.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the element `css` shows text that `ok` accepts; returns that text.
    async fn wait_text(&self, css: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        match self.shows_text(css, timeout, ok).await {
            Ok(text) => text,
            Err(last) => {
                self.screenshot("timeout").await;
                panic!("{css} never showed the expected text; last: {last:?}");
            }
        }
    }

    /// As [`Driver::wait_text`], with the last text seen as the `Err` of a timeout.
    async fn shows_text(
        &self,
        css: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                last = self.text(&element).await;
                if ok(&last) {
                    return Ok(last);
                }
            }
            if Instant::now() > deadline {
                return Err(last);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn text(&self, element: &str) -> String {
        let value = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await;
        value.as_str().unwrap_or_default().to_string()
    }

    async fn click(&self, element: &str) -> Result<(), String> {
        self.act(&format!("/element/{element}/click"), json!({}))
            .await
    }

    /// Clicks the element matching `css` once it is there and takes the click (up to 5 s), as
    /// a person clicks again when something was still in the way.
    async fn press(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let element = self.wait_for(css, Duration::from_secs(5)).await;
            match self.click(&element).await {
                Ok(()) => return,
                Err(why) if Instant::now() > deadline => {
                    self.screenshot("timeout").await;
                    panic!("{css} could not be clicked: {why}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn type_into(&self, element: &str, text: &str) {
        if let Err(why) = self
            .act(&format!("/element/{element}/value"), json!({"text": text}))
            .await
        {
            self.screenshot("timeout").await;
            panic!("could not type {text:?}: {why}");
        }
    }

    /// Types a request and runs it, once the box takes one (Run is disabled while the
    /// assistant is busy), then checks it started: the live panel shows it.
    async fn submit(&self, text: &str) {
        let input = self
            .wait_for(
                "[data-testid=command-input]:not([readonly])",
                Duration::from_secs(120),
            )
            .await;
        self.type_into(&input, text).await;
        // A click that lands as the box turns busy (a voice or warm-up state) is ignored by
        // the window, leaving the text in the field: press again, as a person would.
        for attempt in 0..3 {
            if attempt > 0 {
                eprintln!("the request {text:?} did not start after Run; pressing again");
            }
            self.wait_for(
                "[data-testid=command-submit]:not([disabled])",
                Duration::from_secs(120),
            )
            .await;
            self.press("[data-testid=command-submit]").await;
            let shown = self
                .shows_text(
                    "[data-testid=live-transcript]",
                    Duration::from_secs(10),
                    |t| t.contains(text),
                )
                .await;
            if shown.is_ok() {
                return;
            }
        }
        self.screenshot("timeout").await;
        panic!("the request {text:?} never started (the live panel never showed it)");
    }

    async fn script(&self, body: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": body, "args": []})),
        )
        .await
    }

    async fn screenshot(&self, name: &str) {
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(png) = value
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        {
            std::fs::create_dir_all(&self.shots).unwrap();
            std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
        }
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn xdotool(display: &str, args: &[&str]) {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .expect("xdotool runs (.ci/setup installs it)");
    assert!(status.success(), "xdotool {args:?} failed");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tauri_driver() -> PathBuf {
    let installed =
        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo/bin/tauri-driver");
    if installed.is_file() {
        return installed;
    }
    PathBuf::from("tauri-driver")
}

fn timers(home: &Path) -> usize {
    sotto_e2e::count_files(&home.join("data/timers"), ".json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_request_is_confirmed_in_the_window_and_lands_in_the_history() {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_sotto-desktop"));
    assert!(
        app.with_file_name("sotto-lm").is_file(),
        "the planner worker must sit beside the app: build the workspace first"
    );
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let runtime = work.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let x = xvfb::Xvfb::start();
    let bus = dbus::SessionBus::start(&work.path().join("bus"));
    // The microphone: a private PulseAudio server whose null sink's monitor is the input.
    let pulse_dir = work.path().join("pulse");
    std::fs::create_dir_all(&pulse_dir).unwrap();
    let pulse = PulseServer::start(&pulse_dir).unwrap_or_else(|why| {
        panic!("ENVIRONMENT: cannot start a private PulseAudio server: {why}")
    });
    let speech = work.path().join("timer.wav");
    sotto_e2e::speak_to(
        "set a timer for five minutes",
        "en-us",
        150,
        &speech,
        sotto_e2e::WAV_48K_STEREO,
    );
    let (port, native_port) = (free_port(), free_port());
    let _driver = KillOnDrop(
        Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .envs(client_env(&pulse_dir))
            .env("DISPLAY", &x.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("SOTTO_HOME", &home)
            .env("SOTTO_MODELS_DIR", sotto_e2e::test_models_dir())
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver runs (.ci/setup installs it with cargo install)"),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/status")).send().await.is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created: Value = http
        .post(format!("{base}/session"))
        .json(&json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app}
        }}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = created["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
        .to_string();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("desktop-screenshots");
    eprintln!("screenshots: {}", shots.display());
    let driver = Driver {
        http,
        session,
        base,
        shots,
    };

    // A new user: first-run setup opens over the window. The models are already in
    // SOTTO_MODELS_DIR, so its model step says all is set; the hotkey step names the key.
    driver
        .wait_for("[data-testid=onboarding]", Duration::from_secs(60))
        .await;
    driver.screenshot("0-onboarding-microphone").await;
    driver.press("[data-testid=onboarding-next]").await;
    driver
        .wait_text(
            "[data-testid=onboarding-allset]",
            Duration::from_secs(60),
            |t| !t.is_empty(),
        )
        .await;
    driver.screenshot("0-onboarding-models").await;
    driver.press("[data-testid=onboarding-next]").await;
    let key = driver
        .wait_text(
            "[data-testid=onboarding-ptt]",
            Duration::from_secs(5),
            |t| !t.is_empty(),
        )
        .await;
    assert_eq!(key, "Ctrl+Alt+Space");
    driver.press("[data-testid=onboarding-finish]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !home.join("data/onboarded").exists() {
        assert!(
            Instant::now() < deadline,
            "finishing setup was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The backend records it first; the window closes the setup when the call returns.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !driver.find_all("[data-testid=onboarding]").await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the setup stayed open after Finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The window is up and ready for a request.
    driver
        .wait_for("[data-testid=command-input]", Duration::from_secs(60))
        .await;
    driver.screenshot("1-idle").await;

    // A tool that asks the first time: the dialog shows the tool and its exact arguments.
    driver.submit("set a timer for 5 minutes").await;
    driver
        .wait_for("[data-testid=confirm-dialog]", Duration::from_secs(180))
        .await;
    driver.screenshot("2-confirmation").await;
    let tool = driver
        .wait_for("[data-testid=confirm-tool]", Duration::from_secs(5))
        .await;
    assert!(driver.text(&tool).await.contains("timer_start"));
    let arguments = driver
        .wait_for("[data-testid=confirm-arguments]", Duration::from_secs(5))
        .await;
    assert!(driver.text(&arguments).await.contains('5'));
    assert_eq!(timers(&home), 0, "nothing runs before the answer");
    driver.press("[data-testid=confirm-allow-once]").await;
    let reply = driver
        .wait_text("[data-testid=reply]", Duration::from_secs(60), |t| {
            t.to_lowercase().contains("timer")
        })
        .await;
    driver.screenshot("3-result").await;
    assert_eq!(timers(&home), 1, "the timer was set ({reply})");

    // A request only the model can plan, shown as it streams.
    driver.submit("what is 17 times 23").await;
    driver
        .wait_text("[data-testid=reply]", Duration::from_secs(180), |t| {
            t.contains("391")
        })
        .await;
    assert!(!driver.find_all("[data-testid=live-step]").await.is_empty());

    // Both are in the history, newest first, with what was done.
    driver.press("[data-testid=tab-history]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let rows = driver.find_all("[data-testid=history-row]").await;
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Each row's transcript, as the page holds it (WebDriver's visible-text rule leaves out
    // text in an `overflow: hidden` line, which an ellipsis needs).
    let texts: Vec<String> = serde_json::from_value(
        driver
            .script(
                "return Array.from(document.querySelectorAll('[data-testid=history-row] .row-transcript')).map(e => e.textContent)",
            )
            .await,
    )
    .unwrap();
    driver.screenshot("4-history-list").await;
    assert_eq!(rows.len(), 2, "{texts:?}");
    assert!(texts[0].contains("17 times 23"), "{texts:?}");
    assert!(texts[1].contains("set a timer"), "{texts:?}");
    // The list redraws when a request ends, which can replace a row between finding and
    // clicking it (a click on the old one goes nowhere): find it again until the detail shows.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(row) = driver.find_all("[data-testid=history-row]").await.get(1) {
            // A click on a row the list just replaced goes nowhere: the loop tries again.
            let _ = driver.click(row).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let detail = match driver
            .find_all("[data-testid=history-detail]")
            .await
            .first()
        {
            Some(detail) => driver.text(detail).await,
            None => String::new(),
        };
        if detail.contains("timer_start") {
            break;
        }
        if Instant::now() > deadline {
            driver.screenshot("timeout").await;
            panic!("the history detail never showed timer_start; last: {detail:?}");
        }
    }
    driver.screenshot("5-history-detail").await;

    // Settings: a preference saved from the window lands in config.toml, comments kept.
    driver.press("[data-testid=tab-settings]").await;
    // Loaded: the form shows where it saves (set only from the backend's view).
    driver
        .wait_text("[data-testid=config-file]", Duration::from_secs(30), |t| {
            t.contains("config.toml")
        })
        .await;
    driver
        .script(
            "const e = document.querySelector('[data-testid=pref-keep-days]'); e.value = '7'; \
             e.dispatchEvent(new Event('input', {bubbles: true})); \
             e.dispatchEvent(new Event('change', {bubbles: true}));",
        )
        .await;
    driver.press("[data-testid=settings-save]").await;
    driver
        .wait_text(
            "[data-testid=settings-saved]",
            Duration::from_secs(10),
            |t| !t.is_empty(),
        )
        .await;
    driver.screenshot("6-settings").await;
    let config = std::fs::read_to_string(home.join("config/config.toml")).unwrap();
    assert!(config.contains("keep_audio_days = 7"), "{config}");
    assert!(config.contains("# Days to keep recorded audio"), "{config}");

    // Voice: hold the push-to-talk hotkey (a real X key grab, pressed with xdotool), speak
    // into the microphone, let go. The timer was allowed once above and asks only the first
    // time, so this one runs without a question.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let kind = driver
            .script("return document.querySelector('[data-testid=mic-state]').dataset.kind")
            .await;
        if kind == "ready" {
            break;
        }
        if Instant::now() > deadline {
            driver.screenshot("timeout").await;
            panic!("the microphone did not open: {kind}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    driver.press("[data-testid=tab-history]").await;
    driver.script("window.scrollTo(0, 0)").await;
    xdotool(&x.display, &["keydown", "ctrl+alt+space"]);
    driver
        .wait_text("[data-testid=state]", Duration::from_secs(10), |t| {
            t.to_lowercase().contains("listening")
        })
        .await;
    let mut player = pulse.play(&speech);
    assert!(player.wait().unwrap().success(), "paplay failed");
    driver.screenshot("7-listening").await;
    // The overlay window is up while the key is held: switch to it, see it, come back.
    let main_window = driver.call(reqwest::Method::GET, "/window", None).await;
    let handles = driver
        .call(reqwest::Method::GET, "/window/handles", None)
        .await;
    let overlay = handles
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| **h != main_window)
        .cloned()
        .unwrap_or_else(|| panic!("no overlay window among {handles}"));
    driver
        .call(
            reqwest::Method::POST,
            "/window",
            Some(json!({ "handle": overlay })),
        )
        .await;
    driver
        .wait_text(
            "[data-testid=overlay-state]",
            Duration::from_secs(10),
            |t| t.to_lowercase().contains("listening"),
        )
        .await;
    driver.screenshot("7-overlay").await;
    driver
        .call(
            reqwest::Method::POST,
            "/window",
            Some(json!({ "handle": main_window })),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(&x.display, &["keyup", "space", "alt", "ctrl"]);
    let deadline = Instant::now() + Duration::from_secs(180);
    while timers(&home) < 2 {
        if Instant::now() > deadline {
            driver.screenshot("timeout").await;
            panic!("the spoken timer was not set");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    driver
        .wait_text("[data-testid=reply]", Duration::from_secs(30), |t| {
            t.to_lowercase().contains("timer")
        })
        .await;
    driver.screenshot("8-spoken-result").await;
    // The history has it as spoken, with its recording.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = driver
            .script(
                "return Array.from(document.querySelectorAll('[data-testid=history-row]')).map(e => e.textContent)",
            )
            .await;
        let newest = rows[0].as_str().unwrap_or_default().to_lowercase();
        if newest.contains("timer") && newest.contains("voice") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no spoken row in the history: {rows}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Wayland's fallback, where apps cannot grab keys: `sotto toggle` (bound in the
    // compositor) reaches the running app over D-Bus, once to start and once to stop.
    let sotto = |action: &str| {
        let status = Command::new(app.with_file_name("sotto"))
            .arg(action)
            .env("DISPLAY", &x.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("SOTTO_HOME", &home)
            .status()
            .expect("the sotto CLI runs (built with the workspace)");
        assert!(status.success(), "sotto {action} failed");
    };
    sotto("toggle");
    driver
        .wait_text("[data-testid=state]", Duration::from_secs(10), |t| {
            t.to_lowercase().contains("listening")
        })
        .await;
    let mut player = pulse.play(&speech);
    assert!(player.wait().unwrap().success(), "paplay failed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    sotto("toggle");
    let deadline = Instant::now() + Duration::from_secs(180);
    while timers(&home) < 3 {
        if Instant::now() > deadline {
            driver.screenshot("timeout").await;
            panic!("the timer spoken between two `sotto toggle`s was not set");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    driver.call(reqwest::Method::DELETE, "", None).await;
}
