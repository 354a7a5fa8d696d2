//! The daemon at rest: 50 jobs loaded, time to READY, resident memory and
//! CPU while idle. Goals: READY within 100 ms, RSS ≤ 15 MB, idle CPU under
//! 0.1 % of a core.
//!
//! Spawns the `wolkvox-sync` binary of this build with a notify socket and
//! the `Environment=` of `systemd/wolkvox-sync.service` (as the service
//! runs it), against the simulator in this process on 127.0.0.1; each job
//! (a daily snapshot) fires once at start-up, then the daemon only ticks.
//! Memory comes from /proc/PID/status, CPU time from /proc/PID/schedstat
//! (nanoseconds: /proc/PID/stat's clock ticks are 10 ms, too coarse for an
//! idle daemon). Run with `cargo bench --bench daemon_idle` (or
//! `cargo build --benches` and run the bench binary for a debug figure).

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tokio::net::UnixDatagram;
use wolkvox_sync::sim::{Sim, SimConfig};

const JOBS: usize = 50;
const IDLE: Duration = Duration::from_secs(20);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sim = Sim::start(SimConfig::with_seed(3)).await.expect("the simulator starts");
    let dir = tempfile::tempdir().expect("a temp dir");
    write_setup(dir.path(), &sim);
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("a notify socket");

    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wolkvox-sync"))
        .args(["run", "--config"])
        .arg(dir.path().join("wolkvox-sync.toml"))
        .envs(unit_environment())
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WOLKVOX_SYNC_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the daemon starts");
    let pid = child.id();
    recv_until(&socket, "READY=1").await;
    let ready = started.elapsed();
    let done = format!("STATUS={JOBS} job(s), 0 running; demo: {}/1000", 1000 - JOBS);
    recv_until(&socket, &done).await;
    let busy = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;

    let before = cpu_ns(pid);
    tokio::time::sleep(IDLE).await;
    let after = cpu_ns(pid);
    // Threads that ended meanwhile (idle blocking-pool threads) drop out;
    // a thread that started counts whole.
    let idle_ns: u64 =
        after.iter().map(|(tid, ns)| ns - before.get(tid).copied().unwrap_or(0)).sum();
    let rss_kb = rss_kb(pid);
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let status = child.wait().expect("the daemon exits");

    let cpu = idle_ns as f64 / 1e9 / IDLE.as_secs_f64() * 100.0;
    println!("daemon_idle: {JOBS} jobs");
    println!("  time to READY        {:>8.1} ms   (goal ≤ 100 ms)", ms(ready));
    println!("  first runs done      {:>8.1} ms   ({JOBS} snapshot calls)", ms(busy));
    println!("  idle RSS             {:>8.1} MB   (goal ≤ 15 MB)", rss_kb as f64 / 1024.0);
    println!(
        "  idle CPU over {:>2} s   {:>8.3} %    (goal < 0.1 % of a core)",
        IDLE.as_secs(),
        cpu
    );
    println!("  exit                 {status}");
    assert_eq!(sim.breaches().len(), 0);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn write_setup(dir: &Path, sim: &Sim) {
    std::fs::write(dir.join("token"), sim.token()).expect("token");
    std::fs::create_dir(dir.join("jobs")).expect("jobs dir");
    let config = format!(
        "jobs_dir = \"jobs\"\noutput_dir = \"out\"\nstate_dir = \"state\"\n\n[[operation]]\n\
         name = \"demo\"\nbase_url = \"{}\"\ntoken_file = \"token\"\nlicenses = 1\n",
        sim.base_url()
    );
    std::fs::write(dir.join("wolkvox-sync.toml"), config).expect("config");
    for i in 0..JOBS {
        let job =
            "endpoint = \"real_time/agents\"\nschedule = \"0 3 * * *\"\nformats = [\"csv\"]\n";
        std::fs::write(dir.join(format!("jobs/agents_{i:02}.toml")), job).expect("job");
    }
}

async fn recv_until(socket: &UnixDatagram, needle: &str) {
    let mut buf = vec![0u8; 4096];
    loop {
        let wait = tokio::time::timeout(Duration::from_secs(60), socket.recv(&mut buf));
        let n = wait.await.expect("a notification within 60 s").expect("recv");
        if String::from_utf8_lossy(&buf[..n]).contains(needle) {
            return;
        }
    }
}

/// Time each of `pid`'s threads has spent on a CPU, in nanoseconds.
fn cpu_ns(pid: u32) -> std::collections::HashMap<String, u64> {
    let mut threads = std::collections::HashMap::new();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc tasks");
    for task in tasks.flatten() {
        // A thread that ended since the listing has no schedstat left.
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
        let ns = stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok());
        threads.insert(task.file_name().to_string_lossy().into_owned(), ns.expect("schedstat"));
    }
    threads
}

/// The `Environment=NAME=VALUE` settings of the service unit.
fn unit_environment() -> Vec<(String, String)> {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/wolkvox-sync.service");
    let text = std::fs::read_to_string(&unit).expect("the service unit");
    let settings = text.lines().filter_map(|l| l.trim().strip_prefix("Environment="));
    settings
        .flat_map(|s| s.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number")
}
