//! `pocket-dev`: parses the subcommand and hands over to `server::commands`.

// The app's view types are deep; release builds (no `erase_components`) need more room.
#![recursion_limit = "256"]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    server::telemetry::init();
    server::commands::run(std::env::args().skip(1).collect()).await
}
