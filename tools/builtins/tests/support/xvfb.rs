//! A private X server (Xvfb, Debian package `xvfb`; .ci/setup installs it), stopped when
//! dropped.
//!
//! Xvfb chooses a free display itself and writes its number to our pipe (`-displayfd`) only
//! once it accepts connections. Guessing a number and waiting for its socket raced: a socket
//! left by an earlier server that was killed made a display look ready before it was
//! (`xclip: Can't open display`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp"])
            .args(["-screen", "0", "640x480x24"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (Debian package xvfb; .ci/setup installs it)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.trim().parse::<u32>().is_ok() => Xvfb {
                child,
                display: format!(":{}", line.trim()),
            },
            other => {
                let _ = child.kill();
                let status = child.wait();
                panic!("Xvfb did not report a display within 30 s ({other:?}, exit {status:?})")
            }
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its lock file and socket; SIGKILL only if it hangs.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
