//! Turns the config file as written into a [`Config`], collecting every
//! problem with its position.

use std::{
    collections::BTreeSet,
    net::IpAddr,
    ops::Range,
    path::{Path, PathBuf},
    time::Duration,
};

use jiff::tz::TimeZone;
use serde::{Deserialize, de::IgnoredAny};
use toml::Spanned;

use super::{
    CALLS_PER_LICENSE, Config, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PROBE_INITIAL, DEFAULT_PROBE_MAX,
    DEFAULT_SHUTDOWN_GRACE, DEFAULT_TIMEZONE, Operation, Problem, SourceFile, TokenSource, decode,
    is_plain_name, parse_duration,
};

/// Checks config text; `path` names it in messages and anchors the
/// relative folders.
pub(super) fn config(text: &str, path: &Path) -> Result<Config, Vec<Problem>> {
    let source = SourceFile { path, text };
    let decoded = decode::<RawConfig>(&source);
    let mut problems = decoded.problems;
    let config = decoded.value.and_then(|raw| {
        let mut check = Checker { source: &source, dropped: &decoded.dropped, problems: vec![] };
        let config = check.config(raw);
        problems.append(&mut check.problems);
        config
    });
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ => Err(sorted(problems)),
    }
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
/// One `[[operation]]` table as written; see [`Operation`] for meanings
/// and defaults.
struct RawOperation {
    /// The name jobs use.
    name: Option<Spanned<String>>,
    /// A 4-digit wolkvox server number such as `0004`.
    server: Option<Spanned<String>>,
    /// A full base URL instead of `server` (e.g. a local simulator).
    base_url: Option<Spanned<String>>,
    /// A file holding the token, relative to the config file's folder.
    token_file: Option<Spanned<PathBuf>>,
    /// An environment variable holding the token.
    token_env: Option<Spanned<String>>,
    /// A systemd credential name.
    token_credential: Option<Spanned<String>>,
    /// Present only to refuse it with a helpful message.
    token: Option<Spanned<IgnoredAny>>,
    /// Licenses: the budget is licenses × 1000 calls a day.
    licenses: Option<Spanned<u32>>,
    /// Calls a day left for others (default 0).
    reserve: Option<Spanned<u32>>,
    /// IANA zone (default America/Bogota).
    timezone: Option<Spanned<String>>,
    /// 0–23 (default 0).
    rollover_hour: Option<Spanned<u8>>,
    /// 1 or 2 (default 2).
    max_in_flight: Option<Spanned<u8>>,
    /// A duration (default `30s`).
    probe_initial: Option<Spanned<String>>,
    /// A duration (default `10m`).
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
        // A token pasted where its source's name belongs would be echoed by
        // every error about that source: refuse it without repeating it.
        let names = [
            ("token_file", raw.token_file.as_ref().map(|p| (p.span(), p.get_ref().to_str()))),
            ("token_env", raw.token_env.as_ref().map(|v| (v.span(), Some(v.get_ref().as_str())))),
            (
                "token_credential",
                raw.token_credential.as_ref().map(|c| (c.span(), Some(c.get_ref().as_str()))),
            ),
        ];
        for (key, named) in names {
            if let Some((span, Some(value))) = named
                && looks_like_token(value)
            {
                let message = format!(
                    "`{key}` holds what looks like a token itself; put the token in a file (or \
                     a variable, or a credential) and give `{key}` its name"
                );
                self.report(span, message);
                return None;
            }
        }
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

fn is_credential_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

fn sorted(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|p| (p.line, p.column));
    problems
}

/// Whether `value` holds a wolkvox token: a run of 48 or more hex digits
/// (the tokens seen are 50 to 52), alone or with spaces, a line break or a
/// prefix such as `Bearer ` around it; no name a person picks for a file,
/// a variable or a credential has one.
fn looks_like_token(value: &str) -> bool {
    let mut run = 0;
    for b in value.bytes() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= 48 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "[::2]", "128.0.0.1"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
