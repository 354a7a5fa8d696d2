//! Durable state shared by every process that uses one state folder.
//!
//! One SQLite database (WAL, full sync) holds the windows each job has
//! published, the ledger of calls per operation and API day, maintenance
//! pauses, the outcome of each run and the last fire time of each job.
//! Several processes (the daemon and a manual `once`) open it at the same
//! time; every change is one short transaction. This module stores and
//! reads; deciding what to fetch, when to pause and how much to spend is
//! the planner's and the pacer's job.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use jiff::{Timestamp, civil};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
    job TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    rows INTEGER NOT NULL,
    rejects INTEGER NOT NULL,
    files TEXT NOT NULL,
    checksum TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (job, start, end)
);
CREATE TABLE IF NOT EXISTS ledger (
    operation TEXT NOT NULL,
    day TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (operation, day)
);
CREATE TABLE IF NOT EXISTS pauses (
    operation TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    next_probe TEXT NOT NULL,
    backoff_ms INTEGER NOT NULL,
    probes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    windows INTEGER NOT NULL DEFAULT 0,
    rows INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    paused_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE IF NOT EXISTS fires (job TEXT PRIMARY KEY, last_fire TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (job TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
";

/// A state error, naming the database.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state database {path} has schema version {found}, this build reads {SCHEMA_VERSION}")]
    Version { path: PathBuf, found: i64 },
    #[error("state folder {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A published window as the state remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowRecord {
    pub start: civil::DateTime,
    pub end: civil::DateTime,
    pub rows: u64,
    pub rejects: u64,
    /// The published files, relative to the output folder.
    pub files: Vec<String>,
    /// sha256 of the files, joined.
    pub checksum: String,
    pub fetched_at: Timestamp,
}

/// A maintenance pause of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    pub since: Timestamp,
    /// When the next probe may be sent.
    pub next_probe: Timestamp,
    /// The wait before the probe after next.
    pub backoff: Duration,
    /// Probes sent that found maintenance still on.
    pub probes: u64,
}

/// The end of a run, for `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub windows: u64,
    pub rows: u64,
    pub calls: u64,
    pub paused: Duration,
    pub error: Option<String>,
}

/// The last run of a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub summary: RunSummary,
}

/// A handle on the state database; clones share one connection.
#[derive(Clone, Debug)]
pub struct State {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl State {
    /// Opens (creating) `state.db` in `dir`.
    pub fn open(dir: &Path) -> Result<State, StateError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StateError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join("state.db");
        let err = |source| StateError::Sqlite { path: path.clone(), source };
        let conn = Connection::open(&path).map_err(err)?;
        State::prepare(path.clone(), conn)
    }

    /// Opens `state.db` in `dir` to read it; when there is none yet, an
    /// empty state in memory, so that looking (`status`, `plan`) creates
    /// no file, which a later daemon under another user could not write.
    pub fn open_existing(dir: &Path) -> Result<State, StateError> {
        let path = dir.join("state.db");
        if path.exists() {
            return State::open(dir);
        }
        let conn = Connection::open_in_memory()
            .map_err(|source| StateError::Sqlite { path: path.clone(), source })?;
        State::prepare(path, conn)
    }

    fn prepare(path: PathBuf, conn: Connection) -> Result<State, StateError> {
        let err = |source| StateError::Sqlite { path: path.clone(), source };
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let state = State { path: path.clone(), conn: Arc::new(Mutex::new(conn)) };
        state.check_version()?;
        Ok(state)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_version(&self) -> Result<(), StateError> {
        let conn = self.lock();
        let found: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        match found.and_then(|v| v.parse::<i64>().ok()) {
            None => {
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION.to_string()],
                )
                .map_err(|e| self.err(e))?;
                Ok(())
            }
            Some(SCHEMA_VERSION) => Ok(()),
            Some(found) => Err(StateError::Version { path: self.path.clone(), found }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the connection leaves SQLite consistent
        // (the transaction rolls back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> StateError {
        StateError::Sqlite { path: self.path.clone(), source }
    }

    /// Records a published window, replacing an earlier record of it.
    pub fn mark_complete(&self, job: &str, rec: &WindowRecord) -> Result<(), StateError> {
        let files = serde_json::to_string(&rec.files).unwrap_or_default();
        self.lock()
            .execute(
                "INSERT OR REPLACE INTO windows
                 (job, start, end, rows, rejects, files, checksum, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    job,
                    rec.start.to_string(),
                    rec.end.to_string(),
                    rec.rows as i64,
                    rec.rejects as i64,
                    files,
                    rec.checksum,
                    rec.fetched_at.to_string()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forgets the record of a window (it was split into smaller ones).
    pub fn forget_window(
        &self,
        job: &str,
        start: civil::DateTime,
        end: civil::DateTime,
    ) -> Result<(), StateError> {
        self.lock()
            .execute(
                "DELETE FROM windows WHERE job = ?1 AND start = ?2 AND end = ?3",
                params![job, start.to_string(), end.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every published window of a job, oldest first.
    pub fn windows(&self, job: &str) -> Result<Vec<WindowRecord>, StateError> {
        self.windows_between(job, civil::DateTime::MIN, civil::DateTime::MAX)
    }

    /// The published windows of a job that share a second with
    /// `[start, end]`, oldest first. (Times are stored as ISO text, which
    /// sorts as time does.)
    pub fn windows_between(
        &self,
        job: &str,
        start: civil::DateTime,
        end: civil::DateTime,
    ) -> Result<Vec<WindowRecord>, StateError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT start, end, rows, rejects, files, checksum, fetched_at
                 FROM windows WHERE job = ?1 AND start <= ?3 AND end >= ?2
                 ORDER BY start, end",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![job, start.to_string(), end.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (start, end, n, rejects, files, checksum, fetched) =
                row.map_err(|e| self.err(e))?;
            let (Ok(start), Ok(end), Ok(fetched_at)) =
                (start.parse(), end.parse(), fetched.parse())
            else {
                continue;
            };
            out.push(WindowRecord {
                start,
                end,
                rows: n as u64,
                rejects: rejects as u64,
                files: serde_json::from_str(&files).unwrap_or_default(),
                checksum,
                fetched_at,
            });
        }
        Ok(out)
    }

    /// Records one call in the ledger before it is sent, unless the day's
    /// `limit` is reached. Returns the calls recorded for the day,
    /// including this one, or `None` when the limit is reached.
    pub fn reserve_call(
        &self,
        operation: &str,
        day: &str,
        limit: u64,
    ) -> Result<Option<u64>, StateError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let used: i64 = tx
            .query_row(
                "SELECT calls FROM ledger WHERE operation = ?1 AND day = ?2",
                params![operation, day],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or(0);
        if used as u64 >= limit {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO ledger (operation, day, calls) VALUES (?1, ?2, 1)
             ON CONFLICT (operation, day) DO UPDATE SET calls = calls + 1",
            params![operation, day],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Some(used as u64 + 1))
    }

    /// Raises the day's count to `at_least` (the server said the budget is
    /// spent; it is believed over the ledger).
    pub fn raise_calls(&self, operation: &str, day: &str, at_least: u64) -> Result<(), StateError> {
        self.lock()
            .execute(
                "INSERT INTO ledger (operation, day, calls) VALUES (?1, ?2, ?3)
                 ON CONFLICT (operation, day) DO UPDATE SET calls = max(calls, ?3)",
                params![operation, day, at_least as i64],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Calls recorded for an operation's API day.
    pub fn calls(&self, operation: &str, day: &str) -> Result<u64, StateError> {
        let used: Option<i64> = self
            .lock()
            .query_row(
                "SELECT calls FROM ledger WHERE operation = ?1 AND day = ?2",
                params![operation, day],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(used.unwrap_or(0) as u64)
    }

    /// The operation's maintenance pause, if any.
    pub fn pause(&self, operation: &str) -> Result<Option<Pause>, StateError> {
        let row: Option<(String, String, i64, i64)> = self
            .lock()
            .query_row(
                "SELECT since, next_probe, backoff_ms, probes FROM pauses WHERE operation = ?1",
                params![operation],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((since, next, backoff, probes)) = row else { return Ok(None) };
        let (Ok(since), Ok(next_probe)) = (since.parse(), next.parse()) else { return Ok(None) };
        Ok(Some(Pause {
            since,
            next_probe,
            backoff: Duration::from_millis(backoff as u64),
            probes: probes as u64,
        }))
    }

    /// Stores a pause (replacing the earlier one).
    pub fn set_pause(&self, operation: &str, pause: &Pause) -> Result<(), StateError> {
        self.lock()
            .execute(
                "INSERT OR REPLACE INTO pauses (operation, since, next_probe, backoff_ms, probes)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    operation,
                    pause.since.to_string(),
                    pause.next_probe.to_string(),
                    pause.backoff.as_millis() as i64,
                    pause.probes as i64
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Ends a pause.
    pub fn clear_pause(&self, operation: &str) -> Result<(), StateError> {
        self.lock()
            .execute("DELETE FROM pauses WHERE operation = ?1", params![operation])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the start of a run; returns its id.
    pub fn run_started(&self, job: &str, at: Timestamp) -> Result<i64, StateError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO runs (job, started_at) VALUES (?1, ?2)",
            params![job, at.to_string()],
        )
        .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
    }

    /// Records the end of a run.
    pub fn run_ended(&self, id: i64, at: Timestamp, s: &RunSummary) -> Result<(), StateError> {
        self.lock()
            .execute(
                "UPDATE runs SET ended_at = ?2, windows = ?3, rows = ?4, calls = ?5,
                 paused_ms = ?6, error = ?7 WHERE id = ?1",
                params![
                    id,
                    at.to_string(),
                    s.windows as i64,
                    s.rows as i64,
                    s.calls as i64,
                    s.paused.as_millis() as i64,
                    s.error
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The latest run of a job.
    pub fn last_run(&self, job: &str) -> Result<Option<RunRecord>, StateError> {
        type Row = (String, Option<String>, i64, i64, i64, i64, Option<String>);
        let row: Option<Row> = self
            .lock()
            .query_row(
                "SELECT started_at, ended_at, windows, rows, calls, paused_ms, error
                 FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT 1",
                params![job],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((started, ended, windows, rows, calls, paused, error)) = row else {
            return Ok(None);
        };
        let Ok(started_at) = started.parse() else { return Ok(None) };
        Ok(Some(RunRecord {
            started_at,
            ended_at: ended.and_then(|e| e.parse().ok()),
            summary: RunSummary {
                windows: windows as u64,
                rows: rows as u64,
                calls: calls as u64,
                paused: Duration::from_millis(paused as u64),
                error,
            },
        }))
    }

    /// What a job's published windows were fetched as (endpoint,
    /// parameters, formats), as last recorded.
    pub fn definition(&self, job: &str) -> Result<Option<String>, StateError> {
        self.lock()
            .query_row("SELECT fingerprint FROM definitions WHERE job = ?1", params![job], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records what a job's windows are fetched as.
    pub fn set_definition(&self, job: &str, fingerprint: &str) -> Result<(), StateError> {
        self.lock()
            .execute(
                "INSERT OR REPLACE INTO definitions (job, fingerprint) VALUES (?1, ?2)",
                params![job, fingerprint],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The last time the scheduler fired a job.
    pub fn last_fire(&self, job: &str) -> Result<Option<Timestamp>, StateError> {
        let v: Option<String> = self
            .lock()
            .query_row("SELECT last_fire FROM fires WHERE job = ?1", params![job], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| v.parse().ok()))
    }

    /// Remembers when the scheduler fired a job.
    pub fn set_last_fire(&self, job: &str, at: Timestamp) -> Result<(), StateError> {
        self.lock()
            .execute(
                "INSERT OR REPLACE INTO fires (job, last_fire) VALUES (?1, ?2)",
                params![job, at.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_stops_at_the_limit_and_is_shared_by_handles() {
        let dir = tempfile::tempdir().unwrap();
        let a = State::open(dir.path()).unwrap();
        let b = State::open(dir.path()).unwrap();
        assert_eq!(a.reserve_call("op", "2026-12-04", 2).unwrap(), Some(1));
        assert_eq!(b.reserve_call("op", "2026-12-04", 2).unwrap(), Some(2));
        assert_eq!(a.reserve_call("op", "2026-12-04", 2).unwrap(), None);
        assert_eq!(a.reserve_call("op", "2026-12-05", 2).unwrap(), Some(1));
        b.raise_calls("op", "2026-12-05", 1_000).unwrap();
        assert_eq!(a.calls("op", "2026-12-05").unwrap(), 1_000);
    }

    #[test]
    fn windows_and_pauses_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let s = State::open(dir.path()).unwrap();
        let rec = WindowRecord {
            start: "2026-12-01T00:00:00".parse().unwrap(),
            end: "2026-12-01T23:59:59".parse().unwrap(),
            rows: 3,
            rejects: 0,
            files: vec!["job/date=2026-12-01/a.csv".into()],
            checksum: "abc".into(),
            fetched_at: "2026-12-02T05:00:00Z".parse().unwrap(),
        };
        s.mark_complete("job", &rec).unwrap();
        assert_eq!(s.windows("job").unwrap(), vec![rec.clone()]);
        let at = |t: &str| t.parse::<civil::DateTime>().unwrap();
        let inside = s.windows_between("job", at("2026-12-01T23:59:59"), at("2026-12-02T00:59:59"));
        assert_eq!(inside.unwrap(), vec![rec]);
        let after = s.windows_between("job", at("2026-12-02T00:00:00"), at("2026-12-02T00:59:59"));
        assert_eq!(after.unwrap(), vec![]);
        let pause = Pause {
            since: "2026-12-02T05:00:00Z".parse().unwrap(),
            next_probe: "2026-12-02T05:00:30Z".parse().unwrap(),
            backoff: Duration::from_secs(60),
            probes: 1,
        };
        s.set_pause("op", &pause).unwrap();
        drop(s);
        let s = State::open(dir.path()).unwrap();
        assert_eq!(s.pause("op").unwrap(), Some(pause));
        s.clear_pause("op").unwrap();
        assert_eq!(s.pause("op").unwrap(), None);
    }
}
