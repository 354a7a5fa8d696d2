//! `status` and `plan` read the state folder: exact budget, windows, rows
//! and deferrals.

mod sync_support;

use jiff::SignedDuration;
use sync_support::*;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{clock::Clock, config::Config, daemon::report, jobs, sync::NoProgress};

/// 30 closed hourly windows at 07:00 Bogotá on 2026-12-02.
fn cdr(priority: i64) -> String {
    format!(
        "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\n\
         lag = \"15m\"\nstart = 2026-12-01\npriority = {priority}\n"
    )
}

#[tokio::test]
async fn status_and_plan_after_one_run() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let (hi, lo, off) = (cdr(10), cdr(0) + "refetch = 2\n", cdr(20) + "enabled = false\n");
    let setup = Setup::new(&sim, 1, &[("hi", &hi), ("lo", &lo), ("off", &off)]);
    // Keep 960 calls for others: 40 a day for this daemon.
    let text = std::fs::read_to_string(&setup.config_path).unwrap() + "reserve = 960\n";
    std::fs::write(&setup.config_path, text).unwrap();
    let config = Config::load(&setup.config_path).unwrap();
    let (jobs, errors) = jobs::load_dir(&config.jobs_dir, &config);
    assert!(errors.is_empty());
    let state_db = config.state_dir.join("state.db");
    assert!(!state_db.exists());

    // Before any run: both enabled jobs want 30 calls; only the first fits
    // in 40. The disabled one costs nothing, whatever its priority.
    let mut plan = report::plan(&config, &jobs, &clock).unwrap();
    assert_eq!((plan.operations[0].budget, plan.operations[0].left), (40, 40));
    let rows: Vec<_> =
        plan.jobs.iter().map(|j| (j.name.as_str(), j.windows_due, j.calls, j.deferred)).collect();
    assert_eq!(rows, [("off", 30, 0, false), ("hi", 30, 30, false), ("lo", 30, 30, true)]);
    assert_eq!((plan.jobs[0].next_fire, plan.jobs[0].fires_today), (None, 0));
    let text = report::PlanText(&plan, &config).to_string();
    assert!(text.contains("disabled (enabled = false)"), "{text}");
    plan.jobs.remove(0);
    assert_eq!(plan.jobs[0].next_fire, Some(morning()));
    // Today: the 30 due now, then the 16 hours that close (15 minutes
    // after they end) by the last run at 23:05, 06:00 to 21:00; lo also
    // fetches its 2 latest hours again on each of its 17 later runs.
    let today: Vec<_> = plan.jobs.iter().map(|j| (j.name.as_str(), j.calls_today)).collect();
    assert_eq!(today, [("hi", 46), ("lo", 30 + 16 + 2 * 17)]);
    assert_eq!(plan.operations[0].calls_today, 46 + 80);
    let text = report::PlanText(&plan, &config).to_string();
    assert!(
        text.contains("40 of 40 calls left; today's runs would spend 126 (more than is left"),
        "{text}"
    );
    // Now (it never fired), then 07:05 … 23:05 Bogotá; the API day rolls
    // over at midnight.
    assert_eq!(plan.jobs[0].fires_today, 18);
    // Looking creates no state: a daemon under another user owns it.
    let status = report::status(&config, &jobs, &clock).unwrap();
    assert_eq!((status.operations[0].used, status.jobs[1].windows_pending), (0, 30));
    assert!(!state_db.exists());
    assert!(status.jobs[2].disabled && !status.jobs[0].disabled);
    let text = report::StatusText(&status, &config).to_string();
    assert!(text.contains("off  "), "{text}");
    assert!(text.contains("  disabled (enabled = false): the daemon does not run it"), "{text}");

    let rt = setup.runtime(&clock);
    let hi_job = setup.job("hi");
    let run = rt.run_job(&hi_job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
    assert_eq!(run.summary.windows, 30);

    let status = report::status(&config, &jobs, &clock).unwrap();
    let op = &status.operations[0];
    assert_eq!((op.used, op.left, op.in_flight, op.paused_since), (30, 10, Some(0), None));
    let hi_status = &status.jobs[0];
    assert_eq!((hi_status.windows_complete, hi_status.windows_pending), (30, 0));
    let want =
        sim.rows(hi_job.endpoint, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 2, 5, 59, 59));
    assert_eq!(hi_status.rows_total, want.len() as u64);
    let last = hi_status.last_run.as_ref().unwrap();
    assert_eq!((last.windows, last.calls), (30, 30));
    let lo_status = &status.jobs[1];
    assert_eq!((lo_status.windows_complete, lo_status.windows_pending), (0, 30));
    assert!(lo_status.last_run.is_none());

    // The JSON form carries the same numbers.
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["operations"][0]["left"], 10);
    assert_eq!(json["jobs"][1]["windows_pending"], 30);

    // At 07:14, just after a run, hi next fires at 08:05; the 06:00 hour
    // closes at 07:15, between the two, and is counted too.
    let later = Clock::starting_at(morning().checked_add(SignedDuration::from_mins(14)).unwrap());
    rt.engine.state.set_last_fire("hi", later.now()).unwrap();
    let plan = report::plan(&config, &jobs, &later).unwrap();
    let hi = plan.jobs.iter().find(|j| j.name == "hi").unwrap();
    assert!(hi.next_fire > Some(later.now()));
    assert_eq!((hi.windows_due, hi.calls, hi.fires_today, hi.calls_today), (0, 0, 16, 16));
    sim.shutdown().await.unwrap();
}
