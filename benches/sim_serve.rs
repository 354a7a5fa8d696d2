//! How fast the simulator serves big answers: a 60,000-row `cdr_1` day and
//! a ~256 MB month (the API's response size limit). Prints time and MB/s
//! as a client reading the whole body sees them.
//!
//! Run with `cargo bench --bench sim_serve` (a release build).

use std::time::{Duration, Instant};

use wolkvox_sync::sim::{Sim, SimClock, SimConfig};

const MB: f64 = 1024.0 * 1024.0;

fn config(volume: u32, row_cap: usize) -> SimConfig {
    let mut config = SimConfig::with_seed(1);
    let now = "2026-12-02T17:00:00Z".parse().expect("a valid instant");
    config.clock = SimClock::fixed(now);
    config.volumes.insert("reports_manager/cdr_1".into(), volume);
    config.row_cap = row_cap;
    config
}

/// Fetches one window and returns (elapsed, body bytes).
async fn fetch(sim: &Sim, ini: &str, end: &str) -> (Duration, usize) {
    let url = format!(
        "{}/api/v2/reports_manager.php?api=cdr_1&date_ini={ini}&date_end={end}",
        sim.base_url()
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    let resp = client.get(url).header("wolkvox-token", sim.token()).send().await.expect("sent");
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("whole body");
    (started.elapsed(), body.len())
}

fn report(what: &str, elapsed: Duration, bytes: usize) {
    let secs = elapsed.as_secs_f64();
    let mb = bytes as f64 / MB;
    println!("{what}: {mb:.1} MB in {secs:.3} s = {:.1} MB/s", mb / secs);
}

async fn run() {
    let sim = Sim::start(config(3_000, 60_000)).await.expect("simulator starts");
    let mut per_row = 0.0;
    for round in 0..3 {
        let (elapsed, bytes) = fetch(&sim, "20261201000000", "20261201235959").await;
        report(&format!("cdr_1 60,000 rows, round {round}"), elapsed, bytes);
        per_row = bytes as f64 / 60_000.0;
    }
    sim.shutdown().await.expect("clean shutdown");

    // Enough rows per hour over 30 days for ~256 MB, with the cap lifted.
    let rows = (256.0 * MB / per_row) as usize;
    let volume = (rows / (30 * 24)) as u32 + 1;
    let sim = Sim::start(config(volume, rows)).await.expect("simulator starts");
    let (elapsed, bytes) = fetch(&sim, "20261101000000", "20261130235959").await;
    report(&format!("cdr_1 {rows} rows (~256 MB)"), elapsed, bytes);
    sim.shutdown().await.expect("clean shutdown");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(run());
}
