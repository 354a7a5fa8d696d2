//! Fault injection as a client sees it, and the request log it leaves.

mod sim_support;

use std::time::Duration;

use sim_support::*;
use wolkvox_sync::api::{
    VecSink,
    envelope::{Outcome, classify},
};
use wolkvox_sync::catalog::catalog;
use wolkvox_sync::sim::{FaultProfile, Sim, SimConfig, token_hash};

const CDR_DAY: [(&str, &str); 3] =
    [("api", "cdr_1"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")];

fn with_faults(faults: FaultProfile) -> SimConfig {
    let mut config = config();
    config.faults = faults;
    config
}

async fn send(sim: &Sim) -> reqwest::Result<reqwest::Response> {
    client()
        .get(url(sim, "reports_manager", &CDR_DAY))
        .header("wolkvox-token", sim.token())
        .send()
        .await
}

#[tokio::test]
async fn reset_drops_the_connection_unanswered() {
    let sim =
        Sim::start(with_faults(FaultProfile { reset: 1.0, ..Default::default() })).await.unwrap();
    let err = send(&sim).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    let log = sim.request_log();
    assert_eq!((log[0].status, log[0].fault), (0, Some("reset")));
    assert_eq!(sim.budget_used("demo"), 1);
    sim.wait_idle().await;
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn truncated_body_fails_mid_read() {
    let sim = Sim::start(with_faults(FaultProfile { truncate: 1.0, ..Default::default() }))
        .await
        .unwrap();
    let resp = send(&sim).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err());
    assert_eq!(sim.request_log()[0].fault, Some("truncate"));
    sim.wait_idle().await;
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn html_error_page_is_502_and_transient() {
    let sim =
        Sim::start(with_faults(FaultProfile { html: 1.0, ..Default::default() })).await.unwrap();
    let a = get(&sim, "reports_manager", &CDR_DAY).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.content_type, "text/html; charset=utf-8");
    assert!(a.text().contains("<h1>502 Bad Gateway</h1>"));
    let ep = catalog().by_id("reports_manager/cdr_1").unwrap();
    let outcome = classify(ep, a.status, &a.body, &mut VecSink::default());
    assert!(matches!(outcome, Outcome::Transient(ref m) if m.contains("HTML")), "{outcome:?}");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_errors_are_500_or_503() {
    let sim = Sim::start(with_faults(FaultProfile { server_error: 1.0, ..Default::default() }))
        .await
        .unwrap();
    for _ in 0..6 {
        let a = get(&sim, "reports_manager", &CDR_DAY).await;
        assert!(matches!(a.status, 500 | 503), "{}", a.status);
        assert!(a.body.is_empty());
    }
    sim.shutdown().await.unwrap();
}

/// A slow answer waits before its headers (tokio time; tokio's
/// `test-util` is not enabled here, so this waits a real 300 ms).
#[tokio::test]
async fn slow_answers_take_their_time() {
    let faults = FaultProfile { slow: 1.0, slow_ms: Some(300), ..Default::default() };
    let sim = Sim::start(with_faults(faults)).await.unwrap();
    let started = tokio::time::Instant::now();
    let a = get(&sim, "reports_manager", &CDR_DAY).await;
    assert_eq!(a.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!(sim.request_log()[0].fault, Some("slow"));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn faults_repeat_with_the_seed() {
    let flaky = FaultProfile::named("flaky").unwrap();
    let faults = |sim: &Sim| sim.request_log().iter().map(|r| r.fault).collect::<Vec<_>>();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let mut config =
            with_faults(FaultProfile { latency_max_ms: 0, latency_min_ms: 0, ..flaky.clone() });
        config.faults.server_error = 0.3;
        let sim = Sim::start(config).await.unwrap();
        for _ in 0..20 {
            let _ = send(&sim).await.map(|r| async { r.bytes().await });
        }
        sim.wait_idle().await;
        seen.push(faults(&sim));
        sim.shutdown().await.unwrap();
    }
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0].iter().any(Option::is_some));
}

/// The log names the token only by hash, in memory and on disk.
#[tokio::test]
async fn request_log_keeps_the_token_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let mut config = config();
    config.log_path = Some(path.clone());
    let sim = Sim::start(config).await.unwrap();
    get(&sim, "reports_manager", &CDR_DAY).await;
    get(&sim, "reports_manager", &[("api", "nope")]).await;
    let log = sim.request_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].at, noon());
    assert_eq!(log[0].endpoint, "reports_manager/cdr_1");
    assert_eq!(log[0].params[1], ("date_ini".to_string(), "20261201000000".to_string()));
    assert_eq!((log[0].status, log[0].rows, log[0].in_flight), (200, Some(480), 1));
    assert_eq!((log[1].status, log[1].budget_used), (400, 2));
    assert_eq!(log[1].token.as_deref(), Some(token_hash(sim.token()).as_str()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains(sim.token()));
    assert!(text.contains(&token_hash(sim.token())));
    sim.shutdown().await.unwrap();
}
