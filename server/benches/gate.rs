//! The benchmark regression gate (`./test bench`, `scripts/bench.sh gate`): a short subset of the
//! pipeline and anchors benches, against the release `pocket-dev serve` (`PD_BIN`) and the real
//! Postgres and Redis, with bounds that hold on a noisy 2-core machine. Growth is checked as ratios
//! (the same measure at about 10 and about 10,000 prior events), absolute figures against generous
//! bounds (docs/BENCHMARKS.md has the tighter targets). Prints one row per check; exits 1 if any fails.

#[path = "support/common.rs"]
mod common;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/store_latency.rs"]
mod store_latency;
#[path = "support/streams.rs"]
mod streams;

use std::sync::Arc;

use common::fresh_database;
use serve::{idle_rss, PostgresCluster, Serve};
use store_latency::{append_latency, turn_latency, Growth};
use streams::{concurrency, idle_subscribers, keyed_mock, Taps};

/// Growth from ~10 to ~10,000 prior events allowed for one append or one turn.
const MAX_GROWTH: f64 = 2.0;
/// Per-token delivery p99 with 100 concurrent streams at 50 tokens/s.
const MAX_STREAMS_P99_MS: f64 = 100.0;
const MAX_IDLE_RSS_MB: f64 = 40.0;
const MAX_SUBSCRIBERS_RSS_MB: f64 = 150.0;
const SUBSCRIBERS: usize = 1000;
const STREAMS: usize = 100;

struct Check {
    what: &'static str,
    measured: String,
    bound: String,
    held: bool,
}

fn growth(what: &'static str, growth: Growth) -> Check {
    Check {
        what,
        measured: format!("{:.3} ms early, {:.3} ms at ~10,000 prior events: {:.2}×", growth.small, growth.large, growth.ratio()),
        bound: format!("≤ {MAX_GROWTH}×"),
        held: growth.ratio() <= MAX_GROWTH,
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut checks = Vec::new();
    let append = append_latency().await;
    checks.push(growth("Append through `Backend::execute` (median of 300)", append.execute));
    checks.push(growth("Append through the worker's `Appender` (median of 300)", append.appender));
    checks.push(growth("Whole small turn (median of 50)", turn_latency().await));

    let idle = idle_rss().await;
    checks.push(Check {
        what: "Idle `serve` RSS",
        measured: format!("{idle:.1} MB"),
        bound: format!("< {MAX_IDLE_RSS_MB} MB"),
        held: idle < MAX_IDLE_RSS_MB,
    });

    let taps: Taps = Arc::default();
    let mock = keyed_mock(taps.clone()).await;
    let database = fresh_database().await;
    let serve = Serve::start(&database, &mock).await;
    let postgres = PostgresCluster::of(&database).await;
    let streams = concurrency(STREAMS, &serve, &postgres, &taps).await;
    let lost = streams.delivery.failed_turns + streams.delivery.lost_tokens;
    checks.push(Check {
        what: "100 concurrent streams at 50 tokens/s: per-token p99",
        measured: format!("{:.2} ms over {} tokens{}", streams.p99(), streams.delivery.tokens.len(), streams.delivery.failures()),
        bound: format!("< {MAX_STREAMS_P99_MS} ms, no turn failed, no token lost"),
        held: streams.p99() < MAX_STREAMS_P99_MS && lost == 0 && streams.delivery.tokens.len() >= STREAMS * 100,
    });
    drop(serve);

    let idle_feeds = idle_subscribers(SUBSCRIBERS, &mock).await;
    checks.push(Check {
        what: "1,000 idle SSE subscribers: server RSS",
        measured: format!(
            "{:.1} MB with {} of {} open (idle {:.1} MB)",
            idle_feeds.with_mb, idle_feeds.open, idle_feeds.count, idle_feeds.idle_mb
        ),
        bound: format!("< {MAX_SUBSCRIBERS_RSS_MB} MB, every one open"),
        held: idle_feeds.with_mb < MAX_SUBSCRIBERS_RSS_MB && idle_feeds.open == SUBSCRIBERS,
    });

    println!("| Gate | Measured | Bound | |");
    println!("|---|---|---|---|");
    for check in &checks {
        println!("| {} | {} | {} | {} |", check.what, check.measured, check.bound, if check.held { "ok" } else { "**FAILED**" });
    }
    let failed = checks.iter().filter(|check| !check.held).count();
    if failed > 0 {
        eprintln!("[gate] {failed} of {} checks failed", checks.len());
        std::process::exit(1);
    }
    println!("[gate] all {} checks held", checks.len());
}
