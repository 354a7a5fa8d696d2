//! The vendor's own example bodies (`shared/fixtures/vendor-examples.jsonl`)
//! against the catalog and the envelope decoder.
//!
//! For every endpoint whose example is valid JSON, the catalog's keys must
//! be the example's keys; every body, the invalid ones included, must be
//! decoded or cleanly classified without a panic.

use std::collections::BTreeSet;

use wolkvox_sync::{
    api::{VecSink, envelope},
    catalog::{EXTRA_COLUMN, catalog},
};

#[derive(serde::Deserialize)]
struct Example {
    module: String,
    api: String,
    example_body: String,
}

fn examples() -> Vec<Example> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/vendor-examples.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Every key an example's rows carry, children included.
fn example_keys(body: &serde_json::Value, child: Option<&str>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let rows = match body {
        serde_json::Value::Array(rows) => rows.clone(),
        serde_json::Value::Object(o) => match o.get("data").or_else(|| o.get("records")) {
            Some(serde_json::Value::Array(rows)) => rows.clone(),
            Some(serde_json::Value::Object(inner)) => inner.values().cloned().collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    for row in rows {
        let Some(obj) = row.as_object() else { continue };
        for (k, v) in obj {
            if Some(k.as_str()) == child {
                for c in v.as_array().into_iter().flatten().filter_map(|c| c.as_object()) {
                    keys.extend(c.keys().cloned());
                }
            } else {
                keys.insert(k.clone());
            }
        }
    }
    keys
}

#[test]
fn catalog_keys_match_every_valid_vendor_example() {
    let mut matched = 0;
    let mut invalid = 0;
    let mut mismatches = Vec::new();
    for ex in examples() {
        let ep = catalog()
            .get(&ex.module, &ex.api)
            .unwrap_or_else(|| panic!("{}/{} is not in the catalog", ex.module, ex.api));
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&ex.example_body) else {
            invalid += 1;
            continue;
        };
        if matches!(
            ep.shape,
            wolkvox_sync::catalog::Shape::Keyed | wolkvox_sync::catalog::Shape::Wrapped
        ) || ep.api == "latency"
        {
            // Object-shaped data: checked through the decoder below.
            matched += 1;
            continue;
        }
        let want: BTreeSet<String> =
            ep.fields.iter().chain(&ep.child_fields).map(|f| f.key.clone()).collect();
        let got = example_keys(&body, ep.child.as_deref());
        if got != want {
            mismatches.push(format!("{ep}: example {got:?} catalog {want:?}"));
        }
        matched += 1;
    }
    println!("vendor examples: {matched} valid bodies matched the catalog, {invalid} invalid JSON");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!((matched, invalid), (121, 6));
}

#[test]
fn every_vendor_body_decodes_or_is_classified() {
    let mut rows_seen = 0;
    let mut labels = std::collections::BTreeMap::new();
    for ex in examples() {
        let ep = catalog().get(&ex.module, &ex.api).unwrap();
        let mut sink = VecSink::default();
        let outcome = envelope::classify(ep, 200, ex.example_body.as_bytes(), &mut sink);
        *labels.entry(outcome.label()).or_insert(0) += 1;
        if let envelope::Outcome::Rows(env) = &outcome {
            rows_seen += env.rows;
            let extra = ep.columns().iter().position(|c| c.name == EXTRA_COLUMN).unwrap();
            // Only the latency endpoint has arrays beside its child rows.
            if ep.api != "latency" {
                for row in &sink.rows {
                    assert_eq!(
                        row[extra], None,
                        "{ep} has keys the catalog lacks: {:?}",
                        row[extra]
                    );
                }
            }
        }
    }
    println!("vendor examples: {labels:?}, {rows_seen} rows decoded");
    // The six bodies that are not JSON are a transient failure, never rows.
    assert_eq!(labels.get("transient"), Some(&6));
    assert_eq!(labels.get("rows"), Some(&121));
}

/// A reader that hands out a few bytes at a time, so rows straddle every
/// read.
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(self.0.len()).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

type Decoded = Result<(envelope::Envelope, Vec<Vec<Option<String>>>), String>;

fn from_memory(ep: &wolkvox_sync::catalog::Endpoint, body: &[u8]) -> Decoded {
    let mut sink = VecSink::default();
    let env = envelope::decode(ep, body, &mut sink).map_err(|e| e.to_string())?;
    Ok((env, sink.rows))
}

fn from_reader(ep: &wolkvox_sync::catalog::Endpoint, body: &[u8], step: usize) -> Decoded {
    let mut sink = VecSink::default();
    let env =
        envelope::decode_reader(ep, Trickle(body, step), &mut sink).map_err(|e| e.to_string())?;
    Ok((env, sink.rows))
}

#[test]
fn reading_a_body_from_a_file_gives_what_reading_it_from_memory_gives() {
    for ex in examples() {
        let ep = catalog().get(&ex.module, &ex.api).unwrap();
        let body = ex.example_body.as_bytes();
        let want = from_memory(ep, body);
        for step in [1, 7, 4096] {
            let got = from_reader(ep, body, step);
            match (&want, &got) {
                (Ok(want), Ok(got)) => assert_eq!(want, got, "{ep} in steps of {step}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{ep} in steps of {step}: {want:?} vs {got:?}"),
            }
        }
    }
}

#[test]
fn a_body_cut_anywhere_never_decodes_from_a_file() {
    let ex = examples().into_iter().find(|e| e.api == "agent_15").unwrap();
    let ep = catalog().get(&ex.module, &ex.api).unwrap();
    let body = ex.example_body.trim_end().as_bytes();
    assert!(from_reader(ep, body, 5).is_ok());
    for cut in 0..body.len() {
        let got = from_reader(ep, &body[..cut], 5);
        assert!(got.is_err(), "a body cut at byte {cut} of {} decoded", body.len());
    }
}
