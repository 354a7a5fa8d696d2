//! The simulator's HTTP side: routes, the gate, and carrying out faults.
//!
//! Every request passes the gate in the API's order: token (401/403),
//! maintenance, in-flight slots per token, the operation's daily budget;
//! then the route (unknown API, parameters, window) and finally the data.
//! The gate also counts the budget and records breaches. Row generation
//! is `data`'s, body text `body`'s, and the lifecycle (`Sim`) `mod`'s.

use std::{
    collections::HashMap,
    io,
    panic::AssertUnwindSafe,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use futures_util::{FutureExt as _, StreamExt as _, stream};
use jiff::{SignedDuration, Timestamp, ToSpan, civil};
use tokio::sync::Notify;

use super::{
    EmptyWindow, RangeMode, SimConfig, body,
    data::{self, Ask, OpData, Record, Source},
    faults::Fault,
    log::{Breach, BreachKind, RequestLog, RequestRecord, token_hash},
};
use crate::{
    api::messages,
    catalog::{Endpoint, Grain, catalog},
};

/// Requests one token may have in flight.
const SLOTS_PER_TOKEN: u32 = 2;
/// Body chunks as they go on the wire.
const CHUNK: usize = 64 * 1024;

/// State shared by the handlers and the `Sim` handle.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub ops: Vec<OpData>,
    gate: Mutex<Gate>,
    pub log: Mutex<RequestLog>,
    seq: AtomicU64,
    pub panics: Mutex<Vec<String>>,
    /// Woken whenever a slot is given back.
    pub released: Notify,
}

#[derive(Debug, Default)]
struct Gate {
    ops: Vec<OpGate>,
    max_in_flight: u32,
}

/// The live counters of one operation.
#[derive(Debug, Default)]
struct OpGate {
    /// The budget day `used` counts.
    day: Option<civil::Date>,
    used: u64,
    maintenance: bool,
    /// The last arrival during the current maintenance period.
    last_in_maintenance: Option<Timestamp>,
    in_flight: HashMap<String, u32>,
    /// Calls of `day` per token.
    used_by: HashMap<String, u64>,
}

/// What the gate decided.
enum Verdict {
    Maintenance,
    Simultaneous,
    BudgetSpent,
    Serve(SlotGuard),
}

/// One in-flight slot of a token, given back when dropped: after the last
/// byte of the body is sent, or when the client goes away.
pub(crate) struct SlotGuard {
    shared: Arc<Shared>,
    op: usize,
    token: String,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        {
            let mut gate = lock(&self.shared.gate);
            if let Some(n) = gate.ops[self.op].in_flight.get_mut(&self.token) {
                *n = n.saturating_sub(1);
            }
        }
        self.shared.released.notify_waiters();
    }
}

/// An answer before it becomes a response.
struct Reply {
    status: StatusCode,
    html: bool,
    body: Bytes,
    /// Send only this many bytes, then break the connection.
    cut: Option<usize>,
    guard: Option<SlotGuard>,
}

impl Reply {
    fn json(status: StatusCode, body: impl Into<Bytes>) -> Reply {
        Reply { status, html: false, body: body.into(), cut: None, guard: None }
    }

    fn error(status: StatusCode, error: &str, msg: &str) -> Reply {
        Reply::json(status, body::error(status.as_u16(), error, msg))
    }

    fn into_response(self) -> Response {
        let content_type =
            if self.html { "text/html; charset=utf-8" } else { "application/json; charset=utf-8" };
        let mut response =
            (self.status, stream_body(self.body, self.cut, self.guard)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

/// The body in chunks; a cut body ends in an error, which makes the server
/// drop the connection mid-body. The slot guard lives as long as the body.
fn stream_body(body: Bytes, cut: Option<usize>, guard: Option<SlotGuard>) -> Body {
    let end = cut.unwrap_or(body.len()).min(body.len());
    let mut chunks: Vec<io::Result<Bytes>> = Vec::new();
    let mut at = 0;
    while at < end {
        let next = (at + CHUNK).min(end);
        chunks.push(Ok(body.slice(at..next)));
        at = next;
    }
    let sent = !chunks.is_empty();
    let fail = stream::iter(cut.map(|_| ())).then(move |()| async move {
        if sent {
            // Give the server a turn to flush what was sent, so the cut
            // falls mid-body; with nothing sent, fail at once and the
            // connection closes before the headers go out.
            tokio::task::yield_now().await;
        }
        Err(io::Error::new(io::ErrorKind::ConnectionAborted, "simulated fault"))
    });
    let stream = stream::iter(chunks).chain(fail).map(move |chunk| {
        let _slot = &guard;
        chunk
    });
    Body::from_stream(stream)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its state consistent before anything
    // that can panic, so a poisoned lock still guards good data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(config: SimConfig, ops: Vec<OpData>, log: RequestLog) -> Shared {
        let gate = Gate {
            ops: config
                .operations
                .iter()
                .map(|o| OpGate { maintenance: o.in_maintenance, ..OpGate::default() })
                .collect(),
            max_in_flight: 0,
        };
        Shared {
            config,
            ops,
            gate: Mutex::new(gate),
            log: Mutex::new(log),
            seq: AtomicU64::new(0),
            panics: Mutex::new(Vec::new()),
            released: Notify::new(),
        }
    }

    pub(crate) fn op_index(&self, name: &str) -> Option<usize> {
        self.config.operations.iter().position(|o| o.name == name)
    }

    fn op_of_token(&self, token: &str) -> Option<usize> {
        self.config.operations.iter().position(|o| o.tokens.iter().any(|t| t == token))
    }

    pub(crate) fn set_maintenance(&self, op: usize, on: bool) {
        lock(&self.gate).ops[op].maintenance = on;
    }

    /// Calls counted for the operation's current budget day.
    pub(crate) fn budget_used(&self, op: usize) -> u64 {
        let today = self.budget_day(op, self.config.clock.now());
        let gate = lock(&self.gate);
        let og = &gate.ops[op];
        if og.day == Some(today) { og.used } else { 0 }
    }

    /// Requests of the operation in flight now, over all its tokens.
    pub(crate) fn in_flight(&self, op: usize) -> u32 {
        lock(&self.gate).ops[op].in_flight.values().sum()
    }

    pub(crate) fn max_in_flight_seen(&self) -> u32 {
        lock(&self.gate).max_in_flight
    }

    /// The day whose budget a call at `at` spends: the operation's date,
    /// with days starting at its rollover hour.
    fn budget_day(&self, op: usize, at: Timestamp) -> civil::Date {
        let cfg = &self.config.operations[op];
        let wall = at.to_zoned(cfg.time_zone.clone()).datetime();
        let shifted = wall.checked_sub(i64::from(cfg.rollover_hour).hours()).unwrap_or(wall);
        shifted.date()
    }

    fn in_scheduled_maintenance(&self, op: usize, at: Timestamp) -> bool {
        let cfg = &self.config.operations[op];
        cfg.maintenance.iter().any(|w| w.contains(at, &cfg.time_zone))
    }

    /// Counts the call and decides whether it may go on.
    fn admit(self: &Arc<Self>, op: usize, token: &str, rec: &mut RequestRecord) -> Verdict {
        let limit = self.config.operations[op].daily_limit();
        let day = self.budget_day(op, rec.at);
        let scheduled = self.in_scheduled_maintenance(op, rec.at);
        let mut breaches = Vec::new();
        let verdict = {
            let mut gate = lock(&self.gate);
            let og = &mut gate.ops[op];
            if og.day != Some(day) {
                og.day = Some(day);
                og.used = 0;
                og.used_by.clear();
            }
            let used_before = og.used;
            og.used += 1;
            *og.used_by.entry(token.to_string()).or_default() += 1;
            let in_flight = og.in_flight.get(token).copied().unwrap_or(0) + 1;
            rec.in_flight = in_flight;
            rec.budget_used = og.used;
            let maintenance = og.maintenance || scheduled;
            if maintenance {
                if let Some(prev) = og.last_in_maintenance {
                    let since = prev.duration_until(rec.at);
                    let min = SignedDuration::try_from(self.config.probe_min_interval)
                        .unwrap_or(SignedDuration::MAX);
                    let grace = SignedDuration::try_from(self.config.maintenance_grace)
                        .unwrap_or(SignedDuration::ZERO);
                    if since >= grace && since < min {
                        let since_previous = since.unsigned_abs();
                        breaches.push(BreachKind::Maintenance { since_previous });
                    }
                }
                og.last_in_maintenance = Some(rec.at);
            } else {
                og.last_in_maintenance = None;
            }
            if in_flight > SLOTS_PER_TOKEN {
                breaches.push(BreachKind::InFlight { in_flight });
            }
            if used_before >= limit {
                breaches.push(BreachKind::Budget { used: used_before, limit });
            }
            let verdict = if maintenance {
                Verdict::Maintenance
            } else if in_flight > SLOTS_PER_TOKEN {
                Verdict::Simultaneous
            } else if used_before >= limit {
                Verdict::BudgetSpent
            } else {
                og.in_flight.insert(token.to_string(), in_flight);
                let guard = SlotGuard { shared: Arc::clone(self), op, token: token.to_string() };
                Verdict::Serve(guard)
            };
            gate.max_in_flight = gate.max_in_flight.max(in_flight);
            verdict
        };
        self.record_breaches(op, rec, breaches);
        verdict
    }

    fn record_breaches(&self, op: usize, rec: &RequestRecord, kinds: Vec<BreachKind>) {
        if kinds.is_empty() {
            return;
        }
        let mut log = lock(&self.log);
        for kind in kinds {
            log.breaches.push(Breach {
                at: rec.at,
                seq: rec.seq,
                operation: self.config.operations[op].name.clone(),
                token: rec.token.clone().unwrap_or_default(),
                endpoint: rec.endpoint.clone(),
                kind,
            });
        }
    }

    /// The live counters `information token_info` reports for `token`, by
    /// field key.
    fn live(&self, op: usize, token: &str) -> Vec<(String, String)> {
        let today = self.budget_day(op, self.config.clock.now());
        let limit = self.config.operations[op].daily_limit();
        let gate = lock(&self.gate);
        let og = &gate.ops[op];
        let current = og.day == Some(today);
        let mine = og.used_by.get(token).copied().filter(|_| current).unwrap_or(0);
        let all = if current { og.used } else { 0 };
        vec![
            ("token_limit".to_string(), limit.to_string()),
            ("token_use_today".to_string(), mine.to_string()),
            ("all_token_today".to_string(), all.to_string()),
        ]
    }

    /// The rows the simulator holds for a question asked with `token`, as
    /// records.
    pub(crate) fn records(
        &self,
        op: usize,
        token: &str,
        ep: &Endpoint,
        params: &[(String, String)],
        window: Option<(civil::DateTime, civil::DateTime)>,
    ) -> Vec<Record> {
        let config = &self.config;
        let live = self.live(op, token);
        // A report on the calling token has one row: that token's.
        let about_token = ep.fields.iter().any(|f| f.key == "token_use_today");
        let volume = config.volumes.get(&ep.id()).copied().unwrap_or(match ep.grain {
            _ if about_token => 1,
            Some(Grain::Detail) => config.detail_volume,
            _ => config.snapshot_volume,
        });
        let src = Source {
            seed: config.seed,
            volume,
            late: &config.late,
            row_cap: config.row_cap,
            op: &self.ops[op],
        };
        let ask = Ask { ep, params, live: &live, window, now: config.clock.now() };
        data::generate(&src, &ask)
    }
}

/// The routes: every `/api/v2/{module}.php`.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v2/{file}", any(handle))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .with_state(shared)
}

/// Serves one request; a panic becomes a 500 and is kept for
/// `Sim::shutdown` to report.
async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let served = AssertUnwindSafe(serve(Arc::clone(&shared), method, file, params, headers));
    match served.catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a handler panicked".to_string());
            lock(&shared.panics).push(what);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    method: Method,
    file: String,
    params: Vec<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let module = file.strip_suffix(".php").unwrap_or(&file).to_string();
    let api = param(&params, "api").unwrap_or_default().to_string();
    let mut rec = RequestRecord {
        at: shared.config.clock.now(),
        seq: shared.seq.fetch_add(1, Ordering::SeqCst),
        operation: None,
        token: None,
        endpoint: format!("{module}/{api}"),
        params,
        status: 0,
        in_flight: 0,
        budget_used: 0,
        rows: None,
        fault: None,
    };
    let reply = answer(&shared, &method, &module, &api, &headers, &mut rec).await;
    rec.status = match rec.fault {
        Some("reset") => 0,
        _ => reply.status.as_u16(),
    };
    lock(&shared.log).push(rec);
    reply.into_response()
}

async fn answer(
    shared: &Arc<Shared>,
    method: &Method,
    module: &str,
    api: &str,
    headers: &HeaderMap,
    rec: &mut RequestRecord,
) -> Reply {
    let token = headers.get("wolkvox-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if token.is_empty() {
        let (e, m) = (messages::ERR_UNAUTHORIZED, messages::MSG_ENTER_TOKEN);
        return Reply::error(StatusCode::UNAUTHORIZED, e, m);
    }
    rec.token = Some(token_hash(token));
    let Some(op) = shared.op_of_token(token) else {
        return forbidden(messages::MSG_VALIDATE_TOKEN);
    };
    rec.operation = Some(shared.config.operations[op].name.clone());
    let guard = match shared.admit(op, token, rec) {
        Verdict::Maintenance => {
            return Reply::json(StatusCode::FORBIDDEN, messages::MAINTENANCE_BODY);
        }
        Verdict::Simultaneous => return forbidden(messages::MSG_SIMULTANEOUS),
        Verdict::BudgetSpent => return forbidden(messages::MSG_TOKEN_LIMIT),
        Verdict::Serve(guard) => guard,
    };
    let (ep, window) = match route(shared, op, method, module, api, &rec.params) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    let mut reply = respond(shared, op, token, ep, window, rec).await;
    reply.guard = Some(guard);
    reply
}

fn forbidden(msg: &str) -> Reply {
    Reply::error(StatusCode::FORBIDDEN, messages::ERR_FORBIDDEN, msg)
}

fn bad_request(msg: &str) -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, messages::ERR_BAD_REQUEST, msg)
}

type Window = Option<(civil::DateTime, civil::DateTime)>;

/// Finds the endpoint and checks its parameters and window.
fn route(
    shared: &Shared,
    op: usize,
    method: &Method,
    module: &str,
    api: &str,
    params: &[(String, String)],
) -> Result<(&'static Endpoint, Window), Reply> {
    let ep = catalog().get(module, api).ok_or_else(|| bad_request(messages::MSG_UNKNOWN_API))?;
    if !ep.method.eq_ignore_ascii_case(method.as_str()) {
        let msg = format!("USE {} FOR THIS API", ep.method);
        return Err(Reply::error(StatusCode::METHOD_NOT_ALLOWED, "METHOD NOT ALLOWED", &msg));
    }
    if shared.config.operations[op].disabled.iter().any(|d| *d == ep.id()) {
        let body = body::error(404, "NOT FOUND", messages::MSG_NOT_ENABLED);
        return Err(Reply::json(StatusCode::NOT_FOUND, body));
    }
    let missing = ep.required.iter().any(|r| param(params, r).is_none_or(str::is_empty));
    if missing {
        return Err(bad_request(messages::MSG_PARAMS_REQUIRED));
    }
    if !ep.is_windowed() {
        return Ok((ep, None));
    }
    let window = window(ep, params, shared.config.range)?;
    Ok((ep, Some(window)))
}

fn window(
    ep: &Endpoint,
    params: &[(String, String)],
    range: RangeMode,
) -> Result<(civil::DateTime, civil::DateTime), Reply> {
    let read = |name| param(params, name).and_then(parse_param_date);
    let (Some(ini), Some(end)) = (read("date_ini"), read("date_end")) else {
        return Err(bad_request(messages::MSG_RANGE_TOO_LONG));
    };
    if end < ini {
        return Err(bad_request(messages::MSG_RANGE_TOO_LONG));
    }
    // Both ends are inclusive: 00:00:00 to 23:59:59 covers one whole day.
    let covered = ini.duration_until(end).as_secs() + 1;
    let too_long = ep.max_window.is_some_and(|max| covered > max);
    if too_long && range == RangeMode::Reject {
        return Err(bad_request(messages::MSG_RANGE_TOO_LONG));
    }
    Ok((ini, end))
}

/// `YYYYmmddHHiiss`, the only form the API documents.
pub(crate) fn parse_param_date(raw: &str) -> Option<civil::DateTime> {
    if raw.len() != 14 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    civil::DateTime::strptime("%Y%m%d%H%M%S", raw).ok()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The parameters rows depend on: all but `api` and the dates, sorted.
pub(crate) fn data_params<'a>(
    params: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = params
        .filter(|(k, _)| !matches!(*k, "api" | "date_ini" | "date_end"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

/// Draws the request's fault, waits its latency, and builds the answer.
async fn respond(
    shared: &Arc<Shared>,
    op: usize,
    token: &str,
    ep: &'static Endpoint,
    window: Window,
    rec: &mut RequestRecord,
) -> Reply {
    let (fault, latency) = shared.config.faults.draw(shared.config.seed, rec.seq);
    rec.fault = fault.label();
    sleep(latency).await;
    match fault {
        Fault::ServerError(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Reply::json(status, Bytes::new());
        }
        Fault::Html => return html_502(),
        Fault::Slow(delay) => sleep(delay).await,
        _ => {}
    }
    let params = data_params(rec.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let campaign = param(&rec.params, "campaign_id").unwrap_or_default().to_string();
    let worker = Arc::clone(shared);
    let token = token.to_string();
    let built = tokio::task::spawn_blocking(move || {
        let records = worker.records(op, &token, ep, &params, window);
        let rows: usize = records.iter().map(Record::row_count).sum();
        let empty = records.is_empty() && worker.config.empty_window == EmptyWindow::NotFound;
        let body = if empty { Vec::new() } else { body::success(ep, &records, &campaign) };
        (rows, body)
    })
    .await;
    let (rows, body) = match built {
        Ok(built) => built,
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    };
    if body.is_empty() {
        return Reply::json(StatusCode::NOT_FOUND, body::empty_window());
    }
    rec.rows = Some(rows as u64);
    let mut reply = Reply::json(StatusCode::OK, body);
    reply.cut = match fault {
        Fault::Reset => Some(0),
        Fault::Truncate => Some(reply.body.len() / 2),
        _ => None,
    };
    reply
}

fn html_502() -> Reply {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                </body>\r\n</html>\r\n";
    Reply {
        status: StatusCode::BAD_GATEWAY,
        html: true,
        body: Bytes::from(page),
        cut: None,
        guard: None,
    }
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
