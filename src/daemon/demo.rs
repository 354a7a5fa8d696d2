//! `wolkvox-sync demo`: the daemon against the built-in simulator.
//!
//! Starts the simulator on 127.0.0.1 (a free port) with the `flaky` fault
//! profile, writes a demo folder (config, token, and the example jobs of
//! `jobs/` rewritten onto a schedule of seconds, starting two days back so
//! the first runs backfill), runs the same daemon as `run` in-process for
//! a bounded time, switches the simulator into maintenance for a while in
//! the middle, and reports what was fetched. It needs no account and no
//! network beyond loopback. The folder is rewritten on every run; a folder
//! that is not a demo folder is refused.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use jiff::{Timestamp, ToSpan, tz::TimeZone};

use super::{Daemon, Options, Report};
use crate::{
    clock::Clock,
    config::{Config, ConfigError},
    runtime::{Runtime, RuntimeError},
    sim::{DEMO_OPERATION, FaultProfile, Sim, SimConfig},
    sync::RetryPolicy,
};

/// The example jobs of `jobs/`, built in so the demo runs anywhere.
const EXAMPLES: [(&str, &str); 6] = [
    ("agent_1", include_str!("../../jobs/agent_1.toml")),
    ("agent_8", include_str!("../../jobs/agent_8.toml")),
    ("cdr_1", include_str!("../../jobs/cdr_1.toml")),
    ("chat_1", include_str!("../../jobs/chat_1.toml")),
    ("real_time_agents", include_str!("../../jobs/real_time_agents.toml")),
    ("skill_4", include_str!("../../jobs/skill_4.toml")),
];

/// Marks a folder the demo wrote, so it may be rewritten.
const MARKER: &str = ".wolkvox-sync-demo";

/// How the demo runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The demo folder (default `./demo-out`).
    pub dir: PathBuf,
    /// How long the daemon runs.
    pub seconds: u64,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo folder {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is not empty and not a demo folder; pick another --dir", .0.display())]
    NotDemoFolder(PathBuf),
    #[error("starting the simulator: {0}")]
    Sim(std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// What the demo did.
#[derive(Debug)]
pub struct DemoReport {
    pub dir: PathBuf,
    pub sim_url: String,
    pub seconds: u64,
    /// Maintenance, in seconds after the start: on, off.
    pub maintenance: (u64, u64),
    /// Requests the simulator saw while in maintenance (the probes).
    pub maintenance_requests: usize,
    pub daemon: Report,
    /// Calls the simulator counted against the budget.
    pub sim_calls: u64,
    pub breaches: usize,
    pub parquet_files: usize,
    pub csv_files: usize,
}

/// Runs the demo; `interrupt` (Ctrl-C) ends it early, gracefully.
pub async fn run(
    opts: &DemoOptions,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<DemoReport, DemoError> {
    prepare(&opts.dir)?;
    let mut sim_config = SimConfig::with_seed(2026);
    sim_config.faults = FaultProfile::named("flaky").unwrap_or_default();
    let sim = Sim::start(sim_config).await.map_err(DemoError::Sim)?;
    let config_path = write_files(&opts.dir, &sim)?;
    let config = Config::load(&config_path)?;
    let mut rt = Runtime::open(config, Clock::system())?;
    rt.engine.retry = RetryPolicy {
        max_retries: 5,
        min_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(4),
    };
    let (daemon, _rejected) = Daemon::new(rt, Options::default());
    let handle = daemon.handle();
    let running = tokio::spawn(daemon.run());

    let maintenance = maintenance_times(opts.seconds);
    tokio::select! {
        () = timeline(&sim, maintenance, opts.seconds) => {}
        () = interrupt => tracing::info!("interrupted: stopping the demo"),
    }
    sim.set_maintenance(DEMO_OPERATION, false);
    handle.shutdown();
    let daemon = running.await.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
    let report = summarize(opts, &sim, maintenance, daemon);
    if let Err(e) = sim.shutdown().await {
        tracing::warn!(error = %e, "stopping the simulator failed");
    }
    Ok(report)
}

/// Maintenance from a third of the way in for a sixth of the time (20 s
/// to 30 s of a minute), capped at 20 s and 10 s.
fn maintenance_times(seconds: u64) -> (u64, u64) {
    let on = (seconds / 3).min(20);
    (on, on + (seconds / 6).min(10))
}

async fn timeline(sim: &Sim, (on, off): (u64, u64), seconds: u64) {
    tokio::time::sleep(Duration::from_secs(on)).await;
    tracing::info!("demo: the simulator goes into maintenance");
    sim.set_maintenance(DEMO_OPERATION, true);
    tokio::time::sleep(Duration::from_secs(off - on)).await;
    tracing::info!("demo: the simulator's maintenance is over");
    sim.set_maintenance(DEMO_OPERATION, false);
    tokio::time::sleep(Duration::from_secs(seconds.saturating_sub(off))).await;
}

/// Empties the demo folder's parts, refusing a folder the demo did not
/// write.
fn prepare(dir: &Path) -> Result<(), DemoError> {
    let io = |source| DemoError::Io { path: dir.to_path_buf(), source };
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            return Err(DemoError::NotDemoFolder(dir.to_path_buf()));
        }
        for part in ["jobs", "out", "state"] {
            let path = dir.join(part);
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(io)?;
            }
        }
    }
    std::fs::create_dir_all(dir.join("jobs")).map_err(io)?;
    std::fs::write(dir.join(MARKER), "written by `wolkvox-sync demo`; rewritten on every run\n")
        .map_err(io)
}

/// Writes the token, the config and the jobs; returns the config path.
fn write_files(dir: &Path, sim: &Sim) -> Result<PathBuf, DemoError> {
    let io = |source| DemoError::Io { path: dir.to_path_buf(), source };
    std::fs::write(dir.join("token"), sim.token()).map_err(io)?;
    let config = format!(
        "# The demo's config, written by `wolkvox-sync demo`.\n\
         jobs_dir = \"jobs\"\noutput_dir = \"out\"\nstate_dir = \"state\"\nshutdown_grace = \"10s\"\n\n\
         [[operation]]\nname = \"{DEMO_OPERATION}\"\nbase_url = \"{}\"\ntoken_file = \"token\"\n\
         licenses = 1\nprobe_initial = \"2s\"\nprobe_max = \"5s\"\n",
        sim.base_url()
    );
    let path = dir.join("wolkvox-sync.toml");
    std::fs::write(&path, config).map_err(io)?;
    let tz = TimeZone::get(crate::config::DEFAULT_TIMEZONE).unwrap_or(TimeZone::UTC);
    let start = Timestamp::now().to_zoned(tz).date().saturating_sub(2.days());
    for (name, text) in EXAMPLES {
        let job = fast(text, &start.to_string());
        std::fs::write(dir.join("jobs").join(format!("{name}.toml")), job).map_err(io)?;
    }
    Ok(path)
}

/// An example job on a schedule of seconds, backfilling from `start`:
/// snapshots every 5 s, history every 10 s.
fn fast(text: &str, start: &str) -> String {
    let windowed = text.lines().any(|l| l.starts_with("grain"));
    let schedule = if windowed { "*/10 * * * * *" } else { "*/5 * * * * *" };
    let mut out = String::from("# Rewritten by the demo: a schedule of seconds, a recent start.\n");
    for line in text.lines() {
        if line.starts_with("schedule") {
            out.push_str(&format!("schedule = \"{schedule}\"\n"));
        } else if line.starts_with("start") {
            out.push_str(&format!("start = {start}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn summarize(opts: &DemoOptions, sim: &Sim, maintenance: (u64, u64), daemon: Report) -> DemoReport {
    let log = sim.request_log();
    let first = log.first().map(|r| r.at);
    let in_maintenance = |at: Timestamp| {
        let Some(first) = first else { return false };
        let since = at.duration_since(first).as_secs();
        since >= maintenance.0 as i64 && since < maintenance.1 as i64 && at > first
    };
    let out = opts.dir.join("out");
    DemoReport {
        dir: opts.dir.clone(),
        sim_url: sim.base_url(),
        seconds: opts.seconds,
        maintenance,
        maintenance_requests: log.iter().filter(|r| in_maintenance(r.at)).count(),
        daemon,
        sim_calls: sim.budget_used(DEMO_OPERATION),
        breaches: sim.breaches().len(),
        parquet_files: count_files(&out, "parquet"),
        csv_files: count_files(&out, "csv"),
    }
}

fn count_files(dir: &Path, ext: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            n += count_files(&path, ext);
        } else if path.extension().is_some_and(|e| e == ext) {
            n += 1;
        }
    }
    n
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\nwolkvox-sync demo: {} s against the simulator at {}",
            self.seconds, self.sim_url
        )?;
        writeln!(
            f,
            "\n{:<18} {:>5} {:>8} {:>8} {:>6} {:>9}",
            "job", "runs", "windows", "rows", "calls", "paused s"
        )?;
        let mut calls = 0;
        for (job, t) in &self.daemon.jobs {
            calls += t.calls;
            let paused = t.paused_ms as f64 / 1000.0;
            writeln!(
                f,
                "{job:<18} {:>5} {:>8} {:>8} {:>6} {paused:>9.1}",
                t.runs, t.windows, t.rows, t.calls
            )?;
            if let Some(e) = &t.last_error {
                writeln!(f, "  last error: {e}")?;
            }
        }
        let (on, off) = self.maintenance;
        writeln!(
            f,
            "\nmaintenance: on at +{on} s, off at +{off} s; {} request(s) reached the API meanwhile (probes); the runs paused and resumed (see the log lines above)",
            self.maintenance_requests
        )?;
        writeln!(
            f,
            "calls spent: {calls} (the simulator counted {} of its 1000 a day)",
            self.sim_calls
        )?;
        writeln!(f, "rule breaches seen by the simulator: {}", self.breaches)?;
        let out = self.dir.join("out");
        writeln!(
            f,
            "files: {} Parquet and {} CSV under {}",
            self.parquet_files,
            self.csv_files,
            out.display()
        )?;
        writeln!(f, "config and jobs: {}", self.dir.display())?;
        let query = format!(
            "SELECT count(*) FROM read_parquet('{}/cdr_1/**/*.parquet', hive_partitioning = true)",
            out.display()
        );
        writeln!(f, "look at them: duckdb -c \"{query}\"")?;
        write!(
            f,
            "  or, without the duckdb command: python3 -c \"import duckdb; print(duckdb.sql(\\\"{query}\\\"))\""
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_move_onto_a_schedule_of_seconds_and_a_recent_start() {
        let cdr = fast(EXAMPLES[2].1, "2026-12-02");
        assert!(cdr.contains("\nschedule = \"*/10 * * * * *\"\n"), "{cdr}");
        assert!(cdr.contains("\nstart = 2026-12-02\n"), "{cdr}");
        assert!(cdr.contains("\nrefetch = 2\n"), "{cdr}");
        let agents = fast(EXAMPLES[4].1, "2026-12-02");
        assert!(agents.contains("\nschedule = \"*/5 * * * * *\"\n"), "{agents}");
        assert!(!agents.contains("start ="), "{agents}");
    }

    #[test]
    fn a_folder_the_demo_did_not_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
        assert!(matches!(prepare(dir.path()), Err(DemoError::NotDemoFolder(_))));
        assert!(dir.path().join("precious.txt").exists());

        let demo = dir.path().join("demo");
        prepare(&demo).unwrap();
        std::fs::write(demo.join("out-file"), "x").unwrap();
        std::fs::create_dir(demo.join("out")).unwrap();
        prepare(&demo).unwrap();
        assert!(demo.join(MARKER).exists() && !demo.join("out").exists());
    }
}
