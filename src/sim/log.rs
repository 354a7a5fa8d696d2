//! The simulator's request log and breach report.
//!
//! Every request is written down (in memory, and as JSON lines to a file if
//! one is configured) with its time, endpoint, parameters, status, how many
//! requests its token had in flight on arrival and the operation's budget
//! used after it. Tokens appear only as [`token_hash`]. Requests that broke
//! one of the API's rules are also kept as [`Breach`]es, which tests assert
//! on. Deciding what is a breach is `server`'s job.

use std::{
    fs::{File, OpenOptions},
    io::{self, Write as _},
    path::Path,
    time::Duration,
};

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The first 8 hex digits of the token's sha256: enough to tell tokens
/// apart in a log, useless for calling the API.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// One request as the simulator saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestRecord {
    /// Arrival on the simulator clock.
    pub at: Timestamp,
    /// Arrival order, from 0.
    pub seq: u64,
    /// The operation of the token, when the token was known.
    pub operation: Option<String>,
    /// [`token_hash`] of the token sent, if any.
    pub token: Option<String>,
    /// `module/api` as asked (whether or not it exists).
    pub endpoint: String,
    /// Query parameters, `api` included, in the order sent.
    pub params: Vec<(String, String)>,
    /// HTTP status sent; 0 when the connection was dropped unanswered.
    pub status: u16,
    /// Requests of this token in flight on arrival, this one included.
    pub in_flight: u32,
    /// The operation's calls counted today, this one included.
    pub budget_used: u64,
    /// Rows in the body, for answers with rows.
    pub rows: Option<u64>,
    /// The injected fault, if any.
    pub fault: Option<&'static str>,
}

/// Which rule a request broke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreachKind {
    /// More than 2 requests of one token in flight.
    InFlight {
        /// Requests in flight on arrival, this one included.
        in_flight: u32,
    },
    /// The day's budget was already spent.
    Budget {
        /// Calls already counted today when it arrived.
        used: u64,
        /// The day's budget.
        limit: u64,
    },
    /// During maintenance, sooner than the probe interval after the
    /// previous request of the operation.
    Maintenance {
        /// Simulator time since the operation's previous request.
        since_previous: Duration,
    },
}

/// A request that broke one of the API's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// Arrival on the simulator clock.
    pub at: Timestamp,
    /// The request's arrival number, as in [`RequestRecord::seq`].
    pub seq: u64,
    /// The token's operation.
    pub operation: String,
    /// [`token_hash`] of the token.
    pub token: String,
    /// `module/api` as asked.
    pub endpoint: String,
    /// The rule broken.
    pub kind: BreachKind,
}

/// The in-memory log and its optional JSON-lines file.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    pub records: Vec<RequestRecord>,
    pub breaches: Vec<Breach>,
    file: Option<File>,
}

impl RequestLog {
    /// A log that also appends to `path`.
    pub(crate) fn open(path: Option<&Path>) -> io::Result<RequestLog> {
        let file = match path {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        Ok(RequestLog { file, ..RequestLog::default() })
    }

    pub(crate) fn push(&mut self, record: RequestRecord) {
        if let Some(file) = &mut self.file {
            let line = serde_json::to_string(&record).map(|mut s| {
                s.push('\n');
                s
            });
            let written = line.map_err(io::Error::from).and_then(|l| file.write_all(l.as_bytes()));
            if let Err(err) = written {
                tracing::warn!(error = %err, "writing the simulator request log failed");
            }
        }
        self.records.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_short_and_stable() {
        let h = token_hash("abc");
        assert_eq!(h, "ba7816bf");
    }

    #[test]
    fn records_go_to_the_file_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut log = RequestLog::open(Some(&path)).unwrap();
        let record = RequestRecord {
            at: Timestamp::UNIX_EPOCH,
            seq: 0,
            operation: Some("demo".into()),
            token: Some(token_hash("t")),
            endpoint: "reports_manager/cdr_1".into(),
            params: vec![("api".into(), "cdr_1".into())],
            status: 200,
            in_flight: 1,
            budget_used: 1,
            rows: Some(3),
            fault: None,
        };
        log.push(record.clone());
        log.push(record);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["endpoint"], "reports_manager/cdr_1");
        assert_eq!(first["token"], token_hash("t"));
        assert_eq!(first["params"][0][1], "cdr_1");
    }
}
