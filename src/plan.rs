//! Report windows: how a history job's time is cut into the windows it
//! fetches, and which of them are due now.
//!
//! Windows live in the operation's wall-clock time, because that is what
//! `date_ini`/`date_end` mean to the API. They tile it exactly: each window
//! ends one second before the next one starts, and every window is aligned
//! to its grain (hours at `HH:00:00`, days at midnight, months on the 1st),
//! whatever the zone's DST rules do to real time.
//!
//! This module owns that arithmetic and the "what is due" decision. It leaves
//! remembering which windows are complete to the state store (passed in as
//! a predicate), fetching to the sync engine, and cron fire times to
//! [`crate::schedule`].

use std::{collections::VecDeque, fmt, str::FromStr};

use jiff::{
    SignedDuration, Timestamp, ToSpan,
    civil::{DateTime, Time},
    tz::TimeZone,
};

use crate::jobs::{Job, Windowing};

const DAY_SECONDS: u32 = 86_400;

/// The longest a month can be, for comparing a month grain with an
/// endpoint's `max_window`.
const MONTH_MAX_SECONDS: i64 = 31 * DAY_SECONDS as i64;

/// How long each window of a job is: a length that divides a day evenly (a
/// whole day included), or one calendar month.
///
/// Written in job files as `15m`, `1h`, `6h`, `1d` or `1mo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Grain(Unit);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Unit {
    /// Divides 86,400 evenly.
    Seconds(u32),
    Month,
}

impl Grain {
    /// One hour.
    pub const HOUR: Grain = Grain(Unit::Seconds(3_600));
    /// One day, midnight to midnight.
    pub const DAY: Grain = Grain(Unit::Seconds(DAY_SECONDS));
    /// One calendar month, from the 1st.
    pub const MONTH: Grain = Grain(Unit::Month);

    /// A grain of `seconds`, if that divides a day evenly.
    pub fn from_seconds(seconds: u32) -> Option<Grain> {
        let fits = seconds > 0 && DAY_SECONDS.is_multiple_of(seconds);
        fits.then_some(Grain(Unit::Seconds(seconds)))
    }

    /// The longest window of this grain, in seconds (31 days for a month).
    pub fn max_seconds(self) -> i64 {
        match self.0 {
            Unit::Seconds(n) => i64::from(n),
            Unit::Month => MONTH_MAX_SECONDS,
        }
    }

    /// The start of the window that holds `at`.
    pub fn floor(self, at: DateTime) -> DateTime {
        match self.0 {
            Unit::Month => at.date().first_of_month().to_datetime(Time::midnight()),
            Unit::Seconds(n) => {
                let of_day = i64::from(at.hour()) * 3_600
                    + i64::from(at.minute()) * 60
                    + i64::from(at.second());
                let floored = of_day - of_day % i64::from(n);
                let midnight = at.date().to_datetime(Time::midnight());
                midnight + SignedDuration::from_secs(floored)
            }
        }
    }

    /// The window of this grain that holds `at`, or `None` at the very end
    /// of the calendar (year 9999).
    pub fn window_at(self, at: DateTime) -> Option<Window> {
        let start = self.floor(at);
        let next = self.next_start(start)?;
        Some(Window { start, end: next - SignedDuration::from_secs(1) })
    }

    /// The start of the window after the one starting at `start`.
    fn next_start(self, start: DateTime) -> Option<DateTime> {
        match self.0 {
            Unit::Seconds(n) => start.checked_add(SignedDuration::from_secs(i64::from(n))).ok(),
            Unit::Month => start.checked_add(1.month()).ok(),
        }
    }
}

impl FromStr for Grain {
    type Err = String;

    /// Parses `15m`, `1h`, `1d`, `1mo` and the like.
    fn from_str(text: &str) -> Result<Grain, String> {
        let text = text.trim();
        if let Some(count) = text.strip_suffix("mo") {
            return match count.trim() {
                "1" => Ok(Grain::MONTH),
                _ => Err(format!("grain `{text}` is not supported: the only month grain is `1mo`")),
            };
        }
        let seconds = crate::catalog::parse_span(text)?;
        if seconds > i64::from(DAY_SECONDS) {
            return Err(format!("grain `{text}` is longer than a day: use `1d` or `1mo`"));
        }
        let whole = u32::try_from(seconds).ok().and_then(Grain::from_seconds);
        whole.ok_or_else(|| format!("grain `{text}` does not divide a day evenly"))
    }
}

impl fmt::Display for Grain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unit::Month => f.write_str("1mo"),
            Unit::Seconds(DAY_SECONDS) => f.write_str("1d"),
            Unit::Seconds(n) if n % 3_600 == 0 => write!(f, "{}h", n / 3_600),
            Unit::Seconds(n) if n % 60 == 0 => write!(f, "{}m", n / 60),
            Unit::Seconds(n) => write!(f, "{n}s"),
        }
    }
}

/// A span of the operation's wall-clock time, both ends inclusive, as the
/// API's `date_ini`/`date_end` are.
///
/// Windows made by this module always have `start <= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    /// The first second of the window.
    pub start: DateTime,
    /// The last second of the window (inclusive).
    pub end: DateTime,
}

impl Window {
    /// The API parameters for this window: `date_ini` and `date_end` as
    /// `YYYYmmddHHiiss`.
    pub fn api_params(&self) -> [(&'static str, String); 2] {
        [("date_ini", api_stamp(self.start)), ("date_end", api_stamp(self.end))]
    }

    /// How many seconds the window holds (1 for a one-second window).
    pub fn seconds(&self) -> i64 {
        self.end.duration_since(self.start).as_secs() + 1
    }

    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: DateTime) -> bool {
        self.start <= at && at <= self.end
    }

    /// Two halves that tile this window exactly, the first one no longer
    /// than the second; `None` for a one-second window. Used when a call may
    /// have hit the 60,000-row cap, down to single seconds.
    pub fn split(&self) -> Option<(Window, Window)> {
        let seconds = self.seconds();
        if seconds < 2 {
            return None;
        }
        let second_start = self.start + SignedDuration::from_secs(seconds / 2);
        let first = Window { start: self.start, end: second_start - SignedDuration::from_secs(1) };
        let second = Window { start: second_start, end: self.end };
        Some((first, second))
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.start, self.end)
    }
}

fn api_stamp(at: DateTime) -> String {
    at.strftime("%Y%m%d%H%M%S").to_string()
}

/// The windows of `grain` from the one holding `from` on, in order, without
/// end (until the calendar runs out in year 9999).
pub fn windows_from(grain: Grain, from: DateTime) -> Windows {
    Windows { grain, next: Some(grain.floor(from)) }
}

/// The windows of `grain` from the one holding `from` to the one holding
/// `to`, both included; empty when `to` is before `from`'s window.
pub fn windows_between(grain: Grain, from: DateTime, to: DateTime) -> Vec<Window> {
    windows_from(grain, from).take_while(|w| w.start <= to).collect()
}

/// An iterator over consecutive windows of one grain; see [`windows_from`].
#[derive(Clone, Debug)]
pub struct Windows {
    grain: Grain,
    next: Option<DateTime>,
}

impl Iterator for Windows {
    type Item = Window;

    fn next(&mut self) -> Option<Window> {
        let start = self.next?;
        let after = self.grain.next_start(start);
        self.next = after;
        Some(Window { start, end: after? - SignedDuration::from_secs(1) })
    }
}

/// How a history job cuts time into windows and when it fetches them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    /// The length of each window.
    pub grain: Grain,
    /// How long after a window ends it counts as closed (late data).
    /// Never negative.
    pub lag: SignedDuration,
    /// How many of the most recent complete windows to fetch again.
    pub refetch: u32,
    /// Where backfill begins: the first window is the one holding it.
    pub start: DateTime,
}

/// The windows of `job` to fetch at `now`, oldest first, without
/// duplicates: every closed window since the job's start that is not
/// complete yet, plus its `refetch` most recent complete closed windows.
///
/// Snapshot jobs (real-time, catalogue, billing) have no windows, so this is
/// empty for them.
pub fn due_windows(
    job: &Job,
    now: Timestamp,
    tz: &TimeZone,
    completed: &dyn Fn(&Window) -> bool,
) -> Vec<Window> {
    match &job.windowing {
        Windowing::Snapshot => Vec::new(),
        Windowing::Windowed(spec) => due(spec, now, tz, completed),
    }
}

/// [`due_windows`] for a bare [`WindowSpec`].
pub fn due(
    spec: &WindowSpec,
    now: Timestamp,
    tz: &TimeZone,
    completed: &dyn Fn(&Window) -> bool,
) -> Vec<Window> {
    let mut pending = Vec::new();
    let mut again = VecDeque::new();
    let keep = spec.refetch as usize;

    for window in windows_from(spec.grain, spec.start) {
        if !is_closed(&window, spec.lag, tz, now) {
            break;
        }

        if !completed(&window) {
            pending.push(window);
        } else if keep > 0 {
            if again.len() == keep {
                again.pop_front();
            }
            again.push_back(window);
        }
    }

    pending.extend(again);
    pending.sort_unstable();
    pending
}

/// Whether `window` has closed at `now`: `lag` has passed since the real
/// instant its last second ended.
///
/// The last second is placed with the *later* offset. In a fall-back fold
/// that is its second pass, so the window of the repeated hour waits for
/// the data of both passes; in a spring-forward gap (a window of times
/// that never happen, which the API answers as empty) it closes together
/// with the window after it. Either way close times never go backwards
/// from one window to the next.
pub fn is_closed(window: &Window, lag: SignedDuration, tz: &TimeZone, now: Timestamp) -> bool {
    let Ok(last) = tz.to_ambiguous_timestamp(window.end).later() else {
        return false;
    };
    let close = last.checked_add(SignedDuration::from_secs(1)).and_then(|end| end.checked_add(lag));
    close.is_ok_and(|close| close <= now)
}
