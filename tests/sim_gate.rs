//! The simulator's gate: tokens, in-flight slots, the daily budget and
//! maintenance, and the breaches they record.

mod sim_support;

use std::time::Duration;

use jiff::Timestamp;
use sim_support::*;
use wolkvox_sync::api::messages;
use wolkvox_sync::sim::{BreachKind, MaintenanceTime, MaintenanceWindow, Sim, token_hash};

const CDR_DAY: [(&str, &str); 3] =
    [("api", "cdr_1"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")];

#[tokio::test]
async fn missing_token_is_401_and_not_counted() {
    let sim = Sim::start(config()).await.unwrap();
    let a = call(&sim, "GET", "reports_manager", &CDR_DAY, None).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.json(),
        serde_json::json!({"code": 401, "error": "UNAUTHORIZED", "msg": "PLEASE ENTER THE WOLKVOX-TOKEN"})
    );
    assert_eq!(sim.budget_used("demo"), 0);
    assert_eq!(sim.request_log()[0].operation, None);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_token_is_403_validate() {
    let sim = Sim::start(config()).await.unwrap();
    let a = call(&sim, "GET", "reports_manager", &CDR_DAY, Some("0123abc")).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["msg"], messages::MSG_VALIDATE_TOKEN);
    assert_eq!(a.json()["code"], 403);
    assert_eq!(sim.budget_used("demo"), 0);
    sim.shutdown().await.unwrap();
}

/// Two answers whose big bodies are not read keep both slots busy; a third
/// request is turned away, counted, and reported as a breach.
#[tokio::test]
async fn third_request_in_flight_is_refused() {
    let mut config = config();
    config.volumes.insert("reports_manager/cdr_1".into(), 3_000);
    let sim = Sim::start(config).await.unwrap();
    let url = url(&sim, "reports_manager", &CDR_DAY);
    let open = || client().get(url.clone()).header("wolkvox-token", sim.token()).send();
    let first = open().await.unwrap();
    let second = open().await.unwrap();
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
    assert_eq!(sim.in_flight("demo"), 2);

    let third = get(&sim, "reports_manager", &CDR_DAY).await;
    assert_eq!(third.status, 403);
    assert_eq!(third.json()["msg"], messages::MSG_SIMULTANEOUS);
    assert_eq!(sim.max_in_flight_seen(), 3);
    assert_eq!(sim.budget_used("demo"), 3);
    let breaches = sim.breaches();
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].kind, BreachKind::InFlight { in_flight: 3 });
    assert_eq!(breaches[0].token, token_hash(sim.token()));

    drop((first, second));
    sim.wait_idle().await;
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 200);
    assert_eq!(sim.request_log()[2].in_flight, 3);
    sim.shutdown().await.unwrap();
}

/// Every call counts, whatever it answers; the budget comes back when the
/// operation's day rolls over at its rollover hour.
#[tokio::test]
async fn budget_is_spent_then_rolls_over() {
    let mut config = config();
    config.operations[0].rollover_hour = 6;
    let sim = Sim::start(config).await.unwrap();
    let unknown = [("api", "no_such_api")];
    for _ in 0..999 {
        assert_eq!(get(&sim, "reports_manager", &unknown).await.status, 400);
    }
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 200);
    assert_eq!(sim.budget_used("demo"), 1_000);
    assert!(sim.breaches().is_empty());

    let spent = get(&sim, "reports_manager", &CDR_DAY).await;
    assert_eq!(spent.status, 403);
    assert_eq!(spent.json()["msg"], messages::MSG_TOKEN_LIMIT);
    assert_eq!(sim.breaches()[0].kind, BreachKind::Budget { used: 1_000, limit: 1_000 });

    // 12:00 → 05:59 next day is still the same budget day.
    sim.clock().advance(Duration::from_secs(17 * 3_600 + 59 * 60));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 403);
    sim.clock().advance(Duration::from_secs(60));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 200);
    assert_eq!(sim.budget_used("demo"), 1);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn maintenance_answers_the_documented_body_and_counts() {
    let sim = Sim::start(config()).await.unwrap();
    assert!(sim.set_maintenance("demo", true));
    let a = get(&sim, "reports_manager", &CDR_DAY).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.text(), messages::MAINTENANCE_BODY);
    assert_eq!(sim.budget_used("demo"), 1);

    // A probe every 30 s is fine; one sooner than 1 s after it is a breach.
    sim.clock().advance(Duration::from_secs(30));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 403);
    assert!(sim.breaches().is_empty());
    sim.clock().advance(Duration::from_millis(500));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 403);
    let breaches = sim.breaches();
    assert_eq!(breaches.len(), 1);
    let want = BreachKind::Maintenance { since_previous: Duration::from_millis(500) };
    assert_eq!(breaches[0].kind, want);
    // Two requests crossing (sent before either answer was seen) are not.
    sim.clock().advance(Duration::from_millis(50));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 403);
    assert_eq!(sim.breaches().len(), 1);

    sim.set_maintenance("demo", false);
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 200);
    assert!(!sim.set_maintenance("nope", true));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn scheduled_maintenance_follows_the_clock() {
    let mut config = config();
    let start = MaintenanceTime::Wall(wall(2026, 12, 2, 12, 30, 0));
    let end: Timestamp = "2026-12-02T18:00:00Z".parse().unwrap();
    let end = MaintenanceTime::At(end);
    config.operations[0].maintenance.push(MaintenanceWindow { start, end });
    let sim = Sim::start(config).await.unwrap();
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 200);
    sim.clock().advance(Duration::from_secs(30 * 60));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.text(), messages::MAINTENANCE_BODY);
    sim.clock().advance(Duration::from_secs(30 * 60));
    assert_eq!(get(&sim, "reports_manager", &CDR_DAY).await.status, 200);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn tokens_of_one_operation_share_its_budget() {
    let mut config = config();
    config.operations[0].tokens.push("second-token".into());
    let sim = Sim::start(config).await.unwrap();
    get(&sim, "reports_manager", &CDR_DAY).await;
    let a = call(&sim, "GET", "reports_manager", &CDR_DAY, Some("second-token")).await;
    assert_eq!(a.status, 200);
    assert_eq!(sim.budget_used("demo"), 2);
    let log = sim.request_log();
    assert_eq!(log[1].token.as_deref(), Some(token_hash("second-token").as_str()));
    assert_eq!(log[1].budget_used, 2);
    sim.shutdown().await.unwrap();
}

/// `token_info` reports the live counters and costs a call itself.
#[tokio::test]
async fn token_info_reports_the_budget() {
    let mut config = config();
    config.operations[0].licenses = 3;
    config.operations[0].tokens.push("second-token".into());
    let sim = Sim::start(config).await.unwrap();
    get(&sim, "reports_manager", &CDR_DAY).await;
    call(&sim, "GET", "reports_manager", &CDR_DAY, Some("second-token")).await;
    let a = get(&sim, "information", &[("api", "token_info")]).await;
    let data = a.json()["data"].clone();
    assert_eq!(data.as_array().unwrap().len(), 1);
    assert_eq!(data[0]["token_limit"], "3000");
    assert_eq!(data[0]["token_use_today"], "2");
    assert_eq!(data[0]["all_token_today"], "3");
    sim.shutdown().await.unwrap();
}
