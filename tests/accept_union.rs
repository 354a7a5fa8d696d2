//! Acceptance: the union of a job's files equals the simulator's rows for
//! the period, each row exactly once, for detail and aggregate endpoints,
//! across split windows and re-fetches of late data; and the simulator
//! saw no rule broken.

mod accept_support;
mod sync_support;

use std::time::Duration;

use accept_support::*;
use jiff::Timestamp;
use sync_support::*;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{
    clock::Clock,
    plan::{Grain, Window, windows_between},
    sim::{LateData, Sim, SimClock, SimConfig},
    sync::NoProgress,
};

const CHAT_HOURLY: &str = r#"
endpoint = "reports_manager/chat_2"
schedule = "5 * * * *"
grain = "1h"
start = 2026-12-01
"#;

const AGENTS_DAILY: &str = r#"
endpoint = "reports_manager/agent_1"
schedule = "30 0 * * *"
grain = "1d"
start = 2026-11-25
"#;

const SKILLS_HOURLY: &str = r#"
endpoint = "reports_manager/skill_4"
schedule = "5 * * * *"
grain = "1h"
start = 2026-12-01
[params]
skill_id = "all"
"#;

const CDR_REFETCH: &str = r#"
endpoint = "reports_manager/cdr_1"
schedule = "5 * * * *"
grain = "1h"
lag = "15m"
refetch = 2
start = 2026-12-02
"#;

/// A job, its parameters and the windows it fetches.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [Window]);

#[tokio::test]
async fn detail_nested_and_aggregate_jobs_hold_every_row_once() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |_| {}).await;
    let jobs = [("chat", CHAT_HOURLY), ("agents", AGENTS_DAILY), ("skills", SKILLS_HOURLY)];
    let setup = Setup::new(&sim, 1, &jobs);
    let rt = setup.runtime(&clock);
    let cancel = CancellationToken::new();
    let hours =
        windows_between(Grain::HOUR, wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 2, 5, 0, 0));
    let days = windows_between(Grain::DAY, wall(2026, 11, 25, 0, 0, 0), wall(2026, 12, 1, 0, 0, 0));
    // 07:00 with the default 15-minute lag: hours up to 05:00–05:59:59,
    // days up to 2026-12-01.
    let cases: [Case; 3] =
        [("chat", &[], &hours), ("agents", &[], &days), ("skills", &[("skill_id", "all")], &hours)];
    for (name, params, windows) in cases {
        let job = setup.job(name);
        let result = rt.run_job(&job, None, &cancel, &NoProgress).await.unwrap();
        assert!(result.error.is_none(), "{name}: {:?}", result.error);
        let n = windows.len() as u64;
        assert_eq!((result.summary.windows, result.summary.calls), (n, n), "{name}");
        let want = sim_rows_by_window(&sim, job.endpoint, params, windows);
        assert!(!want.is_empty());
        assert_eq!(result.summary.rows, want.len() as u64, "{name}");
        assert_eq!(published_rows(&setup.out().join(name)), want, "{name}");
        assert_eq!(files(&setup.out().join(name), "csv").len(), windows.len(), "{name}");
    }
    // chat_2 is nested: one row per message, so more rows than chats.
    assert_eq!(hours.len(), 30);
    assert_eq!(days.len(), 7);
    assert_eq!(sim.request_log().len(), 30 + 7 + 30);
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_window_past_the_row_cap_is_split_and_its_halves_hold_every_row() {
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |c| {
        c.volumes.insert("reports_manager/cdr_1".into(), 61_000);
    })
    .await;
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_HOURLY)]);
    let rt = setup.runtime(&clock);
    let job = setup.job("cdr");
    let range = (wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 0, 59, 59));

    let result =
        rt.run_job(&job, Some(range), &CancellationToken::new(), &NoProgress).await.unwrap();

    assert!(result.error.is_none(), "{:?}", result.error);
    // The hour is cut at the cap (60,000 of 61,000 rows), then fetched as
    // two halves of 30 minutes.
    assert_eq!((result.summary.windows, result.summary.calls), (2, 3));
    assert_eq!(result.summary.rows, 61_000);
    let halves: Vec<Window> = windows_between(Grain::HOUR, range.0, range.1)
        .iter()
        .flat_map(|w| {
            let (a, b) = w.split().unwrap();
            [a, b]
        })
        .collect();
    assert_eq!(halves[1].start, wall(2026, 12, 1, 0, 30, 0));
    let want = sim_rows_by_window(&sim, job.endpoint, &[], &halves);
    assert_eq!(want.len(), 61_000);
    assert_eq!(published_rows(&setup.out()), want);
    let names: Vec<String> = files(&setup.out(), "csv")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["cdr_20261201000000_20261201002959.csv", "cdr_20261201003000_20261201005959.csv",]
    );
    let recorded: Vec<(Window, u64)> = rt
        .engine
        .state
        .windows("cdr")
        .unwrap()
        .iter()
        .map(|r| (Window { start: r.start, end: r.end }, r.rows))
        .collect();
    assert_eq!(recorded.iter().map(|r| r.0).collect::<Vec<_>>(), halves);
    assert!(recorded.iter().all(|r| r.1 < ROW_CAP as u64), "{recorded:?}");
    let capped = sim.request_log().iter().filter(|r| r.rows == Some(60_000)).count();
    assert_eq!(capped, 1);
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}

/// Late rows show up 5 minutes to 2 hours after their time, so at 07:00 only
/// the 05:00 window can still grow, and at 08:00 the 05:00 and 06:00 ones.
#[tokio::test]
async fn refetched_windows_are_replaced_and_the_union_is_what_is_visible_now() {
    let first: Timestamp = morning();
    let mut config = SimConfig::with_seed(11);
    config.clock = SimClock::fixed(first);
    config.late = LateData {
        share: 0.3,
        min_delay: Duration::from_secs(5 * 60),
        max_delay: Duration::from_secs(2 * 3_600),
    };
    let sim = Sim::start(config).await.unwrap();
    let setup = Setup::new(&sim, 1, &[("cdr", CDR_REFETCH)]);
    let job = setup.job("cdr");
    let cancel = CancellationToken::new();
    let day = |h| wall(2026, 12, 2, h, 0, 0);

    let rt = setup.runtime(&Clock::starting_at(first));
    let run1 = rt.run_job(&job, None, &cancel, &NoProgress).await.unwrap();
    assert!(run1.error.is_none(), "{:?}", run1.error);
    assert_eq!((run1.summary.windows, run1.summary.calls), (6, 6));
    let windows1 = windows_between(Grain::HOUR, day(0), day(5));
    let want1 = sim_rows_by_window(&sim, job.endpoint, &[], &windows1);
    assert_eq!(published_rows(&setup.out()), want1);
    let five = setup.out().join("cdr/window_date=2026-12-02/cdr_20261202050000_20261202055959.csv");
    let five_before = csv_file_rows(&five).len();
    drop(rt);

    // An hour later: 06:00 is new, 04:00 and 05:00 are fetched again.
    let second = first + jiff::SignedDuration::from_hours(1);
    sim.clock().set(second);
    let rt = setup.runtime(&Clock::starting_at(second));
    let run2 = rt.run_job(&job, None, &cancel, &NoProgress).await.unwrap();
    assert!(run2.error.is_none(), "{:?}", run2.error);
    assert_eq!((run2.summary.windows, run2.summary.calls), (3, 3));
    let asked: Vec<(String, String)> =
        sim.request_log()[6..].iter().map(|r| logged_window(&r.params)).collect();
    let stamp = |h: i8| format!("20261202{h:02}0000");
    let end = |h: i8| format!("20261202{h:02}5959");
    assert_eq!(asked, [(stamp(4), end(4)), (stamp(5), end(5)), (stamp(6), end(6))]);

    let windows2 = windows_between(Grain::HOUR, day(0), day(6));
    let want2 = sim_rows_by_window(&sim, job.endpoint, &[], &windows2);
    assert_eq!(published_rows(&setup.out()), want2);
    assert_eq!(files(&setup.out(), "csv").len(), 7);
    // The 05:00 window grew by the late rows that showed up since 07:00,
    // and its file was replaced, not duplicated.
    let five_after = csv_file_rows(&five).len();
    assert!(five_after > five_before, "{five_before} -> {five_after}");
    assert!(want2.len() > want1.len());
    assert_eq!(temp_files(&setup.out()), Vec::<std::path::PathBuf>::new());
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}
