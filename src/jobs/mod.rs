//! Job files: one TOML file per job in the jobs folder, read into validated
//! [`Job`]s.
//!
//! A job names an operation, an endpoint of the catalog with its
//! parameters, a cron schedule and, for history endpoints, how time is cut
//! into windows (grain, lag, refetch, start). The job's name is the file
//! stem. Files are read in two steps: `raw` is the file as written
//! (`deny_unknown_fields`), `check` turns it into a `Job` that cannot hold
//! an invalid state, collecting every problem with its `path:line:column`.
//!
//! This module owns that and the folder loader. It leaves window arithmetic
//! to [`crate::plan`], fire times to [`crate::schedule`] and running jobs to
//! the scheduler.

mod check;
mod raw;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

pub use crate::writers::{Formats, csv::CsvOptions};
use crate::{
    catalog::Endpoint,
    config::{Config, Problem},
    plan::WindowSpec,
    schedule::Schedule,
};

/// A validated job.
#[derive(Clone, Debug)]
pub struct Job {
    /// The file stem: letters, digits, `_` and `-`.
    pub name: String,
    /// The job file.
    pub path: PathBuf,
    /// The name of the operation in the config whose token and budget the
    /// job uses; it exists in the config the job was checked against.
    pub operation: String,
    /// The endpoint to call.
    pub endpoint: &'static Endpoint,
    /// Parameters besides `date_ini`/`date_end`: every required one is
    /// here, and nothing the endpoint does not take.
    pub params: BTreeMap<String, String>,
    /// When runs start.
    pub schedule: Schedule,
    /// Windows for history endpoints, one snapshot per run otherwise.
    pub windowing: Windowing,
    /// Which files each window (or snapshot) is written to.
    pub formats: Formats,
    /// Higher runs first when jobs compete for the budget (default 0).
    pub priority: i64,
    /// How CSV files are written.
    pub csv: CsvOptions,
    /// A disabled job is loaded and checked but never run.
    pub enabled: bool,
}

/// How a job's runs relate to time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Windowing {
    /// Real-time, catalogue and billing endpoints: each run takes one
    /// snapshot of now.
    Snapshot,
    /// History endpoints: each run fetches the due windows.
    Windowed(WindowSpec),
}

impl Job {
    /// The window settings of a history job.
    pub fn window_spec(&self) -> Option<&WindowSpec> {
        match &self.windowing {
            Windowing::Snapshot => None,
            Windowing::Windowed(spec) => Some(spec),
        }
    }
}

/// Why a job file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The folder or file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// A problem in the file, with its position.
    #[error(transparent)]
    Invalid(#[from] Problem),
}

impl JobError {
    /// Whether this is about the jobs folder `dir` itself (it could not be
    /// read) rather than one of its files.
    pub fn is_about_folder(&self, dir: &Path) -> bool {
        matches!(self, JobError::Read { path, .. } if path == dir)
    }
}

/// Checks the job file text `text`; `path` gives the job's name (its stem)
/// and names it in messages. Every problem found is returned, in file
/// order.
pub fn parse(text: &str, path: &Path, config: &Config) -> Result<Job, Vec<JobError>> {
    check::job(text, path, config).map_err(|problems| {
        let problems = problems.into_iter().map(JobError::Invalid);
        problems.collect()
    })
}

/// Reads and checks the job file at `path`.
pub fn load(path: &Path, config: &Config) -> Result<Job, Vec<JobError>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path, config),
        Err(source) => Err(vec![JobError::Read { path: path.to_path_buf(), source }]),
    }
}

/// Loads every job file of `dir` (`*.toml`, skipping hidden and editor
/// temp files), in file name order. A bad file does not stop the others:
/// its problems are returned alongside the good jobs.
pub fn load_dir(dir: &Path, config: &Config) -> (Vec<Job>, Vec<JobError>) {
    let mut jobs = Vec::new();
    let mut errors = Vec::new();
    let paths = match job_files(dir) {
        Ok(paths) => paths,
        Err(source) => return (jobs, vec![JobError::Read { path: dir.to_path_buf(), source }]),
    };
    for path in paths {
        match load(&path, config) {
            Ok(job) => jobs.push(job),
            Err(mut problems) => errors.append(&mut problems),
        }
    }
    (jobs, errors)
}

/// The job files of `dir`, sorted by name.
fn job_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if is_job_file_name(&entry.file_name().to_string_lossy()) && !entry.file_type()?.is_dir() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Whether a file name looks like a job file: `*.toml`, not hidden
/// (`.name`) and not an editor's temp or lock file (`#name#`, `name~`,
/// `.#name`).
fn is_job_file_name(name: &str) -> bool {
    let hidden = name.starts_with('.') || name.starts_with('#');
    !hidden && name.ends_with(".toml") && name.len() > ".toml".len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_file_names() {
        for name in ["cdr_1.toml", "a.toml", "my job.toml"] {
            assert!(is_job_file_name(name), "{name}");
        }
        for name in [".toml", ".cdr.toml", "#cdr.toml#", "cdr.toml~", "cdr.toml.swp", "cdr.txt"] {
            assert!(!is_job_file_name(name), "{name}");
        }
    }
}
