//! The `sotto` executable: with no command, Sotto's interactive session; with a command, the
//! CLI. Errors end here: printed with their causes, mapped to an exit code, never a panic.

use std::process::ExitCode;

use clap::Parser;

use sotto::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    sotto::logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start Sotto's runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli::run(cli));
    // A blocking read of the terminal (push-to-talk's Enter key) may still be waiting; a
    // finished command does not wait for the user to type something.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
