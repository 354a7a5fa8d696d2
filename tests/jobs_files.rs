//! Job files: the examples validate, and broken files report every problem
//! with its exact `path:line:column`.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, civil::date};
use wolkvox_sync::{
    config::Config,
    jobs::{self, CsvOptions, Formats, Job, JobError, Windowing},
    plan::{Grain, WindowSpec},
};

const ONE_OPERATION: &str = r#"
[[operation]]
name = "main"
server = "0004"
token_env = "WOLKVOX_TOKEN"
licenses = 8
"#;

const TWO_OPERATIONS: &str = r#"
[[operation]]
name = "co"
server = "0004"
token_env = "WOLKVOX_TOKEN_CO"
licenses = 8

[[operation]]
name = "pe"
server = "0005"
token_env = "WOLKVOX_TOKEN_PE"
licenses = 2
timezone = "America/Lima"
"#;

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("etc/wolkvox-sync.toml")).expect("test config is valid")
}

fn parse(name: &str, text: &str, config: &Config) -> Result<Job, Vec<JobError>> {
    jobs::parse(text, &PathBuf::from(format!("jobs/{name}.toml")), config)
}

#[track_caller]
fn problems(name: &str, text: &str, config: &Config) -> String {
    match parse(name, text, config) {
        Ok(job) => panic!("{name} should not validate: {job:?}"),
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(JobError::to_string).collect();
            lines.join("\n")
        }
    }
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn every_example_job_validates() {
    let config = Config::load(&repo_path("config/wolkvox-sync.toml")).expect("example config");
    let (jobs, errors) = jobs::load_dir(&config.jobs_dir, &config);
    let errors: Vec<String> = errors.iter().map(JobError::to_string).collect();
    assert_eq!(errors, Vec::<String>::new());

    let names: Vec<&str> = jobs.iter().map(|job| job.name.as_str()).collect();
    assert_eq!(names, ["agent_1", "agent_8", "cdr_1", "chat_1", "real_time_agents", "skill_4"]);
    let endpoints: Vec<String> = jobs.iter().map(|job| job.endpoint.id()).collect();
    assert_eq!(
        endpoints,
        [
            "reports_manager/agent_1",
            "reports_manager/agent_8",
            "reports_manager/cdr_1",
            "reports_manager/chat_1",
            "real_time/agents",
            "reports_manager/skill_4",
        ]
    );
    assert!(jobs.iter().all(|job| job.operation == "demo" && job.enabled));
}

#[test]
fn example_jobs_carry_their_settings() {
    let config = Config::load(&repo_path("config/wolkvox-sync.toml")).expect("example config");
    let (jobs, _) = jobs::load_dir(&config.jobs_dir, &config);
    let job = |name: &str| jobs.iter().find(|job| job.name == name).expect(name);

    let cdr = job("cdr_1");
    let spec = WindowSpec {
        grain: Grain::HOUR,
        lag: SignedDuration::from_mins(15),
        refetch: 2,
        start: date(2026, 1, 1).at(0, 0, 0, 0),
    };
    assert_eq!(cdr.windowing, Windowing::Windowed(spec));
    assert_eq!(cdr.schedule.as_str(), "5 * * * *");
    assert_eq!(cdr.formats, Formats::BOTH);
    assert_eq!(cdr.priority, 10);
    assert!(cdr.params.is_empty());

    let skill = job("skill_4");
    assert_eq!(skill.params.get("skill_id").map(String::as_str), Some("all"));
    assert_eq!(skill.formats, Formats::PARQUET);
    assert_eq!(skill.window_spec().map(|s| s.lag), Some(SignedDuration::from_mins(15)));

    let chat = job("chat_1");
    assert_eq!(chat.csv, CsvOptions { bom: true, delimiter: b';' });
    assert_eq!(chat.formats, Formats::CSV);
    assert_eq!(chat.window_spec().map(|s| (s.grain, s.refetch)), Some((Grain::DAY, 1)));

    let agents = job("real_time_agents");
    assert_eq!(agents.windowing, Windowing::Snapshot);
    assert_eq!(agents.schedule.as_str(), "*/5 * * * *");
    assert_eq!(agents.csv, CsvOptions { bom: false, delimiter: b',' });
}

#[test]
fn a_broken_job_reports_every_problem_with_its_position() {
    let text = r#"# a broken job
endpoint = "reports_manager/skill_4"
params = { skill = "all", date_ini = "20260101000000" }
schedule = "61 * * * *"
grain = "7m"
lag = "soon"
start = "yesterday"
formats = ["csv", "xml"]
colour = "blue"

[csv]
delimiter = "|"
"#;
    let expected = "\
jobs/skill_4.toml:3:10: reports_manager/skill_4 needs param `skill_id` in `params`
jobs/skill_4.toml:3:12: unknown param `skill`: reports_manager/skill_4 takes `skill_id`
jobs/skill_4.toml:3:27: `date_ini` is set from each window; remove it from `params`
jobs/skill_4.toml:4:12: cron `61 * * * *` is invalid: Component error: Number out of bounds.
jobs/skill_4.toml:5:9: grain `7m` does not divide a day evenly
jobs/skill_4.toml:6:7: `lag`: \"soon\" is not a duration (write it like \"30s\", \"10m\", \"1h\")
jobs/skill_4.toml:7:9: `start` \"yesterday\" is not a date or datetime like 2025-01-01
jobs/skill_4.toml:8:19: unknown variant `xml`, expected `csv` or `parquet`
jobs/skill_4.toml:9:1: unknown field `colour`, expected one of `operation`, `endpoint`, \
`params`, `schedule`, `grain`, `lag`, `refetch`, `start`, `formats`, `priority`, `csv`, `enabled`
jobs/skill_4.toml:12:13: `delimiter` must be \",\" or \";\", not \"|\"";
    assert_eq!(problems("skill_4", text, &config(ONE_OPERATION)), expected);
}

#[test]
fn wrong_types_are_reported_together_and_not_again_as_missing() {
    let text = r#"endpoint = 42
schedule = ["5 * * * *"]
refetch = "two"
priority = 1.5
enabled = "yes"
params = { skill_id = 7 }

[csv]
bom = true
quote = "'"
"#;
    let expected = "\
jobs/bad_types.toml:1:12: invalid type: integer `42`, expected a string
jobs/bad_types.toml:2:12: invalid type: sequence, expected a string
jobs/bad_types.toml:3:11: invalid type: string \"two\", expected u32
jobs/bad_types.toml:4:12: invalid type: floating point `1.5`, expected i64
jobs/bad_types.toml:5:11: invalid type: string \"yes\", expected a boolean
jobs/bad_types.toml:6:23: invalid type: integer `7`, expected a string
jobs/bad_types.toml:10:1: unknown field `quote`, expected `bom` or `delimiter`";
    assert_eq!(problems("bad_types", text, &config(ONE_OPERATION)), expected);
}

#[test]
fn a_syntax_error_is_reported_with_its_position() {
    let text = "endpoint = \"reports_manager/cdr_1\"\nschedule = 5 * * * *\n";
    let report = problems("cdr_1", text, &config(ONE_OPERATION));
    assert!(report.starts_with("jobs/cdr_1.toml:2:"), "{report}");
}

#[test]
fn missing_keys_of_a_history_job() {
    let text = "endpoint = \"reports_manager/cdr_1\"\n";
    let expected = "\
jobs/cdr_1.toml:1:1: missing `schedule` (a cron pattern like \"5 * * * *\")
jobs/cdr_1.toml:1:1: missing `grain`: history endpoint reports_manager/cdr_1 needs a window \
length such as \"1h\" or \"1d\"
jobs/cdr_1.toml:1:1: missing `start`: history endpoint reports_manager/cdr_1 needs the date \
backfill begins at (like 2025-01-01)";
    assert_eq!(problems("cdr_1", text, &config(ONE_OPERATION)), expected);
    assert_eq!(
        problems("empty", "", &config(ONE_OPERATION)),
        "jobs/empty.toml:1:1: missing `endpoint` (like \"reports_manager/cdr_1\")\n\
         jobs/empty.toml:1:1: missing `schedule` (a cron pattern like \"5 * * * *\")"
    );
}

#[test]
fn snapshot_endpoints_take_no_window_keys() {
    let text = r#"endpoint = "real_time/agents"
schedule = "*/5 * * * *"
grain = "1h"
lag = "5m"
refetch = 1
start = 2026-01-01
"#;
    let expected = "\
jobs/rt.toml:3:9: `grain` applies only to history endpoints; real_time/agents takes one snapshot per run
jobs/rt.toml:4:7: `lag` applies only to history endpoints; real_time/agents takes one snapshot per run
jobs/rt.toml:5:11: `refetch` applies only to history endpoints; real_time/agents takes one snapshot per run
jobs/rt.toml:6:9: `start` applies only to history endpoints; real_time/agents takes one snapshot per run";
    assert_eq!(problems("rt", text, &config(ONE_OPERATION)), expected);
}

#[test]
fn grain_must_fit_the_endpoint_window() {
    let job = |grain: &str| {
        format!(
            "endpoint = \"reports_manager/skill_5\"\nparams = {{ skill_id = \"all\" }}\n\
             schedule = \"0 4 * * *\"\ngrain = \"{grain}\"\nstart = 2026-01-01\n"
        )
    };
    let cfg = config(ONE_OPERATION);
    assert_eq!(
        problems("skill_5", &job("1mo"), &cfg),
        "jobs/skill_5.toml:4:9: grain `1mo` is longer than reports_manager/skill_5 allows (1d)"
    );
    let day = parse("skill_5", &job("1d"), &cfg).expect("a day fits");
    assert_eq!(day.window_spec().map(|s| s.grain), Some(Grain::DAY));
    assert_eq!(
        problems("skill_5", &job("2d"), &cfg),
        "jobs/skill_5.toml:4:9: grain `2d` is longer than a day: use `1d` or `1mo`"
    );
    assert_eq!(
        problems("skill_5", &job("2mo"), &cfg),
        "jobs/skill_5.toml:4:9: grain `2mo` is not supported: the only month grain is `1mo`"
    );
}

#[test]
fn grains_that_divide_a_day() {
    let cfg = config(ONE_OPERATION);
    for (text, display) in [
        ("15m", "15m"),
        ("30min", "30m"),
        ("1h", "1h"),
        ("6h", "6h"),
        ("24h", "1d"),
        ("1mo", "1mo"),
    ] {
        let job = format!(
            "endpoint = \"reports_manager/cdr_1\"\nschedule = \"0 * * * *\"\ngrain = \"{text}\"\n\
             start = 2026-01-01\n"
        );
        let job = parse("cdr_1", &job, &cfg).expect(text);
        let grain = job.window_spec().map(|s| s.grain.to_string());
        assert_eq!(grain.as_deref(), Some(display), "{text}");
    }
}

#[test]
fn start_accepts_dates_and_wall_clock_datetimes() {
    let cfg = config(ONE_OPERATION);
    let job = |start: &str| {
        format!(
            "endpoint = \"reports_manager/cdr_1\"\nschedule = \"0 * * * *\"\ngrain = \"1h\"\n\
             start = {start}\n"
        )
    };
    for (start, expected) in [
        ("2026-02-03", date(2026, 2, 3).at(0, 0, 0, 0)),
        ("2026-02-03T04:05:06", date(2026, 2, 3).at(4, 5, 6, 0)),
        ("2026-02-03 04:05:06", date(2026, 2, 3).at(4, 5, 6, 0)),
        ("\"2026-02-03\"", date(2026, 2, 3).at(0, 0, 0, 0)),
        ("\"2026-02-03T04:05\"", date(2026, 2, 3).at(4, 5, 0, 0)),
    ] {
        let parsed = parse("cdr_1", &job(start), &cfg).expect(start);
        assert_eq!(parsed.window_spec().map(|s| s.start), Some(expected), "{start}");
    }
    assert_eq!(
        problems("cdr_1", &job("2026-02-03T04:05:06-05:00"), &cfg),
        "jobs/cdr_1.toml:4:9: `start` \"2026-02-03T04:05:06-05:00\" has an offset: write the \
         operation's wall-clock time without one"
    );
    assert_eq!(
        problems("cdr_1", &job("04:05:06"), &cfg),
        "jobs/cdr_1.toml:4:9: `start` \"04:05:06\" is not a date or datetime like 2025-01-01"
    );
    assert_eq!(
        problems("cdr_1", &job("20260203"), &cfg),
        "jobs/cdr_1.toml:4:9: `start` must be a date or datetime like 2025-01-01, not a integer"
    );
}

#[test]
fn the_operation_may_be_left_out_only_when_there_is_one() {
    let text = "endpoint = \"real_time/agents\"\nschedule = \"*/5 * * * *\"\n";
    let job = parse("rt", text, &config(ONE_OPERATION)).expect("one operation");
    assert_eq!(job.operation, "main");

    let two = config(TWO_OPERATIONS);
    assert_eq!(
        problems("rt", text, &two),
        "jobs/rt.toml:1:1: missing `operation`: the config defines 2 operations (`co`, `pe`), \
         so the job must name one"
    );
    let named = format!("operation = \"pe\"\n{text}");
    assert_eq!(parse("rt", &named, &two).expect("named").operation, "pe");
    let unknown = format!("operation = \"mx\"\n{text}");
    assert_eq!(
        problems("rt", &unknown, &two),
        "jobs/rt.toml:1:13: unknown operation `mx`: the config defines `co`, `pe`"
    );
}

#[test]
fn endpoints_must_be_in_the_catalog() {
    let cfg = config(ONE_OPERATION);
    let job = |endpoint: &str| format!("endpoint = \"{endpoint}\"\nschedule = \"0 * * * *\"\n");
    assert_eq!(
        problems("x", &job("reports_manager/agent_99"), &cfg),
        "jobs/x.toml:1:12: unknown endpoint `reports_manager/agent_99`: reports_manager has no \
         api `agent_99`"
    );
    assert_eq!(
        problems("x", &job("reports/agent_1"), &cfg),
        "jobs/x.toml:1:12: unknown endpoint `reports/agent_1`: there is no module `reports`"
    );
    assert_eq!(
        problems("x", &job("agent_1"), &cfg),
        "jobs/x.toml:1:12: `endpoint` must be `module/api` (like \"reports_manager/cdr_1\"), not \
         \"agent_1\""
    );
}

#[test]
fn optional_params_are_allowed_and_others_refused() {
    let cfg = config(ONE_OPERATION);
    let text = "endpoint = \"reports_manager/agent_1\"\nschedule = \"0 1 * * *\"\ngrain = \"1d\"\n\
                start = 2026-01-01\nparams = { agent_id = \"1001\" }\n";
    let job = parse("agent_1", text, &cfg).expect("agent_id is optional");
    assert_eq!(job.params.get("agent_id").map(String::as_str), Some("1001"));

    let text = "endpoint = \"real_time/agents\"\nschedule = \"*/5 * * * *\"\n\
                params = { skill_id = \"\" }\n";
    assert_eq!(
        problems("rt", text, &cfg),
        "jobs/rt.toml:3:12: unknown param `skill_id`: real_time/agents takes no params"
    );
}

#[test]
fn cron_patterns_take_five_or_six_fields() {
    let cfg = config(ONE_OPERATION);
    let job = |cron: &str| format!("endpoint = \"real_time/agents\"\nschedule = \"{cron}\"\n");
    let six = parse("rt", &job("30 */5 * * * *"), &cfg).expect("six fields");
    assert_eq!(six.schedule.as_str(), "30 */5 * * * *");
    assert_eq!(
        problems("rt", &job("0 0 5 * * * 2027"), &cfg),
        "jobs/rt.toml:2:12: cron `0 0 5 * * * 2027` has 7 fields; expected 5 (minute hour day \
         month weekday) or 6 (second first)"
    );
    assert_eq!(
        problems("rt", &job("* * *"), &cfg),
        "jobs/rt.toml:2:12: cron `* * *` has 3 fields; expected 5 (minute hour day month \
         weekday) or 6 (second first)"
    );
}

#[test]
fn job_names_come_from_the_file_stem() {
    let text = "endpoint = \"real_time/agents\"\nschedule = \"*/5 * * *\"\n";
    assert_eq!(
        problems("my job", text, &config(ONE_OPERATION)),
        "jobs/my job.toml:1:1: job name `my job` (the file name) may use only letters, digits, \
         `_` and `-`\n\
         jobs/my job.toml:2:12: cron `*/5 * * *` has 4 fields; expected 5 (minute hour day month \
         weekday) or 6 (second first)"
    );
}

#[test]
fn load_dir_skips_other_files_and_keeps_going_past_bad_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = "endpoint = \"real_time/agents\"\nschedule = \"*/5 * * * *\"\n";
    let files = [
        ("agents.toml", good),
        ("broken.toml", "endpoint = \"real_time/agents\"\n"),
        (".hidden.toml", "garbage ="),
        ("#agents.toml#", "garbage ="),
        ("agents.toml~", "garbage ="),
        ("notes.txt", "garbage ="),
        ("later.toml", good),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write job");
    }
    std::fs::create_dir(dir.path().join("sub.toml")).expect("dir");

    let (jobs, errors) = jobs::load_dir(dir.path(), &config(ONE_OPERATION));
    let names: Vec<&str> = jobs.iter().map(|job| job.name.as_str()).collect();
    assert_eq!(names, ["agents", "later"]);
    let errors: Vec<String> = errors.iter().map(JobError::to_string).collect();
    let broken = dir.path().join("broken.toml");
    let expected =
        format!("{}:1:1: missing `schedule` (a cron pattern like \"5 * * * *\")", broken.display());
    assert_eq!(errors, [expected]);
}

#[test]
fn load_dir_reports_a_missing_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope");
    let (jobs, errors) = jobs::load_dir(&missing, &config(ONE_OPERATION));
    assert!(jobs.is_empty());
    assert_eq!(errors.len(), 1);
    let message = errors[0].to_string();
    assert!(message.starts_with(&format!("{}: cannot read: ", missing.display())), "{message}");
}
