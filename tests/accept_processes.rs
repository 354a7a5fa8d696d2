//! Acceptance: `once` processes sharing one token and one state folder
//! keep to the API's 2 requests in flight between them, and each job's
//! files hold its rows exactly once.

mod accept_support;
mod sync_support;

use accept_support::*;
use sync_support::*;
use wolkvox_sync::{
    plan::{Grain, windows_between},
    sim::{FaultProfile, Sim, SimClock, SimConfig},
};

const JOBS: [(&str, &str); 3] = [
    (
        "cdr",
        "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\nstart = 2026-12-01\n",
    ),
    (
        "chat",
        "endpoint = \"reports_manager/chat_2\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\nstart = 2026-12-01\n",
    ),
    (
        "cdr3",
        "endpoint = \"reports_manager/cdr_3\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\nstart = 2026-12-01\n",
    ),
];

/// Three processes, not two: each sends one request at a time, so two
/// could never pass 2 in flight even without the shared slot locks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_processes_on_one_token_never_pass_two_in_flight() {
    let mut config = SimConfig::with_seed(3);
    config.clock = SimClock::real();
    config.faults =
        FaultProfile { latency_min_ms: 20, latency_max_ms: 60, ..FaultProfile::default() };
    let sim = Sim::start(config).await.unwrap();
    let setup = Setup::new(&sim, 1, &JOBS);
    let config = setup.config_path.to_str().unwrap();

    let mut children = Vec::new();
    for (name, _) in JOBS {
        let args = ["once", name, "--config", config, "--from", "2026-12-01", "--to", "2026-12-01"];
        children.push(command(&args).output());
    }
    let outputs = futures_util::future::join_all(children).await;

    for ((name, _), output) in JOBS.iter().zip(outputs) {
        let output = output.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stdout}\n{stderr}");
        assert!(stdout.starts_with(&format!("{name}: done: 24 window(s)")), "{stdout}");
    }
    assert_eq!(sim.max_in_flight_seen(), 2, "the processes did overlap, and no further");
    assert_eq!(sim.request_log().len(), 3 * 24);
    let hours =
        windows_between(Grain::HOUR, wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 23, 0, 0));
    for (name, _) in JOBS {
        let job = setup.job(name);
        let want = sim_rows_by_window(&sim, job.endpoint, &[], &hours);
        assert_eq!(published_rows(&setup.out().join(name)), want, "{name}");
    }
    assert_eq!(ledger_total(&setup.dir.path().join("state")), 3 * 24);
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}
