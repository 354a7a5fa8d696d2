//! Writing response bodies: the success envelope in each catalog shape and
//! code style, and the error bodies (wolkvox-api.md §2–3).
//!
//! Keys are written in catalog order, values as JSON strings. Which rows
//! go in is `data`'s business; which status goes with a body is `server`'s.

use super::data::Record;
use crate::catalog::{CodeStyle, Endpoint, Field, Kind, Shape};

/// The body of a success, or of an empty window served as `200` + `[]`.
pub(crate) fn success(ep: &Endpoint, records: &[Record], campaign_id: &str) -> Vec<u8> {
    let rows: usize = records.iter().map(Record::row_count).sum();
    let mut out = Vec::with_capacity(64 + records.len() * 256);
    match ep.shape {
        Shape::Bare => array(ep, records, &mut out),
        Shape::Records => {
            out.extend_from_slice(b"{\"code\":");
            out.extend_from_slice(code(ep.code).as_bytes());
            out.extend_from_slice(b",\"total_records\":");
            string(&rows.to_string(), &mut out);
            out.extend_from_slice(b",\"campaign_id\":");
            string(campaign_id, &mut out);
            out.extend_from_slice(b",\"records\":");
            array(ep, records, &mut out);
            out.push(b'}');
        }
        _ => envelope(ep, records, rows, &mut out),
    }
    out
}

/// `{"code": <int>, "error": ..., "msg": ...}`, the shape of the documented
/// errors.
pub(crate) fn error(code: u16, error: &str, msg: &str) -> String {
    serde_json::json!({ "code": code, "error": error, "msg": msg }).to_string()
}

/// The 404 of an empty window, with `code` a string (wolkvox-api.md §2.3).
pub(crate) fn empty_window() -> String {
    serde_json::json!({
        "code": "404",
        "error": "NOT FOUND",
        "msg": crate::api::messages::MSG_VALIDATE_DATES,
    })
    .to_string()
}

fn code(style: CodeStyle) -> &'static str {
    match style {
        CodeStyle::Int => "200",
        CodeStyle::String | CodeStyle::None => "\"200\"",
        CodeStyle::Zero => "\"0\"",
        CodeStyle::Empty => "\"\"",
    }
}

fn envelope(ep: &Endpoint, records: &[Record], rows: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"code\":");
    out.extend_from_slice(code(ep.code).as_bytes());
    out.extend_from_slice(b",\"error\":null,\"msg\":");
    let msg = match ep.kind {
        Kind::Billing => "Information found for the current month".to_string(),
        _ => format!("{rows} records were found"),
    };
    string(&msg, out);
    out.extend_from_slice(b",\"data\":");
    if records.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        data(ep, records, rows, out);
    }
    out.push(b'}');
}

fn data(ep: &Endpoint, records: &[Record], rows: usize, out: &mut Vec<u8>) {
    match ep.shape {
        Shape::Object => object(ep, &records[0], out),
        Shape::Keyed => {
            out.push(b'{');
            for (i, rec) in records.iter().enumerate() {
                comma(i, out);
                string(rec.key.as_deref().unwrap_or(""), out);
                out.push(b':');
                object(ep, rec, out);
            }
            out.push(b'}');
        }
        Shape::KeyedList => keyed_list(ep, records, out),
        Shape::Wrapped => {
            let wrap = ep.wrap.as_deref().unwrap_or("data");
            out.push(b'{');
            if wrap == "data" {
                // The paginated WhatsApp reads (wolkvox-api.md §2.2).
                out.extend_from_slice(b"\"status\":\"success\",\"total\":");
                string(&rows.to_string(), out);
                out.extend_from_slice(b",\"page\":\"0\",\"limit\":\"100\",");
            }
            string(wrap, out);
            out.push(b':');
            array(ep, records, out);
            out.push(b'}');
        }
        _ => array(ep, records, out),
    }
}

fn keyed_list(ep: &Endpoint, records: &[Record], out: &mut Vec<u8>) {
    out.push(b'{');
    let mut start = 0;
    let mut groups = 0;
    while start < records.len() {
        let key = records[start].key.as_deref();
        let len = records[start..].iter().take_while(|r| r.key.as_deref() == key).count();
        comma(groups, out);
        string(key.unwrap_or(""), out);
        out.push(b':');
        array(ep, &records[start..start + len], out);
        start += len;
        groups += 1;
    }
    out.push(b'}');
}

fn array(ep: &Endpoint, records: &[Record], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, rec) in records.iter().enumerate() {
        comma(i, out);
        object(ep, rec, out);
    }
    out.push(b']');
}

fn object(ep: &Endpoint, rec: &Record, out: &mut Vec<u8>) {
    out.push(b'{');
    members(&ep.fields, &rec.values, out);
    if let Some(child) = &ep.child {
        if !ep.fields.is_empty() {
            out.push(b',');
        }
        string(child, out);
        out.extend_from_slice(b":[");
        for (i, row) in rec.children.iter().enumerate() {
            comma(i, out);
            out.push(b'{');
            members(&ep.child_fields, row, out);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.push(b'}');
}

fn members(fields: &[Field], values: &[String], out: &mut Vec<u8>) {
    for (i, (f, v)) in fields.iter().zip(values).enumerate() {
        comma(i, out);
        string(&f.key, out);
        out.push(b':');
        string(v, out);
    }
}

fn comma(i: usize, out: &mut Vec<u8>) {
    if i > 0 {
        out.push(b',');
    }
}

/// A JSON string; non-ASCII text is written as UTF-8, not escaped.
fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_and_control_characters() {
        let mut out = Vec::new();
        string("a\"b\\c\nd\u{1}ñ", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001ñ""#);
    }
}
