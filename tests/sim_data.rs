//! What the simulator serves: every catalog endpoint in its shape and code
//! style, rows equal to the ground truth, deterministic windows that tile,
//! the row cap and late rows.

mod sim_support;

use std::time::Duration;

use jiff::civil;
use sim_support::*;
use wolkvox_sync::api::{
    VecSink,
    envelope::{Outcome, classify},
};
use wolkvox_sync::catalog::{CodeStyle, Endpoint, Kind, Shape, catalog};
use wolkvox_sync::sim::{LateData, Sim};

fn day() -> (civil::DateTime, civil::DateTime) {
    (wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 23, 59, 59))
}

/// The query of `ep` for `day()`: required parameters other than the dates
/// are `all` (or a fixed id for `agent_id`).
fn query(ep: &Endpoint) -> Vec<(String, String)> {
    let (ini, end) = day();
    let mut q = vec![("api".to_string(), ep.api.clone())];
    for name in &ep.required {
        let value = match name.as_str() {
            "date_ini" => param_date(ini),
            "date_end" => param_date(end),
            "agent_id" => "10077".to_string(),
            _ => "all".to_string(),
        };
        q.push((name.clone(), value));
    }
    q
}

fn pairs(q: &[(String, String)]) -> Vec<(&str, &str)> {
    q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn decode(ep: &Endpoint, a: &Answer) -> Vec<Vec<Option<String>>> {
    let mut sink = VecSink::default();
    let outcome = classify(ep, a.status, &a.body, &mut sink);
    assert!(matches!(outcome, Outcome::Rows(_)), "{ep}: {outcome:?} {}", a.text());
    sink.rows
}

fn code_of(style: CodeStyle) -> Option<serde_json::Value> {
    match style {
        CodeStyle::Int => Some(serde_json::json!(200)),
        CodeStyle::String => Some(serde_json::json!("200")),
        CodeStyle::Zero => Some(serde_json::json!("0")),
        CodeStyle::Empty => Some(serde_json::json!("")),
        CodeStyle::None => None,
    }
}

#[tokio::test]
async fn every_endpoint_decodes_to_the_ground_truth() {
    let sim = Sim::start(config()).await.unwrap();
    let (ini, end) = day();
    for ep in &catalog().endpoints {
        let q = query(ep);
        let a = call(&sim, &ep.method, &ep.module, &pairs(&q), Some(sim.token())).await;
        assert_eq!(a.status, 200, "{ep}: {}", a.text());
        assert_eq!(a.content_type, "application/json; charset=utf-8");
        let got = decode(ep, &a);
        let params: Vec<_> = pairs(&q).into_iter().filter(|(k, _)| *k != "api").collect();
        let want = sim.rows(ep, &params, ini, end);
        assert!(!want.is_empty(), "{ep}");
        assert_eq!(got, want, "{ep}");
        let width = ep.columns().len();
        assert!(got.iter().all(|r| r.len() == width && r[width - 1].is_none()), "{ep}");
        let json = a.json();
        if ep.shape != Shape::Bare {
            assert_eq!(Some(json["code"].clone()), code_of(ep.code), "{ep}");
        }
        if ep.shape != Shape::Bare && ep.shape != Shape::Records && ep.kind != Kind::Billing {
            assert_eq!(json["msg"], format!("{} records were found", got.len()), "{ep}");
            assert_eq!(json["error"], serde_json::Value::Null, "{ep}");
        }
    }
    assert!(sim.breaches().is_empty());
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn odd_shapes_look_like_the_vendor_examples() {
    let sim = Sim::start(config()).await.unwrap();
    let cdr_4 = get(
        &sim,
        "reports_manager",
        &[("api", "cdr_4"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")],
    )
    .await;
    let data = &cdr_4.json()["data"];
    assert!(data["0_5_seg"]["calls"].is_string(), "{data}");
    assert!(data["greater_than_121"]["percentage"].as_str().unwrap().ends_with('%'));

    let bare = get(&sim, "real_time", &[("api", "campaigns")]).await;
    assert!(bare.json().is_array());

    let rec = get(&sim, "campaign", &[("api", "campaign_15"), ("campaign_id", "77")]).await;
    let json = rec.json();
    assert_eq!(json["campaign_id"], "77");
    assert_eq!(json["total_records"], "10");
    assert_eq!(json["records"].as_array().unwrap().len(), 10);

    let wrapped = get(&sim, "whatsapp", &[("api", "agent_chat"), ("agent_id", "10001")]).await;
    assert_eq!(wrapped.json()["data"]["page"], "0");
    assert!(wrapped.json()["data"]["data"].is_array());

    let post = call(
        &sim,
        "GET",
        "whatsapp",
        &[("api", "conversations_today_by_customer"), ("chat_id", "1")],
        Some(sim.token()),
    )
    .await;
    assert_eq!(post.status, 405);
    sim.shutdown().await.unwrap();
}

/// Keys come in catalog order; values are strings in the API's formats.
#[tokio::test]
async fn cdr_1_rows_look_real() {
    let sim = Sim::start(config()).await.unwrap();
    let q = [("api", "cdr_1"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")];
    let a = get(&sim, "reports_manager", &q).await;
    let text = a.text();
    let ep = catalog().by_id("reports_manager/cdr_1").unwrap();
    let first = &text[text.find("\"data\":[{").unwrap()..];
    let mut last = 0;
    for f in &ep.fields {
        let at = first.find(&format!("\"{}\":", f.key)).unwrap();
        assert!(at > last || last == 0, "{} out of order", f.key);
        last = at;
    }
    let rows = decode(ep, &a);
    assert_eq!(rows.len(), 24 * 20);
    let col = |name: &str| ep.columns().iter().position(|c| c.name == name).unwrap();
    for row in &rows {
        let conn: Vec<&str> = row[col("conn_id")].as_deref().unwrap().split('.').collect();
        let date =
            civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", row[col("date")].as_deref().unwrap())
                .unwrap();
        let epoch =
            date.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_second() + 5 * 3_600;
        assert_eq!(conn[2], epoch.to_string());
        assert_eq!(conn[0], row[col("agent_id")].as_deref().unwrap());
        assert_eq!(row[col("agent_id")].as_deref().unwrap().len(), 5);
        assert_eq!(row[col("skill_id")].as_deref().unwrap().len(), 4);
    }
    assert!(text.contains('ñ') || text.contains('á'), "Spanish text");
    assert!(text.contains("\\n") && text.contains("\\\""), "comments with line breaks and quotes");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn detail_windows_tile_and_repeat() {
    let sim = Sim::start(config()).await.unwrap();
    let ep = catalog().by_id("reports_manager/cdr_1").unwrap();
    let whole = sim.rows(ep, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 23, 59, 59));
    let a = sim.rows(ep, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 10, 17, 42));
    let b = sim.rows(ep, &[], wall(2026, 12, 1, 10, 17, 43), wall(2026, 12, 1, 23, 59, 59));
    assert_eq!(whole.len(), 480);
    assert_eq!([a.clone(), b].concat(), whole);
    let again = sim.rows(ep, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 10, 17, 42));
    assert_eq!(a, again);
    let date = ep.columns().iter().position(|c| c.name == "date").unwrap();
    let times: Vec<&str> = whole.iter().map(|r| r[date].as_deref().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "ordered by time");
    assert!(times[0] >= "2026-12-01 00:00:00" && times[479] <= "2026-12-01 23:59:59");

    // Nested detail rows tile too.
    let chat_2 = catalog().by_id("reports_manager/chat_2").unwrap();
    let whole = sim.rows(chat_2, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 5, 59, 59));
    let a = sim.rows(chat_2, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 2, 30, 0));
    let b = sim.rows(chat_2, &[], wall(2026, 12, 1, 2, 30, 1), wall(2026, 12, 1, 5, 59, 59));
    assert_eq!(whole.len(), 120);
    assert_eq!([a, b].concat(), whole);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_busy_window_is_cut_at_60000_rows() {
    let mut config = config();
    config.volumes.insert("reports_manager/cdr_1".into(), 3_000);
    let sim = Sim::start(config).await.unwrap();
    let ep = catalog().by_id("reports_manager/cdr_1").unwrap();
    let q = [("api", "cdr_1"), ("date_ini", "20261201000000"), ("date_end", "20261201235959")];
    let a = get(&sim, "reports_manager", &q).await;
    let rows = decode(ep, &a);
    assert_eq!(rows.len(), 60_000);
    assert_eq!(a.json()["msg"], "60000 records were found");
    let first_20h = sim.rows(ep, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 19, 59, 59));
    assert_eq!(rows, first_20h);
    let half_day = sim.rows(ep, &[], wall(2026, 12, 1, 0, 0, 0), wall(2026, 12, 1, 11, 59, 59));
    assert_eq!(half_day.len(), 36_000);
    assert_eq!(sim.request_log()[0].rows, Some(60_000));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn late_rows_show_up_later_and_future_rows_never() {
    let mut config = config();
    config.late = LateData { share: 0.5, ..LateData::default() };
    let sim = Sim::start(config).await.unwrap();
    let ep = catalog().by_id("reports_manager/cdr_1").unwrap();
    // Now is 12:00; the window runs to 13:59:59.
    let (ini, end) = (wall(2026, 12, 2, 8, 0, 0), wall(2026, 12, 2, 13, 59, 59));
    let early = sim.rows(ep, &[], ini, end);
    let date = ep.columns().iter().position(|c| c.name == "date").unwrap();
    assert!(early.iter().all(|r| r[date].as_deref().unwrap() <= "2026-12-02 12:00:00"));
    assert!(early.len() < 80, "{}", early.len());
    sim.clock().advance(Duration::from_secs(6 * 3_600));
    let later = sim.rows(ep, &[], ini, end);
    assert_eq!(later.len(), 120);
    assert!(early.iter().all(|r| later.contains(r)));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn aggregates_answer_per_window_and_filters_fill_their_field() {
    let sim = Sim::start(config()).await.unwrap();
    let ep = catalog().by_id("reports_manager/skill_4").unwrap();
    let (ini, end) = day();
    let all = sim.rows(ep, &[("skill_id", "all")], ini, end);
    assert_eq!(all, sim.rows(ep, &[("skill_id", "all")], ini, end));
    let one = sim.rows(ep, &[("skill_id", "4101")], ini, end);
    assert!(one.iter().all(|r| r[0].as_deref() == Some("4101")));
    let agents = catalog().by_id("reports_manager/agent_1").unwrap();
    let rows = sim.rows(agents, &[], ini, end);
    let ids: std::collections::HashSet<_> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids.len(), 10, "one row per agent");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn reports_per_hour_cover_the_hours_of_the_window_once_each() {
    let sim = Sim::start(config()).await.unwrap();
    let col = |ep: &Endpoint, name: &str| ep.columns().iter().position(|c| c.name == name).unwrap();
    let skill_4 = catalog().by_id("reports_manager/skill_4").unwrap();
    let (skill, hour) = (col(skill_4, "skill_id"), col(skill_4, "hour"));
    let pairs_of = |rows: &[Vec<Option<String>>], a: usize, b: usize| {
        let mut p: Vec<(String, String)> =
            rows.iter().map(|r| (r[a].clone().unwrap(), r[b].clone().unwrap())).collect();
        p.sort();
        p
    };

    // One hour: each of the 5 skills once, all at 00:00.
    let one = sim.rows(
        skill_4,
        &[("skill_id", "all")],
        wall(2026, 12, 1, 0, 0, 0),
        wall(2026, 12, 1, 0, 59, 59),
    );
    let got = pairs_of(&one, skill, hour);
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|(_, h)| h == "00:00"), "{got:?}");

    // A day: every skill at every hour, once; one skill asked, once an hour.
    let (ini, end) = day();
    let mut got = pairs_of(&sim.rows(skill_4, &[("skill_id", "all")], ini, end), skill, hour);
    let n = got.len();
    got.dedup();
    assert_eq!((n, got.len()), (5 * 24, 5 * 24));
    let one_skill = sim.rows(skill_4, &[("skill_id", "4101")], ini, end);
    let hours: Vec<_> = one_skill.iter().map(|r| r[hour].clone().unwrap()).collect();
    let want: Vec<String> = (0..24).map(|h| format!("{h:02}:00")).collect();
    assert_eq!(hours, want);

    // The whole operation per hour (agent_6): one row an hour, and none
    // for the hours still to come (the simulator's clock is at noon).
    let agent_6 = catalog().by_id("reports_manager/agent_6").unwrap();
    let today = sim.rows(agent_6, &[], wall(2026, 12, 2, 0, 0, 0), wall(2026, 12, 2, 23, 59, 59));
    let hours: Vec<_> = today.iter().map(|r| r[col(agent_6, "hour")].clone().unwrap()).collect();
    assert_eq!(hours, want[..13]);

    // agent_8's date and hour agree across a two-day window.
    let agent_8 = catalog().by_id("reports_manager/agent_8").unwrap();
    let rows = sim.rows(agent_8, &[], wall(2026, 11, 29, 12, 0, 0), wall(2026, 11, 30, 11, 59, 59));
    let (date, hour) = (col(agent_8, "date"), col(agent_8, "hour"));
    for r in &rows {
        let at = format!("{} {}", r[date].as_deref().unwrap(), r[hour].as_deref().unwrap());
        assert!(("2026-11-29 12:00".."2026-11-30 12:00").contains(&at.as_str()), "{at}");
    }
    assert_eq!(rows.len(), 10 * 24);
    sim.shutdown().await.unwrap();
}
