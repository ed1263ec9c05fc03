//! Tracing setup: one subscriber for the process, filtered by `RUST_LOG` (default `info`).
//! `PD_SPAN_TIMES=1` also logs each span's busy and idle time when it closes (for profiling).

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let spans = if std::env::var_os("PD_SPAN_TIMES").is_some() { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_span_events(spans).with_target(false).try_init();
}
