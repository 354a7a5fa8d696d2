//! The daemon in-process against the simulator: first runs backfill, bad
//! job files are skipped, the jobs folder is watched and reloaded, a
//! removed job stops after its request in flight, and shutdown drains.

mod sync_support;

use std::{path::Path, time::Duration};

use sync_support::*;
use tokio::sync::mpsc;
use wolkvox_sync::{
    clock::Clock,
    daemon::{Daemon, Heartbeat, Notice, Options, scheduler::ReloadDiff},
    sim::FaultProfile,
};

/// Six closed hourly windows at 07:00 Bogotá (00:00–05:59).
const CDR_TODAY: &str = r#"
endpoint = "reports_manager/cdr_1"
schedule = "5 * * * *"
grain = "1h"
lag = "15m"
start = 2026-12-02
"#;

fn options(observer: mpsc::UnboundedSender<Notice>) -> Options {
    Options {
        heartbeat: Heartbeat::Every(Duration::from_millis(50)),
        debounce: Duration::from_millis(200),
        observer: Some(observer),
        ..Options::default()
    }
}

/// Waits (up to 30 s) for the first notice `pick` accepts.
async fn wait_for<T>(
    rx: &mut mpsc::UnboundedReceiver<Notice>,
    mut pick: impl FnMut(Notice) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let notice = rx.recv().await.expect("daemon gone");
            if let Some(found) = pick(notice) {
                return found;
            }
        }
    });
    found.await.expect("no such notice within 30 s")
}

fn finished(job: &str) -> impl FnMut(Notice) -> Option<wolkvox_sync::daemon::JobTotals> + '_ {
    move |n| match n {
        Notice::RunFinished { job: j, totals } if j == job => Some(totals),
        _ => None,
    }
}

fn reloaded(n: Notice) -> Option<ReloadDiff> {
    match n {
        Notice::Reloaded(diff) if !diff.is_empty() => Some(diff),
        _ => None,
    }
}

fn tmp_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = files(dir, "tmp");
    all.retain(|p| p.to_string_lossy().contains("tmp"));
    all
}

#[tokio::test]
async fn first_run_backfills_bad_files_are_skipped_and_shutdown_drains() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let bad = "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\nstart = 2026-12-01\nlagg = \"1m\"\n";
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY), ("broken", bad)]);
    let (tx, mut rx) = mpsc::unbounded_channel();

    let (daemon, rejected) = Daemon::new(setup.runtime(&clock), options(tx));
    let rejected: Vec<String> = rejected.iter().map(ToString::to_string).collect();
    let path = setup.dir.path().join("jobs/broken.toml");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].starts_with(&format!("{}:5:1: ", path.display())), "{rejected:?}");
    let handle = daemon.handle();
    let running = tokio::spawn(daemon.run());

    let jobs = wait_for(&mut rx, |n| match n {
        Notice::Ready { jobs } => Some(jobs),
        _ => None,
    })
    .await;
    assert_eq!(jobs, ["cdr"]);
    let totals = wait_for(&mut rx, finished("cdr")).await;
    let ep = setup.job("cdr").endpoint;
    let want = sim.rows(ep, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 2, 5, 59, 59));
    assert_eq!((totals.runs, totals.windows, totals.calls), (1, 30, 30));
    assert_eq!(totals.rows, want.len() as u64);
    assert_eq!(csv_rows(&setup.out()), as_csv(want));

    // The fire was recorded: a restart would wait for 08:05, not run again.
    let state = wolkvox_sync::state::State::open(&setup.dir.path().join("state")).unwrap();
    assert_eq!(state.last_fire("cdr").unwrap(), Some(morning()));

    handle.shutdown();
    let report = running.await.unwrap();
    assert!(report.drained);
    assert_eq!(report.jobs["cdr"].windows, 30);
    assert_eq!(tmp_files(&setup.out()), Vec::<std::path::PathBuf>::new());
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn jobs_added_changed_and_removed_while_running_are_picked_up() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("a", CDR_TODAY)]);
    let jobs_dir = setup.dir.path().join("jobs");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (daemon, rejected) = Daemon::new(setup.runtime(&clock), options(tx));
    assert!(rejected.is_empty());
    let handle = daemon.handle();
    let running = tokio::spawn(daemon.run());
    assert_eq!(wait_for(&mut rx, finished("a")).await.windows, 6);

    std::fs::write(jobs_dir.join("b.toml"), CDR_TODAY).unwrap();
    let diff = wait_for(&mut rx, reloaded).await;
    assert_eq!(diff.added, ["b"]);
    assert_eq!(wait_for(&mut rx, finished("b")).await.windows, 6);

    std::fs::write(jobs_dir.join("a.toml"), format!("{CDR_TODAY}priority = 3\n")).unwrap();
    assert_eq!(wait_for(&mut rx, reloaded).await.changed, ["a"]);

    std::fs::write(jobs_dir.join("c.toml"), "endpoint = \"reports_manager/cdr_1\"\n").unwrap();
    let diff = wait_for(&mut rx, reloaded).await;
    // One line per problem: schedule, grain and start are missing.
    assert_eq!(diff.rejected.len(), 3, "{diff:?}");
    assert!(diff.rejected.iter().all(|r| r.contains("jobs/c.toml:1:1: missing")), "{diff:?}");

    std::fs::remove_file(jobs_dir.join("b.toml")).unwrap();
    std::fs::remove_file(jobs_dir.join("c.toml")).unwrap();
    assert_eq!(wait_for(&mut rx, reloaded).await.removed, ["b"]);

    handle.shutdown();
    let report = running.await.unwrap();
    let expected = [
        ReloadDiff { added: vec!["b".into()], ..ReloadDiff::default() },
        ReloadDiff { changed: vec!["a".into()], ..ReloadDiff::default() },
        ReloadDiff { rejected: diff_rejected(&report.reloads[2]), ..ReloadDiff::default() },
        ReloadDiff { removed: vec!["b".into()], ..ReloadDiff::default() },
    ];
    assert_eq!(report.reloads, expected);
    assert_eq!(files(&setup.out().join("b"), "csv").len(), 6);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_jobs_folder_replaced_wholesale_is_followed() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("a", CDR_TODAY)]);
    let jobs_dir = setup.dir.path().join("jobs");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (daemon, _) = Daemon::new(setup.runtime(&clock), options(tx));
    let handle = daemon.handle();
    let running = tokio::spawn(daemon.run());
    assert_eq!(wait_for(&mut rx, finished("a")).await.windows, 6);

    // As deployment tools do: build the new folder beside it, swap it in.
    let staged = setup.dir.path().join("jobs.new");
    std::fs::create_dir(&staged).unwrap();
    std::fs::write(staged.join("b.toml"), CDR_TODAY).unwrap();
    std::fs::rename(&jobs_dir, setup.dir.path().join("jobs.old")).unwrap();
    std::fs::rename(&staged, &jobs_dir).unwrap();
    let diff = wait_for(&mut rx, reloaded).await;
    assert_eq!((diff.added, diff.removed), (vec!["b".to_string()], vec!["a".to_string()]));
    assert_eq!(wait_for(&mut rx, finished("b")).await.windows, 6);

    // The watch is now on the new folder.
    std::fs::write(jobs_dir.join("c.toml"), CDR_TODAY).unwrap();
    assert_eq!(wait_for(&mut rx, reloaded).await.added, ["c"]);

    // No folder for a while is not every job removed.
    let away = setup.dir.path().join("jobs.away");
    std::fs::rename(&jobs_dir, &away).unwrap();
    let diff = wait_for(&mut rx, reloaded).await;
    assert_eq!((diff.added.len(), diff.changed.len(), diff.removed.len()), (0, 0, 0));
    assert!(diff.rejected[0].contains("jobs: cannot read"), "{diff:?}");
    std::fs::write(away.join("d.toml"), CDR_TODAY).unwrap();
    std::fs::rename(&away, &jobs_dir).unwrap();
    let diff = wait_for(&mut rx, reloaded).await;
    assert_eq!((diff.added, diff.removed), (vec!["d".to_string()], vec![]));
    handle.shutdown();
    running.await.unwrap();
    sim.shutdown().await.unwrap();
}

fn diff_rejected(diff: &ReloadDiff) -> Vec<String> {
    diff.rejected.clone()
}

#[tokio::test]
async fn a_job_removed_mid_run_finishes_its_request_and_starts_no_other() {
    let clock = Clock::starting_at(morning());
    let slow = FaultProfile { latency_min_ms: 300, latency_max_ms: 300, ..FaultProfile::default() };
    let sim = sim(&clock, |c| c.faults = slow).await;
    let setup = Setup::new(&sim, 1, &[("a", CDR_TODAY)]);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (daemon, _) = Daemon::new(setup.runtime(&clock), options(tx));
    let handle = daemon.handle();
    let running = tokio::spawn(daemon.run());
    wait_for(&mut rx, |n| matches!(n, Notice::RunStarted { .. }).then_some(())).await;

    // Wait until the first request is in flight, then remove the job.
    while sim.in_flight("demo") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    std::fs::remove_file(setup.dir.path().join("jobs/a.toml")).unwrap();
    let totals = wait_for(&mut rx, finished("a")).await;
    assert_eq!((totals.cancelled, totals.errors), (1, 0));
    assert!(totals.windows >= 1 && totals.windows < 6, "{totals:?}");
    assert_eq!(totals.calls, totals.windows);
    assert_eq!(files(&setup.out().join("a"), "csv").len() as u64, totals.windows);

    // Removed for good: more ticks start nothing.
    handle.tick();
    handle.shutdown();
    let report = running.await.unwrap();
    assert_eq!(report.jobs["a"].runs, 1);
    assert_eq!(tmp_files(&setup.out()), Vec::<std::path::PathBuf>::new());
    sim.shutdown().await.unwrap();
}
