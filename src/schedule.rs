//! Cron fire times of jobs, in the operation's time zone.
//!
//! A job's `schedule` is a 5-field (minute first) or 6-field (second first)
//! cron pattern, read in the operation's wall clock with croner 4's jiff
//! backend, which fires a fixed-time job once on DST change days (a time in
//! the spring-forward gap fires right after the gap; a time in the
//! fall-back fold fires on its first pass). See CRATES.md §3.4.
//!
//! Everything here is a pure function of the instants passed in: nothing
//! reads the wall clock. Keeping `last_fire`, the heartbeat and catch-up
//! policy are the scheduler's job.

use std::{fmt, str::FromStr};

use croner::{
    Cron,
    parser::{CronParser, Seconds, Year},
};
use jiff::{Timestamp, tz::TimeZone};

/// A parsed cron pattern together with the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    cron: Cron,
    text: String,
}

/// Why a cron pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not 5 or 6 space-separated fields.
    #[error(
        "cron `{text}` has {count} fields; expected 5 (minute hour day month weekday) \
         or 6 (second first)"
    )]
    FieldCount { text: String, count: usize },
    /// croner refused the pattern.
    #[error("cron `{text}` is invalid: {reason}")]
    Invalid { text: String, reason: String },
}

impl Schedule {
    /// Parses a 5- or 6-field cron pattern (or a croner `@nickname` such as
    /// `@hourly`).
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let trimmed = text.trim();
        let count = trimmed.split_whitespace().count();
        let nickname = trimmed.starts_with('@');
        if !nickname && !(5..=6).contains(&count) {
            return Err(ScheduleError::FieldCount { text: trimmed.to_string(), count });
        }

        let parser =
            CronParser::builder().seconds(Seconds::Optional).year(Year::Disallowed).build();
        match parser.parse(trimmed) {
            Ok(cron) => Ok(Schedule { cron, text: trimmed.to_string() }),
            Err(err) => {
                Err(ScheduleError::Invalid { text: trimmed.to_string(), reason: err.to_string() })
            }
        }
    }

    /// The pattern as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed pattern.
    pub fn cron(&self) -> &Cron {
        &self.cron
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Schedule, ScheduleError> {
        Schedule::parse(text)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The first fire time strictly after `after`, read in `tz`; `None` if the
/// pattern never fires again (croner's search limit).
pub fn next_fire(cron: &Schedule, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
    let start = after.to_zoned(tz.clone());
    cron.cron.find_next_occurrence(&start, false).ok().map(|next| next.timestamp())
}

/// The most recent fire time in `(last_fire, now]`, or `None` if the job
/// has not fired since `last_fire`. Several missed fire times collapse into
/// the latest one, so a scheduler that records it runs a late job once.
pub fn latest_fire(
    cron: &Schedule,
    tz: &TimeZone,
    last_fire: Timestamp,
    now: Timestamp,
) -> Option<Timestamp> {
    let next = next_fire(cron, tz, last_fire)?;
    if next > now {
        return None;
    }
    let now_zoned = now.to_zoned(tz.clone());
    let latest = cron.cron.find_previous_occurrence(&now_zoned, true).ok()?.timestamp();
    Some(latest.max(next))
}

/// Whether the job, last fired at `last_fire`, is due at `now`: a fire time
/// has passed since.
pub fn is_due(cron: &Schedule, tz: &TimeZone, last_fire: Timestamp, now: Timestamp) -> bool {
    next_fire(cron, tz, last_fire).is_some_and(|next| next <= now)
}
