//! Rewrites `ui/src/bindings/` from the types in this crate.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
    if let Err(e) = sotto_window_api::export_all(&dir) {
        eprintln!("cannot write the bindings to {}: {e}", dir.display());
        std::process::exit(1);
    }
    println!("wrote {}", dir.display());
}
