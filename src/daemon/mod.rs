//! The daemon (`wolkvox-sync run`): one event loop that schedules the jobs
//! of the jobs folder and runs them through the [`Runtime`].
//!
//! STYLE.md §13: one closed enum of [`Event`]s (tick, run finished,
//! reload, shutdown) and one loop that selects and dispatches to
//! `handle_*` methods. A heartbeat interval sends ticks; the
//! [`scheduler::Scheduler`] decides from the injectable [`Clock`] which
//! jobs are due; each run is a task in a [`TaskTracker`] with a child
//! [`CancellationToken`], so a shutdown (or removing a job) stops it
//! before its next request while its request in flight finishes and is
//! published. Reloads re-read the jobs folder (on SIGHUP, on a change seen
//! by [`watch`], or on request) and log what changed.
//!
//! This module owns the loop and its parts: [`scheduler`], [`watch`],
//! [`signals`], [`notify`] (systemd), [`logging`], [`report`] (`status`
//! and `plan`) and [`demo`]. Fetching and publishing windows is the
//! engine's job ([`crate::sync`]), and pacing is the pacer's.

pub mod demo;
pub mod heartbeat;
pub mod logging;
pub mod notify;
pub mod report;
pub mod scheduler;
pub mod signals;
pub mod watch;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt,
    path::Path,
    sync::Arc,
    time::Duration,
};

use tokio::sync::mpsc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    jobs::{self, JobError},
    runtime::Runtime,
    sync::{NoProgress, RunResult},
};
pub use heartbeat::Heartbeat;
use notify::Notifier;
use scheduler::{ReloadDiff, Scheduler};

/// How long the jobs folder must be quiet before a reload, by default.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(500);

/// How the daemon runs, besides the config.
#[derive(Clone, Debug)]
pub struct Options {
    /// What wakes the scheduler: due jobs start at most one period late.
    pub heartbeat: Heartbeat,
    /// Watch the jobs folder and reload on changes.
    pub watch: bool,
    /// Quiet time before a change of the jobs folder reloads it.
    pub debounce: Duration,
    /// systemd notifications.
    pub notifier: Notifier,
    /// Hears what the daemon does (tests, the demo).
    pub observer: Option<mpsc::UnboundedSender<Notice>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            heartbeat: Heartbeat::Cron,
            watch: true,
            debounce: DEFAULT_DEBOUNCE,
            notifier: Notifier::disabled(),
            observer: None,
        }
    }
}

/// What happens to the daemon, one at a time.
#[derive(Debug)]
pub enum Event {
    /// The heartbeat: start the runs that are due.
    Tick,
    /// A run ended (done, stopped by an error, or cancelled).
    RunFinished(Box<Finished>),
    /// Read the jobs folder again.
    Reload(ReloadCause),
    /// Stop: no new requests, wait for the ones in flight, return.
    Shutdown,
}

/// A run's end.
#[derive(Debug)]
pub struct Finished {
    /// The job's name.
    pub job: String,
    /// The run's result, or why it could not be planned.
    pub result: Result<RunResult, String>,
}

/// Why the jobs folder is read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadCause {
    /// SIGHUP (`systemctl reload`).
    Signal,
    /// A change in the jobs folder.
    Watch,
    /// Asked through a [`Handle`].
    Request,
}

impl fmt::Display for ReloadCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReloadCause::Signal => "signal",
            ReloadCause::Watch => "jobs folder changed",
            ReloadCause::Request => "request",
        })
    }
}

/// What an observer hears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Scheduling started with these jobs.
    Ready {
        jobs: Vec<String>,
    },
    RunStarted {
        job: String,
    },
    RunFinished {
        job: String,
        totals: JobTotals,
    },
    Reloaded(ReloadDiff),
}

/// Sends events to a running daemon; cheap to clone.
#[derive(Clone, Debug)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Event>,
}

impl Handle {
    /// Asks for a reload of the jobs folder.
    pub fn reload(&self, cause: ReloadCause) {
        let _ = self.tx.send(Event::Reload(cause));
    }

    /// Asks for a graceful shutdown.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Event::Shutdown);
    }

    /// Sends a heartbeat tick now.
    pub fn tick(&self) {
        let _ = self.tx.send(Event::Tick);
    }
}

/// What a run, or all runs of a job, did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct JobTotals {
    pub runs: u64,
    pub windows: u64,
    pub rows: u64,
    pub calls: u64,
    pub paused_ms: u64,
    pub cancelled: u64,
    pub errors: u64,
    pub last_error: Option<String>,
}

impl JobTotals {
    fn of(result: &Result<RunResult, String>) -> JobTotals {
        match result {
            Ok(r) => JobTotals {
                runs: 1,
                windows: r.summary.windows,
                rows: r.summary.rows,
                calls: r.summary.calls,
                paused_ms: r.summary.paused.as_millis() as u64,
                cancelled: u64::from(r.cancelled),
                errors: u64::from(r.error.is_some()),
                last_error: r.error.as_ref().map(ToString::to_string),
            },
            Err(e) => {
                JobTotals { runs: 1, errors: 1, last_error: Some(e.clone()), ..Default::default() }
            }
        }
    }

    fn add(&mut self, other: &JobTotals) {
        self.runs += other.runs;
        self.windows += other.windows;
        self.rows += other.rows;
        self.calls += other.calls;
        self.paused_ms += other.paused_ms;
        self.cancelled += other.cancelled;
        self.errors += other.errors;
        if other.last_error.is_some() {
            self.last_error.clone_from(&other.last_error);
        }
    }
}

/// What the daemon did between start and shutdown.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Per job, every run added up.
    pub jobs: BTreeMap<String, JobTotals>,
    /// Every reload that changed something.
    pub reloads: Vec<ReloadDiff>,
    /// Whether every run ended within the shutdown grace.
    pub drained: bool,
    /// Whether the daemon stopped because every operation's token was
    /// refused (nothing left to do until the token is fixed).
    pub tokens_refused: bool,
}

/// The event loop and what it drives.
pub struct Daemon {
    rt: Arc<Runtime>,
    scheduler: Scheduler,
    options: Options,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    cancel: CancellationToken,
    runs: HashMap<String, CancellationToken>,
    tracker: TaskTracker,
    /// Operations whose token was refused: their jobs do not start again.
    stopped: BTreeSet<String>,
    report: Report,
}

impl Daemon {
    /// Loads the jobs folder of `rt`'s config and schedules the valid
    /// jobs. A bad job file is logged with its path and line, returned,
    /// and skipped; the others run.
    pub fn new(rt: Runtime, options: Options) -> (Daemon, Vec<JobError>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut daemon = Daemon {
            rt: Arc::new(rt),
            scheduler: Scheduler::new(),
            options,
            tx,
            rx,
            cancel: CancellationToken::new(),
            runs: HashMap::new(),
            tracker: TaskTracker::new(),
            stopped: BTreeSet::new(),
            report: Report::default(),
        };
        let (jobs, errors) = daemon.load_jobs();
        for error in &errors {
            tracing::error!(error = %error, "job file rejected, skipping it");
        }
        let keep = BTreeSet::new();
        daemon.scheduler.reload(jobs, &keep);
        (daemon, errors)
    }

    /// A handle to send events to this daemon.
    pub fn handle(&self) -> Handle {
        Handle { tx: self.tx.clone() }
    }

    /// Runs until a shutdown event, then drains; returns what it did.
    pub async fn run(mut self) -> Report {
        let _watcher = self.start_watcher();
        let heartbeat = match self.options.heartbeat.start(self.handle()).await {
            Ok(running) => Some(running),
            Err(e) => {
                // Jobs still run on reloads and at start-up; say so loudly.
                tracing::error!(error = %e, "the heartbeat did not start, jobs will not fire on schedule");
                None
            }
        };
        let mut watchdog = self.options.notifier.watchdog_period().map(tokio::time::interval);
        let jobs: Vec<String> = self.scheduler.jobs().map(|j| j.name.clone()).collect();
        tracing::info!(jobs = jobs.len(), "daemon started");
        self.options.notifier.ready(&self.status_line());
        self.observe(Notice::Ready { jobs });
        loop {
            let event = tokio::select! {
                Some(event) = self.rx.recv() => event,
                () = watchdog_tick(&mut watchdog) => {
                    self.options.notifier.watchdog();
                    continue;
                }
            };
            match event {
                Event::Tick => self.handle_tick(),
                Event::RunFinished(finished) => self.handle_run_finished(finished),
                Event::Reload(cause) => self.handle_reload(cause),
                Event::Shutdown => break,
            }
        }
        if let Some(heartbeat) = heartbeat {
            heartbeat.stop().await;
        }
        self.handle_shutdown().await
    }

    fn handle_tick(&mut self) {
        let now = self.rt.engine.clock.now();
        let tick = self.scheduler.tick(now);
        for (job, at) in &tick.fired {
            if let Err(e) = self.rt.engine.state.set_last_fire(job, *at) {
                tracing::error!(job = %job, error = %e, "recording the fire time failed");
            }
        }
        for job in &tick.coalesced {
            tracing::info!(job = %job, "job still running, one more run pending");
        }
        for job in tick.start {
            self.start_run(&job);
        }
    }

    fn handle_run_finished(&mut self, finished: Box<Finished>) {
        self.runs.remove(&finished.job);
        let totals = self.record(&finished);
        self.observe(Notice::RunFinished { job: finished.job.clone(), totals });
        if self.scheduler.finished(&finished.job) && !self.cancel.is_cancelled() {
            self.start_run(&finished.job);
        }
        self.options.notifier.status(&self.status_line());
    }

    fn handle_reload(&mut self, cause: ReloadCause) {
        let (jobs, errors) = self.load_jobs();
        let dir = &self.rt.config.jobs_dir;
        if let Some(error) = errors.iter().find(|e| e.is_about_folder(dir)) {
            // Between `mv jobs jobs.old` and `mv jobs.new jobs` there is no
            // folder: that is not every job removed.
            tracing::error!(error = %error, "cannot read the jobs folder; the jobs stay as they are");
            let diff = ReloadDiff { rejected: vec![error.to_string()], ..ReloadDiff::default() };
            self.observe(Notice::Reloaded(diff));
            return;
        }
        let keep: BTreeSet<String> = errors.iter().filter_map(job_name_of).collect();
        for error in &errors {
            let known = job_name_of(error).is_some_and(|name| self.scheduler.job(&name).is_some());
            match known {
                true => {
                    tracing::error!(error = %error, "job file rejected, keeping its previous version")
                }
                false => tracing::error!(error = %error, "job file rejected"),
            }
        }
        let mut diff = self.scheduler.reload(jobs, &keep);
        diff.rejected = errors.iter().map(ToString::to_string).collect();
        for name in &diff.removed {
            if let Some(token) = self.runs.get(name) {
                token.cancel();
            }
        }
        tracing::info!(
            cause = %cause,
            added = ?diff.added,
            changed = ?diff.changed,
            removed = ?diff.removed,
            problems = diff.rejected.len(),
            "jobs reloaded"
        );
        if !diff.is_empty() {
            self.report.reloads.push(diff.clone());
        }
        self.observe(Notice::Reloaded(diff));
        // Added jobs (never fired) and rescheduled ones that are due start
        // now rather than on the next heartbeat.
        self.handle_tick();
        self.options.notifier.status(&self.status_line());
    }

    async fn handle_shutdown(mut self) -> Report {
        let grace = self.rt.config.shutdown_grace;
        let in_flight = self.runs.len();
        tracing::info!(
            runs = in_flight,
            grace_s = grace.as_secs(),
            "shutting down: no new requests, finishing the ones in flight"
        );
        self.options.notifier.stopping(&format!("stopping: {in_flight} run(s) finishing"));
        self.cancel.cancel();
        self.tracker.close();
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        self.report.drained = loop {
            tokio::select! {
                () = self.tracker.wait() => break true,
                Some(event) = self.rx.recv() => {
                    if let Event::RunFinished(finished) = event {
                        self.runs.remove(&finished.job);
                        self.record(&finished);
                    }
                }
                () = &mut deadline => break false,
            }
        };
        while let Ok(event) = self.rx.try_recv() {
            if let Event::RunFinished(finished) = event {
                self.record(&finished);
            }
        }
        if !self.report.drained {
            tracing::warn!(
                grace_s = grace.as_secs(),
                "runs still in flight after the shutdown grace, exiting anyway"
            );
        }
        tracing::info!("daemon stopped");
        self.report
    }

    fn start_run(&mut self, name: &str) {
        let Some(job) = self.scheduler.job(name).cloned() else { return };
        if self.stopped.contains(&job.operation) {
            tracing::warn!(job = %name, operation = %job.operation, "operation stopped (token refused), not running");
            self.scheduler.finished(name);
            return;
        }
        let token = self.cancel.child_token();
        self.runs.insert(job.name.clone(), token.clone());
        tracing::info!(job = %job.name, endpoint = %job.endpoint.id(), "run started");
        self.observe(Notice::RunStarted { job: job.name.clone() });
        let rt = Arc::clone(&self.rt);
        let tx = self.tx.clone();
        self.tracker.spawn(async move {
            let result = rt.run_job(&job, None, &token, &NoProgress).await;
            let result = result.map_err(|e| e.to_string());
            let finished = Box::new(Finished { job: job.name, result });
            let _ = tx.send(Event::RunFinished(finished));
        });
        self.options.notifier.status(&self.status_line());
    }

    /// Logs a run's end and adds it to the report.
    fn record(&mut self, finished: &Finished) -> JobTotals {
        let totals = JobTotals::of(&finished.result);
        let state = match &finished.result {
            Ok(r) if r.error.is_some() => "stopped",
            Ok(r) if r.cancelled => "cancelled",
            Ok(_) => "done",
            Err(_) => "failed",
        };
        tracing::info!(
            job = %finished.job,
            state,
            windows = totals.windows,
            rows = totals.rows,
            calls = totals.calls,
            paused_s = totals.paused_ms / 1000,
            error = totals.last_error.as_deref().unwrap_or(""),
            "run ended"
        );
        if let Ok(r) = &finished.result
            && r.error.as_ref().is_some_and(|e| e.stops_operation())
            && let Some(job) = self.scheduler.job(&finished.job)
        {
            tracing::error!(operation = %job.operation, "token refused: no more runs for this operation until a restart");
            self.stopped.insert(job.operation.clone());
            if self.stopped.len() == self.rt.config.operations.len() {
                // A daemon with nothing left to do should not look healthy
                // to systemd: stop, and let the exit code say why.
                tracing::error!("every operation's token was refused, stopping");
                self.report.tokens_refused = true;
                let _ = self.tx.send(Event::Shutdown);
            }
        }
        self.report.jobs.entry(finished.job.clone()).or_default().add(&totals);
        totals
    }

    /// The enabled jobs of the jobs folder with their zones and last
    /// fires, and the problems of the files that were refused.
    fn load_jobs(&self) -> (Vec<scheduler::Loaded>, Vec<JobError>) {
        let config = &self.rt.config;
        let (jobs, errors) = jobs::load_dir(&config.jobs_dir, config);
        let mut out = Vec::new();
        for job in jobs.into_iter().filter(|j| j.enabled) {
            let Some(op) = config.operation(&job.operation) else { continue };
            let last = match self.rt.engine.state.last_fire(&job.name) {
                Ok(last) => last,
                Err(e) => {
                    tracing::error!(job = %job.name, error = %e, "reading the last fire time failed");
                    None
                }
            };
            out.push((job, op.timezone.clone(), last));
        }
        (out, errors)
    }

    fn start_watcher(&self) -> Option<watch::JobsWatcher> {
        if !self.options.watch {
            return None;
        }
        let dir = &self.rt.config.jobs_dir;
        match watch::spawn(dir, self.options.debounce, self.handle()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the jobs folder; reload with SIGHUP");
                None
            }
        }
    }

    fn observe(&self, notice: Notice) {
        if let Some(observer) = &self.options.observer {
            let _ = observer.send(notice);
        }
    }

    /// One line for systemd's STATUS=: jobs, runs, budget left, pauses.
    fn status_line(&self) -> String {
        let mut parts = vec![format!(
            "{} job(s), {} running",
            self.scheduler.jobs().count(),
            self.scheduler.running()
        )];
        for (name, op) in self.rt.operations() {
            let used = op.pacer.calls_today().unwrap_or(0);
            let left = op.pacer.limit().saturating_sub(used);
            let paused = matches!(op.pacer.pause(), Ok(Some(_)));
            let paused = if paused { ", paused (maintenance)" } else { "" };
            parts.push(format!("{name}: {left}/{} calls left{paused}", op.pacer.limit()));
        }
        parts.join("; ")
    }
}

async fn watchdog_tick(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The job a refused file would have defined (its stem).
fn job_name_of(error: &JobError) -> Option<String> {
    let path: &Path = match error {
        JobError::Read { path, .. } => path,
        JobError::Invalid(problem) => &problem.path,
    };
    path.file_stem().map(|s| s.to_string_lossy().into_owned())
}
