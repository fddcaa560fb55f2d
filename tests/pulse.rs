//! A private PulseAudio server for capture tests.
//!
//! The server runs as the current user (root included: with `-n` and an explicit
//! `module-native-protocol-unix` it only warns) with every runtime path in a temp dir, no
//! default.pa, no D-Bus, no realtime, anonymous auth on its socket. A null sink plays what
//! `paplay` sends; its monitor is the default source, i.e. the "microphone". This process
//! reaches it through ALSA: a private `~/.asoundrc` routes ALSA's `default` device to the
//! pulse plugin (Debian's `libasound2-plugins`), and `PULSE_SERVER` names the socket.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The null sink's name; its `.monitor` is the capture source.
pub const SINK: &str = "sotto_test_speaker";

#[derive(Debug)]
pub struct PulseServer {
    child: Child,
    /// Plays silence into the sink all the time; see [`PulseServer::start`].
    keeper: Option<Child>,
    dir: PathBuf,
}

/// Points this process's ALSA and libpulse at a server in `dir`. Call it once, before any
/// audio library runs: it changes the process environment (`HOME`, `PULSE_SERVER`, ...), so
/// the test binary that calls it must hold a single test.
pub fn route_this_process_to(dir: &Path) {
    // Edition 2021: `set_var` is safe. This binary holds one test, so no other thread reads
    // the environment while it changes.
    for (key, value) in client_env(dir) {
        std::env::set_var(key, value);
    }
}

/// The environment that points a child process's ALSA and libpulse at a server in `dir`
/// (`HOME` becomes `dir`, where the `.asoundrc` is).
pub fn client_env(dir: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    std::fs::write(
        dir.join(".asoundrc"),
        "pcm.!default { type pulse }\nctl.!default { type pulse }\n",
    )
    .expect("write .asoundrc");
    std::fs::write(dir.join("client.conf"), "autospawn = no\n").expect("write client.conf");
    vec![
        ("HOME", dir.into()),
        ("PULSE_SERVER", server_address(dir).into()),
        ("PULSE_CLIENTCONFIG", dir.join("client.conf").into()),
        ("XDG_RUNTIME_DIR", dir.into()),
    ]
}

fn server_address(dir: &Path) -> String {
    format!("unix:{}", dir.join("native").display())
}

impl PulseServer {
    /// Starts the server in `dir` and waits until it answers. Errors say why, so an
    /// environment that cannot run PulseAudio fails with a clear message.
    pub fn start(dir: &Path) -> Result<PulseServer, String> {
        let socket = dir.join("native");
        let _ = std::fs::remove_file(&socket);
        let runtime = dir.join("runtime");
        std::fs::create_dir_all(&runtime)
            .map_err(|e| format!("create {}: {e}", runtime.display()))?;
        let log = std::fs::File::create(dir.join("pulseaudio.log")).map_err(|e| e.to_string())?;
        let child = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--system=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disable-shm=yes",
                "--realtime=no",
                "--high-priority=no",
                "--log-target=stderr",
                &format!("--load=module-native-protocol-unix auth-anonymous=1 socket={}", socket.display()),
                &format!("--load=module-null-sink sink_name={SINK} rate=48000 channels=2"),
            ])
            .env("HOME", dir)
            .env("XDG_RUNTIME_DIR", dir)
            .env("PULSE_RUNTIME_PATH", &runtime)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                format!("cannot run pulseaudio ({e}); install the Debian packages pulseaudio, pulseaudio-utils and libasound2-plugins (.ci/setup does)")
            })?;
        let mut server = PulseServer {
            child,
            keeper: None,
            dir: dir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "pulseaudio exited at start ({status}); its log:\n{}",
                    server.log()
                ));
            }
            if socket.exists() && server.pactl(&["info"]).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "pulseaudio did not answer within 10 s; its log:\n{}",
                    server.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.pactl(&["set-default-source", &format!("{SINK}.monitor")])?;
        // An idle null sink renders in blocks of up to 2 s, so its monitor can keep a new
        // recording waiting that long. A low-latency stream of silence keeps it ticking every
        // few ms, the way a real microphone delivers all the time.
        let zero = std::fs::File::open("/dev/zero").map_err(|e| format!("open /dev/zero: {e}"))?;
        let keeper = Command::new("pacat")
            .arg(format!("--server={}", server_address(dir)))
            .args([
                &format!("--device={SINK}"),
                "--playback",
                "--raw",
                "--format=s16le",
                "--rate=48000",
                "--channels=2",
                "--latency-msec=10",
            ])
            .stdin(zero)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run pacat ({e}); install pulseaudio-utils"))?;
        server.keeper = Some(keeper);
        // The block the sink began before the keeper came still has to play out.
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.sink_latency()? > Duration::from_millis(50) {
            if Instant::now() > deadline {
                return Err("the null sink did not switch to low latency within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The sink's current latency, as `pactl list sinks` reports it ("Latency: N usec").
    fn sink_latency(&self) -> Result<Duration, String> {
        let sinks = self.pactl(&["list", "sinks"])?;
        sinks
            .lines()
            .find_map(|line| line.trim().strip_prefix("Latency: "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|usec| usec.parse().ok())
            .map(Duration::from_micros)
            .ok_or_else(|| format!("no latency in `pactl list sinks`:\n{sinks}"))
    }

    /// Runs `pactl` against this server.
    pub fn pactl(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("pactl")
            .arg(format!("--server={}", server_address(&self.dir)))
            .args(args)
            .output()
            .map_err(|e| format!("cannot run pactl ({e}); install pulseaudio-utils"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "pactl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Plays a file into the null sink, i.e. "speaks into the microphone". Returns the player.
    pub fn play(&self, file: &Path) -> Child {
        Command::new("paplay")
            .arg(format!("--server={}", server_address(&self.dir)))
            .arg(format!("--device={SINK}"))
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paplay runs (pulseaudio-utils)")
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pulseaudio.log")).unwrap_or_default()
    }

    /// Kills the server the hard way, as a crash would.
    pub fn crash(self) {
        drop(self);
    }
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut keeper) = self.keeper.take() {
            let _ = keeper.kill();
            let _ = keeper.wait();
        }
    }
}
