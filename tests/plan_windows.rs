//! Report windows: alignment, tiling across month ends, leap years and DST,
//! splitting, and which windows are due.

use std::{cell::RefCell, collections::BTreeSet};

use jiff::{SignedDuration, Timestamp, civil::DateTime, civil::date, tz::TimeZone};
use proptest::prelude::*;
use wolkvox_sync::plan::{self, Grain, Window, WindowSpec};

fn at(y: i16, m: i8, d: i8, h: i8, min: i8, s: i8) -> DateTime {
    date(y, m, d).at(h, min, s, 0)
}

fn tz(name: &str) -> TimeZone {
    TimeZone::get(name).expect("zone")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn grain(text: &str) -> Grain {
    text.parse().expect("grain")
}

/// Asserts that `windows` tile time: each starts one second after the last
/// one ended.
#[track_caller]
fn assert_tiles(windows: &[Window]) {
    for pair in windows.windows(2) {
        assert_eq!(pair[0].end + SignedDuration::from_secs(1), pair[1].start, "{pair:?}");
    }
    for w in windows {
        assert!(w.start <= w.end, "{w}");
    }
}

#[test]
fn api_params_and_display() {
    let w = Grain::HOUR.window_at(at(2026, 3, 8, 2, 17, 5)).expect("window");
    assert_eq!(w, Window { start: at(2026, 3, 8, 2, 0, 0), end: at(2026, 3, 8, 2, 59, 59) });
    assert_eq!(
        w.api_params(),
        [("date_ini", "20260308020000".to_string()), ("date_end", "20260308025959".to_string())]
    );
    assert_eq!(w.to_string(), "[2026-03-08T02:00:00, 2026-03-08T02:59:59]");
    assert_eq!(w.seconds(), 3_600);
    assert!(w.contains(at(2026, 3, 8, 2, 59, 59)));
    assert!(!w.contains(at(2026, 3, 8, 3, 0, 0)));
}

#[test]
fn windows_align_to_their_grain() {
    let from = at(2026, 1, 15, 10, 37, 12);
    let to = at(2026, 1, 15, 11, 5, 0);
    let quarters = plan::windows_between(grain("15m"), from, to);
    let starts: Vec<String> = quarters.iter().map(|w| w.start.to_string()).collect();
    assert_eq!(starts, ["2026-01-15T10:30:00", "2026-01-15T10:45:00", "2026-01-15T11:00:00"]);
    assert_eq!(quarters[2].end, at(2026, 1, 15, 11, 14, 59));

    let six = plan::windows_between(grain("6h"), at(2026, 1, 1, 5, 0, 0), at(2026, 1, 1, 13, 0, 0));
    let six: Vec<(DateTime, DateTime)> = six.iter().map(|w| (w.start, w.end)).collect();
    assert_eq!(
        six,
        [
            (at(2026, 1, 1, 0, 0, 0), at(2026, 1, 1, 5, 59, 59)),
            (at(2026, 1, 1, 6, 0, 0), at(2026, 1, 1, 11, 59, 59)),
            (at(2026, 1, 1, 12, 0, 0), at(2026, 1, 1, 17, 59, 59)),
        ]
    );
    assert!(plan::windows_between(Grain::HOUR, from, at(2026, 1, 15, 9, 0, 0)).is_empty());
}

#[test]
fn day_windows_across_month_ends_and_leap_days() {
    let days = plan::windows_between(Grain::DAY, at(2024, 2, 27, 8, 0, 0), at(2024, 3, 1, 0, 0, 0));
    let ends: Vec<String> = days.iter().map(|w| w.end.to_string()).collect();
    assert_eq!(
        ends,
        [
            "2024-02-27T23:59:59",
            "2024-02-28T23:59:59",
            "2024-02-29T23:59:59",
            "2024-03-01T23:59:59",
        ]
    );
    assert_tiles(&days);

    let year =
        plan::windows_between(Grain::DAY, at(2023, 1, 1, 0, 0, 0), at(2023, 12, 31, 0, 0, 0));
    assert_eq!(year.len(), 365);
    let leap =
        plan::windows_between(Grain::DAY, at(2024, 1, 1, 0, 0, 0), at(2024, 12, 31, 0, 0, 0));
    assert_eq!(leap.len(), 366);
}

#[test]
fn month_windows_follow_the_calendar() {
    let months =
        plan::windows_between(Grain::MONTH, at(2023, 12, 20, 0, 0, 0), at(2024, 4, 1, 0, 0, 0));
    let spans: Vec<String> = months.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        spans,
        [
            "[2023-12-01T00:00:00, 2023-12-31T23:59:59]",
            "[2024-01-01T00:00:00, 2024-01-31T23:59:59]",
            "[2024-02-01T00:00:00, 2024-02-29T23:59:59]",
            "[2024-03-01T00:00:00, 2024-03-31T23:59:59]",
            "[2024-04-01T00:00:00, 2024-04-30T23:59:59]",
        ]
    );
    let feb_2025 = Grain::MONTH.window_at(at(2025, 2, 14, 0, 0, 0)).expect("window");
    assert_eq!(feb_2025.end, at(2025, 2, 28, 23, 59, 59));
    assert_eq!(feb_2025.api_params()[1].1, "20250228235959");
}

#[test]
fn wall_clock_windows_tile_dst_days() {
    // New York springs forward on 2026-03-08 (02:00 -> 03:00) and falls
    // back on 2026-11-01 (02:00 -> 01:00); Santiago springs forward at
    // midnight on 2026-09-06. Windows are wall-clock: every day has 24
    // hourly windows, the missing hour's window included.
    for day in [date(2026, 3, 8), date(2026, 11, 1), date(2026, 9, 6), date(2026, 4, 5)] {
        let hours = plan::windows_between(Grain::HOUR, day.at(0, 0, 0, 0), day.at(23, 59, 59, 0));
        assert_eq!(hours.len(), 24, "{day}");
        assert_tiles(&hours);
        assert_eq!(hours[2].api_params()[0].1, format!("{}020000", day.strftime("%Y%m%d")));
    }
}

#[test]
fn split_halves_tile_down_to_one_second() {
    let hour = Grain::HOUR.window_at(at(2026, 5, 5, 13, 0, 0)).expect("window");
    let (a, b) = hour.split().expect("splits");
    assert_eq!(a.to_string(), "[2026-05-05T13:00:00, 2026-05-05T13:29:59]");
    assert_eq!(b.to_string(), "[2026-05-05T13:30:00, 2026-05-05T13:59:59]");

    let three = Window { start: at(2026, 5, 5, 0, 0, 0), end: at(2026, 5, 5, 0, 0, 2) };
    let (a, b) = three.split().expect("splits");
    assert_eq!((a.seconds(), b.seconds()), (1, 2));
    assert_eq!(a.split(), None);

    // Splitting every piece again ends in 3,600 one-second windows that
    // tile the hour.
    let mut pieces = vec![hour];
    while pieces.iter().any(|w| w.seconds() > 1) {
        pieces = pieces
            .into_iter()
            .flat_map(|w| match w.split() {
                Some((a, b)) => vec![a, b],
                None => vec![w],
            })
            .collect();
    }
    assert_eq!(pieces.len(), 3_600);
    assert_tiles(&pieces);
    assert_eq!((pieces[0].start, pieces[3_599].end), (hour.start, hour.end));
}

fn spec(grain: Grain, lag_minutes: i64, refetch: u32, start: DateTime) -> WindowSpec {
    WindowSpec { grain, lag: SignedDuration::from_mins(lag_minutes), refetch, start }
}

#[test]
fn due_windows_are_closed_incomplete_and_refetched() {
    let bogota = tz("America/Bogota");
    let spec = spec(Grain::HOUR, 15, 2, at(2026, 6, 1, 0, 0, 0));
    // 06:14:59 in Bogota (UTC-5): the 05:00 window closes at 06:15.
    let now = ts("2026-06-01T11:14:59Z");
    let done: BTreeSet<DateTime> = [0, 1, 3, 4].iter().map(|&h| at(2026, 6, 1, h, 0, 0)).collect();
    let completed = |w: &Window| done.contains(&w.start);

    let due = plan::due(&spec, now, &bogota, &completed);
    let starts: Vec<i8> = due.iter().map(|w| w.start.hour()).collect();
    // 2 is missing; 3 and 4 are the two latest complete ones.
    assert_eq!(starts, [2, 3, 4]);

    let due = plan::due(&spec, ts("2026-06-01T11:15:00Z"), &bogota, &completed);
    let starts: Vec<i8> = due.iter().map(|w| w.start.hour()).collect();
    assert_eq!(starts, [2, 3, 4, 5]);

    let no_refetch = WindowSpec { refetch: 0, ..spec.clone() };
    let due = plan::due(&no_refetch, ts("2026-06-01T11:15:00Z"), &bogota, &completed);
    let starts: Vec<i8> = due.iter().map(|w| w.start.hour()).collect();
    assert_eq!(starts, [2, 5]);

    assert!(plan::due(&spec, ts("2026-06-01T05:00:00Z"), &bogota, &completed).is_empty());
}

#[test]
fn a_two_year_hourly_backfill() {
    let bogota = tz("America/Bogota");
    let spec = spec(Grain::HOUR, 15, 3, at(2024, 1, 1, 0, 0, 0));
    // 2026-01-01 00:15 in Bogota: exactly two years of hours have closed.
    let now = ts("2026-01-01T05:15:00Z");
    let calls = RefCell::new(0_u32);
    let nothing_done = |_: &Window| {
        *calls.borrow_mut() += 1;
        false
    };
    let due = plan::due(&spec, now, &bogota, &nothing_done);
    assert_eq!(due.len(), (366 + 365) * 24);
    assert_eq!(*calls.borrow(), (366 + 365) * 24);
    assert_tiles(&due);
    assert_eq!(due[0].start, at(2024, 1, 1, 0, 0, 0));
    assert_eq!(due.last().map(|w| w.end), Some(at(2025, 12, 31, 23, 59, 59)));

    let all_done = |_: &Window| true;
    let again = plan::due(&spec, now, &bogota, &all_done);
    let starts: Vec<String> = again.iter().map(|w| w.start.to_string()).collect();
    assert_eq!(starts, ["2025-12-31T21:00:00", "2025-12-31T22:00:00", "2025-12-31T23:00:00"]);
}

#[test]
fn fall_back_windows_wait_for_the_second_pass() {
    let ny = tz("America/New_York");
    let spec = spec(Grain::HOUR, 15, 0, at(2026, 11, 1, 0, 0, 0));
    let none = |_: &Window| false;
    let due_hours = |now: &str| -> Vec<i8> {
        plan::due(&spec, ts(now), &ny, &none).iter().map(|w| w.start.hour()).collect()
    };
    // 00:00-00:59 ends at 01:00 EDT (05:00Z) and closes at 01:15 EDT.
    assert_eq!(due_hours("2026-11-01T05:14:59Z"), Vec::<i8>::new());
    assert_eq!(due_hours("2026-11-01T05:15:00Z"), [0]);
    // The repeated 01:00-01:59 hour ends at 02:00 EST (07:00Z), not at the
    // end of its first pass (06:00Z).
    assert_eq!(due_hours("2026-11-01T06:15:00Z"), [0]);
    assert_eq!(due_hours("2026-11-01T07:14:59Z"), [0]);
    assert_eq!(due_hours("2026-11-01T07:15:00Z"), [0, 1]);
    assert_eq!(due_hours("2026-11-01T08:15:00Z"), [0, 1, 2]);
}

#[test]
fn spring_forward_gap_window_closes_with_the_next_one() {
    let ny = tz("America/New_York");
    let spec = spec(Grain::HOUR, 15, 0, at(2026, 3, 8, 0, 0, 0));
    let none = |_: &Window| false;
    let due_hours = |now: &str| -> Vec<i8> {
        plan::due(&spec, ts(now), &ny, &none).iter().map(|w| w.start.hour()).collect()
    };
    // 01:00-01:59 EST ends at 03:00 EDT (07:00Z).
    assert_eq!(due_hours("2026-03-08T07:15:00Z"), [0, 1]);
    // 02:00-02:59 never happens; it closes with 03:00-03:59 EDT.
    assert_eq!(due_hours("2026-03-08T08:14:59Z"), [0, 1]);
    assert_eq!(due_hours("2026-03-08T08:15:00Z"), [0, 1, 2, 3]);
}

#[test]
fn daily_windows_in_santiago_and_months_in_bogota() {
    let santiago = tz("America/Santiago");
    // Santiago springs forward at 2026-09-06 00:00 (-04 -> -03): that day
    // starts at 01:00 and is 23 hours long, but its window is still the
    // whole wall-clock day.
    let spec = spec(Grain::DAY, 60, 0, at(2026, 9, 5, 0, 0, 0));
    let none = |_: &Window| false;
    // 2026-09-07 01:00 -03 = 04:00Z: the 6th closed at 00:00 + 1 h.
    let due = plan::due(&spec, ts("2026-09-07T04:00:00Z"), &santiago, &none);
    let days: Vec<String> = due.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        days,
        [
            "[2026-09-05T00:00:00, 2026-09-05T23:59:59]",
            "[2026-09-06T00:00:00, 2026-09-06T23:59:59]",
        ]
    );

    let bogota = tz("America/Bogota");
    let months = WindowSpec { grain: Grain::MONTH, ..spec_for_month() };
    let due = plan::due(&months, ts("2024-03-01T05:15:00Z"), &bogota, &none);
    let ends: Vec<String> = due.iter().map(|w| w.end.to_string()).collect();
    assert_eq!(ends, ["2024-01-31T23:59:59", "2024-02-29T23:59:59"]);
}

fn spec_for_month() -> WindowSpec {
    spec(Grain::MONTH, 15, 0, at(2024, 1, 10, 0, 0, 0))
}

const ZONES: [&str; 5] =
    ["America/Bogota", "America/Santiago", "America/New_York", "Europe/London", "UTC"];

fn grains() -> impl Strategy<Value = Grain> {
    prop_oneof![
        Just(grain("1s")),
        Just(grain("15m")),
        Just(grain("30m")),
        Just(Grain::HOUR),
        Just(grain("6h")),
        Just(Grain::DAY),
        Just(Grain::MONTH),
    ]
}

/// A datetime near interesting days: DST changes in the zones above, month
/// ends and Feb 29, or anywhere in 2023-2028.
fn datetimes() -> impl Strategy<Value = DateTime> {
    let special = prop_oneof![
        Just(date(2024, 2, 29)),
        Just(date(2028, 2, 28)),
        Just(date(2026, 3, 8)),
        Just(date(2026, 11, 1)),
        Just(date(2026, 4, 5)),
        Just(date(2026, 9, 6)),
        Just(date(2026, 3, 29)),
        Just(date(2025, 12, 31)),
    ];
    let any_day =
        (0_i64..6 * 366).prop_map(|d| date(2023, 1, 1) + SignedDuration::from_hours(24 * d));
    let day = prop_oneof![special, any_day];
    (day, 0_i64..86_400).prop_map(|(d, s)| d.at(0, 0, 0, 0) + SignedDuration::from_secs(s))
}

proptest! {
    #[test]
    fn windows_never_gap_or_overlap(
        g in grains(),
        from in datetimes(),
        span_hours in 0_i64..24 * 40,
    ) {
        let limit = if g == grain("1s") { 3 } else { span_hours };
        let to = from + SignedDuration::from_hours(limit);
        let windows = plan::windows_between(g, from, to);
        prop_assert!(!windows.is_empty());
        prop_assert!(windows[0].contains(from));
        prop_assert!(windows.last().is_some_and(|w| w.contains(to)));
        for pair in windows.windows(2) {
            prop_assert_eq!(pair[0].end + SignedDuration::from_secs(1), pair[1].start);
        }
        for w in &windows {
            prop_assert_eq!(g.floor(w.start), w.start);
            prop_assert_eq!(g.floor(w.end), w.start);
            prop_assert!(w.seconds() <= g.max_seconds());
            prop_assert_eq!(Some(*w), g.window_at(w.end));
        }
    }

    #[test]
    fn split_halves_tile_the_window(g in grains(), at in datetimes()) {
        let window = g.window_at(at).expect("window");
        match window.split() {
            None => prop_assert_eq!(window.seconds(), 1),
            Some((a, b)) => {
                prop_assert_eq!(a.start, window.start);
                prop_assert_eq!(b.end, window.end);
                prop_assert_eq!(a.end + SignedDuration::from_secs(1), b.start);
                prop_assert_eq!(a.seconds() + b.seconds(), window.seconds());
                prop_assert!(b.seconds() - a.seconds() <= 1);
            }
        }
    }

    #[test]
    fn due_windows_are_closed_sorted_and_unique(
        g in grains().prop_filter("not seconds", |g| *g != grain("1s")),
        start in datetimes(),
        zone in 0_usize..ZONES.len(),
        lag_minutes in 0_i64..180,
        refetch in 0_u32..4,
        ahead_hours in 0_i64..24 * 70,
        done_mask in any::<u64>(),
    ) {
        let tz = tz(ZONES[zone]);
        let spec = spec(g, lag_minutes, refetch, start);
        let now = tz.to_ambiguous_timestamp(start).compatible().expect("instant")
            + SignedDuration::from_hours(ahead_hours);
        let completed = |w: &Window| {
            let bit = (w.start.day() as u32 + w.start.hour() as u32) % 64;
            done_mask & (1 << bit) != 0
        };
        let due = plan::due(&spec, now, &tz, &completed);
        for pair in due.windows(2) {
            prop_assert!(pair[0].end < pair[1].start);
        }
        let all: Vec<Window> = plan::windows_from(g, start)
            .take_while(|w| plan::is_closed(w, spec.lag, &tz, now))
            .collect();
        let done: Vec<&Window> = all.iter().filter(|w| completed(w)).collect();
        let recent_done = &done[done.len().saturating_sub(refetch as usize)..];
        let mut expected: Vec<Window> = all.iter().filter(|w| !completed(w)).copied().collect();
        expected.extend(recent_done.iter().copied().copied());
        expected.sort();
        prop_assert_eq!(due, expected);
    }
}
