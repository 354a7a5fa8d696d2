//! Acceptance: DuckDB, pyarrow, pandas and Spark read a job's whole output
//! folder (Parquet and CSV, empty windows and the Excel CSV spelling
//! included) with the expected rows, columns and types, accents intact.
//! The checks themselves are `tests/readers/check_readers.py` and
//! `check_spark.py`; this test exports the jobs against the simulator,
//! writes the manifest they read, and runs them.

mod accept_support;
mod sync_support;

use std::{path::Path, process::Command};

use serde_json::{Value, json};
use sync_support::*;
use tokio_util::sync::CancellationToken;
use wolkvox_sync::{
    catalog::{Endpoint, FieldType},
    clock::Clock,
    jobs::Job,
    runtime::Runtime,
    sim::Sim,
    sync::NoProgress,
    writers::parquet::REJECTS_COLUMN,
};

const JOBS: [(&str, &str); 4] = [
    (
        "cdr",
        "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\nstart = 2026-12-02\n",
    ),
    (
        "cdr_excel",
        "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1d\"\n\
         start = 2026-11-29\n[csv]\nbom = true\ndelimiter = \";\"\n",
    ),
    (
        "agents",
        "endpoint = \"reports_manager/agent_5\"\nschedule = \"30 0 * * *\"\ngrain = \"1d\"\nstart = 2026-11-28\n",
    ),
    (
        "chat_empty",
        "endpoint = \"reports_manager/chat_2\"\nschedule = \"5 * * * *\"\ngrain = \"6h\"\nstart = 2026-12-01\n",
    ),
];

/// The check script's name for how a reader should see a column.
fn kind(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text | FieldType::Hour => "text",
        FieldType::Integer | FieldType::Duration => "integer",
        FieldType::Decimal | FieldType::Percent => "float",
        FieldType::Datetime => "timestamp",
        FieldType::Date => "date",
    }
}

/// Up to three text values with accents or other non-ASCII letters.
fn accented(ep: &Endpoint, rows: &[Vec<Option<String>>]) -> serde_json::Map<String, Value> {
    let mut values = serde_json::Map::new();
    for (i, col) in ep.columns().iter().enumerate() {
        if col.ty != FieldType::Text {
            continue;
        }
        let mut picked: Vec<String> = Vec::new();
        for v in rows.iter().filter_map(|r| r[i].clone()) {
            if !v.is_ascii() && !picked.contains(&v) && picked.len() < 3 {
                picked.push(v);
            }
        }
        if !picked.is_empty() {
            values.insert(col.name.clone(), json!(picked));
        }
    }
    values
}

/// The manifest entries of every file a job published.
fn entries(rt: &Runtime, sim: &Sim, job: &Job) -> Vec<Value> {
    let ep = job.endpoint;
    let params: Vec<(&str, &str)> =
        job.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let names: Vec<String> = ep.columns().iter().map(|c| c.name.clone()).collect();
    let mut types = serde_json::Map::new();
    for c in ep.columns() {
        types.insert(c.name.clone(), json!(kind(c.ty)));
    }
    types.insert(REJECTS_COLUMN.into(), json!("text"));
    let mut parquet_names = names.clone();
    parquet_names.push(REJECTS_COLUMN.into());
    let mut out = Vec::new();
    for rec in rt.engine.state.windows(&job.name).unwrap() {
        let rows = sim.rows(ep, &params, rec.start, rec.end);
        assert_eq!(rows.len() as u64, rec.rows);
        let values = accented(ep, &rows);
        for file in &rec.files {
            let entry = if file.ends_with(".parquet") {
                json!({"path": file, "rows": rec.rows, "columns": parquet_names,
                       "types": types, "values": values})
            } else {
                json!({"path": file, "rows": rec.rows, "columns": names,
                       "delimiter": char::from(job.csv.delimiter).to_string(), "bom": job.csv.bom,
                       "values": values})
            };
            out.push(entry);
        }
    }
    out
}

fn python_readers_present() {
    let probe =
        Command::new("python3").args(["-c", "import duckdb, pyarrow, pandas, pyspark"]).output();
    let ok = probe.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 with duckdb, pyarrow, pandas and pyspark is needed for the reader check: run \
         .ci/test (it installs them with pip): {:?}",
        probe.map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
    );
    let java = Command::new("java").arg("-version").output();
    assert!(
        java.as_ref().is_ok_and(|o| o.status.success()),
        "Spark needs java (17 or newer) on the PATH: run .ci/test (it installs it): {java:?}"
    );
}

/// Runs one of the reader scripts on the output folder and the manifest,
/// and returns what it printed.
fn run_check(script: &str, out: &Path, manifest: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers").join(script);
    let output = Command::new("python3").arg(&script).arg(out).arg(manifest).output();
    let output = output.expect("running python3");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{} failed:\n{stdout}\n{stderr}", script.display());
    stdout
}

#[tokio::test]
async fn duckdb_pyarrow_pandas_and_spark_read_every_exported_file_alike() {
    python_readers_present();
    let clock = Clock::starting_at(morning());
    let sim = sim(&clock, |c| {
        c.volumes.insert("reports_manager/chat_2".into(), 0);
    })
    .await;
    let setup = Setup::new(&sim, 1, &JOBS);
    let rt = setup.runtime(&clock);
    let mut files = Vec::new();
    let mut total_rows = 0;
    for (name, _) in JOBS {
        let job = setup.job(name);
        let result = rt.run_job(&job, None, &CancellationToken::new(), &NoProgress).await.unwrap();
        assert!(result.error.is_none(), "{name}: {:?}", result.error);
        assert!(result.summary.windows > 0, "{name}");
        total_rows += result.summary.rows;
        files.extend(entries(&rt, &sim, &job));
    }
    // cdr: 6 hours; cdr_excel: 3 days; agents: 4 days; chat_empty: 5
    // empty quarters of a day. Two files each.
    assert_eq!(files.len(), 2 * (6 + 3 + 4 + 5));
    assert!(total_rows > 0);
    let accents = files.iter().filter(|f| f["values"].as_object().is_some_and(|v| !v.is_empty()));
    assert!(accents.count() > 0, "no accented value to check");
    let manifest = setup.dir.path().join("manifest.json");
    std::fs::write(&manifest, serde_json::to_vec_pretty(&json!({ "files": files })).unwrap())
        .unwrap();

    let stdout = run_check("check_readers.py", &setup.out(), &manifest);
    let read_alike = format!("{} files read alike", files.len());
    assert!(stdout.starts_with(&format!("reader check: {read_alike}")), "{stdout}");
    let stdout = run_check("check_spark.py", &setup.out(), &manifest);
    assert!(stdout.starts_with(&format!("spark check: {read_alike}")), "{stdout}");
    assert_eq!(sim.breaches(), vec![]);
    sim.shutdown().await.unwrap();
}
