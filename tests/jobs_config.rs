//! The operation config: defaults, validation with exact positions, and
//! token reading that never shows the token.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    time::Duration,
};

use wolkvox_sync::config::{Config, ConfigError, Token, TokenSource};

const MINIMAL: &str = r#"
[[operation]]
name = "main"
server = "0004"
token_env = "WOLKVOX_TOKEN"
licenses = 8
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("etc/wolkvox-sync.toml"))
}

#[track_caller]
fn problems(text: &str) -> String {
    match parse(text) {
        Ok(config) => panic!("config should be refused: {config:?}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn the_example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/wolkvox-sync.toml");
    let config = Config::load(&path).expect("example config is valid");
    let dir = path.parent().expect("config folder");
    assert_eq!(config.jobs_dir, dir.join("../jobs"));
    assert_eq!(config.output_dir, dir.join("output"));
    assert_eq!(config.state_dir, dir.join("state"));
    assert_eq!(config.log_file, None);
    assert_eq!(config.shutdown_grace, Duration::from_secs(30));

    let [op] = config.operations.as_slice() else { panic!("one operation") };
    assert_eq!(op.name, "demo");
    assert_eq!(op.base_url, "http://127.0.0.1:8080");
    assert_eq!(op.token, TokenSource::File(dir.join("demo.token")));
    assert_eq!((op.licenses, op.reserve, op.daily_budget()), (8, 500, 7_500));
    assert_eq!(op.timezone.iana_name(), Some("America/Bogota"));
    assert_eq!((op.rollover_hour, op.max_in_flight), (0, 2));
    assert_eq!(
        (op.probe_initial, op.probe_max),
        (Duration::from_secs(30), Duration::from_secs(600))
    );
}

#[test]
fn defaults_and_the_production_server() {
    let config = parse(MINIMAL).expect("minimal config");
    assert_eq!(config.path, PathBuf::from("etc/wolkvox-sync.toml"));
    assert_eq!(config.jobs_dir, PathBuf::from("etc/jobs"));
    assert_eq!(config.output_dir, PathBuf::from("etc/output"));
    assert_eq!(config.state_dir, PathBuf::from("etc/state"));
    assert_eq!(config.shutdown_grace, Duration::from_secs(30));

    let op = config.operation("main").expect("main");
    assert_eq!(op.base_url, "https://wv0004.wolkvox.com");
    assert_eq!(op.token, TokenSource::Env("WOLKVOX_TOKEN".into()));
    assert_eq!((op.reserve, op.daily_budget()), (0, 8_000));
    assert_eq!(op.timezone.iana_name(), Some("America/Bogota"));
    assert_eq!((op.rollover_hour, op.max_in_flight), (0, 2));
    assert_eq!(
        (op.probe_initial, op.probe_max),
        (Duration::from_secs(30), Duration::from_secs(600))
    );

    let bare = Config::parse(MINIMAL, Path::new("wolkvox-sync.toml")).expect("bare path");
    assert_eq!(bare.jobs_dir, PathBuf::from("./jobs"));
}

#[test]
fn absolute_folders_stay_absolute() {
    let text = format!("output_dir = \"/srv/out\"\nlog_file = \"log/sync.log\"\n{MINIMAL}");
    let config = parse(&text).expect("valid");
    assert_eq!(config.output_dir, PathBuf::from("/srv/out"));
    assert_eq!(config.log_file, Some(PathBuf::from("etc/log/sync.log")));
}

#[test]
fn a_token_in_the_config_is_refused() {
    let text = r#"
[[operation]]
name = "main"
server = "0004"
token = "0123456789abcdef0123456789abcdef0123456789abcdef01"
licenses = 8
"#;
    let report = problems(text);
    assert_eq!(
        report,
        "etc/wolkvox-sync.toml:5:9: `token` is not allowed in the config: keep the token out of \
         this file and set one of `token_file`, `token_env` or `token_credential`"
    );
    assert!(!report.contains("0123456789"));

    let top = format!("token = \"secret-value\"\n{MINIMAL}");
    let report = problems(&top);
    assert!(report.starts_with("etc/wolkvox-sync.toml:1:9: `token` is not allowed"), "{report}");
    assert!(!report.contains("secret-value"));
}

#[test]
fn a_token_pasted_as_its_source_name_is_refused_without_showing_it() {
    let token = "0123456789abcdef0123456789abcdef0123456789abcdef01";
    for key in ["token_file", "token_env", "token_credential"] {
        let text = format!(
            "[[operation]]\nname = \"main\"\nserver = \"0004\"\n{key} = \"{token}\"\nlicenses = 8\n"
        );
        let report = problems(&text);
        let column = key.len() + 4;
        assert_eq!(
            report,
            format!(
                "etc/wolkvox-sync.toml:4:{column}: `{key}` holds what looks like a token itself; \
                 put the token in a file (or a variable, or a credential) and give `{key}` its \
                 name"
            )
        );
    }
    // With stray spaces, a line break or a prefix around it, it is still
    // a token, and still not shown.
    for value in [format!("{token} "), format!(" {token}\\n"), format!("Bearer {token}")] {
        let text = format!(
            "[[operation]]\nname = \"main\"\nserver = \"0004\"\ntoken_file = \"{value}\"\nlicenses = 8\n"
        );
        let report = problems(&text);
        assert!(report.contains("looks like a token itself"), "{report}");
        assert!(!report.contains(&token[..20]), "{report}");
    }
    // Names people pick are not taken for tokens.
    let named = "[[operation]]\nname = \"main\"\nserver = \"0004\"\n\
                 token_file = \"/etc/wolkvox-sync/0123456789abcdef0123456789abcdef.token\"\n\
                 licenses = 8\n";
    assert!(parse(named).is_ok());
}

#[test]
fn plain_http_only_to_loopback() {
    let with_url =
        |url: &str| MINIMAL.replace("server = \"0004\"", &format!("base_url = \"{url}\""));
    assert_eq!(
        problems(&with_url("http://example.com:8080")),
        "etc/wolkvox-sync.toml:4:12: `base_url` uses plain http to `example.com`: http is \
         allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https"
    );
    assert_eq!(
        problems(&with_url("http://10.1.2.3")),
        "etc/wolkvox-sync.toml:4:12: `base_url` uses plain http to `10.1.2.3`: http is \
         allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https"
    );
    for (url, expected) in [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.9.9.9:1/", "http://127.9.9.9:1"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://wv0009.wolkvox.com", "https://wv0009.wolkvox.com"),
        ("https://proxy.example.com/wolkvox/", "https://proxy.example.com/wolkvox"),
    ] {
        let config = parse(&with_url(url)).unwrap_or_else(|err| panic!("{url}: {err}"));
        assert_eq!(config.operations[0].base_url, expected);
    }
    assert_eq!(
        problems(&with_url("ftp://127.0.0.1")),
        "etc/wolkvox-sync.toml:4:12: `base_url` must be http or https, not `ftp`"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"shutdown_grace = "a while"
colour = "blue"

[[operation]]
name = "co"
server = "4"
token_env = "WOLKVOX_TOKEN_CO"
licenses = 0
timezone = "America/Nowhere"
rollover_hour = 24
max_in_flight = 3
probe_initial = "1m"
probe_max = "30s"

[[operation]]
name = "co"
base_url = "http://wolkvox.example"
token_file = "co.token"
token_credential = "wolkvox-co"
licenses = 2
reserve = 2000
retries = 5
"#;
    let expected = "\
etc/wolkvox-sync.toml:1:18: `shutdown_grace`: \"a while\" is not a duration (write it like \"30s\", \"10m\", \"1h\")
etc/wolkvox-sync.toml:2:1: unknown field `colour`, expected one of `jobs_dir`, `output_dir`, `state_dir`, `log_file`, `shutdown_grace`, `token`, `operation`
etc/wolkvox-sync.toml:6:10: `server` must be 4 digits, zero-padded like \"0004\", not \"4\"
etc/wolkvox-sync.toml:8:12: `licenses` must be at least 1, not 0
etc/wolkvox-sync.toml:9:12: unknown time zone `America/Nowhere` (use an IANA name)
etc/wolkvox-sync.toml:10:17: `rollover_hour` must be 0 to 23, not 24
etc/wolkvox-sync.toml:11:17: `max_in_flight` must be 1 or 2 (the API allows 2 per token), not 3
etc/wolkvox-sync.toml:13:13: `probe_max` must not be shorter than `probe_initial`
etc/wolkvox-sync.toml:16:8: operation `co` is defined twice
etc/wolkvox-sync.toml:17:12: `base_url` uses plain http to `wolkvox.example`: http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https
etc/wolkvox-sync.toml:19:20: set only one of `token_file`, `token_env` and `token_credential`
etc/wolkvox-sync.toml:21:11: `reserve` (2000) must be less than the daily budget of 2000 calls (licenses × 1000)
etc/wolkvox-sync.toml:22:1: unknown field `retries`, expected one of `name`, `server`, `base_url`, `token_file`, `token_env`, `token_credential`, `token`, `licenses`, `reserve`, `timezone`, `rollover_hour`, `max_in_flight`, `probe_initial`, `probe_max`";
    assert_eq!(problems(text), expected);
}

#[test]
fn missing_keys_of_an_operation() {
    let text = "[[operation]]\nname = \"main\"\n";
    assert_eq!(
        problems(text),
        "etc/wolkvox-sync.toml:1:1: operation has neither `server` nor `base_url`\n\
         etc/wolkvox-sync.toml:1:1: operation has no token source: set one of `token_file`, \
         `token_env` or `token_credential`\n\
         etc/wolkvox-sync.toml:1:1: operation has no `licenses`"
    );
    assert_eq!(
        problems("output_dir = \"out\"\n"),
        "etc/wolkvox-sync.toml:1:1: no operation: add at least one `[[operation]]` table"
    );
    assert_eq!(
        problems("[[operation]]\nname = \"a b\"\nserver = 4\ntoken_env = \"T\"\nlicenses = -1\n"),
        "etc/wolkvox-sync.toml:2:8: operation name `a b` may use only letters, digits, `_` and `-`\n\
         etc/wolkvox-sync.toml:3:10: invalid type: integer `4`, expected a string\n\
         etc/wolkvox-sync.toml:5:12: invalid value: integer `-1`, expected u32"
    );
}

#[test]
fn a_config_file_that_cannot_be_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing.toml");
    let err = Config::load(&path).expect_err("no file");
    let message = err.to_string();
    assert!(message.starts_with(&format!("{}: cannot read config: ", path.display())), "{message}");
}

fn operation_with(token_line: &str, dir: &Path) -> Config {
    let text = MINIMAL.replace("token_env = \"WOLKVOX_TOKEN\"", token_line);
    Config::parse(&text, &dir.join("wolkvox-sync.toml")).expect("valid config")
}

fn no_env(_: &str) -> Option<OsString> {
    None
}

#[test]
fn tokens_are_read_trimmed_and_never_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.token"), "  abc123secret\n").expect("token file");

    let config = operation_with("token_file = \"main.token\"", dir.path());
    let token = config.operations[0].read_token_with(no_env).expect("file token");
    assert_eq!(token.expose(), "abc123secret");
    assert_eq!(format!("{token} {token:?}"), "<redacted> <redacted>");

    let config = operation_with("token_env = \"WV_TOKEN\"", dir.path());
    let env = |name: &str| (name == "WV_TOKEN").then(|| OsString::from("envsecret\n"));
    let token = config.operations[0].read_token_with(env).expect("env token");
    assert_eq!(token, Token::new("envsecret"));

    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).expect("credentials dir");
    std::fs::write(creds.join("wolkvox-main"), "credsecret").expect("credential");
    let config = operation_with("token_credential = \"wolkvox-main\"", dir.path());
    let env = |name: &str| (name == "CREDENTIALS_DIRECTORY").then(|| creds.clone().into());
    let token = config.operations[0].read_token_with(env).expect("credential token");
    assert_eq!(token.expose(), "credsecret");

    // Notepad's byte order mark is not part of the token.
    std::fs::write(dir.path().join("main.token"), "\u{feff}abc123secret\r\n").expect("token file");
    let config = operation_with("token_file = \"main.token\"", dir.path());
    let token = config.operations[0].read_token_with(no_env).expect("file token");
    assert_eq!(token.expose(), "abc123secret");
}

#[test]
fn a_token_file_with_two_lines_is_refused_without_showing_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.token"), "abc123secret\nsecond line\n")
        .expect("token file");
    let config = operation_with("token_file = \"main.token\"", dir.path());
    let err = config.operations[0].read_token_with(no_env).expect_err("two lines");
    let text = err.to_string();
    assert!(text.starts_with("operation `main`: the token from file "), "{text}");
    assert!(text.ends_with("main.token has spaces, line breaks or characters other than visible ASCII; it must be the token alone"), "{text}");
    assert!(!text.contains("abc123secret"));
}

#[test]
fn token_errors_name_the_source_but_not_the_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = operation_with("token_env = \"WV_TOKEN\"", dir.path());
    let err = config.operations[0].read_token_with(no_env).expect_err("unset");
    assert_eq!(
        err.to_string(),
        "operation `main`: environment variable `WV_TOKEN` is not set or not UTF-8"
    );

    let config = operation_with("token_file = \"missing.token\"", dir.path());
    let err = config.operations[0].read_token_with(no_env).expect_err("no file");
    let path = dir.path().join("missing.token");
    let message = err.to_string();
    let prefix = format!("operation `main`: cannot read token file {}: ", path.display());
    assert!(message.starts_with(&prefix), "{message}");

    std::fs::write(dir.path().join("blank.token"), " \n").expect("blank");
    let config = operation_with("token_file = \"blank.token\"", dir.path());
    let err = config.operations[0].read_token_with(no_env).expect_err("blank");
    let blank = dir.path().join("blank.token");
    assert_eq!(
        err.to_string(),
        format!("operation `main`: the token from file {} is empty", blank.display())
    );

    let config = operation_with("token_credential = \"wolkvox-main\"", dir.path());
    let err = config.operations[0].read_token_with(no_env).expect_err("no systemd");
    assert_eq!(
        err.to_string(),
        "operation `main`: cannot read credential `wolkvox-main`: $CREDENTIALS_DIRECTORY is not \
         set (run under systemd with LoadCredential=)"
    );
}

#[test]
fn credential_names_are_plain_file_names() {
    let text = MINIMAL.replace("token_env = \"WOLKVOX_TOKEN\"", "token_credential = \"../x\"");
    assert_eq!(
        problems(&text),
        "etc/wolkvox-sync.toml:5:20: `token_credential` \"../x\" is not a file name"
    );
}
