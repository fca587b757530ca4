//! `mailer-worker`: runs background jobs until SIGINT/SIGTERM (`just worker`).

use std::process::ExitCode;

use mailer::Config;

fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    mailer::telemetry::init(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // A stop asked while it waits for its services ends it cleanly.
        let state = tokio::select! {
            state = mailer_worker::start(config) => state?,
            () = mailer::shutdown::signal() => return Ok(()),
        };
        mailer_worker::run(state, mailer::shutdown::signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
