//! Helpers for the acceptance tests: what a job's published files hold
//! (CSV rows, Parquet rows, every file parsed), hidden temp files, the
//! ledger, the simulator's rows for a list of windows, and running the
//! real binary. Building the simulator, the config and the jobs is
//! `sync_support`'s.

#![allow(dead_code)]

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::Stdio,
};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wolkvox_sync::{catalog::Endpoint, plan::Window, sim::Sim};

use crate::sync_support::{as_csv, files};

/// The row cap: no published file may hold this many rows.
pub const ROW_CAP: usize = 60_000;

/// The `wolkvox-sync` binary cargo built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wolkvox-sync")
}

/// A `wolkvox-sync` command with logs plain and at info level.
pub fn command(args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("WOLKVOX_SYNC_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Every row of every Parquet file read back; panics on a file that does
/// not parse.
pub fn parquet_rows(path: &Path) -> usize {
    let file = File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .build()
        .unwrap();
    reader.map(|b| b.unwrap_or_else(|e| panic!("{}: {e}", path.display())).num_rows()).sum()
}

/// The data rows of one CSV file; panics on a file that does not parse.
pub fn csv_file_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

/// Checks the published files under `dir`: every file parses, each
/// Parquet file has a CSV twin with as many rows, and none holds the row
/// cap. Returns the CSV rows of every file, in file order.
pub fn published_rows(dir: &Path) -> Vec<Vec<String>> {
    let csvs = files(dir, "csv");
    let parquets = files(dir, "parquet");
    let twins: Vec<PathBuf> = csvs.iter().map(|p| p.with_extension("parquet")).collect();
    assert_eq!(parquets, twins, "every window has a Parquet and a CSV file");
    let mut rows = Vec::new();
    for (csv, parquet) in csvs.iter().zip(&parquets) {
        let file_rows = csv_file_rows(csv);
        assert!(file_rows.len() < ROW_CAP, "{} holds {} rows", csv.display(), file_rows.len());
        assert_eq!(parquet_rows(parquet), file_rows.len(), "{}", parquet.display());
        rows.extend(file_rows);
    }
    rows
}

/// The simulator's rows for each window in turn, as CSV spells them.
pub fn sim_rows_by_window(
    sim: &Sim,
    ep: &Endpoint,
    params: &[(&str, &str)],
    windows: &[Window],
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for w in windows {
        rows.extend(as_csv(sim.rows(ep, params, w.start, w.end)));
    }
    rows
}

/// Hidden temp files (`.name.XXXXXX.tmp`) anywhere under `dir`.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            out.extend(temp_files(&path));
        } else if name.ends_with(".tmp") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The ledger's calls over every operation and day.
pub fn ledger_total(state_dir: &Path) -> u64 {
    let conn = rusqlite::Connection::open(state_dir.join("state.db")).unwrap();
    let total: i64 =
        conn.query_row("SELECT COALESCE(SUM(calls), 0) FROM ledger", [], |r| r.get(0)).unwrap();
    total as u64
}

/// `date_ini` and `date_end` of a logged request.
pub fn logged_window(params: &[(String, String)]) -> (String, String) {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    (get("date_ini").unwrap_or_default(), get("date_end").unwrap_or_default())
}

/// Replaces `from` by `to` in the config file, which must hold `from`.
pub fn edit_config(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "the config lacks {from:?}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}
