//! The `wolkvox-sync sim` subcommand as a user runs it.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use assert_cmd::cargo::CommandCargoExt;

fn bin() -> Command {
    Command::cargo_bin("wolkvox-sync").unwrap()
}

#[test]
fn help_explains_the_options() {
    let out = bin().args(["sim", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--listen",
        "--seed",
        "--licenses",
        "--token",
        "--maintenance",
        "--faults",
        "--volume",
        "--empty-window",
        "--log",
        "curl -H 'wolkvox-token: TOKEN'",
    ] {
        assert!(text.contains(option), "{option} missing from:\n{text}");
    }
}

#[test]
fn non_loopback_addresses_are_refused() {
    let out = bin().args(["sim", "--listen", "0.0.0.0:8080"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("loopback only"), "{err}");
}

/// Started on a free port, it prints where it listens and its token, and
/// answers a request made with them.
#[test]
fn serves_what_it_prints() {
    let mut child = bin()
        .args(["sim", "--listen", "127.0.0.1:0", "--seed", "3", "--token", "cli-test-token"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.rsplit(' ').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    assert_eq!(lines.next().unwrap().unwrap(), "operation: demo");
    assert_eq!(lines.next().unwrap().unwrap(), "token: cli-test-token");

    let url = format!(
        "{base}/api/v2/reports_manager.php?api=cdr_1&date_ini=20200101000000&date_end=20200101235959"
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, body) = rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(url)
            .header("wolkvox-token", "cli-test-token")
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(r#"{"code":200,"error":null,"msg":"480 records were found""#));
}
