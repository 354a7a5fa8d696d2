//! Wiring a loaded config into running parts.
//!
//! A [`Runtime`] holds, per operation, the HTTP client and the pacer, and
//! one engine over the state database; it turns a [`Job`] into the windows
//! of a run (from the planner and the state) and runs it. The CLI's `once`
//! and the daemon both go through here, so a manual run shares the pacer's
//! slots, ledger and pauses with a running daemon.

use std::{collections::BTreeMap, sync::Arc};

use jiff::{Timestamp, civil};
use tokio_util::sync::CancellationToken;

use crate::{
    api::client::{Client, ClientError, Timeouts, token_key},
    clock::Clock,
    config::{Config, ConfigError, Operation as OperationConfig},
    jobs::{Job, Windowing},
    pacer::{Pacer, PacerConfig},
    plan::{self, Window},
    state::{State, StateError},
    sync::{self, Engine, OutputSpec, Progress, RetryPolicy, RunPlan, RunResult},
};

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("operation `{operation}`: {source}")]
    Client {
        operation: String,
        #[source]
        source: ClientError,
    },
    #[error("job {job}: operation `{operation}` is not in the config")]
    UnknownOperation { job: String, operation: String },
}

/// The running parts of a config.
#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub engine: Engine,
    operations: BTreeMap<String, Arc<sync::Operation>>,
}

impl Runtime {
    /// Opens the state and builds a client and a pacer per operation,
    /// reading each operation's token.
    pub fn open(config: Config, clock: Clock) -> Result<Runtime, RuntimeError> {
        Runtime::open_with(config, clock, true)
    }

    /// [`Runtime::open`] for a manual run: when the day's budget is spent,
    /// a run stops (with the windows left pending) instead of waiting for
    /// the next API day.
    pub fn open_manual(config: Config, clock: Clock) -> Result<Runtime, RuntimeError> {
        Runtime::open_with(config, clock, false)
    }

    fn open_with(
        config: Config,
        clock: Clock,
        wait_for_budget: bool,
    ) -> Result<Runtime, RuntimeError> {
        // A token that cannot be read is a config error: found before the
        // state folder is created.
        for op in &config.operations {
            op.read_token()?;
        }
        let state = State::open(&config.state_dir)?;
        let mut operations = BTreeMap::new();
        for op in &config.operations {
            let built = build_operation(op, &state, &clock, &config, wait_for_budget)?;
            operations.insert(op.name.clone(), Arc::new(built));
        }
        let engine = Engine {
            state,
            clock,
            out_dir: config.output_dir.clone(),
            retry: RetryPolicy::default(),
        };
        Ok(Runtime { config, engine, operations })
    }

    /// The running operation of a job.
    pub fn operation(&self, job: &Job) -> Result<&Arc<sync::Operation>, RuntimeError> {
        self.operations.get(&job.operation).ok_or_else(|| RuntimeError::UnknownOperation {
            job: job.name.clone(),
            operation: job.operation.clone(),
        })
    }

    /// Every running operation by name.
    pub fn operations(&self) -> &BTreeMap<String, Arc<sync::Operation>> {
        &self.operations
    }

    /// The operation config of a job.
    pub fn operation_config(&self, job: &Job) -> Option<&OperationConfig> {
        self.config.operation(&job.operation)
    }

    /// The windows a run of `job` fetches now: the due windows, or every
    /// closed window between `range`'s ends when one is given (complete or
    /// not).
    /// A snapshot job gets one window at the current second.
    pub fn plan(
        &self,
        job: &Job,
        range: Option<(civil::DateTime, civil::DateTime)>,
    ) -> Result<RunPlan, RuntimeError> {
        let tz = self.operation_config(job).map(|op| op.timezone.clone()).ok_or_else(|| {
            RuntimeError::UnknownOperation {
                job: job.name.clone(),
                operation: job.operation.clone(),
            }
        })?;
        self.forget_if_redefined(job)?;
        let now = self.engine.clock.now();
        let windows = match (&job.windowing, range) {
            (Windowing::Snapshot, _) => vec![self.snapshot_window(job, now, &tz)?],
            // Only closed windows: one still open would be marked
            // complete with part of its rows and never fetched again.
            (Windowing::Windowed(spec), Some((from, to))) => {
                let all = plan::windows_between(spec.grain, from, to);
                all.into_iter().filter(|w| plan::is_closed(w, spec.lag, &tz, now)).collect()
            }
            (Windowing::Windowed(_), None) => {
                let published = self.engine.state.windows(&job.name)?;
                let covered = |w: &Window| sync::is_covered(w, &published);
                plan::due_windows(job, now, &tz, &covered)
            }
        };
        Ok(RunPlan {
            job: job.name.clone(),
            endpoint: job.endpoint,
            params: job.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            windows,
            output: OutputSpec { formats: job.formats, csv: job.csv },
        })
    }

    /// When a job's endpoint, parameters or formats changed since its
    /// windows were published, those files hold other data: they are
    /// removed and the windows fetched again.
    fn forget_if_redefined(&self, job: &Job) -> Result<(), RuntimeError> {
        let state = &self.engine.state;
        let now = definition(job);
        match state.definition(&job.name)? {
            Some(before) if before == now => return Ok(()),
            Some(before) => {
                tracing::warn!(job = %job.name, before = %before, now = %now, "job redefined, fetching its windows again");
                for rec in state.windows(&job.name)? {
                    sync::remove_published(&self.config.output_dir, &rec.files);
                    state.forget_window(&job.name, rec.start, rec.end)?;
                }
            }
            None => {}
        }
        state.set_definition(&job.name, &now)?;
        Ok(())
    }

    /// A snapshot's window: the current second, or the second after the
    /// job's latest snapshot when that one was filed at this second or
    /// later (a pending run that starts as the last one ends), so that
    /// two snapshots never share a file.
    fn snapshot_window(
        &self,
        job: &Job,
        now: Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Window, RuntimeError> {
        let at = now.to_zoned(tz.clone()).datetime();
        let mut at = at.with().subsec_nanosecond(0).build().unwrap_or(at);
        let taken = self.engine.state.windows_between(&job.name, at, civil::DateTime::MAX)?;
        if let Some(last) = taken.last() {
            at = last.start.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(at);
        }
        Ok(Window { start: at, end: at })
    }

    /// Plans and runs `job`.
    pub async fn run_job(
        &self,
        job: &Job,
        range: Option<(civil::DateTime, civil::DateTime)>,
        cancel: &CancellationToken,
        progress: &dyn Progress,
    ) -> Result<RunResult, RuntimeError> {
        let plan = self.plan(job, range)?;
        let op = self.operation(job)?;
        Ok(self.engine.run(op, plan, cancel, progress).await)
    }
}

fn build_operation(
    op: &OperationConfig,
    state: &State,
    clock: &Clock,
    config: &Config,
    wait_for_budget: bool,
) -> Result<sync::Operation, RuntimeError> {
    let token = op.read_token()?;
    let key = token_key(&token);
    let client = Client::new(&op.base_url, token, Timeouts::default())
        .map_err(|source| RuntimeError::Client { operation: op.name.clone(), source })?;
    let cfg = pacer_config(op, key, wait_for_budget);
    let lock_dir = config.state_dir.join("locks");
    let pacer = Pacer::new(cfg, state.clone(), clock.clone(), &lock_dir);
    Ok(sync::Operation { name: op.name.clone(), client, pacer: Arc::new(pacer) })
}

/// What decides the content of a job's files: endpoint, parameters and
/// formats (not the schedule, the lag or the priority; a new grain replaces
/// files window by window on its own).
fn definition(job: &Job) -> String {
    let params: Vec<String> = job.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let csv = format!("bom={},delimiter={}", job.csv.bom, job.csv.delimiter as char);
    let formats = format!("csv={},parquet={}", job.formats.csv, job.formats.parquet);
    let mut text = format!("{} [{}] {formats} {csv}", job.endpoint.id(), params.join("&"));
    // An aggregate's rows mean what its window is (per day, per hour), so
    // files of two grains cannot sit side by side; detail rows are the
    // same events whatever the window, so theirs can.
    if job.endpoint.grain == Some(crate::catalog::Grain::Aggregate)
        && let Some(spec) = job.window_spec()
    {
        text.push_str(&format!(" grain={}", spec.grain));
    }
    text
}

/// The pacer's limits for an operation of the config.
pub fn pacer_config(op: &OperationConfig, token_key: String, wait_for_budget: bool) -> PacerConfig {
    PacerConfig {
        operation: op.name.clone(),
        token_key,
        daily_budget: u64::from(op.licenses) * u64::from(crate::config::CALLS_PER_LICENSE),
        reserve: u64::from(op.reserve),
        tz: op.timezone.clone(),
        rollover_hour: op.rollover_hour as i8,
        max_in_flight: usize::from(op.max_in_flight),
        probe_initial: op.probe_initial,
        probe_max: op.probe_max,
        wait_for_budget,
    }
}
