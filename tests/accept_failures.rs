//! Acceptance: each class of failure ends the way it should. Transient
//! faults are retried until every window completes; a bad token and a
//! disabled endpoint stop the run after one request with one clear error;
//! a spent budget stops the sending at the limit.

mod accept_support;
mod sync_support;

use std::{collections::BTreeMap, time::Duration};

use accept_support::*;
use sync_support::*;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{
    clock::Clock,
    plan::{Grain, windows_between},
    sim::{FaultProfile, Sim, SimClock, SimConfig},
    sync::{NoProgress, RunError},
};

const CDR_HOURLY: &str = r#"
endpoint = "reports_manager/cdr_1"
schedule = "5 * * * *"
grain = "1h"
start = 2026-11-30
"#;

#[tokio::test]
async fn transient_faults_are_retried_and_every_window_completes() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |c| {
        c.faults = FaultProfile {
            server_error: 0.05,
            reset: 0.05,
            truncate: 0.05,
            html: 0.05,
            ..FaultProfile::default()
        };
    })
    .await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    let mut rt = setup.runtime(&clock);
    // The product's retry count, with short delays.
    rt.engine.retry.max_retries = 5;
    let job = setup.job("cdr");

    let result = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();

    assert!(result.error.is_none(), "{:?}", result.error);
    let log = sim.request_log();
    let mut faults: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &log {
        if let Some(f) = r.fault {
            *faults.entry(f).or_default() += 1;
        }
    }
    let faulted: usize = faults.values().sum();
    // 2026-11-30 00:00 to 2026-12-02 05:59:59: 54 windows, each asked once
    // more for each fault it met.
    assert_eq!(result.summary.windows, 54);
    assert_eq!(result.summary.calls as usize, 54 + faulted);
    assert_eq!(log.len(), 54 + faulted);
    let kinds: Vec<&str> = faults.keys().copied().collect();
    assert_eq!(kinds, ["html", "reset", "server_error", "truncate"], "{faults:?}");
    let hours =
        windows_between(Grain::HOUR, wall(2026, 11, 30, 0, 0, 0), wall(2026, 12, 2, 5, 0, 0));
    assert_eq!(published_rows(&setup.out()), sim_rows_by_window(&sim, job.endpoint, &[], &hours));
    assert_eq!(temp_files(&setup.out()), Vec::<std::path::PathBuf>::new());
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_token_stops_the_run_after_one_request() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    std::fs::write(setup.dir.path().join("token"), "0".repeat(50)).unwrap();
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");

    let result = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();

    let err = result.error.expect("the run stops");
    assert!(matches!(err, RunError::BadToken { .. }), "{err:?}");
    assert!(err.stops_operation());
    assert_eq!(
        err.to_string(),
        "job cdr: the operation's token was refused (status 403: PLEASE VALIDATE TOKEN); fix the \
         token, the operation is stopped"
    );
    assert_eq!((result.summary.windows, result.summary.calls), (0, 1));
    assert_eq!(sim.request_log().len(), 1);
    assert_eq!(files(&setup.out(), "csv"), Vec::<std::path::PathBuf>::new());
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_disabled_endpoint_stops_the_run_with_an_error_naming_it() {
    let clock = Clock::starting_at(morning());
    let sim =
        sim(&clock, |c| c.operations[0].disabled = vec!["reports_manager/cdr_1".into()]).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");

    let result = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();

    let err = result.error.expect("the run stops");
    assert!(matches!(err, RunError::NotEnabled { .. }), "{err:?}");
    assert!(!err.stops_operation());
    assert!(err.to_string().starts_with("job cdr: reports_manager/cdr_1 is not enabled"), "{err}");
    assert_eq!((result.summary.windows, result.summary.calls), (0, 1));
    assert_eq!(sim.request_log().len(), 1);
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

/// The real binary on the system clock: with 1 license and a reserve of
/// 990, it may spend 10 calls a day. Once the ledger holds 10, a manual
/// run stops (the daemon would wait for the next API day) and says what
/// is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_stops_the_sending_at_the_limit() {
    let mut config = SimConfig::with_seed(5);
    config.clock = SimClock::real();
    let sim = Sim::start(config).await.unwrap();
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    edit_config(&setup.config_path, "licenses = 1\n", "licenses = 1\nreserve = 990\n");
    let config = setup.config_path.to_str().unwrap();
    let args = ["once", "cdr", "--config", config, "--from", "2026-12-01", "--to", "2026-12-01"];
    let child = command(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("once stops instead of waiting for the next day")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(stdout.starts_with("cdr: stopped: 10 window(s), "), "{stdout}");
    assert!(stdout.trim_end().ends_with(", 14 window(s) pending"), "{stdout}");
    let want = "error: job cdr: the daily budget of operation `demo` is spent; it renews at ";
    assert!(stderr.contains(want), "{stderr}");

    let log = sim.request_log();
    let ledger = ledger_total(&setup.dir.path().join("state"));

    assert_eq!(log.len(), 10);
    assert_eq!(ledger, 10);
    assert!(log.iter().all(|r| r.status == 200), "no 403 TOKEN LIMIT EXCEEDED");
    assert_eq!(sim.budget_used("demo"), 10);
    let first_ten =
        &windows_between(Grain::HOUR, wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 9, 0, 0));
    let job = setup.job("cdr");
    assert_eq!(
        published_rows(&setup.out()),
        sim_rows_by_window(&sim, job.endpoint, &[], first_ten)
    );
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn once_with_an_unreadable_token_exits_78_and_creates_no_state() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    std::fs::remove_file(setup.dir.path().join("token")).unwrap();
    let config = setup.config_path.to_str().unwrap();
    let out = command(&["once", "cdr", "--config", config]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    let token = setup.dir.path().join("token");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: operation `demo`: cannot read token file {}: No such file or directory (os \
             error 2)",
            token.display()
        )
    );
    assert!(!setup.dir.path().join("state").exists());
    assert_eq!(sim.request_log().len(), 0);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn once_refuses_a_range_for_a_snapshot_job() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let rt = "endpoint = \"real_time/agents\"\nschedule = \"*/5 * * * *\"\n";
    let setup = Setup::new(&sim, 1, &[("rt", rt)]);
    let config = setup.config_path.to_str().unwrap();
    let args = ["once", "rt", "--config", config, "--from", "2030-01-01", "--to", "2030-01-02"];
    let out = command(&args).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: --from/--to: job rt takes a snapshot of now (real_time/agents); only history \
         jobs have windows to choose"
    );
    assert_eq!(sim.request_log().len(), 0);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn status_and_plan_exit_78_when_the_jobs_folder_cannot_be_read() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    std::fs::remove_dir_all(setup.dir.path().join("jobs")).unwrap();
    let config = setup.config_path.to_str().unwrap();
    for command_name in ["status", "plan"] {
        let out = command(&[command_name, "--config", config]).output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{command_name}: {stderr}");
        assert!(stderr.contains("jobs: cannot read: No such file or directory"), "{stderr}");
        assert!(out.stdout.is_empty(), "{command_name}");
    }
    sim.shutdown().await.unwrap();
}
