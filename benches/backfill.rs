//! How many calls a clean backfill spends per window (the goal is 1.00)
//! and how many windows a second it publishes, against the simulator.
//!
//! The bench serves the simulator on 127.0.0.1, writes a config and an
//! hourly `cdr_1` job starting 14 days back into a temporary folder, and
//! runs the job once through [`Runtime`], as `once` does. Run with
//! `cargo bench --bench backfill`. Converting saved bodies is measured by
//! `benches/convert.rs`.

use std::{io, process::ExitCode, time::Instant};

use jiff::Timestamp;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{
    clock::Clock,
    config::Config,
    jobs,
    runtime::Runtime,
    sim::{Sim, SimClock, SimConfig},
    sync::NoProgress,
};

/// 2026-12-15 07:00 in Bogotá; the job starts 14 days earlier.
const NOW: &str = "2026-12-15T12:00:00Z";
const JOB: &str = "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\n\
                   grain = \"1h\"\nstart = 2026-12-01\n";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("backfill bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("backfill bench: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn bench() -> anyhow::Result<()> {
    let now: Timestamp = NOW.parse()?;
    let clock = Clock::starting_at(now);
    let mut sim_config = SimConfig::with_seed(1);
    sim_config.clock = SimClock::following(clock.clone());
    let sim = Sim::start(sim_config).await?;

    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("token"), sim.token())?;
    std::fs::create_dir(dir.path().join("jobs"))?;
    std::fs::write(dir.path().join("jobs/cdr.toml"), JOB)?;
    let config_path = dir.path().join("wolkvox-sync.toml");
    let config_text = format!(
        "jobs_dir = \"jobs\"\noutput_dir = \"out\"\nstate_dir = \"state\"\n\n[[operation]]\n\
         name = \"demo\"\nbase_url = \"{}\"\ntoken_file = \"token\"\nlicenses = 1\n",
        sim.base_url()
    );
    std::fs::write(&config_path, config_text)?;
    let config = Config::load(&config_path)?;
    let job = jobs::load(&config.jobs_dir.join("cdr.toml"), &config).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        io::Error::other(lines.join("\n"))
    })?;
    let rt = Runtime::open(config, clock)?;

    let started = Instant::now();
    let result = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(err) = &result.error {
        anyhow::bail!("the backfill stopped: {err}");
    }
    let s = &result.summary;
    let requests = sim.request_log().len();
    let breaches = sim.breaches().len();
    println!(
        "backfill cdr_1 hourly: {} windows, {} rows, {} calls ({} seen by the simulator), \
         {:.2} calls/window, {:.1} windows/s, {:.2} s, {} breaches",
        s.windows,
        s.rows,
        s.calls,
        requests,
        s.calls as f64 / s.windows.max(1) as f64,
        s.windows as f64 / secs,
        secs,
        breaches
    );
    sim.shutdown().await?;
    Ok(())
}
