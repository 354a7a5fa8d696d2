//! The `wolkvox-sync` command line.
//!
//! Thin: each subcommand parses its arguments, calls the library, prints
//! and maps errors to exit codes (sysexits: 64 usage, 65 bad input data,
//! 69 the API refused, 78 configuration). Errors are printed once, with
//! their chain.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::civil;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{
    catalog::catalog,
    clock::Clock,
    config::Config,
    daemon::{self, logging},
    jobs,
    runtime::{Runtime, RuntimeError},
    sync::{NoProgress, Progress, RunResult},
    writers::{Formats, convert, csv::CsvOptions},
};

/// Exit code for a bad configuration (sysexits EX_CONFIG).
const EXIT_CONFIG: u8 = 78;
/// Exit code for bad command-line use (EX_USAGE).
const EXIT_USAGE: u8 = 64;
/// Exit code for input that is not what it should be (EX_DATAERR).
const EXIT_DATA: u8 = 65;
/// Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;
/// Exit code for a run that stopped on an API or write error (EX_SOFTWARE
/// would blame us; EX_UNAVAILABLE says the service refused).
const EXIT_UNAVAILABLE: u8 = 69;

/// Keeps CSV and Parquet files in step with a wolkvox contact-center
/// operation.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one job now: fetch its due windows (or --from/--to) and publish
    /// their files.
    Once(OnceArgs),
    /// Turn saved wolkvox response bodies into typed CSV/Parquet files.
    Convert(ConvertArgs),
    /// Check the config and every job file; print every problem.
    Validate(ValidateArgs),
    /// Serve a simulated wolkvox API on a local port, for tests and demos.
    Sim(wolkvox_sync::sim::cli::SimArgs),
    /// The daemon: schedule every job of the jobs folder until stopped.
    Run(RunArgs),
    /// Today's plan: next fire per job, windows due, calls, what the budget
    /// left cannot cover.
    Plan(ReportArgs),
    /// Budget, pauses and in-flight requests per operation; last run,
    /// windows and rows per job.
    Status(ReportArgs),
    /// Run the daemon against the built-in simulator for a minute and show
    /// what it fetched (no account, no network).
    Demo(DemoArgs),
}

#[derive(clap::Args)]
struct ReportArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// The demo folder (rewritten on every run).
    #[arg(long, default_value = "demo-out")]
    dir: PathBuf,
    /// How long the daemon runs.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Do not watch the jobs folder (reload with SIGHUP only).
    #[arg(long)]
    no_watch: bool,
}

#[derive(clap::Args)]
struct ValidateArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Fail (exit 78) only for problems that stop `run` from starting: the
    /// config, tokens, folders. Bad job files are still printed, but `run`
    /// skips them and runs the others, so they do not fail this check
    /// (the systemd unit uses it before start and reload).
    #[arg(long)]
    config_only: bool,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The operation config file.
    #[arg(
        long,
        short,
        default_value = "/etc/wolkvox-sync/wolkvox-sync.toml",
        env = "WOLKVOX_SYNC_CONFIG"
    )]
    config: PathBuf,
}

#[derive(clap::Args)]
struct OnceArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The job: its name (file stem in the jobs folder) or a job file path.
    job: String,
    /// First second to fetch (`2026-12-01` or `2026-12-01T08:00:00`,
    /// operation wall clock). With --to, fetches every closed window in
    /// between, complete or not (windows still open are left for later).
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last second to fetch (inclusive; a date means its last second).
    #[arg(long, requires = "from")]
    to: Option<String>,
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// The endpoint the bodies came from, as `module/api` (e.g.
    /// `reports_manager/cdr_1`).
    #[arg(long)]
    endpoint: String,
    /// Saved response bodies (JSON files).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Formats to write: csv, parquet or csv,parquet.
    #[arg(long, default_value = "csv,parquet")]
    format: String,
    /// Write CSV for Excel in a Spanish locale (UTF-8 BOM, `;`).
    #[arg(long)]
    excel: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run(_)) {
        // `run` starts logging once its config names the log file.
        let _ = logging::init(None);
    }
    // The simulator serves many connections; everything else spends its
    // time waiting on one API (CPU work goes to blocking threads), and one
    // thread keeps the daemon's idle memory small.
    let mut builder = if matches!(cli.command, Command::Sim(_) | Command::Demo(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// `err` and its causes joined by `: `, leaving out a cause whose text the
/// message before it already holds (many of our errors quote their
/// source, which `{:#}` would print twice).
fn chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Once(args) => once(args).await,
        Command::Convert(args) => convert_cmd(args),
        Command::Validate(args) => Ok(validate(&args.config.config, args.config_only)),
        Command::Sim(args) => {
            wolkvox_sync::sim::cli::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run(args).await,
        Command::Plan(args) => report(args, false),
        Command::Status(args) => report(args, true),
        Command::Demo(args) => {
            let opts = daemon::demo::DemoOptions { dir: args.dir, seconds: args.seconds };
            let interrupt = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            let report = daemon::demo::run(&opts, interrupt).await?;
            println!("{report}");
            Ok(if report.breaches == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// Takes the daemon's lock on its state folder (released when the process
/// ends, however it ends); `None` when another process holds it.
fn lock_daemon(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// `status` (or `plan`): read-only reports from the state folder. Bad job
/// files are reported and left out.
fn report(args: ReportArgs, status: bool) -> anyhow::Result<ExitCode> {
    use daemon::report;
    let Some(config) = load_config(&args.config.config) else {
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let (jobs, errors) = jobs::load_dir(&config.jobs_dir, &config);
    for err in &errors {
        eprintln!("{err}");
    }
    if errors.iter().any(|e| e.is_about_folder(&config.jobs_dir)) {
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    let clock = Clock::system();
    if status {
        let status = report::status(&config, &jobs, &clock)?;
        match args.json {
            true => println!("{}", serde_json::to_string_pretty(&status)?),
            false => print!("{}", report::StatusText(&status, &config)),
        }
    } else {
        let plan = report::plan(&config, &jobs, &clock)?;
        match args.json {
            true => println!("{}", serde_json::to_string_pretty(&plan)?),
            false => print!("{}", report::PlanText(&plan, &config)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The daemon. A bad config or token stops start-up with 78; bad job
/// files are logged and skipped.
async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let Some(config) = load_config(&args.config.config) else {
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    if let Err(err) = logging::init(config.log_file.as_deref()) {
        eprintln!("error: {err}");
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    let rt = match Runtime::open(config, Clock::system()) {
        Ok(rt) => rt,
        Err(err @ (RuntimeError::Config(_) | RuntimeError::Client { .. })) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(err @ RuntimeError::State(_)) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(err) => return Err(err).context("starting"),
    };
    // Two daemons on one state folder would both run every job.
    let lock_path = rt.config.state_dir.join("locks").join("daemon.lock");
    let _daemon_lock = match lock_daemon(&lock_path) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            let state = rt.config.state_dir.display();
            eprintln!("error: another `wolkvox-sync run` uses the state folder {state}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(err) => {
            eprintln!("error: lock file {}: {err}", lock_path.display());
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let options = daemon::Options {
        watch: !args.no_watch,
        notifier: daemon::notify::Notifier::from_env(),
        ..daemon::Options::default()
    };
    let (daemon, _rejected) = daemon::Daemon::new(rt, options);
    daemon::signals::install(daemon.handle()).context("installing signal handlers")?;
    let report = daemon.run().await;
    if report.tokens_refused {
        eprintln!("error: every operation's token was refused; fix the token and start again");
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the config, printing its problems; `None` means exit 78.
fn load_config(path: &Path) -> Option<Config> {
    match Config::load(path) {
        Ok(config) => Some(config),
        Err(err) => {
            eprintln!("{err}");
            None
        }
    }
}

fn validate(path: &Path, config_only: bool) -> ExitCode {
    let Some(config) = load_config(path) else { return ExitCode::from(EXIT_CONFIG) };
    let (jobs, job_errors) = jobs::load_dir(&config.jobs_dir, &config);
    for err in &job_errors {
        eprintln!("{err}");
    }
    let mut fatal = 0;
    for op in &config.operations {
        if let Err(err) = op.read_token() {
            eprintln!("{}: {err}", config.path.display());
            fatal += 1;
        }
    }
    for (key, dir) in [("output_dir", &config.output_dir), ("state_dir", &config.state_dir)] {
        if dir.exists() && !dir.is_dir() {
            eprintln!("{}: {key} {} is not a folder", config.path.display(), dir.display());
            fatal += 1;
        }
    }
    println!(
        "{}: {} operation(s), {} job(s) valid, {} problem(s)",
        config.path.display(),
        config.operations.len(),
        jobs.len(),
        job_errors.len() + fatal
    );
    let failed = fatal > 0 || (!config_only && !job_errors.is_empty());
    if failed { ExitCode::from(EXIT_CONFIG) } else { ExitCode::SUCCESS }
}

async fn once(args: OnceArgs) -> anyhow::Result<ExitCode> {
    let Some(config) = load_config(&args.config.config) else {
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let job = match find_job(&args.job, &config) {
        Ok(job) => job,
        Err(problems) => {
            eprintln!("{problems}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    if job.window_spec().is_none() && (args.from.is_some() || args.to.is_some()) {
        eprintln!(
            "error: --from/--to: job {} takes a snapshot of now ({}); only history jobs have \
             windows to choose",
            job.name, job.endpoint
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let range = match (&args.from, &args.to) {
        (Some(from), Some(to)) => match parse_range(from, to) {
            Ok(range) => Some(range),
            Err(msg) => {
                eprintln!("error: {msg}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        },
        _ => None,
    };
    let rt = match Runtime::open_manual(config, Clock::system()) {
        Ok(rt) => rt,
        Err(RuntimeError::Config(err)) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(err) => return Err(anyhow::Error::new(err).context("starting")),
    };
    let cancel = CancellationToken::new();
    spawn_signals(cancel.clone(), rt.config.shutdown_grace);
    let bar = Bar::new();
    let progress: &dyn Progress = match &bar {
        Some(bar) => bar,
        None => &NoProgress,
    };
    let started = std::time::Instant::now();
    let result = rt.run_job(&job, range, &cancel, progress).await?;
    if let Some(bar) = &bar {
        bar.0.finish_and_clear();
    }
    print_summary(&job.name, &result, started.elapsed());
    if let (Some((from, to)), 0) = (range, result.summary.windows + result.pending as u64) {
        eprintln!(
            "note: no closed window between {from} and {to}: windows not yet ended (and their \
             lag) are not fetched"
        );
    }
    Ok(match (&result.error, result.cancelled) {
        (Some(err), _) if err.stops_operation() => ExitCode::from(EXIT_CONFIG),
        (Some(_), _) => ExitCode::from(EXIT_UNAVAILABLE),
        (None, true) => ExitCode::from(EXIT_INTERRUPTED),
        (None, false) => ExitCode::SUCCESS,
    })
}

fn print_summary(job: &str, result: &RunResult, took: std::time::Duration) {
    let s = &result.summary;
    let state = match (&result.error, result.cancelled) {
        (Some(_), _) => "stopped",
        (None, true) => "interrupted",
        (None, false) => "done",
    };
    let pending = match result.pending {
        0 => String::new(),
        n => format!(", {n} window(s) pending"),
    };
    println!(
        "{job}: {state}: {} window(s), {} row(s), {} call(s), paused {}s, took {:.1}s{pending}",
        s.windows,
        s.rows,
        s.calls,
        s.paused.as_secs(),
        took.as_secs_f64()
    );
    if let Some(err) = &result.error {
        eprintln!("error: {err}");
    }
}

/// A job by name (in the jobs folder) or by path.
fn find_job(name: &str, config: &Config) -> Result<jobs::Job, String> {
    let as_path = PathBuf::from(name);
    let path =
        if as_path.extension().is_some_and(|e| e == "toml") || as_path.components().count() > 1 {
            as_path
        } else {
            config.jobs_dir.join(format!("{name}.toml"))
        };
    if !path.exists() {
        return Err(format!("error: job {name}: no file {}", path.display()));
    }
    jobs::load(&path, config).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        lines.join("\n")
    })
}

/// `--from`/`--to`: a date or a datetime; a `--to` date means its last
/// second.
fn parse_range(from: &str, to: &str) -> Result<(civil::DateTime, civil::DateTime), String> {
    let start = parse_when(from, false)
        .ok_or_else(|| format!("--from {from:?} is not a date or datetime"))?;
    let end =
        parse_when(to, true).ok_or_else(|| format!("--to {to:?} is not a date or datetime"))?;
    if end < start {
        return Err(format!("--to {to} is before --from {from}"));
    }
    Ok((start, end))
}

fn parse_when(text: &str, end_of_day: bool) -> Option<civil::DateTime> {
    // A bare date, exactly: jiff's date parser also takes a datetime and
    // drops its time.
    if text.len() == 10 {
        let date = text.parse::<civil::Date>().ok()?;
        let time = if end_of_day { civil::time(23, 59, 59, 0) } else { civil::time(0, 0, 0, 0) };
        return Some(date.to_datetime(time));
    }
    text.parse::<civil::DateTime>().ok()
}

/// First SIGINT or SIGTERM: no new requests, the one in flight finishes
/// (up to the config's shutdown grace). A second signal, or the end of the
/// grace, stops at once: nothing half-written is visible, and the window in
/// flight is fetched again by the next run.
fn spawn_signals(cancel: CancellationToken, grace: std::time::Duration) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
        else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!(
            "interrupted: finishing the request in flight (up to {} s; interrupt again to stop now)",
            grace.as_secs()
        );
        cancel.cancel();
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            () = tokio::time::sleep(grace) => eprintln!("the request in flight did not finish in time"),
        }
        eprintln!("stopped; the window in flight will be fetched again by the next run");
        std::process::exit(130);
    });
}

fn convert_cmd(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let Some(ep) = catalog().by_id(&args.endpoint) else {
        eprintln!(
            "error: --endpoint {:?} is not a wolkvox endpoint (write module/api, e.g. reports_manager/cdr_1)",
            args.endpoint
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let formats = match parse_formats(&args.format) {
        Some(f) => f,
        None => {
            eprintln!("error: --format {:?}: write csv, parquet or csv,parquet", args.format);
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let csv = if args.excel { CsvOptions::EXCEL_ES } else { CsvOptions::default() };
    let started = std::time::Instant::now();
    if let Some(not_dir) = not_a_folder(&args.out) {
        eprintln!("error: --out {}: {} is not a folder", args.out.display(), not_dir.display());
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    // Ctrl-C or SIGTERM stops at the next row, so the file being written is
    // removed rather than left half-written.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let converted = convert::convert_until(ep, &args.files, &args.out, formats, csv, &stop);
    let report = match converted {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    for c in &report.converted {
        for f in &c.report.files {
            println!("{} -> {} ({} rows)", c.input.display(), f.path.display(), c.report.rows);
        }
    }
    for err in &report.failed {
        eprintln!("error: {err}");
    }
    println!(
        "converted {} file(s): {} row(s), {} reject(s) in {:.2}s{}",
        report.converted.len(),
        report.rows(),
        report.rejects(),
        started.elapsed().as_secs_f64(),
        match report.failed.len() {
            0 => String::new(),
            n => format!("; {n} file(s) failed, nothing written for them"),
        }
    );
    if stop.load(Ordering::Relaxed) {
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    match report.failed.is_empty() {
        true => Ok(ExitCode::SUCCESS),
        false => Ok(ExitCode::from(EXIT_DATA)),
    }
}

/// The first of `path` and its ancestors that is there but is no folder
/// (a file, or a link to nothing), which `--out` cannot be made under.
fn not_a_folder(path: &Path) -> Option<&Path> {
    let there = path.ancestors().find(|p| p.symlink_metadata().is_ok())?;
    (!there.is_dir()).then_some(there)
}

fn parse_formats(text: &str) -> Option<Formats> {
    let mut formats = Formats { csv: false, parquet: false };
    for part in text.split(',') {
        match part.trim() {
            "csv" => formats.csv = true,
            "parquet" => formats.parquet = true,
            _ => return None,
        }
    }
    Some(formats)
}

/// A progress bar on a terminal.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Option<Bar> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new(0);
        let style =
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} windows {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        Some(Bar(bar))
    }
}

impl Progress for Bar {
    fn planned(&self, windows: usize) {
        self.0.set_length(windows as u64);
    }

    fn window_done(&self, window: &wolkvox_sync::plan::Window, rows: u64) {
        self.0.inc(1);
        self.0.set_message(format!("{window}: {rows} rows"));
    }

    fn window_split(&self, window: &wolkvox_sync::plan::Window) {
        self.0.inc_length(1);
        self.0.set_message(format!("{window}: row cap, split"));
    }
}
