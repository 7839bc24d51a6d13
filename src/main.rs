//! The `rollcall` binary: parses the command line, sets up logging and dispatches.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = rollcall::cli::Cli::parse();
    rollcall::telemetry::init(cli.default_log_filter());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.execute()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
