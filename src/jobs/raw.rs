//! A job file as written, before any check beyond TOML types.
//!
//! Every key is optional here, so that one bad key does not hide the
//! problems of the others; [`super::check`] applies the defaults and the
//! requirements.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The keys of a job file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJob {
    /// The operation (config `[[operation]]` name); may be left out when
    /// the config has exactly one.
    pub operation: Option<Spanned<String>>,
    /// The catalog endpoint, `module/api`.
    pub endpoint: Option<Spanned<String>>,
    /// Endpoint parameters other than `date_ini`/`date_end`.
    pub params: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    /// A 5- or 6-field cron pattern in the operation's zone.
    pub schedule: Option<Spanned<String>>,
    /// Window length: `15m`, `1h`, `1d`, `1mo`… (history endpoints only).
    pub grain: Option<Spanned<String>>,
    /// How long after its end a window counts as closed (default `15m`).
    pub lag: Option<Spanned<String>>,
    /// Recent complete windows to fetch again (default 0).
    pub refetch: Option<Spanned<u32>>,
    /// Where backfill begins: a TOML date or datetime, or a string holding
    /// one, in the operation's wall clock.
    pub start: Option<Spanned<toml::Value>>,
    /// `["csv"]`, `["parquet"]` or both (the default).
    pub formats: Option<Spanned<Vec<Format>>>,
    /// Higher first (default 0).
    pub priority: Option<Spanned<i64>>,
    /// CSV settings.
    pub csv: Option<Spanned<RawCsv>>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// An output format name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Format {
    Csv,
    Parquet,
}

/// The `[csv]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCsv {
    /// Write a UTF-8 byte order mark first (default false).
    pub bom: Option<bool>,
    /// `","` (default) or `";"`.
    pub delimiter: Option<Spanned<String>>,
}
