//! A private PulseAudio server with one null sink, reachable the standard way: its socket
//! is `$XDG_RUNTIME_DIR/pulse/native`, so a `pactl` started with only the scrubbed
//! environment (XDG_RUNTIME_DIR pointing here) finds it. Needs the Debian packages
//! `pulseaudio` and `pulseaudio-utils` (.ci/setup installs them).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Pulse {
    child: Child,
    pub runtime: PathBuf,
}

impl Pulse {
    pub fn start(dir: &Path) -> Pulse {
        let runtime = dir.join("runtime");
        std::fs::create_dir_all(runtime.join("pulse")).unwrap();
        let socket = runtime.join("pulse/native");
        let log = std::fs::File::create(dir.join("pulseaudio.log")).unwrap();
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
                &format!(
                    "--load=module-native-protocol-unix auth-anonymous=1 socket={}",
                    socket.display()
                ),
                "--load=module-null-sink sink_name=sotto_test_sink",
            ])
            .env("HOME", dir)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("PULSE_RUNTIME_PATH", runtime.join("pulse"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("pulseaudio runs (Debian package pulseaudio; .ci/setup installs it)");
        let mut pulse = Pulse { child, runtime };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(socket.exists() && pulse.pactl(&["info"]).is_ok()) {
            if let Ok(Some(status)) = pulse.child.try_wait() {
                panic!(
                    "pulseaudio exited ({status}): {}",
                    std::fs::read_to_string(dir.join("pulseaudio.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "pulseaudio did not answer in 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pulse
            .pactl(&["set-default-sink", "sotto_test_sink"])
            .unwrap();
        pulse
    }

    pub fn pactl(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("pactl")
            .args(args)
            .env_clear()
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("HOME", self.runtime.parent().unwrap())
            .env("LANG", "C")
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
