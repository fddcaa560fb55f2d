fn main() {
    // The window's files are embedded at compile time; without them the build would fail
    // deep inside a macro. Say what to run instead.
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist/index.html");
    if !dist.exists() {
        panic!(
            "the window is not built ({} is missing): run `npm --prefix ui ci && npm --prefix ui run build` first (.ci/start and .ci/test do)",
            dist.display()
        );
    }
    println!("cargo:rerun-if-changed=../../ui/dist");
    tauri_build::build()
}
