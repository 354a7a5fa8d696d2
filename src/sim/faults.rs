//! Fault injection: what goes wrong with a response, reproducibly.
//!
//! A [`FaultProfile`] gives the odds of each fault and the latency spread;
//! each request draws its fault from a stream seeded by the simulator seed
//! and the request's arrival number, so a serial client sees the same
//! faults on every run. Carrying a fault out (closing the connection,
//! cutting the body) is `server`'s job.

use std::{path::Path, time::Duration};

use rand::Rng;
use serde::Deserialize;

use super::values::rng_for;

/// The odds of each fault, each between 0 and 1 and drawn in this order,
/// plus the latency added to every served response. The default has no
/// faults and no latency.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultProfile {
    /// Least latency added before answering, in milliseconds.
    pub latency_min_ms: u64,
    /// Most latency added before answering, in milliseconds.
    pub latency_max_ms: u64,
    /// Answer 500 or 503 with an empty body.
    pub server_error: f64,
    /// Close the connection without answering.
    pub reset: f64,
    /// Send the headers and part of the body, then close the connection.
    pub truncate: f64,
    /// Answer 502 with an HTML page, as a proxy in front of the API would.
    pub html: f64,
    /// Answer only after `slow_ms`.
    pub slow: f64,
    /// The delay of a slow response, in milliseconds (default 61 s, past
    /// the API's 60 s execution limit).
    pub slow_ms: Option<u64>,
}

/// What happens to one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Answer this 5xx status with an empty body.
    ServerError(u16),
    /// Close the connection before the headers.
    Reset,
    /// Close the connection halfway through the body.
    Truncate,
    /// Answer 502 with an HTML page.
    Html,
    /// Answer normally after this long.
    Slow(Duration),
}

impl Fault {
    /// A short name for the request log; `None` when there is no fault.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Fault::None => None,
            Fault::ServerError(_) => Some("server_error"),
            Fault::Reset => Some("reset"),
            Fault::Truncate => Some("truncate"),
            Fault::Html => Some("html"),
            Fault::Slow(_) => Some("slow"),
        }
    }
}

/// A profile that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FaultsError {
    /// The file could not be read.
    #[error("reading fault profile {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The file is not a valid profile.
    #[error("fault profile {path}: {source}")]
    Parse { path: String, source: toml::de::Error },
    /// Neither a built-in name nor an existing file.
    #[error("unknown fault profile {0:?} (none, flaky, slow, or a TOML file)")]
    Unknown(String),
}

impl FaultProfile {
    /// A built-in profile by name: `none`, `flaky` (a few of every fault,
    /// with some latency) or `slow` (latency, and slow answers).
    pub fn named(name: &str) -> Option<FaultProfile> {
        let profile = match name {
            "none" => FaultProfile::default(),
            "flaky" => FaultProfile {
                latency_min_ms: 20,
                latency_max_ms: 300,
                server_error: 0.03,
                reset: 0.02,
                truncate: 0.02,
                html: 0.02,
                ..FaultProfile::default()
            },
            "slow" => FaultProfile {
                latency_min_ms: 500,
                latency_max_ms: 5_000,
                slow: 0.05,
                ..FaultProfile::default()
            },
            _ => return None,
        };
        Some(profile)
    }

    /// A built-in profile name, or else a TOML file with this type's keys.
    pub fn load(name_or_path: &str) -> Result<FaultProfile, FaultsError> {
        if let Some(profile) = FaultProfile::named(name_or_path) {
            return Ok(profile);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(FaultsError::Unknown(name_or_path.to_string()));
        }
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| FaultsError::Read { path: shown.clone(), source })?;
        toml::from_str(&text).map_err(|source| FaultsError::Parse { path: shown, source })
    }

    /// The fault and latency of request number `seq`.
    pub fn draw(&self, seed: u64, seq: u64) -> (Fault, Duration) {
        let mut rng = rng_for(seed, &["fault", &seq.to_string()]);
        let roll: f64 = rng.random();
        let max = self.latency_max_ms.max(self.latency_min_ms);
        let latency = Duration::from_millis(rng.random_range(self.latency_min_ms..=max));
        let status = if rng.random_bool(0.5) { 500 } else { 503 };
        let slow = Duration::from_millis(self.slow_ms.unwrap_or(61_000));
        let odds = [
            (self.server_error, Fault::ServerError(status)),
            (self.reset, Fault::Reset),
            (self.truncate, Fault::Truncate),
            (self.html, Fault::Html),
            (self.slow, Fault::Slow(slow)),
        ];
        let mut edge = 0.0;
        for (p, fault) in odds {
            edge += p;
            if roll < edge {
                return (fault, latency);
            }
        }
        (Fault::None, latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_never_faults() {
        let p = FaultProfile::default();
        for seq in 0..500 {
            assert_eq!(p.draw(1, seq), (Fault::None, Duration::ZERO));
        }
    }

    #[test]
    fn draws_are_reproducible_and_roughly_at_the_odds() {
        let p = FaultProfile { reset: 0.5, ..FaultProfile::default() };
        let a: Vec<_> = (0..1_000).map(|s| p.draw(9, s)).collect();
        let b: Vec<_> = (0..1_000).map(|s| p.draw(9, s)).collect();
        assert_eq!(a, b);
        let resets = a.iter().filter(|(f, _)| *f == Fault::Reset).count();
        assert!((400..600).contains(&resets), "{resets}");
    }

    #[test]
    fn profiles_load_by_name_or_file() {
        assert_eq!(FaultProfile::load("none").unwrap(), FaultProfile::default());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, "html = 1.0\nlatency_max_ms = 5\n").unwrap();
        let p = FaultProfile::load(path.to_str().unwrap()).unwrap();
        assert_eq!(p.html, 1.0);
        assert_eq!(p.draw(1, 1).0, Fault::Html);
        assert!(matches!(FaultProfile::load("nope"), Err(FaultsError::Unknown(_))));
    }
}
