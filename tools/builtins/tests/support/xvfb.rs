//! A private X server (Xvfb, Debian package `xvfb`; .ci/setup installs it) on the first
//! free display number from 100, killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        for n in 100..200 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let mut child = Command::new("Xvfb")
                .args([
                    format!(":{n}").as_str(),
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "640x480x24",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb runs (Debian package xvfb; .ci/setup installs it)");
            let socket = format!("/tmp/.X11-unix/X{n}");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // display taken meanwhile: try the next one
                }
                // The socket may belong to another server that took the display first; ours
                // must still be running a moment after it appears.
                if Path::new(&socket).exists() && {
                    std::thread::sleep(Duration::from_millis(100));
                    matches!(child.try_wait(), Ok(None))
                } {
                    return Xvfb {
                        child,
                        display: format!(":{n}"),
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("no free X display between :100 and :199");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
