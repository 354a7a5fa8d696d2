//! Helpers for the engine tests: a simulator, a config and jobs in a temp
//! folder, and reading exported files back.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use jiff::{Timestamp, civil};
use wolkvox_sync::{
    catalog::{EXTRA_COLUMN, Endpoint},
    clock::Clock,
    config::Config,
    jobs::{self, Job},
    runtime::Runtime,
    sim::{Sim, SimClock, SimConfig},
    sync::RetryPolicy,
};

/// An hourly cdr_1 job backfilling from 2026-12-01 (lag 15 minutes): 30
/// closed windows at [`morning`].
pub const CDR_HOURLY: &str = r#"
endpoint = "reports_manager/cdr_1"
schedule = "5 * * * *"
grain = "1h"
lag = "15m"
start = 2026-12-01
"#;

/// 2026-12-02 07:00 in Bogotá.
pub fn morning() -> Timestamp {
    "2026-12-02T12:00:00Z".parse().unwrap()
}

pub fn wall(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> civil::DateTime {
    civil::date(y, mo, d).at(h, mi, s, 0)
}

/// A simulator whose clock follows `clock`.
pub async fn sim(clock: &Clock, tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut config = SimConfig::with_seed(7);
    config.clock = SimClock::following(clock.clone());
    tweak(&mut config);
    Sim::start(config).await.unwrap()
}

/// A folder with a config pointing at `sim` and the given job files.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Setup {
    pub fn new(sim: &Sim, licenses: u32, jobs: &[(&str, &str)]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), sim.token()).unwrap();
        std::fs::create_dir(dir.path().join("jobs")).unwrap();
        let config = format!(
            "jobs_dir = \"jobs\"\noutput_dir = \"out\"\nstate_dir = \"state\"\n\n\
             [[operation]]\nname = \"demo\"\nbase_url = \"{}\"\ntoken_file = \"token\"\n\
             licenses = {licenses}\nprobe_initial = \"2s\"\nprobe_max = \"10s\"\n",
            sim.base_url()
        );
        let config_path = dir.path().join("wolkvox-sync.toml");
        std::fs::write(&config_path, config).unwrap();
        for (name, text) in jobs {
            std::fs::write(dir.path().join("jobs").join(format!("{name}.toml")), text).unwrap();
        }
        Setup { dir, config_path }
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path).unwrap()
    }

    pub fn job(&self, name: &str) -> Job {
        let config = self.config();
        jobs::load(&config.jobs_dir.join(format!("{name}.toml")), &config).unwrap()
    }

    /// A runtime with short retry delays.
    pub fn runtime(&self, clock: &Clock) -> Runtime {
        let mut rt = Runtime::open(self.config(), clock.clone()).unwrap();
        rt.engine.retry = RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        };
        rt
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }
}

/// Every file under `dir` with this extension, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The rows of every CSV file under `dir`, in file order, without headers.
pub fn csv_rows(dir: &Path) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for path in files(dir, "csv") {
        let mut reader = csv::Reader::from_path(&path).unwrap();
        for record in reader.records() {
            rows.push(record.unwrap().iter().map(str::to_string).collect());
        }
    }
    rows
}

/// The simulator's rows as a CSV file spells them.
pub fn as_csv(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    rows.into_iter().map(|r| r.into_iter().map(Option::unwrap_or_default).collect()).collect()
}

/// The column index of `name`.
pub fn col(ep: &Endpoint, name: &str) -> usize {
    ep.columns().iter().position(|c| c.name == name).unwrap()
}

/// The catalog's columns without `_extra`.
pub fn data_columns(ep: &Endpoint) -> usize {
    ep.columns().iter().filter(|c| c.name != EXTRA_COLUMN).count()
}
