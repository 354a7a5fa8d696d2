//! Acceptance: maintenance in the middle of a backfill pauses the run,
//! costs one probe at a time, and the run resumes at the window that got
//! the maintenance answer; every window completes, each row once.

mod accept_support;
mod sync_support;

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use accept_support::*;
use sync_support::*;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{
    clock::Clock,
    plan::{Grain, Window, windows_between},
    sim::Sim,
    sync::Progress,
};

/// Switches the simulator's maintenance on once `after` windows are done.
struct MaintenanceAfter<'a> {
    sim: &'a Sim,
    after: usize,
    done: AtomicUsize,
}

impl Progress for MaintenanceAfter<'_> {
    fn window_done(&self, _window: &Window, _rows: u64) {
        if self.done.fetch_add(1, Ordering::SeqCst) + 1 == self.after {
            self.sim.set_maintenance("demo", true);
        }
    }
}

/// Waits until the simulator has answered `count` maintenance 403s, then
/// ends maintenance.
async fn end_maintenance_after(sim: &Sim, count: usize) {
    loop {
        let seen = sim.request_log().iter().filter(|r| r.status == 403).count();
        if seen >= count {
            sim.set_maintenance("demo", false);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn maintenance_mid_backfill_pauses_probes_once_at_a_time_and_resumes_at_the_window() {
    let clock = Clock::starting_at(morning());
    // The simulator follows the engine's clock, which runs in real time
    // here: the probe waits (1.2–1.8 s, then 1.6–2.4 s with jitter) are
    // real, and all longer than the simulator's 1 s probe interval.
    let sim = sim(&clock, |_| {}).await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    edit_config(
        &setup.config_path,
        "probe_initial = \"2s\"\nprobe_max = \"10s\"",
        "probe_initial = \"1500ms\"\nprobe_max = \"2s\"",
    );
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");
    let progress = MaintenanceAfter { sim: &sim, after: 5, done: AtomicUsize::new(0) };

    let cancel = CancellationToken::new();
    let (result, ()) =
        tokio::join!(rt.run_job(&job, None, &cancel, &progress), end_maintenance_after(&sim, 2),);
    let result = result.unwrap();

    assert!(result.error.is_none(), "{:?}", result.error);
    // 30 windows; the sixth was asked three times: the request that found
    // maintenance, one probe that found it still on, one that got rows.
    assert_eq!((result.summary.windows, result.summary.calls), (30, 32));
    assert!(result.summary.paused >= Duration::from_millis(2_800), "{:?}", result.summary.paused);
    let log = sim.request_log();
    assert_eq!(log.len(), 32);
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    let mut want = vec![200; 32];
    want[5] = 403;
    want[6] = 403;
    assert_eq!(statuses, want);
    let sixth = ("20261201050000".to_string(), "20261201055959".to_string());
    for r in &log[5..=7] {
        assert_eq!(logged_window(&r.params), sixth);
    }
    assert_eq!(logged_window(&log[8].params).0, "20261201060000");
    // One probe at a time: nothing between the 403s and the probes.
    assert!(log[6].at.duration_since(log[5].at) >= jiff::SignedDuration::from_millis(1_200));
    assert!(log[7].at.duration_since(log[6].at) >= jiff::SignedDuration::from_millis(1_600));
    assert_eq!(rt.engine.state.pause("demo").unwrap(), None);

    let hours =
        windows_between(Grain::HOUR, wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 2, 5, 0, 0));
    assert_eq!(published_rows(&setup.out()), sim_rows_by_window(&sim, job.endpoint, &[], &hours));
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}
