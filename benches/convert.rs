//! How fast `convert` turns saved `cdr_1` bodies into Parquet + CSV, and
//! how much memory it holds while doing it.
//!
//! The bench writes two deterministic bodies into a temporary folder (60,000
//! rows, the API's cap for one call, and one of about 256 MB, the API's
//! body limit), then converts each in a child process of this binary, so
//! each case's peak RSS (VmHWM) is its own; then it converts the same body
//! again through the `wolkvox-sync convert` subcommand, timed by
//! `/usr/bin/time` (wall time and max RSS of the child). Run with `cargo
//! bench --bench convert`; a name filter (`60k`, `256mb`) picks cases.

use std::{
    env, fs,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Instant,
};

use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use wolkvox_sync::{
    catalog::catalog,
    writers::{Formats, convert::convert, csv::CsvOptions},
};

const ENDPOINT: &str = "reports_manager/cdr_1";

/// One generated body: a name and how big it is.
struct Case {
    name: &'static str,
    size: Size,
}

enum Size {
    Rows(u64),
    Bytes(u64),
}

const CASES: [Case; 2] = [
    Case { name: "cdr_1_60k_rows", size: Size::Rows(60_000) },
    Case { name: "cdr_1_256mb", size: Size::Bytes(256 << 20) },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.iter().position(|a| a == "--child") {
        Some(at) => child(&args[at + 1..]),
        None => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("convert bench: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Generates each body and converts it in a child process.
fn parent(args: &[String]) -> io::Result<()> {
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let dir = tempfile::tempdir()?;
    let exe = env::current_exe()?;
    for case in &CASES {
        if !filters.is_empty() && !filters.iter().any(|f| case.name.contains(f.as_str())) {
            continue;
        }
        let input = dir.path().join(format!("{}.json", case.name));
        let rows = write_body(&input, &case.size)?;
        let out = dir.path().join(format!("{}.out", case.name));
        fs::create_dir(&out)?;
        let status = Command::new(&exe).arg("--child").arg(&input).arg(&out).status()?;
        if !status.success() {
            return Err(io::Error::other(format!("{} failed: {status}", case.name)));
        }
        let out = dir.path().join(format!("{}.bin-out", case.name));
        fs::create_dir(&out)?;
        through_binary(case.name, &input, &out)?;
        println!("  ({rows} rows generated)");
    }
    Ok(())
}

/// Converts one body with the `wolkvox-sync convert` subcommand under
/// `/usr/bin/time`, and prints its wall time and peak RSS.
fn through_binary(name: &str, input: &Path, out: &Path) -> io::Result<()> {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "time: %e s %M kB"])
        .arg(env!("CARGO_BIN_EXE_wolkvox-sync"))
        .args(["convert", "--endpoint", ENDPOINT, "--out"])
        .arg(out)
        .arg(input)
        .output()
        .map_err(|e| io::Error::other(format!("running /usr/bin/time: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(io::Error::other(format!("{name}: convert failed: {stderr}")));
    }
    let line = stderr.lines().rev().find(|l| l.starts_with("time: "));
    let fields: Vec<&str> = line.map(|l| l.split_whitespace().collect()).unwrap_or_default();
    let (Some(secs), Some(kb)) = (fields.get(1), fields.get(3)) else {
        return Err(io::Error::other(format!("{name}: no timing from /usr/bin/time: {stderr}")));
    };
    let kb: f64 = kb.parse().map_err(|_| io::Error::other(format!("bad max RSS {kb:?}")))?;
    println!("{name} via `wolkvox-sync convert`: {secs} s, peak RSS {:.1} MB", kb / 1024.0);
    Ok(())
}

/// Converts one body and prints what it cost.
fn child(args: &[String]) -> io::Result<()> {
    let [input, out] = args else {
        return Err(io::Error::other("usage: convert --child INPUT OUT_DIR"));
    };
    let (input, out) = (PathBuf::from(input), PathBuf::from(out));
    let ep = catalog().by_id(ENDPOINT).ok_or_else(|| io::Error::other("no cdr_1"))?;
    let in_bytes = fs::metadata(&input)?.len();

    let started = Instant::now();
    let report =
        convert(ep, std::slice::from_ref(&input), &out, Formats::BOTH, CsvOptions::default())
            .map_err(io::Error::other)?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(err) = report.failed.first() {
        return Err(io::Error::other(err.to_string()));
    }

    let mb = |b: u64| b as f64 / (1 << 20) as f64;
    let sizes: Vec<String> = report.converted[0]
        .report
        .files
        .iter()
        .map(|f| format!("{} {:.1} MB", f.format.extension(), mb(f.bytes)))
        .collect();
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    println!(
        "{stem}: {:.1} MB in, {} rows, {:.2} s, {:.1} MB/s, peak RSS {:.1} MB; {}",
        mb(in_bytes),
        report.rows(),
        secs,
        mb(in_bytes) / secs,
        peak_rss_kb()? as f64 / 1024.0,
        sizes.join(", ")
    );
    Ok(())
}

/// The process's peak resident set (VmHWM), in kB.
fn peak_rss_kb() -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"));
    let kb = line.and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok());
    kb.ok_or_else(|| io::Error::other("no VmHWM in /proc/self/status"))
}

/// Writes a `cdr_1` body of the given size; returns its row count. The
/// rows are generated twice from one seed (once to count them, once to
/// write them) so `msg` can state the count up front, as the API does.
fn write_body(path: &Path, size: &Size) -> io::Result<u64> {
    let rows = match *size {
        Size::Rows(n) => n,
        Size::Bytes(limit) => rows_within(limit)?,
    };
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    write!(
        out,
        "{{\"code\": 200, \"error\": null, \"msg\": \"{rows} records were found\", \"data\": ["
    )?;
    let mut rows_gen = RowGen::new();
    for i in 0..rows {
        if i > 0 {
            out.write_all(b",")?;
        }
        rows_gen.write_row(&mut out, i)?;
    }
    out.write_all(b"]}")?;
    out.flush()?;
    Ok(rows)
}

/// How many generated rows fit in `limit` bytes of body.
fn rows_within(limit: u64) -> io::Result<u64> {
    let mut counter = Counter(0);
    let mut rows_gen = RowGen::new();
    let mut rows = 0;
    while counter.0 < limit - 100 {
        rows_gen.write_row(&mut counter, rows)?;
        counter.0 += 1;
        rows += 1;
    }
    Ok(rows)
}

struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const AGENTS: [&str; 8] = [
    "COM-MARTA DIAZ",
    "ING-PAULA GOMEZ",
    "COM-LUIS  VARGAS",
    "José Peña Ñúñez",
    "María José Baño",
    "Routing_point_61182",
    "chat_bot",
    "ING-ANDRÉS  CASTAÑO",
];
const CODES: [(&str, &str); 6] = [
    ("Acuerdo_de_Pago", "Acuerdo de pago"),
    ("Promesa_de_Pago", "Promesa de pago"),
    ("TIMEOUTACW", "Tiempo de ACW agotado"),
    ("No_Contesta", "No contesta"),
    ("Volver_a_Llamar", "Volver a llamar, cliente ocupado"),
    ("-", "-"),
];
const TYPES: [&str; 6] =
    ["inbound", "outbound_ma", "out_pre", "transfer", "internal call", "conference"];
const SKILLS: [(&str, &str); 3] =
    [("4173", "Cobranza Bogotá"), ("4174", "Servicio al cliente"), ("4180", "Retención")];
const COMMENTS: [&str; 5] = [
    "",
    "Cliente pide llamar después de las 5 p.m.",
    "Dice: \"ya pagué\", revisar soporte",
    "Número equivocado; no registrar",
    "Acordó pagar $150.000 el viernes\nenviar recordatorio por WhatsApp",
];

/// Rows that look like the API's: every value a string, placeholders,
/// accents, durations as seconds, ids as the API builds them.
struct RowGen {
    rng: ChaCha8Rng,
}

impl RowGen {
    fn new() -> RowGen {
        RowGen { rng: ChaCha8Rng::seed_from_u64(0x5eed_cd01) }
    }

    fn write_row(&mut self, out: &mut dyn Write, i: u64) -> io::Result<()> {
        let rng = &mut self.rng;
        // Spread the calls over one 31-day window starting 2026-01-01 (UTC-5).
        let offset = (i * 37 + rng.random_range(0..37)) % (31 * 86_400);
        let epoch = 1_767_243_600 + offset;
        let (day, secs) = (1 + offset / 86_400, offset % 86_400);
        let date =
            format!("2026-01-{day:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        let agent_id: u32 = rng.random_range(12_000..13_000);
        let talk: u32 = rng.random_range(0..1_800);
        let (code, code_text) = *CODES.choose(rng).unwrap_or(&CODES[0]);
        let (skill_id, skill_name) = *SKILLS.choose(rng).unwrap_or(&SKILLS[0]);
        let row = serde_json::json!({
            "agent_name": AGENTS.choose(rng).unwrap_or(&AGENTS[0]),
            "date": date,
            "destiny": format!("57{}", rng.random_range(3_000_000_000u64..3_300_000_000)),
            "telephone": format!("{}", rng.random_range(3_000_000_000u64..3_300_000_000)),
            "cost": format!("{:.2}", f64::from(talk) * 0.35),
            "time_seg": talk.to_string(),
            "time_min": format!("{:.2}", f64::from(talk) / 60.0),
            "cod_act": code,
            "description_cod_act": code_text,
            "cod_act_2": "-",
            "description_cod_act_2": "",
            "type_interaction": TYPES.choose(rng).unwrap_or(&TYPES[0]),
            "customer_id": rng.random_range(1_000_000u64..1_100_000_000).to_string(),
            "hang_up": if rng.random_bool(0.5) { "agent" } else { "customer" },
            "campaign_id": if rng.random_bool(0.3) { "-".to_string() } else { rng.random_range(100..999).to_string() },
            "conn_id": format!("{agent_id}.{:04}.{epoch}.{i}", rng.random_range(0..10_000)),
            "skill_id": skill_id,
            "skill_name": skill_name,
            "agent_id": agent_id.to_string(),
            "comment": COMMENTS.choose(rng).unwrap_or(&COMMENTS[0]),
        });
        serde_json::to_writer(&mut *out, &row).map_err(io::Error::other)
    }
}
