//! Turning saved wolkvox response bodies into the same typed files.
//!
//! [`convert`] reads each input with [`envelope::decode_reader`] straight
//! into the writers, so a 256 MB body is never held in memory, and publishes
//! `OUT/<input stem>.{parquet,csv}` only when the body is an answer the
//! client would accept: a success with rows, or the empty-window 404 (an
//! empty file, as the daemon writes for an empty window). Any other body
//! (maintenance, a spent budget, a cut or invalid body) is reported as
//! [`envelope::classify`] would classify it, and leaves no file; so does a
//! body whose rows have keys the endpoint does not know and lack fields it
//! has, which means the wrong `--endpoint` was given. One bad input does
//! not stop the others. Finding the inputs and the endpoint is the
//! caller's job.

use std::{
    collections::HashSet,
    fs::File,
    io::{self, BufRead, BufReader},
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
};

use super::{Formats, Target, WindowFiles, WindowReport, WriteError, csv::CsvOptions};
use crate::api::{
    CountSink, RowSink,
    envelope::{self, DecodeError, Envelope, Outcome},
};
use crate::catalog::{EXTRA_COLUMN, Endpoint};

/// What one input became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The saved body.
    pub input: PathBuf,
    /// How the client would classify the body: `rows` or `empty`.
    pub outcome: &'static str,
    /// The files written for it.
    pub report: WindowReport,
}

/// What [`convert`] did, input by input.
#[derive(Debug, Default)]
pub struct ConvertReport {
    /// The inputs converted, in input order.
    pub converted: Vec<Converted>,
    /// The inputs that could not be, in input order; each left no file.
    pub failed: Vec<ConvertError>,
}

impl ConvertReport {
    /// Rows over every input.
    pub fn rows(&self) -> u64 {
        self.converted.iter().map(|c| c.report.rows).sum()
    }

    /// Rejected values over every input.
    pub fn rejects(&self) -> u64 {
        self.converted.iter().map(|c| c.report.rejects).sum()
    }
}

/// Why an input could not be converted. Each names the input file.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The input has no file name to name its output after.
    #[error("{}: no file name to name the output after", input.display())]
    NoStem { input: PathBuf },
    /// Two inputs would write the same output.
    #[error("{} and {}: both would be written as {stem}", first.display(), second.display())]
    SameStem { first: PathBuf, second: PathBuf, stem: String },
    /// The input could not be opened or read.
    #[error("{}: {source}", input.display())]
    Read {
        input: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file has no bytes at all.
    #[error("{}: the file is empty", input.display())]
    Empty { input: PathBuf },
    /// Stopped by a signal; the input left no file.
    #[error("{}: interrupted, nothing written for it", input.display())]
    Interrupted { input: PathBuf },
    /// The body is not an answer that yields rows.
    #[error("{}: not a successful answer: {}", input.display(), describe(outcome))]
    NotSuccess { input: PathBuf, outcome: Outcome },
    /// The rows have keys the endpoint does not know and lack fields it
    /// has: the body is another endpoint's.
    #[error(
        "{}: its {rows} row(s) are not {endpoint}'s: they have keys it does not ({}) and lack \
         fields it has ({}); is --endpoint right?",
        input.display(),
        keys.join(", "),
        missing.join(", ")
    )]
    OtherEndpoint {
        input: PathBuf,
        endpoint: String,
        rows: u64,
        keys: Vec<String>,
        missing: Vec<String>,
    },
    /// Writing or publishing the output failed.
    #[error("{}: {source}", input.display())]
    Write {
        input: PathBuf,
        #[source]
        source: WriteError,
    },
}

/// Converts each input, in order, into `out_dir/<stem>.<ext>` for each
/// format. An input that fails leaves no file and is reported in
/// [`ConvertReport::failed`]; the others are converted all the same. Fails
/// as a whole, before writing anything, only when inputs cannot be given
/// distinct output names.
pub fn convert(
    endpoint: &Endpoint,
    inputs: &[PathBuf],
    out_dir: &Path,
    formats: Formats,
    csv: CsvOptions,
) -> Result<ConvertReport, ConvertError> {
    convert_until(endpoint, inputs, out_dir, formats, csv, &AtomicBool::new(false))
}

/// [`convert`], stopping when `stop` is set (by a signal): the input being
/// read leaves no file and is reported as interrupted, and the inputs
/// after it are not started.
pub fn convert_until(
    endpoint: &Endpoint,
    inputs: &[PathBuf],
    out_dir: &Path,
    formats: Formats,
    csv: CsvOptions,
    stop: &AtomicBool,
) -> Result<ConvertReport, ConvertError> {
    let stems = stems(inputs)?;
    let mut report = ConvertReport::default();
    for (input, stem) in inputs.iter().zip(stems) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let target = Target { dir: out_dir.to_path_buf(), stem, window: None };
        match convert_one(endpoint, input, &target, Options { formats, csv, stop }) {
            Ok(converted) => report.converted.push(converted),
            Err(err) => report.failed.push(err),
        }
    }
    Ok(report)
}

/// How each input is converted.
#[derive(Clone, Copy)]
struct Options<'a> {
    formats: Formats,
    csv: CsvOptions,
    stop: &'a AtomicBool,
}

/// The input, past a UTF-8 byte order mark that a Windows tool may have
/// put before the JSON; `None` when the file is empty.
fn open_body(input: &Path) -> io::Result<Option<BufReader<File>>> {
    let mut reader = BufReader::new(File::open(input)?);
    let head = reader.fill_buf()?;
    if head.is_empty() {
        return Ok(None);
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(Some(reader))
}

fn convert_one(
    ep: &Endpoint,
    input: &Path,
    target: &Target,
    opts: Options<'_>,
) -> Result<Converted, ConvertError> {
    let Options { formats, csv, stop } = opts;
    let read_err = |source| ConvertError::Read { input: input.to_path_buf(), source };
    let write_err = |source| ConvertError::Write { input: input.to_path_buf(), source };
    let Some(body) = open_body(input).map_err(read_err)? else {
        return Err(ConvertError::Empty { input: input.to_path_buf() });
    };
    let mut files = WindowFiles::start(target, ep, formats, csv).map_err(write_err)?;
    let mut keys = KeyCheck::new(ep, &mut files, stop);
    let decoded = envelope::decode_reader(ep, body, &mut keys);
    if stop.load(Ordering::Relaxed) {
        return Err(ConvertError::Interrupted { input: input.to_path_buf() });
    }
    let (rows, foreign, missing) = (keys.rows, keys.foreign(), keys.missing());
    let unknown: Vec<String> = std::mem::take(&mut keys.unknown).into_iter().collect();
    let outcome = match decoded {
        Ok(env) => outcome_of(ep, env),
        Err(DecodeError::Json(err)) if err.is_io() => return Err(read_err(err.into())),
        Err(DecodeError::Json(err)) => Outcome::Transient(format!("cut or invalid JSON: {err}")),
        Err(DecodeError::Sink(source)) => {
            return Err(write_err(WriteError::Io { path: target.dir.clone(), source }));
        }
    };
    let label = outcome.label();
    match outcome {
        Outcome::Rows(_) if rows > 0 && foreign => {
            return Err(ConvertError::OtherEndpoint {
                input: input.to_path_buf(),
                endpoint: ep.id(),
                rows,
                keys: unknown,
                missing,
            });
        }
        Outcome::Rows(_) => {}
        Outcome::Empty => {
            files = WindowFiles::start(target, ep, formats, csv).map_err(write_err)?
        }
        outcome => return Err(ConvertError::NotSuccess { input: input.to_path_buf(), outcome }),
    }
    let report = files.commit().map_err(write_err)?;
    Ok(Converted { input: input.to_path_buf(), outcome: label, report })
}

/// Passes rows on, noting which of the endpoint's fields have a value and
/// which keys it does not know (they land in [`EXTRA_COLUMN`]); fails the
/// row once `stop` is set.
struct KeyCheck<'a, S> {
    inner: &'a mut S,
    stop: &'a AtomicBool,
    extra: usize,
    rows: u64,
    /// Columns with a value in some row, and their names.
    known: Vec<bool>,
    names: Vec<String>,
    /// Keys the endpoint does not have, in the first rows that have any.
    unknown: std::collections::BTreeSet<String>,
    rows_with_unknown: u64,
}

/// Rows whose unknown keys are collected: enough to see a body's keys.
const KEY_SAMPLE_ROWS: u64 = 100;

impl<'a, S: RowSink> KeyCheck<'a, S> {
    fn new(ep: &Endpoint, inner: &'a mut S, stop: &'a AtomicBool) -> Self {
        let columns = ep.columns();
        let extra = columns.iter().position(|c| c.name == EXTRA_COLUMN).unwrap_or(columns.len());
        let known = vec![false; columns.len()];
        let names = columns.into_iter().map(|c| c.name).collect();
        let unknown = Default::default();
        KeyCheck { inner, stop, extra, rows: 0, known, names, unknown, rows_with_unknown: 0 }
    }

    /// Whether the body is another endpoint's: its rows have keys the
    /// endpoint does not know *and* lack fields it has, two or more of
    /// each. Endpoints share many keys (`agent_8` has most of
    /// `real_time/agents`), so overlap alone tells nothing; a real answer
    /// with a new field, a dropped field or one renamed still converts.
    fn foreign(&self) -> bool {
        self.unknown.len() >= 2 && self.missing().len() >= 2
    }

    /// The endpoint's fields no row had.
    fn missing(&self) -> Vec<String> {
        let absent = self.known.iter().zip(&self.names).filter(|(seen, _)| !**seen);
        absent.map(|(_, name)| name.clone()).filter(|n| n != EXTRA_COLUMN).collect()
    }
}

impl<S: RowSink> RowSink for KeyCheck<'_, S> {
    fn row(&mut self, values: &[Option<&str>]) -> io::Result<()> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        self.rows += 1;
        for (seen, value) in self.known.iter_mut().zip(values) {
            *seen |= value.is_some();
        }
        let extra = values.get(self.extra).copied().flatten();
        if let Some(extra) = extra
            && self.rows_with_unknown < KEY_SAMPLE_ROWS
        {
            self.rows_with_unknown += 1;
            let keys: Option<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(extra).ok();
            self.unknown.extend(keys.into_iter().flat_map(|k| k.into_iter().map(|(k, _)| k)));
        }
        self.inner.row(values)
    }
}

/// Classifies a decoded body as the client does for a status 200.
///
/// [`envelope::classify`] wants the whole body in memory, but for a body
/// that decoded, its verdict rests only on `code`, `error`, `msg` and
/// whether rows were present. So a success with rows is decided here, and
/// anything else is handed to `classify` as a small body rebuilt from the
/// envelope, which keeps a large body out of memory and the verdicts the
/// client's.
fn outcome_of(ep: &Endpoint, env: Envelope) -> Outcome {
    if env.is_success() && env.has_data {
        return Outcome::Rows(env);
    }
    let head = serde_json::json!({ "code": env.code, "error": env.error, "msg": env.msg });
    envelope::classify(ep, 200, head.to_string().as_bytes(), &mut CountSink::default())
}

/// The output stem of each input, refusing two inputs with one stem.
fn stems(inputs: &[PathBuf]) -> Result<Vec<String>, ConvertError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut stems = Vec::with_capacity(inputs.len());
    for input in inputs {
        let Some(stem) = input.file_stem() else {
            return Err(ConvertError::NoStem { input: input.clone() });
        };
        let stem = stem.to_string_lossy().into_owned();
        if !seen.insert(stem.clone()) {
            let first = inputs[stems.iter().position(|s| s == &stem).unwrap_or(0)].clone();
            return Err(ConvertError::SameStem { first, second: input.clone(), stem });
        }
        stems.push(stem);
    }
    Ok(stems)
}

/// An outcome in words, for error messages.
fn describe(outcome: &Outcome) -> String {
    let label = outcome.label();
    match outcome {
        Outcome::NotEnabled(detail) | Outcome::BadToken(detail) | Outcome::BadRequest(detail) => {
            format!("{label} ({detail})")
        }
        // What the client would retry; in a saved body, a cut or broken one.
        Outcome::Transient(detail) => detail.clone(),
        _ => label.to_string(),
    }
}
