//! The `rollcall` binary: parses the command line, loads the configuration, sets up logs and
//! traces, and dispatches.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = rollcall::cli::Cli::parse();
    let config = match cli.load_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Outside the runtime: the span exporter's blocking HTTP client runs threads of its own.
    // The guard flushes queued spans at exit.
    let telemetry = match rollcall::telemetry::init(&config.telemetry, cli.default_log_filter(), cli.command_name()) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(cli.execute(config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    };
    drop(telemetry);
    code
}
