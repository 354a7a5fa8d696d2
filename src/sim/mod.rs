//! A faithful simulator of the wolkvox API, for tests, benchmarks and the
//! demo.
//!
//! [`Sim::start`] serves every catalog endpoint on `127.0.0.1:0` and
//! enforces the API's rules as wolkvox-api.md describes them: the token
//! header, 2 requests in flight per token, the daily budget of
//! licenses × 1000 calls per operation, maintenance windows, the documented
//! errors, the empty-window 404 and the 60,000-row cut. Rows are generated
//! from a seed, so a test can ask [`Sim::rows`] what a file should hold.
//! Every request goes into a log, and every request that broke a rule into
//! [`Sim::breaches`].
//!
//! Layout: [`clock`] (the simulated time), `values` and `data` (rows),
//! `body` (response text), `server` (routes and the gate), [`faults`],
//! [`log`], [`cli`] (the `sim` subcommand). The client side (pacing,
//! retries, classification) is not here: the simulator only answers.

pub mod cli;
pub mod clock;
pub mod faults;
pub mod log;

mod body;
mod data;
mod server;
mod values;

use std::{collections::HashMap, io, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use jiff::{Timestamp, civil, tz::TimeZone};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use clock::SimClock;
pub use faults::{Fault, FaultProfile};
pub use log::{Breach, BreachKind, RequestRecord, token_hash};

use crate::catalog::Endpoint;
use server::{Shared, lock};

/// The operation [`SimConfig::default`] serves.
pub const DEMO_OPERATION: &str = "demo";

/// The time zone operations use unless told otherwise.
pub const DEFAULT_TIME_ZONE: &str = "America/Bogota";

/// A token for `seed`: 50 lowercase hex digits, like the real ones.
pub fn demo_token(seed: u64) -> String {
    let mut hex = String::new();
    let mut round = 0u64;
    while hex.len() < 50 {
        let part = token_hash(&format!("wolkvox-sim-token/{seed}/{round}"));
        hex.push_str(&part);
        round += 1;
    }
    hex.truncate(50);
    hex
}

/// What the simulator serves and how. Fields are public; start from
/// [`SimConfig::default`] or [`SimConfig::with_seed`] and change what a test
/// needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seeds every generated row, id and fault.
    pub seed: u64,
    /// At least one operation; each token belongs to one.
    pub operations: Vec<OperationConfig>,
    /// Per endpoint (`module/api`): rows per hour for detail endpoints, rows
    /// per response for the others.
    pub volumes: HashMap<String, u32>,
    /// Rows per hour of detail endpoints without a volume (default 20).
    pub detail_volume: u32,
    /// Rows per response of aggregates and snapshots without a volume
    /// (default 10).
    pub snapshot_volume: u32,
    /// Detail rows that show up late.
    pub late: LateData,
    /// Faults to inject (default: none).
    pub faults: FaultProfile,
    /// How an empty window is answered (default: 404).
    pub empty_window: EmptyWindow,
    /// What a window longer than the endpoint allows gets (default: 400).
    pub range: RangeMode,
    /// Rows past this many are cut silently (default 60,000).
    pub row_cap: usize,
    /// During maintenance, a request sooner than this after the previous
    /// one of the operation is a breach (default 1 s of simulator time).
    pub probe_min_interval: Duration,
    /// A request arriving this soon after the previous one during
    /// maintenance was sent before its sender could have seen that answer
    /// (two jobs' requests crossing), so it is not a breach (default
    /// 100 ms).
    pub maintenance_grace: Duration,
    /// The simulator's time (default: real).
    pub clock: SimClock,
    /// Also write the request log here, as JSON lines.
    pub log_path: Option<PathBuf>,
}

impl SimConfig {
    /// The default configuration with this seed, and the demo operation's
    /// token minted from it.
    pub fn with_seed(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            operations: vec![OperationConfig::new(DEMO_OPERATION, 1, demo_token(seed))],
            volumes: HashMap::new(),
            detail_volume: 20,
            snapshot_volume: 10,
            late: LateData::default(),
            faults: FaultProfile::default(),
            empty_window: EmptyWindow::NotFound,
            range: RangeMode::Reject,
            row_cap: 60_000,
            probe_min_interval: Duration::from_secs(1),
            maintenance_grace: Duration::from_millis(100),
            clock: SimClock::real(),
            log_path: None,
        }
    }

    fn validate(&self) -> io::Result<()> {
        let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        if self.operations.is_empty() {
            return invalid("the simulator needs at least one operation".into());
        }
        let mut tokens = std::collections::HashSet::new();
        for op in &self.operations {
            if op.licenses == 0 || op.tokens.is_empty() || op.rollover_hour > 23 {
                return invalid(format!(
                    "operation {:?} needs licenses ≥ 1, a token and a rollover hour 0–23",
                    op.name
                ));
            }
            if op.tokens.iter().any(|t| !tokens.insert(t.as_str())) {
                return invalid(format!("operation {:?} shares a token with another", op.name));
            }
        }
        if !(0.0..=1.0).contains(&self.late.share) {
            return invalid(format!("late share {} is not between 0 and 1", self.late.share));
        }
        Ok(())
    }
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig::with_seed(0)
    }
}

/// One simulated operation (a wolkvox account).
#[derive(Clone, Debug)]
pub struct OperationConfig {
    /// The name used in the request log and the `Sim` accessors.
    pub name: String,
    /// The daily budget is `licenses × 1000` calls.
    pub licenses: u32,
    /// Tokens that call as this operation.
    pub tokens: Vec<String>,
    /// The zone of the operation's wall clock (default America/Bogota).
    pub time_zone: TimeZone,
    /// The hour of the operation's day at which the budget starts again.
    pub rollover_hour: u8,
    /// Endpoints (`module/api`) that answer 404 "not enabled".
    pub disabled: Vec<String>,
    /// Scheduled maintenance windows.
    pub maintenance: Vec<MaintenanceWindow>,
    /// Start in maintenance (as if `Sim::set_maintenance(op, true)`).
    pub in_maintenance: bool,
}

impl OperationConfig {
    /// An operation with one token, in America/Bogota, rolling over at
    /// midnight.
    pub fn new(name: &str, licenses: u32, token: String) -> OperationConfig {
        OperationConfig {
            name: name.to_string(),
            licenses,
            tokens: vec![token],
            time_zone: default_time_zone(),
            rollover_hour: 0,
            disabled: Vec::new(),
            maintenance: Vec::new(),
            in_maintenance: false,
        }
    }

    /// Calls per day.
    pub fn daily_limit(&self) -> u64 {
        u64::from(self.licenses) * 1_000
    }
}

fn default_time_zone() -> TimeZone {
    // The zone is bundled (jiff's tzdb-bundle-always), so the fallback,
    // Bogotá's fixed offset, is only there to avoid a panic path.
    TimeZone::get(DEFAULT_TIME_ZONE).unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(-5)))
}

/// A maintenance window, `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MaintenanceWindow {
    /// The first instant in maintenance.
    pub start: MaintenanceTime,
    /// The first instant out of it again.
    pub end: MaintenanceTime,
}

/// A maintenance boundary: the operation's wall clock, or an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaintenanceTime {
    /// A wall-clock time in the operation's zone.
    Wall(civil::DateTime),
    /// An instant.
    At(Timestamp),
}

impl MaintenanceTime {
    fn instant(self, tz: &TimeZone) -> Option<Timestamp> {
        match self {
            MaintenanceTime::At(t) => Some(t),
            MaintenanceTime::Wall(w) => w.to_zoned(tz.clone()).ok().map(|z| z.timestamp()),
        }
    }
}

impl MaintenanceWindow {
    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: Timestamp, tz: &TimeZone) -> bool {
        match (self.start.instant(tz), self.end.instant(tz)) {
            (Some(start), Some(end)) => start <= at && at < end,
            _ => false,
        }
    }
}

/// Detail rows that become visible some time after their timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct LateData {
    /// The share of detail rows that are late, 0 to 1 (default 0).
    pub share: f64,
    /// The shortest delay (default 5 minutes).
    pub min_delay: Duration,
    /// The longest delay (default 3 hours).
    pub max_delay: Duration,
}

impl Default for LateData {
    fn default() -> LateData {
        LateData {
            share: 0.0,
            min_delay: Duration::from_secs(5 * 60),
            max_delay: Duration::from_secs(3 * 3_600),
        }
    }
}

/// How a window with no rows is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyWindow {
    /// 404 "Validate dates entered", as users observed (wolkvox-api.md §2.3).
    NotFound,
    /// 200 with `"data": []`, as one vendor page claims.
    EmptyData,
}

/// What a window longer than the endpoint's limit gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeMode {
    /// 400 with `messages::MSG_RANGE_TOO_LONG`.
    Reject,
    /// Served like any other window.
    Serve,
}

/// Why the simulator failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// `--listen` named an address other hosts could reach.
    #[error("the simulator listens on loopback only, not {0}")]
    NotLoopback(SocketAddr),
    /// Binding the address failed (or the configuration is invalid).
    #[error("starting the simulator on {addr}: {source}")]
    Start { addr: SocketAddr, source: io::Error },
    /// The server stopped with an error.
    #[error("the simulator server failed: {0}")]
    Serve(#[source] io::Error),
    /// The server task or a handler panicked.
    #[error("a simulator task panicked: {0}")]
    Panicked(String),
    /// A command-line option could not be read.
    #[error("invalid simulator option: {0}")]
    Args(String),
    /// The fault profile could not be loaded.
    #[error(transparent)]
    Faults(#[from] faults::FaultsError),
}

/// A running simulator. Dropping it stops the server; [`Sim::shutdown`]
/// also reports panics.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Sim {
    /// Starts serving on `127.0.0.1` at a free port.
    pub async fn start(config: SimConfig) -> io::Result<Sim> {
        Sim::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts serving on `addr`, which must be a loopback address.
    pub async fn start_on(config: SimConfig, addr: SocketAddr) -> io::Result<Sim> {
        if !addr.ip().is_loopback() {
            let msg = format!("the simulator listens on loopback only, not {addr}");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
        config.validate()?;
        let log = log::RequestLog::open(config.log_path.as_deref())?;
        let ops = config
            .operations
            .iter()
            .map(|o| data::OpData {
                name: o.name.clone(),
                tz: o.time_zone.clone(),
                pool: values::Pool::new(config.seed, &o.name),
            })
            .collect();
        let shared = Arc::new(Shared::new(config, ops, log));
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let quit = async {
                let _ = stopped.await;
            };
            axum::serve(listener, app).with_graceful_shutdown(quit).await
        });
        Ok(Sim { shared, addr, stop: Some(stop), task: Some(task) })
    }

    /// `http://127.0.0.1:<port>`; requests go to `{base_url}/api/v2/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The simulator's clock (a handle: setting it moves the simulator).
    pub fn clock(&self) -> SimClock {
        self.shared.config.clock.clone()
    }

    /// The first token of the first operation.
    pub fn token(&self) -> &str {
        &self.shared.config.operations[0].tokens[0]
    }

    /// The configuration served.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// Switches an operation's maintenance on or off; false if there is no
    /// such operation.
    pub fn set_maintenance(&self, operation: &str, on: bool) -> bool {
        let Some(op) = self.shared.op_index(operation) else { return false };
        self.shared.set_maintenance(op, on);
        true
    }

    /// The rows the first operation holds for this question, visible now,
    /// in [`Endpoint::columns`] order (`_extra` is `None`): what
    /// `api::envelope::decode` gives for the body of a successful answer.
    /// `params` are the query parameters besides the dates; the dates are
    /// ignored for endpoints without a window. Budget counters
    /// (`token_info`) are those of the operation's first token now.
    pub fn rows(
        &self,
        ep: &Endpoint,
        params: &[(&str, &str)],
        date_ini: civil::DateTime,
        date_end: civil::DateTime,
    ) -> Vec<Vec<Option<String>>> {
        let name = self.shared.config.operations[0].name.clone();
        self.rows_for(&name, ep, params, date_ini, date_end).unwrap_or_default()
    }

    /// [`Sim::rows`] for a named operation; `None` if there is none.
    pub fn rows_for(
        &self,
        operation: &str,
        ep: &Endpoint,
        params: &[(&str, &str)],
        date_ini: civil::DateTime,
        date_end: civil::DateTime,
    ) -> Option<Vec<Vec<Option<String>>>> {
        let op = self.shared.op_index(operation)?;
        let params = server::data_params(params.iter().copied());
        let window = ep.is_windowed().then_some((date_ini, date_end));
        let token = &self.shared.config.operations[op].tokens[0];
        let records = self.shared.records(op, token, ep, &params, window);
        Some(data::flatten(ep, &records))
    }

    /// Every request so far, in arrival order.
    pub fn request_log(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).records.clone()
    }

    /// Every request so far that broke one of the API's rules.
    pub fn breaches(&self) -> Vec<Breach> {
        lock(&self.shared.log).breaches.clone()
    }

    /// Calls the operation spent on its current budget day (0 for an
    /// unknown operation).
    pub fn budget_used(&self, operation: &str) -> u64 {
        self.shared.op_index(operation).map_or(0, |op| self.shared.budget_used(op))
    }

    /// Requests of the operation being served now, over all its tokens
    /// (0 for an unknown operation).
    pub fn in_flight(&self, operation: &str) -> u32 {
        self.shared.op_index(operation).map_or(0, |op| self.shared.in_flight(op))
    }

    /// Waits until no request of any operation is being served (bodies
    /// sent or abandoned).
    pub async fn wait_idle(&self) {
        loop {
            let released = self.shared.released.notified();
            let busy = (0..self.shared.ops.len()).any(|op| self.shared.in_flight(op) > 0);
            if !busy {
                return;
            }
            released.await;
        }
    }

    /// The most requests one token ever had in flight, counting arrivals
    /// that were turned away.
    pub fn max_in_flight_seen(&self) -> u32 {
        self.shared.max_in_flight_seen()
    }

    /// Stops serving, waits for the server task, and reports a panic in it
    /// or in any handler.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => return Err(SimError::Serve(err)),
                Err(err) => return Err(SimError::Panicked(err.to_string())),
            }
        }
        let panics = lock(&self.shared.panics).clone();
        match panics.first() {
            Some(first) => Err(SimError::Panicked(first.clone())),
            None => Ok(()),
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
