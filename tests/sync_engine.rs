//! The engine against the simulator: the union of a job's files equals the
//! simulator's rows, each row once, and the API's rules are never broken.

mod sync_support;

use sync_support::*;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{clock::Clock, sync::NoProgress};

#[tokio::test]
async fn hourly_backfill_publishes_every_row_once_at_one_call_per_window() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");

    let result = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();

    // 2026-12-01 00:00 to 2026-12-02 05:59:59 are closed at 07:00 with a
    // 15-minute lag: 30 hourly windows.
    assert!(result.error.is_none(), "{:?}", result.error);
    assert_eq!(result.summary.windows, 30);
    assert_eq!(result.summary.calls, 30);
    let want =
        sim.rows(job.endpoint, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 2, 5, 59, 59));
    assert_eq!(result.summary.rows, want.len() as u64);
    assert_eq!(csv_rows(&setup.out()), as_csv(want));
    assert_eq!(files(&setup.out(), "parquet").len(), 30);
    assert_eq!(sim.breaches(), vec![]);

    // A second run finds nothing due and spends nothing.
    let again = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!((again.summary.windows, again.summary.calls), (0, 0));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_job_never_runs_twice_at_once_and_crash_leftovers_go() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");
    let leftover = setup.out().join("cdr/window_date=2026-12-01/.cdr_x.parquet.abc123.tmp");
    std::fs::create_dir_all(leftover.parent().unwrap()).unwrap();
    std::fs::write(&leftover, b"half a file").unwrap();

    // Another process holds the job (its lock file is the same).
    let other = Setup::runtime(&setup, &clock);
    let held = other.operation(&job).unwrap().pacer.lock_job("cdr").unwrap().unwrap();
    let busy = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!(
        busy.error.map(|e| e.to_string()).as_deref(),
        Some("job cdr is already running in another process")
    );
    assert_eq!(busy.summary.calls, 0);
    assert!(leftover.exists());
    drop(held);

    let done = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!(done.summary.windows, 30);
    assert!(!leftover.exists());
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_range_fetches_only_closed_windows_complete_or_not() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");
    let range = Some((wall(2026, 12, 2, 4, 0, 0), wall(2026, 12, 2, 23, 59, 59)));

    // 04:00 and 05:00 are closed at 07:00; 06:00 is within its lag and the
    // rest of the day has not happened.
    let first = rt.run_job(&job, range, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!((first.summary.windows, first.summary.calls), (2, 2));
    // Asked again, a range is fetched again.
    let again = rt.run_job(&job, range, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!(again.summary.windows, 2);
    let want =
        sim.rows(job.endpoint, &[], wall(2026, 12, 2, 4, 0, 0), wall(2026, 12, 2, 5, 59, 59));
    assert_eq!(csv_rows(&setup.out()), as_csv(want));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_job_given_another_endpoint_replaces_its_files() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("calls", CDR_HOURLY)]);
    let rt = setup.runtime(&clock);
    let cdr_1 = setup.job("calls");
    let first = rt.run_job(&cdr_1, None, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!(first.summary.windows, 30);

    // The same job name now asks cdr_5: its cdr_1 files must go, and every
    // window is fetched again.
    let cdr_5 = CDR_HOURLY.replace("cdr_1", "cdr_5");
    std::fs::write(setup.dir.path().join("jobs/calls.toml"), cdr_5).unwrap();
    let job = setup.job("calls");
    let second = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!(second.summary.windows, 30);
    let want =
        sim.rows(job.endpoint, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 2, 5, 59, 59));
    assert_eq!(csv_rows(&setup.out()), as_csv(want));
    assert_eq!(files(&setup.out(), "csv").len(), 30);
    sim.shutdown().await.unwrap();
}

/// Rewrites job `name`'s file and loads it again.
fn redefine(setup: &Setup, name: &str, text: &str) -> wolkvox_sync::jobs::Job {
    std::fs::write(setup.dir.path().join("jobs").join(format!("{name}.toml")), text).unwrap();
    setup.job(name)
}

#[tokio::test]
async fn a_redefined_job_fetches_again_only_when_its_files_would_differ() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let agents = "endpoint = \"reports_manager/agent_1\"\nschedule = \"30 0 * * *\"\n\
                  grain = \"1d\"\nstart = 2026-11-29\n";
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY), ("agents", agents)]);
    let rt = setup.runtime(&clock);
    let run = |job| {
        let rt = &rt;
        async move { rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap() }
    };
    assert_eq!(run(setup.job("cdr")).await.summary.calls, 30);
    assert_eq!(run(setup.job("agents")).await.summary.calls, 3);

    // Other formats: the files are replaced, every window fetched again.
    let csv_only = format!("{CDR_HOURLY}formats = [\"csv\"]\n");
    assert_eq!(run(redefine(&setup, "cdr", &csv_only)).await.summary.calls, 30);
    assert_eq!(files(&setup.out().join("cdr"), "parquet"), Vec::<std::path::PathBuf>::new());
    assert_eq!(files(&setup.out().join("cdr"), "csv").len(), 30);

    // A detail report's grain: the same events, so the hourly files stay
    // and nothing is fetched again.
    let six_hours = csv_only.replace("grain = \"1h\"", "grain = \"6h\"");
    assert_eq!(run(redefine(&setup, "cdr", &six_hours)).await.summary.calls, 0);
    assert_eq!(files(&setup.out().join("cdr"), "csv").len(), 30);

    // An aggregate's grain decides what a row means: the daily files go,
    // and the half days are fetched.
    let halves = agents.replace("grain = \"1d\"", "grain = \"12h\"");
    let result = run(redefine(&setup, "agents", &halves)).await;
    assert_eq!(result.summary.calls, 6);
    let names: Vec<String> = files(&setup.out().join("agents"), "csv")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let want: Vec<String> = ["29", "30"]
        .iter()
        .map(|d| format!("202611{d}"))
        .chain(["20261201".to_string()])
        .flat_map(|d| {
            [format!("agents_{d}000000_{d}115959.csv"), format!("agents_{d}120000_{d}235959.csv")]
        })
        .collect();
    assert_eq!(names, want);
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_snapshots_in_one_second_get_files_of_their_own() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let job = "endpoint = \"real_time/agents\"\nschedule = \"*/5 * * * *\"\nformats = [\"csv\"]\n";
    let setup = Setup::new(&sim, 1, &[("agents", job)]);
    let rt = setup.runtime(&clock);
    let job = setup.job("agents");
    for _ in 0..2 {
        let run = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
        assert_eq!((run.summary.windows, run.summary.calls), (1, 1));
    }
    let names: Vec<String> = files(&setup.out().join("agents"), "csv")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["agents_20261202070000_20261202070000.csv", "agents_20261202070001_20261202070001.csv"]
    );
    sim.shutdown().await.unwrap();
}
