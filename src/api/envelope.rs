//! Decoding and classifying wolkvox response bodies.
//!
//! [`decode`] walks a body once, streaming each row into a [`RowSink`] in
//! catalog column order, without building rows as maps: nested arrays
//! become one row per child carrying the parent's keys, object-shaped
//! `data` is read by its catalog shape, and keys the catalog does not know
//! are kept as a JSON object in [`crate::catalog::EXTRA_COLUMN`]. [`classify`] turns an
//! HTTP status and body into an [`Outcome`] the pacer and the retry policy
//! act on (wolkvox-api.md §2–3). The rows a sink received are only good
//! when the outcome is [`Outcome::Rows`]; the caller throws them away
//! otherwise.

use std::{borrow::Cow, collections::HashMap, fmt, io};

use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::RowSink;
use crate::catalog::{Endpoint, Shape};

/// What the envelope around the rows said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `code` as text, whatever JSON type it had.
    pub code: Option<String>,
    pub error: Option<String>,
    pub msg: Option<String>,
    /// Rows handed to the sink.
    pub rows: u64,
    /// Whether the body had a `data` (or `records`) member, or was a bare
    /// array.
    pub has_data: bool,
}

impl Envelope {
    /// Whether `code` says success: `200`, `"200"` or `"0"`; an endpoint
    /// documented with an empty code (`information campaigns`) or with no
    /// envelope passes when it carries data.
    pub fn is_success(&self) -> bool {
        match self.code.as_deref().map(str::trim) {
            Some("200") | Some("0") => true,
            Some("") | None => self.has_data,
            Some(_) => false,
        }
    }
}

/// A body that could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON cut short.
    #[error("invalid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The sink failed (a full disk, say).
    #[error("writing rows failed: {0}")]
    Sink(#[source] io::Error),
}

/// Decodes a whole body held in memory.
pub fn decode(ep: &Endpoint, body: &[u8], sink: &mut dyn RowSink) -> Result<Envelope, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    with_cx(ep, sink, |cx| TopSeed { cx }.deserialize(&mut de).and_then(|()| de.end()))
}

/// Decodes a body from a reader (a saved response file), holding a few
/// rows at a time.
pub fn decode_reader<R: io::Read>(
    ep: &Endpoint,
    reader: R,
    sink: &mut dyn RowSink,
) -> Result<Envelope, DecodeError> {
    if chunked::serves(ep.shape) {
        let data_key = if ep.shape == Shape::Records { "records" } else { "data" };
        return with_cx(ep, sink, |cx| chunked::run(reader, cx, data_key));
    }
    let mut de =
        serde_json::Deserializer::from_reader(io::BufReader::with_capacity(1 << 16, reader));
    with_cx(ep, sink, |cx| TopSeed { cx }.deserialize(&mut de).and_then(|()| de.end()))
}

/// Runs a decoder over a fresh context; a sink error wins over the JSON
/// error it caused.
fn with_cx(
    ep: &Endpoint,
    sink: &mut dyn RowSink,
    decode: impl FnOnce(&mut Cx<'_>) -> Result<(), serde_json::Error>,
) -> Result<Envelope, DecodeError> {
    let layout = Layout::new(ep);
    let mut env = Envelope::default();
    let mut sink_err = None;
    let mut cx = Cx {
        layout: &layout,
        sink,
        env: &mut env,
        sink_err: &mut sink_err,
        row: RowBuf::default(),
    };
    let result = decode(&mut cx);
    if let Some(err) = sink_err {
        return Err(DecodeError::Sink(err));
    }
    result.map_err(DecodeError::Json)?;
    Ok(env)
}

/// What an answer means for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success; the sink holds the rows.
    Rows(Envelope),
    /// 404 "Validate dates entered": the window has no rows.
    Empty,
    /// Any other 404: the API is not enabled for this operation.
    NotEnabled(String),
    /// The documented maintenance 403: pause, probe, resume.
    Maintenance,
    /// 403 `TOKEN LIMIT EXCEEDED`: the day's budget is spent.
    BudgetSpent,
    /// 403: another consumer holds the token's in-flight slots.
    Concurrency,
    /// 401 or 403 about the token: stop the operation.
    BadToken(String),
    /// 400: the request itself is wrong; a job error, not retried.
    BadRequest(String),
    /// 5xx, a cut or invalid body, an HTML page: worth a retry.
    Transient(String),
}

impl Outcome {
    /// A short phrase for logs and the request log.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Rows(_) => "rows",
            Outcome::Empty => "empty",
            Outcome::NotEnabled(_) => "not_enabled",
            Outcome::Maintenance => "maintenance",
            Outcome::BudgetSpent => "budget_spent",
            Outcome::Concurrency => "concurrency",
            Outcome::BadToken(_) => "bad_token",
            Outcome::BadRequest(_) => "bad_request",
            Outcome::Transient(_) => "transient",
        }
    }
}

/// Classifies an answer, decoding the rows of a success into `sink`.
pub fn classify(ep: &Endpoint, status: u16, body: &[u8], sink: &mut dyn RowSink) -> Outcome {
    if status == 200 {
        return classify_ok(ep, body, sink);
    }
    let env = error_envelope(body);
    classify_status(status, &message(&env), body)
}

/// The envelope's message: `msg`, or `error` when `msg` is empty, with its
/// white space (tabs, non-breaking spaces, runs) made single spaces.
fn message(env: &Envelope) -> String {
    let msg = env.msg.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let text = msg.or(env.error.as_deref()).unwrap_or_default();
    text.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

fn classify_ok(ep: &Endpoint, body: &[u8], sink: &mut dyn RowSink) -> Outcome {
    let env = match decode(ep, body, sink) {
        Ok(env) => env,
        Err(DecodeError::Sink(err)) => {
            return Outcome::Transient(format!("writing rows failed: {err}"));
        }
        Err(err) => return Outcome::Transient(format!("status 200 with {err}")),
    };
    if env.is_success() && env.has_data {
        return Outcome::Rows(env);
    }
    if env.is_success() {
        return Outcome::Transient("status 200 without data".to_string());
    }
    // A 200 whose body carries an error code: classify by the body's code.
    let code = env.code.as_deref().and_then(|c| c.trim().parse().ok()).unwrap_or(0);
    classify_status(code, &message(&env), body)
}

fn classify_status(status: u16, msg: &str, body: &[u8]) -> Outcome {
    // The 403s are told apart by words of their messages, in any case: the
    // one published wording of each is all anyone has seen, and taking a
    // reworded maintenance answer for a refused token would stop the
    // operation (and lose the days it stays stopped) rather than pause it,
    // while the reverse costs a probe every few minutes, logged as paused.
    let lower = msg.to_ascii_lowercase();
    let says = |words: &str| lower.contains(words);
    match status {
        403 if says("be consumed") || says("maintenance") || says("mantenimiento") => {
            Outcome::Maintenance
        }
        403 if says("limit exceeded") => Outcome::BudgetSpent,
        403 if says("simultaneous") => Outcome::Concurrency,
        401 | 403 => Outcome::BadToken(describe(status, msg)),
        404 if says("validate dates") => Outcome::Empty,
        404 => Outcome::NotEnabled(describe(status, msg)),
        400 | 405 | 406 | 422 => Outcome::BadRequest(describe(status, msg)),
        _ => Outcome::Transient(describe_transient(status, msg, body)),
    }
}

fn describe(status: u16, msg: &str) -> String {
    if msg.is_empty() { format!("status {status}") } else { format!("status {status}: {msg}") }
}

fn describe_transient(status: u16, msg: &str, body: &[u8]) -> String {
    if !msg.is_empty() {
        return format!("status {status}: {msg}");
    }
    let looks_html = body.iter().take(512).any(|&b| b == b'<');
    let what = if looks_html { "an HTML page" } else { "a body that is not a wolkvox envelope" };
    format!("status {status} with {what}")
}

/// Reads `code`, `error` and `msg` from an error body, ignoring anything
/// that is not a JSON object.
fn error_envelope(body: &[u8]) -> Envelope {
    #[derive(serde::Deserialize)]
    struct Raw {
        code: Option<serde_json::Value>,
        error: Option<serde_json::Value>,
        msg: Option<serde_json::Value>,
    }
    let Ok(raw) = serde_json::from_slice::<Raw>(body) else {
        return Envelope::default();
    };
    Envelope {
        code: raw.code.as_ref().and_then(scalar_text),
        error: raw.error.as_ref().and_then(scalar_text),
        msg: raw.msg.as_ref().and_then(scalar_text),
        ..Envelope::default()
    }
}

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Where each key of a row goes.
struct Layout {
    ncols: usize,
    /// Parent keys in catalog order with their columns: keys usually
    /// arrive in this order, so the next one is tried before hashing.
    order: Vec<(String, usize)>,
    /// Parent key → its place in `order`.
    parent: HashMap<String, usize>,
    child: HashMap<String, usize>,
    child_key: Option<String>,
    key_col: Option<usize>,
    extra_col: usize,
    shape: Shape,
    wrap: String,
}

impl Layout {
    fn new(ep: &Endpoint) -> Layout {
        let cols = ep.columns();
        let index = |name: &str| cols.iter().position(|c| c.name == name);
        let mut order = Vec::new();
        let mut parent = HashMap::new();
        for f in &ep.fields {
            parent.insert(f.key.clone(), order.len());
            order.push((f.key.clone(), index(&f.key).unwrap_or(0)));
        }
        let mut child = HashMap::new();
        for f in &ep.child_fields {
            let at = index(&ep.child_column_name(&f.key)).unwrap_or(0);
            child.insert(f.key.clone(), at);
        }
        Layout {
            ncols: cols.len(),
            order,
            parent,
            child,
            child_key: ep.child.clone(),
            key_col: ep.key_field.as_ref().and_then(|k| index(k)),
            extra_col: cols.len() - 1,
            shape: ep.shape,
            wrap: ep.wrap.clone().unwrap_or_else(|| "data".to_string()),
        }
    }
}

impl Layout {
    /// The column of a parent key, trying the key after the previous one
    /// first; `expected` moves past the key found.
    fn parent_column(&self, key: &str, expected: &mut usize) -> Option<usize> {
        let at = match self.order.get(*expected) {
            Some((k, _)) if k == key => *expected,
            _ => *self.parent.get(key)?,
        };
        *expected = at + 1;
        Some(self.order[at].1)
    }
}

/// Decoding context shared by the seeds.
struct Cx<'a> {
    layout: &'a Layout,
    sink: &'a mut dyn RowSink,
    env: &'a mut Envelope,
    /// A sink error, kept aside so that the JSON error it causes does not
    /// hide it.
    sink_err: &'a mut Option<io::Error>,
    /// The row being read.
    row: RowBuf,
}

struct TopSeed<'a, 'b> {
    cx: &'a mut Cx<'b>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a wolkvox envelope object or a bare array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.cx.env.has_data = true;
        RowsSeq { cx: self.cx, key: None }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let data_key = if self.cx.layout.shape == Shape::Records { "records" } else { "data" };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "code" => self.cx.env.code = map.next_value::<Scalar>()?.0.map(Cow::into_owned),
                "error" => self.cx.env.error = map.next_value::<Scalar>()?.0.map(Cow::into_owned),
                "msg" => self.cx.env.msg = map.next_value::<Scalar>()?.0.map(Cow::into_owned),
                k if k == data_key => {
                    self.cx.env.has_data = true;
                    map.next_value_seed(DataSeed { cx: self.cx })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `data` member, read by the endpoint's shape. An array is always
/// read as rows, and an object as one row, for shapes that expect the
/// other (a production client copes with both, wolkvox-api.md §2.2).
struct DataSeed<'a, 'b> {
    cx: &'a mut Cx<'b>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("rows")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.cx.env.has_data = false;
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _v: &str) -> Result<(), E> {
        self.cx.env.has_data = false;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RowsSeq { cx: self.cx, key: None }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        match self.cx.layout.shape {
            Shape::Keyed | Shape::KeyedList => KeyedMap { cx: self.cx }.visit_map(map),
            Shape::Wrapped => WrappedMap { cx: self.cx }.visit_map(map),
            _ => RowSeed { cx: self.cx, key: None }.visit_map(map),
        }
    }
}

/// An array of row objects.
struct RowsSeq<'a, 'b, 'k> {
    cx: &'a mut Cx<'b>,
    key: Option<&'k str>,
}

impl<'de> Visitor<'de> for RowsSeq<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RowSeed { cx: &mut *self.cx, key: self.key })?.is_some() {}
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for RowsSeq<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// `cdr_4` (name → row) and `quality_matrix` (name → rows).
struct KeyedMap<'a, 'b> {
    cx: &'a mut Cx<'b>,
}

impl<'de> Visitor<'de> for KeyedMap<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of named rows")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            map.next_value_seed(KeyedValue { cx: &mut *self.cx, key: &key })?;
        }
        Ok(())
    }
}

struct KeyedValue<'a, 'b, 'k> {
    cx: &'a mut Cx<'b>,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for KeyedValue<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyedValue<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row or an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RowsSeq { cx: self.cx, key: Some(self.key) }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        RowSeed { cx: self.cx, key: Some(self.key) }.visit_map(map)
    }
}

/// WhatsApp reads: `data` is an object holding the array under `wrap`.
struct WrappedMap<'a, 'b> {
    cx: &'a mut Cx<'b>,
}

impl<'de> Visitor<'de> for WrappedMap<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object wrapping rows")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.cx.layout.wrap.as_str() {
                map.next_value_seed(RowsSeq { cx: &mut *self.cx, key: None })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// One row object; for nested shapes, one parent and its children.
struct RowSeed<'a, 'b, 'k> {
    cx: &'a mut Cx<'b>,
    key: Option<&'k str>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let layout = self.cx.layout;
        let row = &mut self.cx.row;
        row.reset(layout.ncols);
        let mut extra = serde_json::Map::new();
        let mut children: Vec<Vec<Option<Cow<'de, str>>>> = Vec::new();
        if let (Some(col), Some(key)) = (layout.key_col, self.key) {
            row.put(col, key);
        }
        let mut expected = 0;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if layout.child_key.as_deref() == Some(key.as_ref()) {
                map.next_value_seed(ChildSeq { layout, rows: &mut children, extra: &mut extra })?;
                continue;
            }
            match layout.parent_column(key.as_ref(), &mut expected) {
                Some(col) if row.spans[col].is_none() => {
                    row.spans[col] = map.next_value_seed(TextSeed(&mut row.text))?;
                }
                _ => keep_extra(&mut extra, key, map.next_value::<serde_json::Value>()?),
            }
        }
        if !extra.is_empty() {
            let text = serde_json::Value::Object(extra).to_string();
            row.put(layout.extra_col, &text);
        }
        let parent = row.values();
        if children.is_empty() {
            return emit(self.cx.sink, self.cx.env, self.cx.sink_err, &parent);
        }
        for child in &children {
            let values: Vec<Option<&str>> =
                child.iter().zip(&parent).map(|(c, p)| c.as_deref().or(*p)).collect();
            emit(self.cx.sink, self.cx.env, self.cx.sink_err, &values)?;
        }
        Ok(())
    }
}

/// Hands one row to the sink, keeping a sink error aside so that the JSON
/// error it causes does not hide it.
fn emit<E: de::Error>(
    sink: &mut dyn RowSink,
    env: &mut Envelope,
    sink_err: &mut Option<io::Error>,
    values: &[Option<&str>],
) -> Result<(), E> {
    if let Err(err) = sink.row(values) {
        *sink_err = Some(err);
        return Err(E::custom("sink failed"));
    }
    env.rows += 1;
    Ok(())
}

/// One row's values as spans of one text buffer, reused from row to row,
/// so a row costs no allocation per value (a body read from a file cannot
/// lend its strings).
#[derive(Debug, Default)]
struct RowBuf {
    text: String,
    spans: Vec<Option<(usize, usize)>>,
}

impl RowBuf {
    fn reset(&mut self, ncols: usize) {
        self.text.clear();
        self.spans.clear();
        self.spans.resize(ncols, None);
    }

    fn put(&mut self, col: usize, value: &str) {
        let start = self.text.len();
        self.text.push_str(value);
        self.spans[col] = Some((start, self.text.len()));
    }

    fn values(&self) -> Vec<Option<&str>> {
        self.spans.iter().map(|s| s.map(|(a, b)| &self.text[a..b])).collect()
    }
}

/// Appends any JSON value to a buffer as text (as [`Scalar`] reads it) and
/// returns where it went; `None` for `null`.
struct TextSeed<'a>(&'a mut String);

impl TextSeed<'_> {
    fn push(self, v: &str) -> Option<(usize, usize)> {
        let start = self.0.len();
        self.0.push_str(v);
        Some((start, self.0.len()))
    }
}

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = Option<(usize, usize)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_> {
    type Value = Option<(usize, usize)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.push(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.push(&v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.push(&v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.push(&v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.push(if v { "true" } else { "false" }))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.push(&v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(self.push(&v.to_string()))
    }
}

fn keep_extra(
    extra: &mut serde_json::Map<String, serde_json::Value>,
    key: Cow<'_, str>,
    v: serde_json::Value,
) {
    extra.entry(key.into_owned()).or_insert(v);
}

/// The child array of a nested row: each child's values land in a sparse
/// row of full width.
struct ChildSeq<'a, 'de> {
    layout: &'a Layout,
    rows: &'a mut Vec<Vec<Option<Cow<'de, str>>>>,
    extra: &'a mut serde_json::Map<String, serde_json::Value>,
}

impl<'de> DeserializeSeed<'de> for ChildSeq<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ChildSeq<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of child rows")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(obj) = seq.next_element::<HashMapRow<'de>>()? {
            let mut row = vec![None; self.layout.ncols];
            for (key, value) in obj.0 {
                match self.layout.child.get(key.as_ref()) {
                    Some(&col) if row[col].is_none() => row[col] = value_text(value),
                    _ => keep_extra(self.extra, key, value),
                }
            }
            self.rows.push(row);
        }
        Ok(())
    }
}

/// A child object as read, in key order.
struct HashMapRow<'de>(Vec<(Cow<'de, str>, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for HashMapRow<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HashMapRow<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HashMapRow<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a child row object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HashMapRow<'de>, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    pairs.push((key, map.next_value::<serde_json::Value>()?));
                }
                Ok(HashMapRow(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

fn value_text<'de>(v: serde_json::Value) -> Option<Cow<'de, str>> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(Cow::Owned(s)),
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// Any JSON value as text: strings as they are (borrowed when possible),
/// numbers and booleans written out, `null` as `None`, arrays and objects
/// as their JSON.
struct Scalar<'de>(Option<Cow<'de, str>>);

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }
}

mod chunked;

#[cfg(test)]
mod tests;
