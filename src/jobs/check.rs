//! Turns a [`RawJob`] into a [`Job`], collecting every problem.
//!
//! Keys whose TOML type was wrong were already reported and dropped by
//! [`decode`]; the checks here skip "missing" messages for those.

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
    path::Path,
};

use jiff::{SignedDuration, Timestamp, civil::DateTime};
use toml::Spanned;

use super::{
    CsvOptions, Formats, Job, Windowing,
    raw::{Format, RawCsv, RawJob},
};
use crate::{
    catalog::{Endpoint, catalog},
    config::{Config, Problem, SourceFile, decode, is_plain_name, parse_signed_duration},
    plan::{Grain, WindowSpec},
    schedule::Schedule,
};

/// The lag of a job that does not set one.
const DEFAULT_LAG: SignedDuration = SignedDuration::from_mins(15);

/// The parameters a job never sets: they come from each window.
const WINDOW_PARAMS: [&str; 2] = ["date_ini", "date_end"];

/// Checks job file text against `config`.
pub(super) fn job(text: &str, path: &Path, config: &Config) -> Result<Job, Vec<Problem>> {
    let source = SourceFile { path, text };
    let decoded = decode::<RawJob>(&source);
    let mut check =
        Check { source: &source, dropped: &decoded.dropped, problems: decoded.problems };

    let name = check.name();
    let job = decoded.value.and_then(|raw| check.job(raw, name, config));
    let mut problems = check.problems;
    match job {
        Some(job) if problems.is_empty() => Ok(job),
        _ => {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

struct Check<'a> {
    source: &'a SourceFile<'a>,
    dropped: &'a BTreeSet<String>,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn job(&mut self, raw: RawJob, name: Option<String>, config: &Config) -> Option<Job> {
        let operation = self.operation(raw.operation.as_ref(), config);
        let endpoint = self.endpoint(raw.endpoint.as_ref());
        let params = endpoint.map(|ep| self.params(ep, raw.params.as_ref()));
        let schedule = self.schedule(raw.schedule.as_ref());
        let windowing = endpoint.and_then(|ep| self.windowing(ep, &raw));
        let formats = self.formats(raw.formats.as_ref());
        let csv = self.csv(raw.csv.as_ref());

        Some(Job {
            name: name?,
            path: self.source.path.to_path_buf(),
            operation: operation?,
            endpoint: endpoint?,
            params: params?,
            schedule: schedule?,
            windowing: windowing?,
            formats: formats?,
            priority: raw.priority.map_or(0, Spanned::into_inner),
            csv: csv?,
            enabled: raw.enabled.unwrap_or(true),
        })
    }

    fn name(&mut self) -> Option<String> {
        let stem = self.source.path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let stem = stem.unwrap_or_default();
        if is_plain_name(&stem) {
            return Some(stem);
        }
        let message =
            format!("job name `{stem}` (the file name) may use only letters, digits, `_` and `-`");
        self.report(None, message);
        None
    }

    fn operation(&mut self, raw: Option<&Spanned<String>>, config: &Config) -> Option<String> {
        let names: Vec<String> =
            config.operations.iter().map(|op| format!("`{}`", op.name)).collect();
        let Some(name) = raw else {
            if let [only] = config.operations.as_slice() {
                return Some(only.name.clone());
            }
            if !self.was_dropped("operation") {
                let message = format!(
                    "missing `operation`: the config defines {} operations ({}), so the job \
                     must name one",
                    names.len(),
                    names.join(", ")
                );
                self.report(None, message);
            }
            return None;
        };
        if config.operation(name.get_ref()).is_some() {
            return Some(name.get_ref().clone());
        }
        let message = format!(
            "unknown operation `{}`: the config defines {}",
            name.get_ref(),
            names.join(", ")
        );
        self.report(Some(name.span()), message);
        None
    }

    fn endpoint(&mut self, raw: Option<&Spanned<String>>) -> Option<&'static Endpoint> {
        let Some(id) = raw else {
            if !self.was_dropped("endpoint") {
                self.report(None, "missing `endpoint` (like \"reports_manager/cdr_1\")");
            }
            return None;
        };
        if let Some(endpoint) = catalog().by_id(id.get_ref()) {
            return Some(endpoint);
        }
        let message = match id.get_ref().split_once('/') {
            None => format!(
                "`endpoint` must be `module/api` (like \"reports_manager/cdr_1\"), not {:?}",
                id.get_ref()
            ),
            Some((module, api)) if catalog().has_module(module) => {
                format!("unknown endpoint `{module}/{api}`: {module} has no api `{api}`")
            }
            Some((module, api)) => {
                format!("unknown endpoint `{module}/{api}`: there is no module `{module}`")
            }
        };
        self.report(Some(id.span()), message);
        None
    }

    fn params(
        &mut self,
        endpoint: &Endpoint,
        raw: Option<&Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    ) -> BTreeMap<String, String> {
        let empty = BTreeMap::new();
        let given = raw.map_or(&empty, |params| params.get_ref());
        let mut params = BTreeMap::new();
        for (key, value) in given {
            if self.param(endpoint, key, value) {
                params.insert(key.get_ref().clone(), value.get_ref().clone());
            }
        }

        let at = raw.map(Spanned::span);
        for required in settable(&endpoint.required) {
            let dropped =
                self.was_dropped("params") || self.was_dropped(&format!("params.{required}"));
            if !given.contains_key(required.as_str()) && !dropped {
                let message = format!("{endpoint} needs param `{required}` in `params`");
                self.report(at.clone(), message);
            }
        }
        params
    }

    /// Checks one parameter; whether it is good.
    fn param(
        &mut self,
        endpoint: &Endpoint,
        key: &Spanned<String>,
        value: &Spanned<String>,
    ) -> bool {
        let name = key.get_ref();
        if endpoint.is_windowed() && WINDOW_PARAMS.contains(&name.as_str()) {
            let message = format!("`{name}` is set from each window; remove it from `params`");
            self.report(Some(key.span()), message);
            return false;
        }
        let takes: Vec<&String> =
            settable(&endpoint.required).chain(settable(&endpoint.optional)).collect();
        if !takes.contains(&name) {
            let message = match takes.as_slice() {
                [] => format!("unknown param `{name}`: {endpoint} takes no params"),
                takes => {
                    let list: Vec<String> = takes.iter().map(|t| format!("`{t}`")).collect();
                    format!("unknown param `{name}`: {endpoint} takes {}", list.join(", "))
                }
            };
            self.report(Some(key.span()), message);
            return false;
        }
        if value.get_ref().trim().is_empty() {
            self.report(Some(value.span()), format!("param `{name}` is empty"));
            return false;
        }
        true
    }

    fn schedule(&mut self, raw: Option<&Spanned<String>>) -> Option<Schedule> {
        let Some(text) = raw else {
            if !self.was_dropped("schedule") {
                self.report(None, "missing `schedule` (a cron pattern like \"5 * * * *\")");
            }
            return None;
        };
        match Schedule::parse(text.get_ref()) {
            Ok(schedule) => Some(schedule),
            Err(err) => {
                self.report(Some(text.span()), err.to_string());
                None
            }
        }
    }

    fn windowing(&mut self, endpoint: &Endpoint, raw: &RawJob) -> Option<Windowing> {
        if !endpoint.is_windowed() {
            self.snapshot_keys(endpoint, raw);
            return Some(Windowing::Snapshot);
        }
        let grain = self.grain(endpoint, raw.grain.as_ref());
        let lag = self.lag(raw.lag.as_ref());
        let start = self.start(endpoint, raw.start.as_ref());
        let refetch = raw.refetch.as_ref().map_or(0, |r| *r.get_ref());
        let spec = WindowSpec { grain: grain?, lag: lag?, refetch, start: start? };
        Some(Windowing::Windowed(spec))
    }

    /// Reports window keys set on an endpoint that takes snapshots.
    fn snapshot_keys(&mut self, endpoint: &Endpoint, raw: &RawJob) {
        let spans = [
            ("grain", raw.grain.as_ref().map(Spanned::span)),
            ("lag", raw.lag.as_ref().map(Spanned::span)),
            ("refetch", raw.refetch.as_ref().map(Spanned::span)),
            ("start", raw.start.as_ref().map(Spanned::span)),
        ];
        for (key, span) in spans {
            let Some(span) = span else { continue };
            let message = format!(
                "`{key}` applies only to history endpoints; {endpoint} takes one snapshot per run"
            );
            self.report(Some(span), message);
        }
    }

    fn grain(&mut self, endpoint: &Endpoint, raw: Option<&Spanned<String>>) -> Option<Grain> {
        let Some(text) = raw else {
            if !self.was_dropped("grain") {
                let message = format!(
                    "missing `grain`: history endpoint {endpoint} needs a window length such as \
                     \"1h\" or \"1d\""
                );
                self.report(None, message);
            }
            return None;
        };
        let grain = match text.get_ref().parse::<Grain>() {
            Ok(grain) => grain,
            Err(message) => {
                self.report(Some(text.span()), message);
                return None;
            }
        };
        let max = endpoint.max_window.unwrap_or(i64::MAX);
        if grain.max_seconds() > max {
            let message =
                format!("grain `{grain}` is longer than {endpoint} allows ({})", span_text(max));
            self.report(Some(text.span()), message);
            return None;
        }
        Some(grain)
    }

    fn lag(&mut self, raw: Option<&Spanned<String>>) -> Option<SignedDuration> {
        let Some(text) = raw else {
            return Some(DEFAULT_LAG);
        };
        match parse_signed_duration(text.get_ref()) {
            Ok(lag) => Some(lag),
            Err(reason) => {
                self.report(Some(text.span()), format!("`lag`: {reason}"));
                None
            }
        }
    }

    fn start(
        &mut self,
        endpoint: &Endpoint,
        raw: Option<&Spanned<toml::Value>>,
    ) -> Option<DateTime> {
        let Some(value) = raw else {
            if !self.was_dropped("start") {
                let message = format!(
                    "missing `start`: history endpoint {endpoint} needs the date backfill \
                     begins at (like 2025-01-01)"
                );
                self.report(None, message);
            }
            return None;
        };
        match parse_start(value.get_ref()) {
            Ok(start) => Some(start),
            Err(message) => {
                self.report(Some(value.span()), message);
                None
            }
        }
    }

    fn formats(&mut self, raw: Option<&Spanned<Vec<Format>>>) -> Option<Formats> {
        let Some(list) = raw else {
            return Some(Formats::BOTH);
        };
        let csv = list.get_ref().contains(&Format::Csv);
        let parquet = list.get_ref().contains(&Format::Parquet);
        match (csv, parquet) {
            (true, true) => Some(Formats::BOTH),
            (true, false) => Some(Formats::CSV),
            (false, true) => Some(Formats::PARQUET),
            (false, false) => {
                self.report(Some(list.span()), "`formats` must list \"csv\", \"parquet\" or both");
                None
            }
        }
    }

    fn csv(&mut self, raw: Option<&Spanned<RawCsv>>) -> Option<CsvOptions> {
        let Some(raw) = raw else {
            return Some(CsvOptions::default());
        };
        let raw = raw.get_ref();
        let mut options = CsvOptions { bom: raw.bom.unwrap_or(false), ..CsvOptions::default() };
        if let Some(delimiter) = &raw.delimiter {
            match delimiter.get_ref().as_str() {
                "," => options.delimiter = b',',
                ";" => options.delimiter = b';',
                other => {
                    let message = format!("`delimiter` must be \",\" or \";\", not {other:?}");
                    self.report(Some(delimiter.span()), message);
                    return None;
                }
            }
        }
        Some(options)
    }

    fn was_dropped(&self, path: &str) -> bool {
        self.dropped.contains(path)
    }

    fn report(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        self.problems.push(self.source.problem(span, message));
    }
}

/// The parameters of `list` a job may set (all but the window's dates).
fn settable(list: &[String]) -> impl Iterator<Item = &String> {
    list.iter().filter(|p| !WINDOW_PARAMS.contains(&p.as_str()))
}

/// Reads `start`: a TOML local date or datetime, or a string holding one.
/// An offset is refused: windows are the operation's wall-clock time.
fn parse_start(value: &toml::Value) -> Result<DateTime, String> {
    let text = match value {
        toml::Value::String(text) => text.trim().to_string(),
        toml::Value::Datetime(dt) => dt.to_string(),
        other => {
            return Err(format!(
                "`start` must be a date or datetime like 2025-01-01, not a {}",
                other.type_str()
            ));
        }
    };
    if text.parse::<Timestamp>().is_ok() {
        return Err(format!(
            "`start` {text:?} has an offset: write the operation's wall-clock time without one"
        ));
    }
    text.parse::<DateTime>()
        .map_err(|_| format!("`start` {text:?} is not a date or datetime like 2025-01-01"))
}

/// A span of seconds the way job files write it (`31d`, `24h`…).
fn span_text(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
