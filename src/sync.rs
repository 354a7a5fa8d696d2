//! The sync engine: fetching a run's windows and publishing their files.
//!
//! A run is a list of windows, oldest first, for one job. The engine sends
//! one request at a time: request N+1 only after window N was published.
//! Each request goes through the operation's [`Pacer`] (maintenance, slots,
//! budget); each answer is classified and then:
//!
//! - rows or an empty window: the window's files are published atomically,
//!   files of overlapping earlier windows are removed, and only then is the
//!   window marked complete;
//! - a response that reached the 60,000-row cap: nothing is published, the
//!   window is split in halves, which are fetched in its place;
//! - maintenance or a spent budget: the pacer waits, the same window is
//!   asked again, and no retry is spent;
//! - a transient failure: retried with exponential backoff and jitter up to
//!   a limit, then the run stops and the window stays incomplete;
//! - a bad token, a bad request or an endpoint not enabled: the run stops
//!   with an error naming the window.
//!
//! Deciding which windows a run covers is the planner's job; when a run
//! starts is the scheduler's.

use std::{collections::VecDeque, path::PathBuf, sync::Arc, time::Duration};

use backon::BackoffBuilder;
use jiff::civil;
use tokio_util::sync::CancellationToken;

use crate::{
    api::{
        client::{Answer, Client},
        envelope::{self, Outcome},
    },
    catalog::Endpoint,
    clock::Clock,
    pacer::{Pacer, PacerError},
    plan::Window,
    state::{RunSummary, State, StateError, WindowRecord},
    writers::{self, Formats, WindowFiles, WindowReport, WindowSpec, csv::CsvOptions},
};

/// The most rows one call returns; a response that reaches it may have
/// been cut off (wolkvox-api.md §1.3).
pub const ROW_CAP: u64 = 60_000;

/// How failed requests are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    fn delays(&self) -> backon::ExponentialBackoff {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.max_retries)
            .build()
    }
}

/// One operation as the engine uses it.
#[derive(Debug)]
pub struct Operation {
    pub name: String,
    pub client: Client,
    pub pacer: Arc<Pacer>,
}

/// Which files a job writes.
#[derive(Clone, Copy, Debug)]
pub struct OutputSpec {
    pub formats: Formats,
    pub csv: CsvOptions,
}

/// What one run is asked to do.
#[derive(Debug)]
pub struct RunPlan {
    pub job: String,
    pub endpoint: &'static Endpoint,
    /// Parameters other than the window's dates.
    pub params: Vec<(String, String)>,
    /// The windows, oldest first. For an endpoint without dates, one
    /// window per snapshot, named by its time.
    pub windows: Vec<Window>,
    pub output: OutputSpec,
}

/// Why a run stopped early. Every variant names what it was working on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "job {job}: the operation's token was refused ({reason}); fix the token, the operation is stopped"
    )]
    BadToken { job: String, reason: String },
    #[error("job {job}, window {window}: the API rejected the request ({reason})")]
    BadRequest { job: String, window: Window, reason: String },
    #[error("job {job}: {endpoint} is not enabled for this operation ({reason})")]
    NotEnabled { job: String, endpoint: String, reason: String },
    #[error("job {job}, window {window}: gave up after {attempts} attempts, last: {last}")]
    GaveUp { job: String, window: Window, attempts: usize, last: String },
    #[error("job {job}, window {window}: writing files failed: {source}")]
    Write {
        job: String,
        window: Window,
        #[source]
        source: writers::WriteError,
    },
    #[error("job {job} is already running in another process")]
    Busy { job: String },
    #[error("job {job}: {source}")]
    State {
        job: String,
        #[source]
        source: StateError,
    },
    #[error("job {job}: {source}")]
    Pacer {
        job: String,
        #[source]
        source: PacerError,
    },
}

impl RunError {
    /// Whether the whole operation must stop (not only this job).
    pub fn stops_operation(&self) -> bool {
        matches!(self, RunError::BadToken { .. })
    }
}

/// Hears about a run's progress (a progress bar, the daemon's status).
pub trait Progress: Send + Sync {
    fn planned(&self, _windows: usize) {}
    fn window_done(&self, _window: &Window, _rows: u64) {}
    fn window_split(&self, _window: &Window) {}
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Fetches and publishes windows.
#[derive(Debug, Clone)]
pub struct Engine {
    pub state: State,
    pub clock: Clock,
    pub out_dir: PathBuf,
    pub retry: RetryPolicy,
}

/// What a run did, whether or not it finished.
#[derive(Debug)]
pub struct RunResult {
    pub summary: RunSummary,
    /// Set when the run was cancelled before its last window.
    pub cancelled: bool,
    /// Windows not published because the run stopped early (a split
    /// window counts as one).
    pub pending: usize,
    pub error: Option<RunError>,
}

impl Engine {
    /// Runs a plan to its end, a stop, or cancellation. Cancellation stops
    /// before the next request; a request in flight finishes and its
    /// window is published.
    pub async fn run(
        &self,
        op: &Operation,
        plan: RunPlan,
        cancel: &CancellationToken,
        progress: &dyn Progress,
    ) -> RunResult {
        let mut summary = RunSummary::default();
        let _job_lock = match op.pacer.lock_job(&plan.job) {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                let error = Some(RunError::Busy { job: plan.job.clone() });
                return RunResult { summary, cancelled: false, pending: plan.windows.len(), error };
            }
            Err(source) => {
                let error = Some(RunError::Pacer { job: plan.job.clone(), source });
                return RunResult { summary, cancelled: false, pending: plan.windows.len(), error };
            }
        };
        // Holding the job's lock, no other process is writing its files:
        // temp files left by a crash can go.
        remove_stale_temps(&self.out_dir.join(&plan.job));
        let started = self.clock.now();
        let run_id = self.state.run_started(&plan.job, started).ok();
        let mut queue: VecDeque<Window> = plan.windows.iter().copied().collect();
        progress.planned(queue.len());
        let mut error = None;
        let mut cancelled = false;
        let mut stopped_at = 0;
        while let Some(window) = queue.pop_front() {
            stopped_at = 1;
            if cancel.is_cancelled() {
                cancelled = true;
                break;
            }
            match self.fetch_window(op, &plan, window, cancel, &mut summary).await {
                Ok(Fetched::Published(rows)) => {
                    stopped_at = 0;
                    summary.windows += 1;
                    summary.rows += rows;
                    progress.window_done(&window, rows);
                }
                Ok(Fetched::Split(first, second)) => {
                    stopped_at = 0;
                    progress.window_split(&window);
                    queue.push_front(second);
                    queue.push_front(first);
                }
                Err(Stop::Cancelled) => {
                    cancelled = true;
                    break;
                }
                Err(Stop::Error(e)) => {
                    tracing::error!(job = %plan.job, error = %e, "run stopped");
                    error = Some(e);
                    break;
                }
            }
        }
        summary.error = error.as_ref().map(|e| e.to_string());
        if let Some(id) = run_id
            && let Err(e) = self.state.run_ended(id, self.clock.now(), &summary)
        {
            tracing::warn!(job = %plan.job, error = %e, "recording the run's end failed");
        }
        let pending = queue.len() + stopped_at;
        RunResult { summary, cancelled, pending, error }
    }

    async fn fetch_window(
        &self,
        op: &Operation,
        plan: &RunPlan,
        window: Window,
        cancel: &CancellationToken,
        summary: &mut RunSummary,
    ) -> Result<Fetched, Stop> {
        let job = &plan.job;
        let mut delays = self.retry.delays();
        let mut shared_delays = self.retry.delays();
        let mut attempts = 0;
        let params = request_params(plan, &window);
        loop {
            let permit = op.pacer.acquire(cancel).await.map_err(|e| match e {
                PacerError::Cancelled => Stop::Cancelled,
                source => Stop::Error(RunError::Pacer { job: job.clone(), source }),
            })?;
            summary.calls += 1;
            summary.paused += permit.waited.maintenance;
            attempts += 1;
            let answer = op.client.fetch(plan.endpoint, &params).await;
            let (outcome, files) = self.classify(plan, window, answer).await?;
            permit.finish(&outcome).map_err(|source| state_err(job, source))?;
            let last = match outcome {
                Outcome::Rows(env) if env.rows >= ROW_CAP => {
                    if let Some((a, b)) = window.split() {
                        drop(files);
                        tracing::warn!(job = %job, %window, rows = env.rows, "row cap reached, splitting the window");
                        return Ok(Fetched::Split(a, b));
                    }
                    // A one-second window cannot be split further; what
                    // came is all the API will give for it.
                    tracing::error!(job = %job, %window, rows = env.rows, "row cap reached in a one-second window");
                    let rows = self.publish(plan, window, files).await?;
                    return Ok(Fetched::Published(rows));
                }
                Outcome::Rows(_) | Outcome::Empty => {
                    let rows = self.publish(plan, window, files).await?;
                    return Ok(Fetched::Published(rows));
                }
                Outcome::Maintenance | Outcome::BudgetSpent => continue,
                Outcome::Concurrency => {
                    let wait = shared_delays.next().unwrap_or(self.retry.max_delay);
                    sleep(wait, cancel).await?;
                    continue;
                }
                Outcome::BadToken(reason) => {
                    return Err(Stop::Error(RunError::BadToken { job: job.clone(), reason }));
                }
                Outcome::BadRequest(reason) => {
                    return Err(Stop::Error(RunError::BadRequest {
                        job: job.clone(),
                        window,
                        reason,
                    }));
                }
                Outcome::NotEnabled(reason) => {
                    let endpoint = plan.endpoint.id();
                    return Err(Stop::Error(RunError::NotEnabled {
                        job: job.clone(),
                        endpoint,
                        reason,
                    }));
                }
                Outcome::Transient(reason) => reason,
            };
            let Some(wait) = delays.next() else {
                return Err(Stop::Error(RunError::GaveUp {
                    job: job.clone(),
                    window,
                    attempts,
                    last,
                }));
            };
            tracing::warn!(job = %job, %window, attempt = attempts, error = %last, retry_in_ms = wait.as_millis() as u64, "request failed, retrying");
            sleep(wait, cancel).await?;
        }
    }

    /// Classifies an answer, decoding rows into the window's temp files on
    /// a blocking thread.
    async fn classify(
        &self,
        plan: &RunPlan,
        window: Window,
        answer: Answer,
    ) -> Result<(Outcome, Option<WindowFiles>), Stop> {
        let (status, body) = match answer {
            Answer::Http { status, body } => (status, body),
            Answer::Failed(reason) => return Ok((Outcome::Transient(reason), None)),
        };
        let ep = plan.endpoint;
        let out_dir = self.out_dir.clone();
        let job = plan.job.clone();
        let output = plan.output;
        let task = tokio::task::spawn_blocking(move || {
            let spec = WindowSpec {
                out_dir: &out_dir,
                job: &job,
                endpoint: ep,
                start: window.start,
                end: window.end,
                formats: output.formats,
                csv: output.csv,
            };
            let mut files = WindowFiles::create(&spec)?;
            let outcome = envelope::classify(ep, status, &body, &mut files);
            Ok::<_, writers::WriteError>((outcome, files))
        });
        match task.await {
            Ok(Ok((outcome, files))) => Ok((outcome, Some(files))),
            Ok(Err(source)) => {
                Err(Stop::Error(RunError::Write { job: plan.job.clone(), window, source }))
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

    /// Publishes a window's files, removes files of windows it overlaps,
    /// then marks it complete.
    async fn publish(
        &self,
        plan: &RunPlan,
        window: Window,
        files: Option<WindowFiles>,
    ) -> Result<u64, Stop> {
        let job = &plan.job;
        let write_err = |source| Stop::Error(RunError::Write { job: job.clone(), window, source });
        let Some(files) = files else {
            return Ok(0);
        };
        let committed = tokio::task::spawn_blocking(move || files.commit())
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
            .map_err(write_err)?;
        self.replace_overlapping(job, &window).map_err(|e| state_err(job, e))?;
        let record = WindowRecord {
            start: window.start,
            end: window.end,
            rows: committed.rows,
            rejects: committed.rejects,
            files: relative_paths(&committed, &self.out_dir),
            checksum: checksum(&committed),
            fetched_at: self.clock.now(),
        };
        self.state.mark_complete(job, &record).map_err(|e| state_err(job, e))?;
        if committed.rejects > 0 {
            tracing::warn!(job = %job, %window, rejects = committed.rejects, "values that did not parse were kept in _rejects");
        }
        Ok(committed.rows)
    }

    /// Removes the files and records of other windows overlapping `window`
    /// (the halves of a window fetched whole again, or the whole of a
    /// window now fetched in halves), so no row is published twice.
    fn replace_overlapping(&self, job: &str, window: &Window) -> Result<(), StateError> {
        for rec in self.state.windows_between(job, window.start, window.end)? {
            if rec.start == window.start && rec.end == window.end {
                continue;
            }
            remove_published(&self.out_dir, &rec.files);
            self.state.forget_window(job, rec.start, rec.end)?;
        }
        Ok(())
    }
}

enum Fetched {
    Published(u64),
    Split(Window, Window),
}

enum Stop {
    Cancelled,
    Error(RunError),
}

fn state_err(job: &str, source: StateError) -> Stop {
    Stop::Error(RunError::State { job: job.to_string(), source })
}

async fn sleep(d: Duration, cancel: &CancellationToken) -> Result<(), Stop> {
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        () = cancel.cancelled() => Err(Stop::Cancelled),
    }
}

fn request_params(plan: &RunPlan, window: &Window) -> Vec<(String, String)> {
    let mut params = plan.params.clone();
    if plan.endpoint.is_windowed() {
        for (key, value) in window.api_params() {
            params.push((key.to_string(), value));
        }
    }
    params
}

/// Removes published files (paths relative to `out_dir`) that no window
/// record will point to any more.
pub(crate) fn remove_published(out_dir: &std::path::Path, files: &[String]) {
    for file in files {
        let path = out_dir.join(file);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "removing a replaced file failed");
        }
    }
}

/// Removes hidden temp files (`.…tmp`) below `dir`, left by a process
/// that was killed while writing.
fn remove_stale_temps(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            remove_stale_temps(&path);
        } else if writers::atomic::is_temp_name(&name.to_string_lossy()) {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a temp file left by a crash")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "removing a stale temp file failed")
                }
            }
        }
    }
}

fn relative_paths(report: &WindowReport, out_dir: &std::path::Path) -> Vec<String> {
    let relative = |p: &std::path::Path| p.strip_prefix(out_dir).unwrap_or(p).display().to_string();
    report.files.iter().map(|f| relative(&f.path)).collect()
}

fn checksum(report: &WindowReport) -> String {
    let sums: Vec<&str> = report.files.iter().map(|f| f.sha256.as_str()).collect();
    sums.join(",")
}

/// Whether every second of `window` is covered by published windows.
pub fn is_covered(window: &Window, published: &[WindowRecord]) -> bool {
    let mut next: civil::DateTime = window.start;
    let mut recs: Vec<&WindowRecord> =
        published.iter().filter(|r| r.start <= window.end && window.start <= r.end).collect();
    recs.sort_by_key(|r| r.start);
    for r in recs {
        if r.start > next {
            return false;
        }
        if r.end >= window.end {
            return true;
        }
        next = match r.end.checked_add(jiff::SignedDuration::from_secs(1)) {
            Ok(n) => n.max(next),
            Err(_) => return true,
        };
    }
    false
}
