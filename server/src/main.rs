//! `pocket-dev`: parses the subcommand and hands over to `server::commands`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    server::telemetry::init();
    server::commands::run(std::env::args().skip(1).collect()).await
}
