fn main() {
    // The window's files are embedded at compile time; without them the build would fail
    // deep inside a macro. Say what to run instead.
    // Read when the script runs, not when it was compiled: a build cache shared by two clones
    // keeps one compiled script, which must look in the clone being built.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = std::path::Path::new(&manifest_dir).join("../../ui/dist/index.html");
    if !dist.exists() {
        panic!(
            "the window is not built ({} is missing): run `npm --prefix ui ci && npm --prefix ui run build` first (.ci/start and .ci/test do)",
            dist.display()
        );
    }
    println!("cargo:rerun-if-changed=../../ui/dist");
    tauri_build::build()
}
