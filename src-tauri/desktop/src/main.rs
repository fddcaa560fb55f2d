//! `sotto-desktop [show|toggle|hide|quit]`: starts Sotto's desktop app, or tells the running
//! one what to do.

fn main() -> std::process::ExitCode {
    sotto::logging::init(0);
    sotto_desktop::run()
}
