//! The real binary: SIGTERM drains and exits 0 with the file in flight
//! published, a second signal exits at once, SIGHUP reloads, systemd
//! notifications reach a notify socket, and a bad config exits 78.
//!
//! The simulator runs in the test process on 127.0.0.1; the daemon is a
//! child process. NOTIFY_SOCKET and WATCHDOG_USEC go to the child only.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use tokio::net::UnixDatagram;
use wolkvox_sync::sim::{FaultProfile, Sim, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_wolkvox-sync");

/// A config pointing at `sim` with one hourly cdr_1 job that backfills
/// yesterday and today, and one snapshot job when `snapshot` is set.
fn setup(sim: &Sim, grace: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), sim.token()).unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    let config = format!(
        "jobs_dir = \"jobs\"\noutput_dir = \"out\"\nstate_dir = \"state\"\n\
         shutdown_grace = \"{grace}\"\n\n[[operation]]\nname = \"demo\"\nbase_url = \"{}\"\n\
         token_file = \"token\"\nlicenses = 1\n",
        sim.base_url()
    );
    std::fs::write(dir.path().join("wolkvox-sync.toml"), config).unwrap();
    dir
}

fn write_cdr_job(dir: &Path) {
    let start = jiff::Zoned::now().date().yesterday().unwrap();
    let job = format!(
        "endpoint = \"reports_manager/cdr_1\"\nschedule = \"5 * * * *\"\ngrain = \"1h\"\n\
         lag = \"15m\"\nstart = {start}\n"
    );
    std::fs::write(dir.join("jobs/cdr.toml"), job).unwrap();
}

fn write_snapshot_job(dir: &Path, name: &str) {
    let job = "endpoint = \"real_time/agents\"\nschedule = \"0 3 * * *\"\n";
    std::fs::write(dir.join(format!("jobs/{name}.toml")), job).unwrap();
}

async fn start_sim(faults: FaultProfile) -> Sim {
    let mut config = SimConfig::with_seed(11);
    config.faults = faults;
    Sim::start(config).await.unwrap()
}

fn spawn(dir: &Path, env: &[(&str, &Path)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.arg("run").arg("--config").arg(dir.join("wolkvox-sync.toml")).arg("--no-watch");
    cmd.env_remove("NOTIFY_SOCKET").env_remove("WATCHDOG_USEC").env_remove("WATCHDOG_PID");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    cmd.stdout(Stdio::null()).stderr(log).spawn().unwrap()
}

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
}

/// Waits (polling, up to `limit`) for the child to exit.
async fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let give_up = tokio::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if tokio::time::Instant::now() > give_up {
            let _ = child.kill();
            panic!("the daemon did not exit within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_in_flight(sim: &Sim) {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(20);
    while sim.in_flight("demo") == 0 {
        assert!(tokio::time::Instant::now() < give_up, "no request reached the simulator");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn extensions(files: &[String]) -> Vec<String> {
    files.iter().map(|f| PathBuf::from(f).extension().unwrap().to_string_lossy().into()).collect()
}

#[tokio::test]
async fn sigterm_during_a_request_publishes_its_file_and_exits_0() {
    let slow = FaultProfile { slow: 1.0, slow_ms: Some(1_500), ..FaultProfile::default() };
    let sim = start_sim(slow).await;
    let dir = setup(&sim, "30s");
    write_cdr_job(dir.path());
    let mut child = spawn(dir.path(), &[]);

    wait_in_flight(&sim).await;
    kill(&child, "-TERM");
    let status = wait_exit(&mut child, Duration::from_secs(20)).await;

    let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    // The one request in flight finished and was published; no other
    // request was sent, and no temp file is left.
    assert_eq!(sim.request_log().len(), 1);
    let files = tree(&dir.path().join("out"));
    assert_eq!(extensions(&files), ["csv", "parquet"], "{files:?}");
    assert!(files.iter().all(|f| f.starts_with("cdr/window_date=")), "{files:?}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(!log.contains(sim.token()), "the token leaked into the log");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_sigterm_exits_at_once_without_visible_partial_files() {
    let slow = FaultProfile { slow: 1.0, slow_ms: Some(20_000), ..FaultProfile::default() };
    let sim = start_sim(slow).await;
    let dir = setup(&sim, "30s");
    write_cdr_job(dir.path());
    let mut child = spawn(dir.path(), &[]);

    wait_in_flight(&sim).await;
    kill(&child, "-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill(&child, "-TERM");
    let status = wait_exit(&mut child, Duration::from_secs(5)).await;

    assert_eq!(status.code(), Some(1));
    let visible: Vec<String> = tree(&dir.path().join("out"))
        .into_iter()
        .filter(|f| !Path::new(f).file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(visible, Vec::<String>::new());
    sim.shutdown().await.unwrap();
}

/// Receives one datagram (up to 10 s) as text.
async fn recv(socket: &UnixDatagram) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), socket.recv(&mut buf))
        .await
        .expect("no notification within 10 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Receives until a datagram contains `needle`.
async fn recv_until(socket: &UnixDatagram, needle: &str) -> String {
    loop {
        let msg = recv(socket).await;
        if msg.contains(needle) {
            return msg;
        }
    }
}

#[tokio::test]
async fn ready_status_watchdog_and_sighup_reload_reach_systemd() {
    let sim = start_sim(FaultProfile::default()).await;
    let dir = setup(&sim, "30s");
    write_snapshot_job(dir.path(), "agents");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let usec = PathBuf::from("200000");
    let mut child = spawn(dir.path(), &[("NOTIFY_SOCKET", &socket_path), ("WATCHDOG_USEC", &usec)]);

    let ready = recv(&socket).await;
    assert!(
        ready.starts_with("READY=1\nSTATUS=1 job(s), 0 running; demo: 1000/1000 calls left"),
        "{ready}"
    );
    recv_until(&socket, "WATCHDOG=1").await;
    // The snapshot job fires at once (it never fired) and costs one call.
    recv_until(&socket, "STATUS=1 job(s), 0 running; demo: 999/1000 calls left").await;

    write_snapshot_job(dir.path(), "agents_too");
    kill(&child, "-HUP");
    // The added job starts at once and costs one more call.
    recv_until(&socket, "STATUS=2 job(s), 0 running; demo: 998/1000 calls left").await;
    recv_until(&socket, "WATCHDOG=1").await;

    kill(&child, "-TERM");
    let stopping = recv_until(&socket, "STOPPING=1").await;
    assert!(stopping.contains("STATUS=stopping"), "{stopping}");
    let status = wait_exit(&mut child, Duration::from_secs(10)).await;
    let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("jobs reloaded") && log.contains("added=[\"agents_too\"]"), "{log}");
    assert_eq!(sim.request_log().len(), 2, "one snapshot per job");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_config_or_token_stops_start_up_with_78() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wolkvox-sync.toml");
    std::fs::write(&config, "[[operation]]\nname = \"x\"\nserver = \"12\"\n").unwrap();
    let out = Command::new(BIN).arg("run").arg("--config").arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}:", config.display())), "{stderr}");

    let text = "[[operation]]\nname = \"x\"\nbase_url = \"http://127.0.0.1:9\"\n\
                token_file = \"missing-token\"\nlicenses = 1\n";
    std::fs::write(&config, text).unwrap();
    let out = Command::new(BIN).arg("run").arg("--config").arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read token file"));
}

#[tokio::test]
async fn a_second_daemon_on_one_state_folder_refuses_to_start() {
    let sim = start_sim(FaultProfile::default()).await;
    let dir = setup(&sim, "30s");
    write_snapshot_job(dir.path(), "agents");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let mut first = spawn(dir.path(), &[("NOTIFY_SOCKET", &socket_path)]);
    recv_until(&socket, "READY=1").await;

    let config = dir.path().join("wolkvox-sync.toml");
    let out = Command::new(BIN).arg("run").arg("--config").arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    let state = dir.path().join("state");
    let want =
        format!("error: another `wolkvox-sync run` uses the state folder {}", state.display());
    assert!(stderr.contains(&want), "{stderr}");

    kill(&first, "-TERM");
    assert_eq!(wait_exit(&mut first, Duration::from_secs(10)).await.code(), Some(0));
    sim.shutdown().await.unwrap();
}

#[test]
fn validate_config_only_lets_bad_job_files_pass_but_not_bad_folders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "abc").unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    std::fs::write(dir.path().join("jobs/bad.toml"), "endpoint = \"nope/nope\"\n").unwrap();
    let config = dir.path().join("wolkvox-sync.toml");
    let text = "jobs_dir = \"jobs\"\noutput_dir = \"out\"\nstate_dir = \"state\"\n\
                [[operation]]\nname = \"x\"\nbase_url = \"http://127.0.0.1:9\"\n\
                token_file = \"token\"\nlicenses = 1\n";
    std::fs::write(&config, text).unwrap();
    let validate = |extra: &[&str]| {
        Command::new(BIN).arg("validate").args(extra).arg("--config").arg(&config).output().unwrap()
    };

    let strict = validate(&[]);
    assert_eq!(strict.status.code(), Some(78));
    let lenient = validate(&["--config-only"]);
    assert_eq!(lenient.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&lenient.stderr);
    assert!(stderr.contains("bad.toml:1:"), "the job problem is still printed: {stderr}");

    std::fs::write(dir.path().join("out"), "not a folder").unwrap();
    let out = validate(&["--config-only"]);
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("output_dir ") && stderr.contains("is not a folder"), "{stderr}");
}

#[tokio::test]
async fn a_daemon_whose_only_token_is_refused_exits_78() {
    let sim = start_sim(FaultProfile::default()).await;
    let dir = setup(&sim, "30s");
    std::fs::write(dir.path().join("token"), "0123456789abcdef0123456789abcdef0123456789abcdef01")
        .unwrap();
    write_snapshot_job(dir.path(), "agents");
    let mut child = spawn(dir.path(), &[]);
    let status = wait_exit(&mut child, Duration::from_secs(20)).await;
    let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    assert_eq!(status.code(), Some(78), "{log}");
    assert!(log.contains("every operation's token was refused"), "{log}");
    assert_eq!(sim.request_log().len(), 1, "one refused call, no retry loop");
    sim.shutdown().await.unwrap();
}
