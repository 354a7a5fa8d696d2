use super::*;
use crate::api::{VecSink, messages};
use crate::catalog::{EXTRA_COLUMN, catalog};

fn ep(id: &str) -> &'static Endpoint {
    catalog().by_id(id).unwrap()
}

fn rows(id: &str, body: &str) -> (Outcome, Vec<Vec<Option<String>>>) {
    let mut sink = VecSink::default();
    let outcome = classify(ep(id), 200, body.as_bytes(), &mut sink);
    (outcome, sink.rows)
}

fn col(id: &str, name: &str) -> usize {
    ep(id).columns().iter().position(|c| c.name == name).unwrap()
}

#[test]
fn nested_rows_carry_parent_keys() {
    let body = r#"{"code":200,"error":null,"msg":"1 records were found","data":[
        {"agent_name":"Ana Muñoz","agent_id":"12001","status_x_hour":[
            {"hour":"08:00","calls":"3"},{"hour":"09:00","calls":"5"}]}]}"#;
    let (outcome, rows) = rows("reports_manager/agent_5", body);
    assert!(matches!(outcome, Outcome::Rows(ref e) if e.rows == 2), "{outcome:?}");
    let id = "reports_manager/agent_5";
    assert_eq!(rows[1][col(id, "agent_name")].as_deref(), Some("Ana Muñoz"));
    assert_eq!(rows[1][col(id, "hour")].as_deref(), Some("09:00"));
    assert_eq!(rows[1][col(id, "calls")].as_deref(), Some("5"));
    assert_eq!(rows[0][col(id, "aux_time")], None);
}

#[test]
fn keyed_data_becomes_rows_named_by_key() {
    let body = r#"{"code":200,"data":{"0_5_seg":{"calls":"1","minutes":"0.1","cost":"0","percentage":"5 %"},
        "6_20_seg":{"calls":"2","minutes":"0.5","cost":"0","percentage":"10 %"}}}"#;
    let (outcome, rows) = rows("reports_manager/cdr_4", body);
    assert!(matches!(outcome, Outcome::Rows(_)));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0].as_deref(), Some("6_20_seg"));
}

#[test]
fn unknown_keys_are_kept_as_json() {
    let body = r#"{"code":"200","data":[{"result":"ANSWER","count":"4","date_close":"x\"y"}]}"#;
    let (_, rows) = rows("reports_manager/cdr_6", body);
    let extra = rows[0][col("reports_manager/cdr_6", EXTRA_COLUMN)].clone();
    assert_eq!(extra.as_deref(), Some(r#"{"date_close":"x\"y"}"#));
}

#[test]
fn bare_array_and_numbers() {
    let body = r#"[{"campaign":"Ventas","speed":3,"status":null}]"#;
    let (outcome, rows) = rows("real_time/campaigns", body);
    assert!(matches!(outcome, Outcome::Rows(_)), "{outcome:?}");
    assert_eq!(rows[0][1].as_deref(), Some("3"));
    assert_eq!(rows[0][2], None);
}

#[test]
fn errors_are_told_apart_by_msg() {
    let cases = [
        (403, messages::MAINTENANCE_BODY.to_string(), Outcome::Maintenance),
        (403, r#"{"code":403,"error":"FORBIDDEN","msg":"TOKEN LIMIT EXCEEDED"}"#.into(), Outcome::BudgetSpent),
        (
            403,
            r#"{"code":403,"error":"FORBIDDEN","msg":"EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)"}"#.into(),
            Outcome::Concurrency,
        ),
        (404, r#"{"code":"404","error":null,"msg":"Validate dates entered"}"#.into(), Outcome::Empty),
        // Reworded or recased, the same answers: the README quotes the
        // maintenance message without its last words.
        (403, r#"{"code":"403","msg":"The APIs cannot be consumed at this time"}"#.into(), Outcome::Maintenance),
        (403, r#"{"code":"403","msg":"the apis cannot be consumed at this time."}"#.into(), Outcome::Maintenance),
        (403, r#"{"code":403,"msg":"Token limit exceeded for today"}"#.into(), Outcome::BudgetSpent),
        (404, r#"{"code":"404","msg":"VALIDATE DATES ENTERED"}"#.into(), Outcome::Empty),
        (403, r#"{"code":"403","msg":"The API can not be consumed now"}"#.into(), Outcome::Maintenance),
        (403, r#"{"code":"403","msg":"Sorry,\u00a0the\tAPIs  cannot be consumed"}"#.into(), Outcome::Maintenance),
        (403, r#"{"code":"403","error":"The APIs cannot be consumed at this time","msg":null}"#.into(), Outcome::Maintenance),
        (403, r#"{"code":"403","msg":"Plataforma en mantenimiento"}"#.into(), Outcome::Maintenance),
    ];
    for (status, body, want) in cases {
        let got =
            classify(ep("reports_manager/cdr_1"), status, body.as_bytes(), &mut VecSink::default());
        assert_eq!(got, want, "{body}");
    }
    let bad = classify(
        ep("reports_manager/cdr_1"),
        403,
        br#"{"msg":"PLEASE VALIDATE TOKEN"}"#,
        &mut VecSink::default(),
    );
    assert_eq!(bad.label(), "bad_token");
    let html = classify(
        ep("reports_manager/cdr_1"),
        502,
        b"<html>Bad gateway</html>",
        &mut VecSink::default(),
    );
    assert_eq!(html, Outcome::Transient("status 502 with an HTML page".into()));
}

#[test]
fn a_cut_body_is_transient_not_empty() {
    let body = r#"{"code":"200","error":null,"msg":"2 records were found","data":[{"result":"A","count":"1"},{"res"#;
    let (outcome, _) = rows("reports_manager/cdr_6", body);
    assert_eq!(outcome.label(), "transient");
    let (outcome, _) =
        rows("reports_manager/cdr_6", r#"{"code":"200","msg":"0 records were found"}"#);
    assert_eq!(outcome, Outcome::Transient("status 200 without data".into()));
}
