//! Converts a CTranslate2 (faster-whisper) Whisper model directory into a whisper.cpp model:
//!
//! ```text
//! cargo run --release -p sotto-ct2 --example convert -- <ct2-dir> <out.bin> [q8_0]
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, out, matrices) = match args.as_slice() {
        [dir, out] => (dir, out, sotto_ct2::Matrices::F16),
        [dir, out, q] if q == "q8_0" => (dir, out, sotto_ct2::Matrices::Q8_0),
        _ => {
            eprintln!("usage: convert <ct2-model-dir> <out.bin> [q8_0]");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    match sotto_ct2::convert_with(Path::new(dir), Path::new(out), matrices) {
        Ok(report) => {
            println!("{report:#?}");
            println!(
                "exact: {}; took {:.2?}",
                report.is_exact(),
                started.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
