//! The HTTP client for the wolkvox API.
//!
//! One [`Client`] per operation: reqwest with rustls, gzip, a connect
//! timeout and a total deadline per call (the API's own limit is 60 s), no
//! retries of its own (the engine retries, so that every attempt is counted
//! against the daily budget), and a short idle pool so a connection the
//! server has closed is not reused. It sends one request and reads the
//! whole body; classifying it is [`super::envelope`]'s job.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;

use crate::{catalog::Endpoint, config::Token};

/// The API's documented response size cap (wolkvox-api.md §1.3). A body
/// past it is not a wolkvox answer.
pub const MAX_BODY: usize = 256 * 1024 * 1024 + 1024 * 1024;

/// Timeouts of one client.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole call, body included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        // The API stops a call after 60 s; a little more lets its own
        // answer reach us.
        Timeouts { connect: Duration::from_secs(10), total: Duration::from_secs(75) }
    }
}

/// A short, stable, non-reversible name for a token, for lock files and
/// logs: the first 8 hex digits of its SHA-256.
pub fn token_key(token: &Token) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.expose().as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// A client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid base URL {url:?}: {reason}")]
    BaseUrl { url: String, reason: String },
    #[error("building the HTTP client failed: {0}")]
    Build(#[source] reqwest::Error),
}

/// What came back for one request.
#[derive(Debug)]
pub enum Answer {
    /// An HTTP answer with its whole body.
    Http { status: u16, body: Bytes },
    /// No complete answer: refused, reset, timed out, cut short.
    Failed(String),
}

/// A client for one operation's server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: Token,
}

impl Client {
    /// `base_url` is `https://wv0004.wolkvox.com` or a loopback
    /// simulator's `http://127.0.0.1:PORT`.
    pub fn new(base_url: &str, token: Token, timeouts: Timeouts) -> Result<Client, ClientError> {
        let base = reqwest::Url::parse(base_url).map_err(|e| ClientError::BaseUrl {
            url: base_url.to_string(),
            reason: e.to_string(),
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .pool_idle_timeout(Duration::from_secs(20))
            .retry(reqwest::retry::never())
            .user_agent(concat!("wolkvox-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Build)?;
        Ok(Client { http, base, token })
    }

    /// The URL of an endpoint with its parameters (no token in it).
    pub fn url(&self, ep: &Endpoint, params: &[(String, String)]) -> reqwest::Url {
        let mut url = self.base.clone();
        url.set_path(&format!("/api/v2/{}.php", ep.module));
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api", &ep.api);
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        url
    }

    /// Sends one request and reads the whole body.
    pub async fn fetch(&self, ep: &Endpoint, params: &[(String, String)]) -> Answer {
        let url = self.url(ep, params);
        let method = if ep.method == "POST" { reqwest::Method::POST } else { reqwest::Method::GET };
        let sent = self
            .http
            .request(method, url)
            .header("wolkvox-token", self.token.expose())
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(err) => return Answer::Failed(describe(&err)),
        };
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) if body.len() + chunk.len() > MAX_BODY => {
                    return Answer::Failed("body larger than the API's 256 MB cap".to_string());
                }
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(err) => return Answer::Failed(format!("body cut short: {}", describe(&err))),
            }
        }
        Answer::Http { status, body: Bytes::from(body) }
    }
}

/// A transport error in one phrase, without the URL's query.
fn describe(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "body could not be read"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(err);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { what.to_string() } else { format!("{what}: {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints() {
        let t = Token::new("0123456789abcdef0123456789abcdef0123456789abcdef01");
        assert_eq!(format!("{t:?}"), "<redacted>");
        assert_eq!(token_key(&t).len(), 8);
    }

    #[test]
    fn url_carries_api_and_params_but_no_token() {
        let ep = crate::catalog::catalog().get("reports_manager", "cdr_1").unwrap();
        let c =
            Client::new("http://127.0.0.1:9", Token::new("secret"), Timeouts::default()).unwrap();
        let url = c.url(ep, &[("date_ini".into(), "20261201000000".into())]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/v2/reports_manager.php?api=cdr_1&date_ini=20261201000000"
        );
    }
}
