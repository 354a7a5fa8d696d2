//! The simulator's documented errors: unknown APIs, missing parameters,
//! windows too long or unreadable, disabled endpoints and empty windows.

mod sim_support;

use sim_support::*;
use wolkvox_sync::api::messages;
use wolkvox_sync::sim::{EmptyWindow, RangeMode, Sim};

fn bad(code: u16, error: &str, msg: &str) -> serde_json::Value {
    serde_json::json!({ "code": code, "error": error, "msg": msg })
}

#[tokio::test]
async fn unknown_api_or_module_is_400() {
    let sim = Sim::start(config()).await.unwrap();
    let want = bad(400, "BAD REQUEST", messages::MSG_UNKNOWN_API);
    let a = get(&sim, "reports_manager", &[("api", "cdr_99")]).await;
    assert_eq!((a.status, a.json()), (400, want.clone()));
    let b = get(&sim, "nowhere", &[("api", "cdr_1")]).await;
    assert_eq!((b.status, b.json()), (400, want.clone()));
    let c = get(&sim, "reports_manager", &[]).await;
    assert_eq!((c.status, c.json()), (400, want));
    assert_eq!(sim.budget_used("demo"), 3);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn missing_parameters_are_400() {
    let sim = Sim::start(config()).await.unwrap();
    let want = bad(400, "BAD REQUEST", messages::MSG_PARAMS_REQUIRED);
    let no_skill =
        [("api", "skill_4"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")];
    let a = get(&sim, "reports_manager", &no_skill).await;
    assert_eq!((a.status, a.json()), (400, want.clone()));
    let no_end = [("api", "cdr_1"), ("date_ini", "20261201000000")];
    assert_eq!(get(&sim, "reports_manager", &no_end).await.json(), want);
    let empty_end = [("api", "cdr_1"), ("date_ini", "20261201000000"), ("date_end", "")];
    assert_eq!(get(&sim, "reports_manager", &empty_end).await.json(), want);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn windows_too_long_or_unreadable_are_400_by_default() {
    let sim = Sim::start(config()).await.unwrap();
    let want = bad(400, "BAD REQUEST", messages::MSG_RANGE_TOO_LONG);
    let cases = [
        ("cdr_1", "20261001000000", "20261031235959", 200),
        ("cdr_1", "20261001000000", "20261101000000", 400),
        ("skill_5", "20261201000000", "20261201235959", 200),
        ("skill_5", "20261201000000", "20261202000000", 400),
        ("cdr_1", "2026-12-01", "20261201235959", 400),
        ("cdr_1", "20261232000000", "20261201235959", 400),
        ("cdr_1", "20261202000000", "20261201000000", 400),
    ];
    for (api, ini, end, status) in cases {
        let mut q = vec![("api", api), ("date_ini", ini), ("date_end", end)];
        if api == "skill_5" {
            q.push(("skill_id", "all"));
        }
        let a = get(&sim, "reports_manager", &q).await;
        assert_eq!(a.status, status, "{api} {ini} {end}: {}", a.text());
        if status == 400 {
            assert_eq!(a.json(), want);
        }
    }
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn long_windows_can_be_served() {
    let mut config = config();
    config.range = RangeMode::Serve;
    let sim = Sim::start(config).await.unwrap();
    let q = [("api", "cdr_1"), ("date_ini", "20261001000000"), ("date_end", "20261105000000")];
    let a = get(&sim, "reports_manager", &q).await;
    assert_eq!(a.status, 200);
    let unreadable = [("api", "cdr_1"), ("date_ini", "x"), ("date_end", "20261105000000")];
    assert_eq!(get(&sim, "reports_manager", &unreadable).await.status, 400);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn empty_window_is_404_validate_dates() {
    let sim = Sim::start(config()).await.unwrap();
    // The clock says 2026-12-02 12:00; tomorrow has no rows yet.
    for api in ["cdr_1", "agent_1"] {
        let q = [("api", api), ("date_ini", "20261203000000"), ("date_end", "20261203235959")];
        let a = get(&sim, "reports_manager", &q).await;
        assert_eq!(a.status, 404, "{api}");
        let want = serde_json::json!({"code": "404", "error": "NOT FOUND", "msg": "Validate dates entered"});
        assert_eq!(a.json(), want);
    }
    assert_eq!(sim.request_log()[0].status, 404);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn empty_window_can_be_200_with_empty_data() {
    let mut config = config();
    config.empty_window = EmptyWindow::EmptyData;
    let sim = Sim::start(config).await.unwrap();
    let q = [("api", "cdr_1"), ("date_ini", "20261203000000"), ("date_end", "20261203235959")];
    let a = get(&sim, "reports_manager", &q).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.text(), r#"{"code":200,"error":null,"msg":"0 records were found","data":[]}"#);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn disabled_endpoint_is_404_not_enabled() {
    let mut config = config();
    config.operations[0].disabled.push("reports_manager/chat_7".into());
    let sim = Sim::start(config).await.unwrap();
    let q = [("api", "chat_7"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")];
    let a = get(&sim, "reports_manager", &q).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json(), bad(404, "NOT FOUND", messages::MSG_NOT_ENABLED));
    sim.shutdown().await.unwrap();
}
