//! Acceptance: a backfill killed with SIGKILL at 20 instants, then run to
//! completion, leaves every row in the files exactly once, no visible file
//! that does not parse, and a ledger that never under-counts.

mod accept_support;
mod sync_support;

use std::{collections::BTreeSet, process::Stdio, time::Duration};

use accept_support::*;
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sync_support::*;
use wolkvox_sync::{
    plan::{Grain, windows_between},
    sim::{FaultProfile, Sim, SimClock, SimConfig},
    state::State,
};

/// How many windows the backfill has (hours before now).
const HOURS: i64 = 200;
/// How many times a run is killed, and the longest it lives before that.
const KILLS: u64 = 20;
const KILL_MAX_MS: u64 = 300;
/// The least time the simulator takes to answer one request.
const LATENCY_MIN_MS: u64 = 40;
const _: () = assert!(KILLS * KILL_MAX_MS / LATENCY_MIN_MS < HOURS as u64);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_at_twenty_instants_then_finished_holds_every_row_once() {
    let mut config = SimConfig::with_seed(13);
    config.clock = SimClock::real();
    // Requests go one at a time, each at least LATENCY_MIN_MS: the kills
    // (together at most KILLS × KILL_MAX_MS) cannot outlast the backfill.
    config.faults = FaultProfile {
        latency_min_ms: LATENCY_MIN_MS,
        latency_max_ms: LATENCY_MIN_MS + 20,
        ..FaultProfile::default()
    };
    let sim = Sim::start(config).await.unwrap();
    // The binary runs on the system clock: start the job HOURS hours ago.
    let now = Timestamp::now().to_zoned(TimeZone::get("America/Bogota").unwrap()).datetime();
    let start = Grain::HOUR.floor(now - SignedDuration::from_hours(HOURS));
    let job_text = format!(
        "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\n\
         start = {}\n",
        start.strftime("%Y-%m-%dT%H:%M:%S")
    );
    let setup = Setup::new(&sim, 5, &[("cdr", &job_text)]);
    let config = setup.config_path.to_str().unwrap();
    let args = ["once", "cdr", "--config", config];

    let mut rng = ChaCha8Rng::seed_from_u64(0x6b69_6c6c);
    let mut finished_early = 0;
    for _ in 0..KILLS {
        let delay = Duration::from_millis(rng.random_range(20..KILL_MAX_MS));
        let mut child = command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            finished_early += 1;
            continue;
        }
        child.kill().await.unwrap();
    }
    let last = command(&args).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&last.stdout);
    assert!(last.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&last.stderr));
    assert!(stdout.starts_with("cdr: done: "), "{stdout}");
    assert_eq!(finished_early, 0, "every kill fell inside a run");

    // The windows recorded tile the time from the job's start on.
    let state = State::open(&setup.dir.path().join("state")).unwrap();
    let records = state.windows("cdr").unwrap();
    let last_start = records.last().unwrap().start;
    let hours = windows_between(Grain::HOUR, start, last_start);
    assert!(hours.len() as i64 >= HOURS - 1, "{} windows", hours.len());
    let recorded: Vec<_> = records.iter().map(|r| (r.start, r.end)).collect();
    let tiled: Vec<_> = hours.iter().map(|w| (w.start, w.end)).collect();
    assert_eq!(recorded, tiled);

    // Every row once, every visible file parses, and the files on disk are
    // exactly those the state records.
    let job = setup.job("cdr");
    assert_eq!(published_rows(&setup.out()), sim_rows_by_window(&sim, job.endpoint, &[], &hours));
    let on_disk: BTreeSet<String> = files(&setup.out(), "csv")
        .into_iter()
        .chain(files(&setup.out(), "parquet"))
        .map(|p| p.strip_prefix(setup.out()).unwrap().display().to_string())
        .collect();
    let in_state: BTreeSet<String> = records.iter().flat_map(|r| r.files.clone()).collect();
    assert_eq!(on_disk, in_state);

    // A kill between writing and renaming leaves a hidden temp file; the
    // next run of the job (which holds the job's lock) removes it.
    assert_eq!(temp_files(&setup.out()), Vec::<std::path::PathBuf>::new());

    let sent = sim.request_log().len() as u64;
    let ledger = ledger_total(&setup.dir.path().join("state"));
    eprintln!("{} windows, {sent} requests, ledger {ledger}", hours.len());
    assert!(ledger >= sent);
    assert!(sent >= hours.len() as u64);
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}
