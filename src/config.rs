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
//! never appear in the file). Its `diag` part holds the small TOML helpers
//! that [`crate::jobs`] uses for the same kind of messages; `check` holds
//! the raw file structs and their validation. It leaves job files
//! to [`crate::jobs`] and the use of budgets and backoff to the pacer.

use std::{
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use jiff::{SignedDuration, tz::TimeZone};

pub use diag::Problem;
pub(crate) use diag::{SourceFile, decode};

mod check;
mod diag;

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
    #[error(
        "operation `{operation}`: the token from {source_name} has spaces, line breaks or \
         characters other than visible ASCII; it must be the token alone"
    )]
    TokenMalformed { operation: String, source_name: String },
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
        check::config(text, path).map_err(ConfigError::Invalid)
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
        // Editors on Windows start a file with a byte order mark.
        let token = text.trim_start_matches('\u{feff}').trim();
        if token.is_empty() {
            return Err(ConfigError::TokenEmpty { operation, source_name });
        }
        // Only visible ASCII can travel in the `wolkvox-token` header; a
        // second line or a space means the wrong file, and would otherwise
        // fail every request as if the network were down.
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::TokenMalformed { operation, source_name });
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

#[cfg(test)]
mod tests {
    use super::*;

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
