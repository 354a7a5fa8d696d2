//! The `wolkvox-sync sim` subcommand: a simulator on a fixed local port
//! that a user can curl or point the daemon at.
//!
//! This module turns options into a [`SimConfig`] and runs until Ctrl-C or
//! SIGTERM; what the simulator does is the rest of [`crate::sim`]'s.

use std::{future::Future, io::Write as _, net::SocketAddr, path::PathBuf};

use jiff::Timestamp;

use super::{
    DEMO_OPERATION, EmptyWindow, FaultProfile, MaintenanceTime, MaintenanceWindow, Sim, SimConfig,
    SimError,
};
use crate::catalog::{catalog, value::civil_datetime};

/// Options of `wolkvox-sync sim`.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "Example:\n  curl -H 'wolkvox-token: TOKEN' \
    'http://127.0.0.1:8080/api/v2/reports_manager.php?api=cdr_1&date_ini=20261201000000&date_end=20261201235959'")]
pub struct SimArgs {
    /// Address to listen on; only loopback addresses are accepted.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed of every generated row, id and fault.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Licenses of the demo operation; its daily budget is licenses × 1000
    /// calls.
    #[arg(long, default_value_t = 1)]
    pub licenses: u32,
    /// Token the demo operation accepts (default: one minted from the seed
    /// and printed at start).
    #[arg(long)]
    pub token: Option<String>,
    /// A maintenance window, START..END, as wall-clock YYYYmmddHHiiss or
    /// YYYY-MM-DDTHH:MM:SS in the operation's zone, or RFC 3339 instants
    /// with an offset. Repeatable.
    #[arg(long, value_name = "START..END")]
    pub maintenance: Vec<String>,
    /// Fault profile: none, flaky, slow, or a TOML file of odds.
    #[arg(long, default_value = "none")]
    pub faults: String,
    /// Rows per hour of a detail endpoint (rows per response for others),
    /// as module/api=ROWS or api=ROWS. Repeatable.
    #[arg(long, value_name = "ENDPOINT=ROWS")]
    pub volume: Vec<String>,
    /// How an empty window is answered: 404 (as observed) or 200 with
    /// empty data.
    #[arg(long, default_value = "404", value_parser = ["404", "200"])]
    pub empty_window: String,
    /// Append the request log to FILE as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// Runs the simulator until Ctrl-C or SIGTERM.
pub async fn run(args: SimArgs) -> Result<(), SimError> {
    serve_until(args, stop_signal()).await
}

/// Runs the simulator until `stop` completes.
pub async fn serve_until(args: SimArgs, stop: impl Future<Output = ()>) -> Result<(), SimError> {
    if !args.listen.ip().is_loopback() {
        return Err(SimError::NotLoopback(args.listen));
    }
    let config = config(&args)?;
    let sim = Sim::start_on(config, args.listen)
        .await
        .map_err(|source| SimError::Start { addr: args.listen, source })?;
    announce(&sim).map_err(SimError::Serve)?;
    stop.await;
    sim.shutdown().await
}

fn announce(sim: &Sim) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "wolkvox simulator listening on {}", sim.base_url())?;
    writeln!(out, "operation: {DEMO_OPERATION}")?;
    writeln!(out, "token: {}", sim.token())?;
    out.flush()
}

/// The configuration the options describe.
pub fn config(args: &SimArgs) -> Result<SimConfig, SimError> {
    let mut config = SimConfig::with_seed(args.seed);
    let op = &mut config.operations[0];
    op.licenses = args.licenses;
    if let Some(token) = &args.token {
        op.tokens = vec![token.clone()];
    }
    for raw in &args.maintenance {
        let window = maintenance(raw)?;
        let (start, end) = (window.start.instant(&op.time_zone), window.end.instant(&op.time_zone));
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            let why = format!("maintenance {raw:?} ends before it starts, or when it starts");
            return Err(SimError::Args(why));
        }
        op.maintenance.push(window);
    }
    config.faults = FaultProfile::load(&args.faults)?;
    for raw in &args.volume {
        let (id, rows) = volume(raw)?;
        config.volumes.insert(id, rows);
    }
    if args.empty_window == "200" {
        config.empty_window = EmptyWindow::EmptyData;
    }
    config.log_path.clone_from(&args.log);
    Ok(config)
}

fn maintenance(raw: &str) -> Result<MaintenanceWindow, SimError> {
    let bad = || SimError::Args(format!("maintenance {raw:?} is not START..END"));
    let (start, end) = raw.split_once("..").ok_or_else(bad)?;
    let time = |text: &str| {
        boundary(text).ok_or_else(|| {
            SimError::Args(format!(
                "maintenance {raw:?}: {text:?} is not a time (YYYYmmddHHiiss, \
                 YYYY-MM-DDTHH:MM:SS, or an RFC 3339 instant)"
            ))
        })
    };
    Ok(MaintenanceWindow { start: time(start)?, end: time(end)? })
}

fn boundary(raw: &str) -> Option<MaintenanceTime> {
    let raw = raw.trim();
    if let Some(wall) = civil_datetime(raw) {
        return Some(MaintenanceTime::Wall(wall));
    }
    raw.parse::<Timestamp>().ok().map(MaintenanceTime::At)
}

/// `module/api=N` or `api=N` (when only one module has that api).
fn volume(raw: &str) -> Result<(String, u32), SimError> {
    let bad = |why: &str| SimError::Args(format!("volume {raw:?}: {why}"));
    let (name, rows) = raw.split_once('=').ok_or_else(|| bad("expected ENDPOINT=ROWS"))?;
    let rows: u32 = rows.trim().parse().map_err(|_| bad("rows is not a number"))?;
    let name = name.trim();
    if let Some(ep) = catalog().by_id(name) {
        return Ok((ep.id(), rows));
    }
    let matches: Vec<_> = catalog().endpoints.iter().filter(|e| e.api == name).collect();
    match matches.as_slice() {
        [ep] => Ok((ep.id(), rows)),
        [] => Err(bad("no such endpoint")),
        _ => Err(bad("that api is in several modules; write module/api")),
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    fn parse(args: &[&str]) -> SimArgs {
        let mut all = vec!["sim"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().sim
    }

    #[test]
    fn options_become_a_config() {
        let args = parse(&[
            "--seed",
            "7",
            "--licenses",
            "3",
            "--token",
            "abc",
            "--volume",
            "cdr_1=100",
            "--volume",
            "reports_manager/agent_1=4",
            "--maintenance",
            "20261201020000..20261201030000",
            "--empty-window",
            "200",
        ]);
        let config = config(&args).unwrap();
        assert_eq!(config.seed, 7);
        assert_eq!(config.operations[0].daily_limit(), 3_000);
        assert_eq!(config.operations[0].tokens, ["abc"]);
        assert_eq!(config.volumes["reports_manager/cdr_1"], 100);
        assert_eq!(config.volumes["reports_manager/agent_1"], 4);
        assert_eq!(config.empty_window, EmptyWindow::EmptyData);
        let window = &config.operations[0].maintenance[0];
        let wall = jiff::civil::date(2026, 12, 1).at(2, 0, 0, 0);
        assert_eq!(window.start, MaintenanceTime::Wall(wall));
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(config(&parse(&["--volume", "nope=3"])).is_err());
        assert!(config(&parse(&["--maintenance", "yesterday"])).is_err());
        let month_13 = config(&parse(&["--maintenance", "20261304150000..20261304160000"]));
        let err = month_13.unwrap_err().to_string();
        assert!(err.contains("\"20261304150000\" is not a time"), "{err}");
        let reversed = config(&parse(&["--maintenance", "20261201030000..20261201020000"]));
        let err = reversed.unwrap_err().to_string();
        assert!(err.contains("\"20261201030000..20261201020000\" ends before it starts"), "{err}");
        let empty = config(&parse(&["--maintenance", "20261201020000..20261201020000"]));
        assert!(empty.is_err());
        assert!(config(&parse(&["--faults", "no-such-profile"])).is_err());
        assert!(Cli::try_parse_from(["sim", "--empty-window", "500"]).is_err());
    }

    #[tokio::test]
    async fn non_loopback_addresses_are_refused() {
        let args = parse(&["--listen", "0.0.0.0:0"]);
        let err = serve_until(args, async {}).await.unwrap_err();
        assert!(matches!(err, SimError::NotLoopback(_)), "{err}");
    }
}
