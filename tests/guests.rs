//! The WASM plugins the tests load: the SDK's examples and the hostile fixtures, built for
//! `wasm32-wasip2` from `tools/sdk` once per test process (a no-op when up to date).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::repo_root;

/// Where the guests are built: `SOTTO_WASM_TARGET_DIR`, else `wasm-guests` beside the test
/// binary's own target folder (`<target>/debug/deps/<test>`), which `tools/sdk/build-wasm`
/// uses too when given the same `CARGO_TARGET_DIR`.
fn guest_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOTTO_WASM_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("test executable inside <target>/<profile>/deps")
        .join("wasm-guests")
}

/// Builds the guest workspace and returns the folder holding the `.wasm` files.
pub fn guests() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = guest_target_dir();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--locked", "--target", "wasm32-wasip2", "--workspace"])
            .arg("--manifest-path")
            .arg(repo_root().join("tools/sdk/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            // The outer cargo's settings are for the host build, not this one.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("run cargo to build the guest plugins");
        assert!(
            status.success(),
            "building the guest plugins failed (is the wasm32-wasip2 target installed? .ci/setup adds it)"
        );
        target.join("wasm32-wasip2/release")
    })
}

/// The built component of the guest crate `name` (`sotto-plugin-todo`).
pub fn wasm(name: &str) -> PathBuf {
    guests().join(format!("{}.wasm", name.replace('-', "_")))
}
