//! Cron fire times in the operation's zone, across DST changes.

use jiff::{Timestamp, tz::TimeZone};
use wolkvox_sync::schedule::{self, Schedule};

fn tz(name: &str) -> TimeZone {
    TimeZone::get(name).expect("zone")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn cron(text: &str) -> Schedule {
    Schedule::parse(text).expect("cron")
}

/// The first `count` fire times after `after`, as UTC instants.
fn fires(pattern: &str, zone: &str, after: &str, count: usize) -> Vec<String> {
    let (cron, tz) = (cron(pattern), tz(zone));
    let mut at = ts(after);
    let mut out = Vec::new();
    for _ in 0..count {
        at = schedule::next_fire(&cron, &tz, at).expect("fires");
        out.push(at.to_string());
    }
    out
}

#[test]
fn new_york_spring_forward_fires_a_gap_time_once_after_the_gap() {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
    assert_eq!(
        fires("0 30 2 * * *", "America/New_York", "2026-03-07T17:00:00Z", 3),
        ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]
    );
}

#[test]
fn new_york_fall_back_fires_a_fold_time_once() {
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
    assert_eq!(
        fires("0 30 1 * * *", "America/New_York", "2026-10-31T16:00:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
}

#[test]
fn hourly_across_new_york_changes() {
    assert_eq!(
        fires("0 0 * * * *", "America/New_York", "2026-03-08T05:30:00Z", 3),
        ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"]
    );
    // Both 01:00s of the fall-back day fire: they are distinct hours.
    assert_eq!(
        fires("0 * * * *", "America/New_York", "2026-11-01T03:30:00Z", 4),
        [
            "2026-11-01T04:00:00Z",
            "2026-11-01T05:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T07:00:00Z",
        ]
    );
}

#[test]
fn santiago_changes_at_midnight() {
    // 2026-09-06: 00:00 -04 jumps to 01:00 -03; midnight does not exist.
    assert_eq!(
        fires("0 0 0 * * *", "America/Santiago", "2026-09-05T12:00:00Z", 2),
        ["2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"]
    );
    // 2026-04-05: 00:00 -03 falls back to 23:00 -04 on the 4th, so 23:30
    // of the 4th happens twice; it fires once.
    assert_eq!(
        fires("30 23 * * *", "America/Santiago", "2026-04-04T12:00:00Z", 2),
        ["2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"]
    );
    assert_eq!(
        fires("0 * * * *", "America/Santiago", "2026-09-06T02:30:00Z", 3),
        ["2026-09-06T03:00:00Z", "2026-09-06T04:00:00Z", "2026-09-06T05:00:00Z"]
    );
}

#[test]
fn bogota_has_no_dst() {
    assert_eq!(
        fires("0 0 3 * * *", "America/Bogota", "2026-03-07T00:00:00Z", 2),
        ["2026-03-07T08:00:00Z", "2026-03-08T08:00:00Z"]
    );
    assert_eq!(
        fires("*/5 * * * *", "America/Bogota", "2026-06-01T10:58:20Z", 3),
        ["2026-06-01T11:00:00Z", "2026-06-01T11:05:00Z", "2026-06-01T11:10:00Z"]
    );
}

#[test]
fn next_fire_is_strictly_after() {
    let (c, bogota) = (cron("5 * * * *"), tz("America/Bogota"));
    let fire = ts("2026-06-01T11:05:00Z");
    assert_eq!(schedule::next_fire(&c, &bogota, fire), Some(ts("2026-06-01T12:05:00Z")));
    let just_before = ts("2026-06-01T11:04:59.900Z");
    assert_eq!(schedule::next_fire(&c, &bogota, just_before), Some(fire));
}

#[test]
fn is_due_after_a_fire_time_passes() {
    let (c, bogota) = (cron("5 * * * *"), tz("America/Bogota"));
    let last = ts("2026-06-01T11:05:00Z");
    assert!(!schedule::is_due(&c, &bogota, last, ts("2026-06-01T12:04:59Z")));
    assert!(schedule::is_due(&c, &bogota, last, ts("2026-06-01T12:05:00Z")));
    assert!(!schedule::is_due(&c, &bogota, last, last));
}

#[test]
fn latest_fire_collapses_missed_runs() {
    let (c, bogota) = (cron("5 * * * *"), tz("America/Bogota"));
    let last = ts("2026-06-01T11:05:00Z");
    assert_eq!(schedule::latest_fire(&c, &bogota, last, ts("2026-06-01T12:04:59Z")), None);
    assert_eq!(
        schedule::latest_fire(&c, &bogota, last, ts("2026-06-01T12:05:00Z")),
        Some(ts("2026-06-01T12:05:00Z"))
    );
    assert_eq!(
        schedule::latest_fire(&c, &bogota, last, ts("2026-06-01T16:30:00Z")),
        Some(ts("2026-06-01T16:05:00Z"))
    );
}

#[test]
fn patterns_are_checked() {
    assert_eq!(cron(" 0 3 * * * ").as_str(), "0 3 * * *");
    assert_eq!(cron("@hourly").to_string(), "@hourly");
    assert_eq!(
        Schedule::parse("0 0 3 * * * 2030").map_err(|e| e.to_string()),
        Err("cron `0 0 3 * * * 2030` has 7 fields; expected 5 (minute hour day month weekday) \
             or 6 (second first)"
            .to_string())
    );
    assert!(Schedule::parse("5/5 * * * *").is_err());
    assert!(Schedule::parse("0 24 * * *").is_err());
}
