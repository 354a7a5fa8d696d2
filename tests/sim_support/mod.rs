//! Helpers shared by the simulator tests.

#![allow(dead_code)]

use jiff::{Timestamp, civil};
use wolkvox_sync::sim::{Sim, SimClock, SimConfig};

/// A config whose clock is stopped at 2026-12-02 12:00 in Bogotá.
pub fn config() -> SimConfig {
    let mut config = SimConfig::with_seed(42);
    config.clock = SimClock::fixed(noon());
    config
}

/// 2026-12-02 12:00:00 in Bogotá.
pub fn noon() -> Timestamp {
    "2026-12-02T17:00:00Z".parse().unwrap()
}

pub fn wall(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> civil::DateTime {
    civil::date(y, mo, d).at(h, mi, s, 0)
}

pub fn param_date(at: civil::DateTime) -> String {
    at.strftime("%Y%m%d%H%M%S").to_string()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// One answer: status and body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A GET with the sim's token.
pub async fn get(sim: &Sim, module: &str, params: &[(&str, &str)]) -> Answer {
    call(sim, "GET", module, params, Some(sim.token())).await
}

pub async fn call(
    sim: &Sim,
    method: &str,
    module: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> Answer {
    let url = url(sim, module, params);
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(method, url);
    if let Some(token) = token {
        req = req.header("wolkvox-token", token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.bytes().await.unwrap().to_vec();
    Answer { status, content_type, body }
}

/// `{base}/api/v2/{module}.php?params`.
pub fn url(sim: &Sim, module: &str, params: &[(&str, &str)]) -> reqwest::Url {
    let base = format!("{}/api/v2/{module}.php", sim.base_url());
    reqwest::Url::parse_with_params(&base, params).unwrap()
}

/// A window of `cdr_1` as query parameters.
pub fn window(ini: civil::DateTime, end: civil::DateTime) -> [(String, String); 2] {
    [("date_ini".into(), param_date(ini)), ("date_end".into(), param_date(end))]
}
