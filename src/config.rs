//! The operation config: where files go, and how to reach each wolkvox
//! operation (URL, token source, daily budget, time zone, maintenance
//! backoff).
//!
//! The file is TOML. Operations are an array of tables, one
//! `[[operation]]` per operation, each with a `name`:
//!
//! ```toml
//! output_dir = "/var/lib/wolkvox-sync/out"
//!
//! [[operation]]
//! name = "main"
//! server = "0004"
//! token_credential = "wolkvox-main"
//! licenses = 8
//! ```
//!
//! This module owns parsing and validating that file, reporting every
//! problem at once with its `path:line:column`, and reading tokens (which
//! never appear in the file). It also holds the small TOML helpers that
//! [`crate::jobs`] uses for the same kind of messages. It leaves job files
//! to [`crate::jobs`] and the use of budgets and backoff to the pacer.

use std::{
    collections::BTreeSet,
    ffi::OsString,
    fmt,
    net::IpAddr,
    ops::Range,
    path::{Path, PathBuf},
    time::Duration,
};

use jiff::{SignedDuration, tz::TimeZone};
use serde::{Deserialize, de::DeserializeOwned, de::IgnoredAny};
use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

/// The zone of an operation that does not name one: wolkvox reads report
/// dates as UTC−5 wall-clock time in practice.
pub const DEFAULT_TIMEZONE: &str = "America/Bogota";
/// How long shutdown waits for in-flight work by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The first wait before probing an API in maintenance, by default.
pub const DEFAULT_PROBE_INITIAL: Duration = Duration::from_secs(30);
/// The longest wait between maintenance probes, by default.
pub const DEFAULT_PROBE_MAX: Duration = Duration::from_secs(600);
/// Requests in flight per operation by default: the API's limit per token.
pub const DEFAULT_MAX_IN_FLIGHT: u8 = 2;
/// Calls each license adds to the operation's daily budget.
pub const CALLS_PER_LICENSE: u32 = 1_000;

/// A validated operation config.
#[derive(Clone, Debug)]
pub struct Config {
    /// The config file this came from.
    pub path: PathBuf,
    /// The folder of job files (default: `jobs` beside the config file).
    pub jobs_dir: PathBuf,
    /// Where the CSV and Parquet files go (default: `output` beside the
    /// config file).
    pub output_dir: PathBuf,
    /// Where the ledger, cursors and pause state live (default: `state`
    /// beside the config file).
    pub state_dir: PathBuf,
    /// A daily-rolling log file, if logs should go to a file as well.
    pub log_file: Option<PathBuf>,
    /// How long shutdown waits for in-flight work (default 30 s).
    pub shutdown_grace: Duration,
    /// The operations, at least one, with unique names.
    pub operations: Vec<Operation>,
}

/// One wolkvox operation: an API host, a token and its shared limits.
#[derive(Clone, Debug)]
pub struct Operation {
    /// The name jobs refer to (letters, digits, `_`, `-`).
    pub name: String,
    /// The API base URL without a trailing slash, e.g.
    /// `https://wv0004.wolkvox.com`; plain http only for loopback hosts.
    pub base_url: String,
    /// Where the token is read from.
    pub token: TokenSource,
    /// Licenses of the operation (at least 1); the daily budget is
    /// licenses × 1000 calls.
    pub licenses: u32,
    /// Calls of the daily budget left for other consumers of the
    /// operation; less than the budget.
    pub reserve: u32,
    /// The operation's wall-clock zone (default America/Bogota).
    pub timezone: TimeZone,
    /// The hour (0–23, zone time) at which the daily budget starts over.
    pub rollover_hour: u8,
    /// Requests in flight at once, 1 or 2 (default 2).
    pub max_in_flight: u8,
    /// The first wait before probing during maintenance (default 30 s).
    pub probe_initial: Duration,
    /// The longest wait between maintenance probes (default 10 min); never
    /// less than `probe_initial`.
    pub probe_max: Duration,
}

/// Where an operation's token comes from. The config never holds a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A file holding the token (trimmed when read).
    File(PathBuf),
    /// An environment variable holding the token.
    Env(String),
    /// A systemd credential, read from `$CREDENTIALS_DIRECTORY/<name>`.
    Credential(String),
}

/// A wolkvox token. It prints as `<redacted>` so it cannot leak into logs
/// or errors by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    /// The token itself, for the `wolkvox-token` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A problem in a TOML file, at a 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Why a config could not be loaded or a token read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read config: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// Every problem found in the file, in file order.
    #[error("{}", problem_lines(.0))]
    Invalid(Vec<Problem>),
    #[error("operation `{operation}`: cannot read token file {}: {source}", path.display())]
    TokenFile { operation: String, path: PathBuf, source: std::io::Error },
    #[error("operation `{operation}`: environment variable `{var}` is not set or not UTF-8")]
    TokenEnv { operation: String, var: String },
    #[error("operation `{operation}`: cannot read credential `{name}`: {reason}")]
    TokenCredential { operation: String, name: String, reason: String },
    #[error("operation `{operation}`: the token from {source_name} is empty")]
    TokenEmpty { operation: String, source_name: String },
}

fn problem_lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::parse(&text, path)
    }

    /// Validates config text; `path` names it in messages and anchors the
    /// relative folders.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let source = SourceFile { path, text };
        let decoded = decode::<RawConfig>(&source);
        let mut problems = decoded.problems;
        let config = decoded.value.and_then(|raw| {
            let mut check =
                Checker { source: &source, dropped: &decoded.dropped, problems: vec![] };
            let config = check.config(raw);
            problems.append(&mut check.problems);
            config
        });
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid(sorted(problems))),
        }
    }

    /// The operation named `name`.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.name == name)
    }
}

impl Operation {
    /// The calls per day this daemon may spend: licenses × 1000 less the
    /// reserve.
    pub fn daily_budget(&self) -> u32 {
        self.licenses * CALLS_PER_LICENSE - self.reserve
    }

    /// Reads the token from its source, trimmed.
    pub fn read_token(&self) -> Result<Token, ConfigError> {
        self.read_token_with(|name| std::env::var_os(name))
    }

    /// [`Operation::read_token`] with the environment given as a lookup,
    /// so tests need not change the process environment.
    pub fn read_token_with(
        &self,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Token, ConfigError> {
        let operation = self.name.clone();
        let (text, source_name) = match &self.token {
            TokenSource::File(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::TokenFile {
                        operation: operation.clone(),
                        path: path.clone(),
                        source,
                    })?;
                (text, format!("file {}", path.display()))
            }
            TokenSource::Env(var) => {
                let value = env(var).and_then(|v| v.into_string().ok());
                let text = value.ok_or_else(|| ConfigError::TokenEnv {
                    operation: operation.clone(),
                    var: var.clone(),
                })?;
                (text, format!("environment variable `{var}`"))
            }
            TokenSource::Credential(name) => {
                (read_credential(&operation, name, &env)?, format!("credential `{name}`"))
            }
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(ConfigError::TokenEmpty { operation, source_name });
        }
        Ok(Token(token.to_string()))
    }
}

fn read_credential(
    operation: &str,
    name: &str,
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<String, ConfigError> {
    let error = |reason: String| ConfigError::TokenCredential {
        operation: operation.to_string(),
        name: name.to_string(),
        reason,
    };
    let Some(dir) = env("CREDENTIALS_DIRECTORY") else {
        return Err(error(
            "$CREDENTIALS_DIRECTORY is not set (run under systemd with LoadCredential=)".into(),
        ));
    };
    let path = PathBuf::from(dir).join(name);
    std::fs::read_to_string(&path).map_err(|err| error(format!("{}: {err}", path.display())))
}

/// The config file as written. Every field is optional here so that one bad
/// key is reported without hiding the others; [`Checker`] applies defaults
/// and requirements.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Folder of job files, relative to the config file's folder.
    jobs_dir: Option<Spanned<PathBuf>>,
    /// Folder of output files, relative to the config file's folder.
    output_dir: Option<Spanned<PathBuf>>,
    /// Folder of state files, relative to the config file's folder.
    state_dir: Option<Spanned<PathBuf>>,
    /// A daily-rolling log file.
    log_file: Option<Spanned<PathBuf>>,
    /// A duration such as `30s`.
    shutdown_grace: Option<Spanned<String>>,
    /// Present only to refuse it with a helpful message.
    token: Option<Spanned<IgnoredAny>>,
    /// The `[[operation]]` tables.
    #[serde(default)]
    operation: Vec<Spanned<RawOperation>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperation {
    name: Option<Spanned<String>>,
    /// A 4-digit wolkvox server number such as `0004`.
    server: Option<Spanned<String>>,
    /// A full base URL instead of `server` (e.g. a local simulator).
    base_url: Option<Spanned<String>>,
    token_file: Option<Spanned<PathBuf>>,
    token_env: Option<Spanned<String>>,
    token_credential: Option<Spanned<String>>,
    /// Present only to refuse it with a helpful message.
    token: Option<Spanned<IgnoredAny>>,
    licenses: Option<Spanned<u32>>,
    reserve: Option<Spanned<u32>>,
    timezone: Option<Spanned<String>>,
    rollover_hour: Option<Spanned<u8>>,
    max_in_flight: Option<Spanned<u8>>,
    probe_initial: Option<Spanned<String>>,
    probe_max: Option<Spanned<String>>,
}

const TOKEN_IN_CONFIG: &str = "`token` is not allowed in the config: keep the token out of this \
                               file and set one of `token_file`, `token_env` or `token_credential`";

/// Turns a decoded [`RawConfig`] into a [`Config`], collecting problems.
struct Checker<'a> {
    source: &'a SourceFile<'a>,
    dropped: &'a BTreeSet<String>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn config(&mut self, raw: RawConfig) -> Option<Config> {
        if let Some(token) = &raw.token {
            self.report(token.span(), TOKEN_IN_CONFIG);
        }
        let dir = config_dir(self.source.path);
        let folder = |value: Option<Spanned<PathBuf>>, default: &str| match value {
            Some(path) => dir.join(path.into_inner()),
            None => dir.join(default),
        };
        let jobs_dir = folder(raw.jobs_dir, "jobs");
        let output_dir = folder(raw.output_dir, "output");
        let state_dir = folder(raw.state_dir, "state");
        let log_file = raw.log_file.map(|p| dir.join(p.into_inner()));
        let shutdown_grace =
            self.duration(raw.shutdown_grace.as_ref(), "shutdown_grace", DEFAULT_SHUTDOWN_GRACE);
        let operations = self.operations(raw.operation);

        Some(Config {
            path: self.source.path.to_path_buf(),
            jobs_dir,
            output_dir,
            state_dir,
            log_file,
            shutdown_grace: shutdown_grace?,
            operations,
        })
    }

    fn operations(&mut self, raw: Vec<Spanned<RawOperation>>) -> Vec<Operation> {
        if raw.is_empty() && !self.dropped.contains("operation") {
            self.report(0..0, "no operation: add at least one `[[operation]]` table");
        }
        let mut names = BTreeSet::new();
        let mut operations = Vec::new();
        for (index, op) in raw.into_iter().enumerate() {
            if let Some(name) = &op.get_ref().name
                && !names.insert(name.get_ref().clone())
            {
                self.report(name.span(), format!("operation `{name}` is defined twice"));
            }
            if let Some(op) = self.operation(index, op) {
                operations.push(op);
            }
        }
        operations
    }

    fn operation(&mut self, index: usize, raw: Spanned<RawOperation>) -> Option<Operation> {
        let at = raw.span();
        let raw = raw.into_inner();
        let missing = |checker: &Self, key: &str| {
            !checker.dropped.contains(&format!("operation.{index}.{key}"))
        };
        if let Some(token) = &raw.token {
            self.report(token.span(), TOKEN_IN_CONFIG);
        }

        let name = self.operation_name(raw.name.as_ref(), at.clone(), missing(self, "name"));
        let url_missing = missing(self, "server") && missing(self, "base_url");
        let base_url = self.base_url(&raw, at.clone(), url_missing);
        let token_missing = raw.token.is_none()
            && ["token_file", "token_env", "token_credential"].iter().all(|key| missing(self, key));
        let token = self.token_source(&raw, at.clone(), token_missing);
        let licenses = self.licenses(raw.licenses.as_ref(), at, missing(self, "licenses"));
        let reserve = raw.reserve.as_ref().map_or(0, |r| *r.get_ref());
        let timezone = self.timezone(raw.timezone.as_ref());
        let rollover_hour = self.rollover_hour(raw.rollover_hour.as_ref());
        let max_in_flight = self.max_in_flight(raw.max_in_flight.as_ref());
        let probe_initial =
            self.duration(raw.probe_initial.as_ref(), "probe_initial", DEFAULT_PROBE_INITIAL);
        let probe_max = self.duration(raw.probe_max.as_ref(), "probe_max", DEFAULT_PROBE_MAX);

        if let (Some(licenses), Some(r)) = (licenses, &raw.reserve) {
            let budget = u64::from(licenses) * u64::from(CALLS_PER_LICENSE);
            if u64::from(reserve) >= budget {
                let message = format!(
                    "`reserve` ({reserve}) must be less than the daily budget of {budget} calls \
                     (licenses × {CALLS_PER_LICENSE})"
                );
                self.report(r.span(), message);
            }
        }
        if let (Some(initial), Some(max), Some(r)) = (probe_initial, probe_max, &raw.probe_max)
            && max < initial
        {
            self.report(r.span(), "`probe_max` must not be shorter than `probe_initial`");
        }

        Some(Operation {
            name: name?,
            base_url: base_url?,
            token: token?,
            licenses: licenses?,
            reserve,
            timezone: timezone?,
            rollover_hour: rollover_hour?,
            max_in_flight: max_in_flight?,
            probe_initial: probe_initial?,
            probe_max: probe_max?,
        })
    }

    fn operation_name(
        &mut self,
        name: Option<&Spanned<String>>,
        at: Range<usize>,
        report_missing: bool,
    ) -> Option<String> {
        let Some(name) = name else {
            if report_missing {
                self.report(at, "operation has no `name`");
            }
            return None;
        };
        if !is_plain_name(name.get_ref()) {
            let message = format!(
                "operation name `{name}` may use only letters, digits, `_` and `-`",
                name = name.get_ref()
            );
            self.report(name.span(), message);
            return None;
        }
        Some(name.get_ref().clone())
    }

    fn base_url(
        &mut self,
        raw: &RawOperation,
        at: Range<usize>,
        report_missing: bool,
    ) -> Option<String> {
        match (&raw.server, &raw.base_url) {
            (Some(server), None) => self.server(server),
            (None, Some(url)) => match check_base_url(url.get_ref()) {
                Ok(url) => Some(url),
                Err(message) => {
                    self.report(url.span(), message);
                    None
                }
            },
            (Some(_), Some(url)) => {
                self.report(url.span(), "set only one of `server` and `base_url`");
                None
            }
            (None, None) => {
                if report_missing {
                    self.report(at, "operation has neither `server` nor `base_url`");
                }
                None
            }
        }
    }

    fn server(&mut self, server: &Spanned<String>) -> Option<String> {
        let number = server.get_ref();
        if number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("https://wv{number}.wolkvox.com"));
        }
        let message =
            format!("`server` must be 4 digits, zero-padded like \"0004\", not {number:?}");
        self.report(server.span(), message);
        None
    }

    fn token_source(
        &mut self,
        raw: &RawOperation,
        at: Range<usize>,
        report_missing: bool,
    ) -> Option<TokenSource> {
        let mut sources = Vec::new();
        if let Some(path) = &raw.token_file {
            let file = config_dir(self.source.path).join(path.get_ref());
            sources.push((path.span(), TokenSource::File(file)));
        }
        if let Some(var) = &raw.token_env {
            sources.push((var.span(), TokenSource::Env(var.get_ref().clone())));
        }
        if let Some(name) = &raw.token_credential {
            if !is_credential_name(name.get_ref()) {
                let message = format!("`token_credential` {:?} is not a file name", name.get_ref());
                self.report(name.span(), message);
                return None;
            }
            sources.push((name.span(), TokenSource::Credential(name.get_ref().clone())));
        }
        match sources.len() {
            0 => {
                if report_missing {
                    let message = "operation has no token source: set one of `token_file`, \
                                   `token_env` or `token_credential`";
                    self.report(at, message);
                }
                None
            }
            1 => sources.pop().map(|(_, source)| source),
            _ => {
                let span = sources[1].0.clone();
                let message = "set only one of `token_file`, `token_env` and `token_credential`";
                self.report(span, message);
                None
            }
        }
    }

    fn licenses(
        &mut self,
        licenses: Option<&Spanned<u32>>,
        at: Range<usize>,
        report_missing: bool,
    ) -> Option<u32> {
        let Some(licenses) = licenses else {
            if report_missing {
                self.report(at, "operation has no `licenses`");
            }
            return None;
        };
        let count = *licenses.get_ref();
        if count == 0 || count.checked_mul(CALLS_PER_LICENSE).is_none() {
            self.report(licenses.span(), format!("`licenses` must be at least 1, not {count}"));
            return None;
        }
        Some(count)
    }

    fn timezone(&mut self, name: Option<&Spanned<String>>) -> Option<TimeZone> {
        let Some(name) = name else {
            return TimeZone::get(DEFAULT_TIMEZONE).ok();
        };
        match TimeZone::get(name.get_ref()) {
            Ok(tz) => Some(tz),
            Err(_) => {
                let message = format!("unknown time zone `{}` (use an IANA name)", name.get_ref());
                self.report(name.span(), message);
                None
            }
        }
    }

    fn rollover_hour(&mut self, hour: Option<&Spanned<u8>>) -> Option<u8> {
        let Some(hour) = hour else {
            return Some(0);
        };
        if *hour.get_ref() > 23 {
            let message = format!("`rollover_hour` must be 0 to 23, not {}", hour.get_ref());
            self.report(hour.span(), message);
            return None;
        }
        Some(*hour.get_ref())
    }

    fn max_in_flight(&mut self, count: Option<&Spanned<u8>>) -> Option<u8> {
        let Some(count) = count else {
            return Some(DEFAULT_MAX_IN_FLIGHT);
        };
        if !(1..=2).contains(count.get_ref()) {
            let message = format!(
                "`max_in_flight` must be 1 or 2 (the API allows 2 per token), not {}",
                count.get_ref()
            );
            self.report(count.span(), message);
            return None;
        }
        Some(*count.get_ref())
    }

    fn duration(
        &mut self,
        text: Option<&Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Option<Duration> {
        let Some(text) = text else {
            return Some(default);
        };
        match parse_duration(text.get_ref()) {
            Ok(duration) => Some(duration),
            Err(reason) => {
                self.report(text.span(), format!("`{key}`: {reason}"));
                None
            }
        }
    }

    fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(self.source.problem(Some(span), message));
    }
}

fn config_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Checks a `base_url`: http(s) only, plain http only to a loopback host,
/// no credentials, query or fragment. Returns it without a trailing slash.
fn check_base_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|err| format!("`base_url` {text:?}: {err}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("`base_url` must not carry a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("`base_url` must not have a query or fragment".into());
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "`base_url` uses plain http to `{host}`: http is allowed only for loopback \
                 hosts (127.0.0.0/8, ::1, localhost); use https"
            ));
        }
        other => return Err(format!("`base_url` must be http or https, not `{other}`")),
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses a duration such as `30s`, `10m` or `1h30m` (jiff's friendly
/// format); it must not be negative.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let signed = parse_signed_duration(text)?;
    Duration::try_from(signed).map_err(|_| format!("duration {text:?} must not be negative"))
}

/// [`parse_duration`] as a jiff duration, for civil-time arithmetic.
pub(crate) fn parse_signed_duration(text: &str) -> Result<SignedDuration, String> {
    let signed: SignedDuration = text.trim().parse().map_err(|_| {
        format!("{text:?} is not a duration (write it like \"30s\", \"10m\", \"1h\")")
    })?;
    if signed.is_negative() {
        return Err(format!("duration {text:?} must not be negative"));
    }
    Ok(signed)
}

/// Letters, digits, `_` and `-`, at least one.
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_credential_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

fn sorted(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|p| (p.line, p.column));
    problems
}

/// A TOML file being checked: its path and text, to turn byte spans into
/// `path:line:column`.
pub(crate) struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl SourceFile<'_> {
    /// A problem at the start of `span` (1:1 without a span).
    pub(crate) fn problem(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Problem {
        let (line, column) = span.map_or((1, 1), |span| line_column(self.text, span.start));
        Problem { path: self.path.to_path_buf(), line, column, message: message.into() }
    }
}

/// The 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The outcome of decoding a TOML document into a raw struct.
pub(crate) struct Decoded<T> {
    /// The raw struct, without the keys that failed; `None` after a syntax
    /// error or an error no single key could be blamed for.
    pub value: Option<T>,
    /// One problem per failure, with its position.
    pub problems: Vec<Problem>,
    /// The dotted paths of keys dropped because they failed (array items by
    /// index, e.g. `operation.1.licenses`), so that checks of required keys
    /// do not report them a second time.
    pub dropped: BTreeSet<String>,
}

/// Decodes `source` into `T` (a `deny_unknown_fields` struct whose fields
/// are all optional), reporting every failing key rather than the first:
/// serde stops at the first error, so the key it names is dropped and the
/// decoding tried again, until it succeeds.
pub(crate) fn decode<T: DeserializeOwned>(source: &SourceFile<'_>) -> Decoded<T> {
    let mut decoded = Decoded { value: None, problems: Vec::new(), dropped: BTreeSet::new() };
    let (mut doc, syntax) = DeTable::parse_recoverable(source.text);
    if !syntax.is_empty() {
        for err in syntax {
            decoded.problems.push(source.problem(err.span(), err.message()));
        }
        return decoded;
    }

    loop {
        let attempt = T::deserialize(toml::de::Deserializer::from(doc.clone()));
        let err = match attempt {
            Ok(value) => {
                decoded.value = Some(value);
                return decoded;
            }
            Err(err) => err,
        };
        decoded.problems.push(source.problem(err.span(), err.message()));
        let dropped = err.span().and_then(|span| drop_key(doc.get_mut(), &span, ""));
        match dropped {
            Some(path) => decoded.dropped.insert(path),
            None => return decoded,
        };
    }
}

/// Removes the innermost key of `table` whose key or value covers `span`,
/// returning its dotted path. Inner tables are searched first and without
/// asking their parent to cover the span, because a `[table]` header's span
/// does not reach the keys below it.
fn drop_key(table: &mut DeTable<'_>, span: &Range<usize>, prefix: &str) -> Option<String> {
    for (key, value) in table.iter_mut() {
        let path = dotted(prefix, key.get_ref());
        if let Some(inner) = drop_inside(value, span, &path) {
            return Some(inner);
        }
    }

    let covers = |outer: Range<usize>| outer.start <= span.start && span.end <= outer.end;
    let key = table
        .iter()
        .find(|(key, value)| covers(key.span()) || covers(value.span()))
        .map(|(key, _)| key.get_ref().to_string())?;
    table.remove(key.as_str());
    Some(dotted(prefix, &key))
}

fn drop_inside(
    value: &mut Spanned<DeValue<'_>>,
    span: &Range<usize>,
    path: &str,
) -> Option<String> {
    match value.get_mut() {
        DeValue::Table(table) => drop_key(table, span, path),
        DeValue::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                if let DeValue::Table(table) = item.get_mut()
                    && let Some(inner) = drop_key(table, span, &format!("{path}.{index}"))
                {
                    return Some(inner);
                }
            }
            None
        }
        _ => None,
    }
}

fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let text = "a = 1\nñb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 8), (2, 2));
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "[::2]", "128.0.0.1"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
