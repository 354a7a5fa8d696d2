//! Scheduler rules under an injected clock: the tests pass every instant.

use std::path::Path;

use super::*;
use crate::config::Config;

fn config(zone: &str) -> Config {
    let text = format!(
        "[[operation]]\nname = \"op\"\nserver = \"0004\"\ntoken_env = \"T\"\nlicenses = 1\n\
         timezone = \"{zone}\"\n"
    );
    Config::parse(&text, Path::new("/etc/wolkvox-sync/wolkvox-sync.toml")).unwrap()
}

fn job(name: &str, zone: &str, extra: &str) -> (Job, TimeZone) {
    let config = config(zone);
    let text = format!("endpoint = \"real_time/agents\"\n{extra}\n");
    let path = format!("/etc/wolkvox-sync/jobs/{name}.toml");
    let job = crate::jobs::parse(&text, Path::new(&path), &config).unwrap();
    (job, TimeZone::get(zone).unwrap())
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A scheduler holding one job, last fired at `last`.
fn one(zone: &str, cron: &str, last: &str) -> Scheduler {
    let (job, tz) = job("j", zone, &format!("schedule = \"{cron}\""));
    let mut s = Scheduler::new();
    s.insert(job, tz, Some(ts(last)));
    s
}

/// Ticks every minute from `from` for `minutes`, finishing each run at
/// once; returns the fire times.
fn fires_by_minute(s: &mut Scheduler, from: &str, minutes: i64) -> Vec<String> {
    let mut out = Vec::new();
    let start = ts(from);
    for m in 0..=minutes {
        let now = start + jiff::SignedDuration::from_mins(m);
        let tick = s.tick(now);
        for (name, at) in tick.fired {
            out.push(at.to_string());
            s.finished(&name);
        }
    }
    out
}

#[test]
fn santiago_spring_forward_fires_the_missing_midnight_once() {
    // 2026-09-06 00:00 does not exist in Santiago (clocks jump to 01:00).
    let mut s = one("America/Santiago", "0 0 * * *", "2026-09-05T04:00:00Z");
    let fires = fires_by_minute(&mut s, "2026-09-05T04:00:00Z", 3 * 24 * 60);
    assert_eq!(fires, ["2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", "2026-09-08T03:00:00Z"]);
}

#[test]
fn santiago_fall_back_fires_a_fold_time_once() {
    // 2026-04-05 00:00 -03 falls back to 23:00 -04 on the 4th, so 23:30
    // happens twice; it fires on its first pass only.
    let mut s = one("America/Santiago", "30 23 * * *", "2026-04-04T12:00:00Z");
    let fires = fires_by_minute(&mut s, "2026-04-04T12:00:00Z", 2 * 24 * 60);
    assert_eq!(fires, ["2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"]);
}

#[test]
fn new_york_fires_daily_at_wall_time_across_both_changes() {
    let mut s = one("America/New_York", "30 6 * * *", "2026-03-07T00:00:00Z");
    let fires = fires_by_minute(&mut s, "2026-03-07T00:00:00Z", 3 * 24 * 60);
    assert_eq!(fires, ["2026-03-07T11:30:00Z", "2026-03-08T10:30:00Z", "2026-03-09T10:30:00Z"]);

    let mut s = one("America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z");
    let fires = fires_by_minute(&mut s, "2026-10-31T12:00:00Z", 2 * 24 * 60);
    assert_eq!(fires, ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]);
}

#[test]
fn bogota_has_no_changes_and_fires_every_hour() {
    let mut s = one("America/Bogota", "5 * * * *", "2026-03-08T04:05:00Z");
    let fires = fires_by_minute(&mut s, "2026-03-08T04:05:00Z", 3 * 60);
    assert_eq!(fires, ["2026-03-08T05:05:00Z", "2026-03-08T06:05:00Z", "2026-03-08T07:05:00Z"]);
}

#[test]
fn a_job_that_never_fired_fires_on_the_first_tick() {
    let (job, tz) = job("new", "America/Bogota", "schedule = \"0 3 * * *\"");
    let mut s = Scheduler::new();
    s.insert(job, tz, None);
    let now = ts("2026-12-02T12:00:00Z");
    let tick = s.tick(now);
    assert_eq!(tick.fired, [("new".to_string(), now)]);
    assert_eq!(tick.start, ["new"]);
    assert_eq!(s.next_fire("new"), Some(ts("2026-12-03T08:00:00Z")));
}

#[test]
fn fires_while_running_coalesce_into_one_pending_run() {
    let mut s = one("America/Bogota", "* * * * *", "2026-12-02T12:00:00Z");
    let first = s.tick(ts("2026-12-02T12:01:00Z"));
    assert_eq!(first.start, ["j"]);
    for minute in 2..5 {
        let tick = s.tick(ts(&format!("2026-12-02T12:0{minute}:00Z")));
        assert_eq!((tick.start.len(), tick.coalesced.len()), (0, 1), "minute {minute}");
    }
    assert_eq!(s.running(), 1);
    // The run ends: exactly one pending run starts, and after it nothing.
    assert!(s.finished("j"));
    assert!(!s.finished("j"));
    assert_eq!(s.running(), 0);
}

#[test]
fn after_downtime_the_missed_fires_collapse_into_one_catch_up_run() {
    let mut s = one("America/Bogota", "5 * * * *", "2026-12-02T03:05:00Z");
    // Down from 22:05 to 07:30 Bogotá: nine hourly fires were missed.
    let tick = s.tick(ts("2026-12-02T12:30:00Z"));
    assert_eq!(tick.fired, [("j".to_string(), ts("2026-12-02T12:05:00Z"))]);
    assert_eq!(tick.start, ["j"]);
    s.finished("j");
    assert_eq!(s.tick(ts("2026-12-02T12:59:59Z")), TickOutcome::default());
    assert_eq!(s.next_fire("j"), Some(ts("2026-12-02T13:05:00Z")));
}

#[test]
fn jobs_due_together_start_by_priority_then_name() {
    let mut s = Scheduler::new();
    let last = Some(ts("2026-12-02T12:00:00Z"));
    for (name, priority) in [("a", 0), ("b", 10), ("c", 5), ("d", 10)] {
        let extra = format!("schedule = \"* * * * *\"\npriority = {priority}");
        let (job, tz) = job(name, "America/Bogota", &extra);
        s.insert(job, tz, last);
    }
    let tick = s.tick(ts("2026-12-02T12:01:00Z"));
    assert_eq!(tick.start, ["b", "d", "c", "a"]);
}

#[test]
fn reload_adds_changes_and_removes_and_a_running_removed_job_never_restarts() {
    let mut s = Scheduler::new();
    let last = Some(ts("2026-12-02T12:00:00Z"));
    for name in ["keep", "change", "drop", "bad"] {
        let (job, tz) = job(name, "America/Bogota", "schedule = \"* * * * *\"");
        s.insert(job, tz, last);
    }
    assert_eq!(s.tick(ts("2026-12-02T12:01:00Z")).start, ["bad", "change", "drop", "keep"]);

    let fresh = |name: &str, cron: &str| {
        let (job, tz) = job(name, "America/Bogota", &format!("schedule = \"{cron}\""));
        (job, tz, None)
    };
    let jobs =
        vec![fresh("keep", "* * * * *"), fresh("change", "*/5 * * * *"), fresh("new", "0 * * * *")];
    let keep = BTreeSet::from(["bad".to_string()]);
    let diff = s.reload(jobs, &keep);
    assert_eq!(diff.added, ["new"]);
    assert_eq!(diff.changed, ["change"]);
    assert_eq!(diff.removed, ["drop"]);
    assert_eq!(s.job("drop").map(|j| j.name.as_str()), None);
    // A changed job keeps its last fire and follows its new pattern.
    assert_eq!(s.next_fire("change"), Some(ts("2026-12-02T12:05:00Z")));

    // "drop" was running: its end removes it for good, without a restart.
    assert!(!s.finished("drop"));
    let tick = s.tick(ts("2026-12-02T12:02:00Z"));
    assert_eq!(tick.start, ["new"]);
    assert_eq!(tick.coalesced, ["bad", "keep"]);
}
