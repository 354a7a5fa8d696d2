//! Which rows the simulator holds, deterministically from the seed.
//!
//! Detail endpoints hold events generated per hour of wall clock (each
//! hour's events come from their own random stream), so any window returns
//! exactly the events stamped inside it and two halves of a window give the
//! rows of the whole. Aggregates are computed for the window asked;
//! snapshots for the minute (real time), the day (catalogues) or the month
//! (billing). Rows that are not visible yet (stamped after "now", or late)
//! are left out.
//!
//! This module decides rows; `values` fills each field and `body` writes
//! the response.

use jiff::{Timestamp, ToSpan, civil, tz::TimeZone};
use rand::Rng;

use super::{
    LateData,
    values::{self, Customer, Pool, RowCtx, SimRng, rng_for},
};
use crate::catalog::{Endpoint, Field, Grain, Kind, Shape};

/// One object of a response: its key (keyed shapes), its fields in catalog
/// order, and its child rows (nested shapes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub key: Option<String>,
    pub values: Vec<String>,
    pub children: Vec<Vec<String>>,
}

impl Record {
    /// How many output rows the record makes.
    pub(crate) fn row_count(&self) -> usize {
        self.children.len().max(1)
    }
}

/// An operation as the data generator sees it.
#[derive(Clone, Debug)]
pub(crate) struct OpData {
    pub name: String,
    pub tz: TimeZone,
    pub pool: Pool,
}

/// The settings rows depend on.
pub(crate) struct Source<'a> {
    pub seed: u64,
    /// Rows per hour (detail) or per response (everything else).
    pub volume: u32,
    pub late: &'a LateData,
    pub row_cap: usize,
    pub op: &'a OpData,
}

/// One question: an endpoint, its other parameters, its window and the
/// time it is asked at.
pub(crate) struct Ask<'a> {
    pub ep: &'a Endpoint,
    /// Parameters other than the dates, sorted by name.
    pub params: &'a [(String, String)],
    /// Live values by field key (the budget counters of `token_info`).
    pub live: &'a [(String, String)],
    pub window: Option<(civil::DateTime, civil::DateTime)>,
    pub now: Timestamp,
}

/// The records visible for `ask`, cut to the row cap.
pub(crate) fn generate(src: &Source<'_>, ask: &Ask<'_>) -> Vec<Record> {
    let now = ask.now.to_zoned(src.op.tz.clone()).datetime();
    let mut records = match (ask.ep.kind, ask.ep.grain, ask.window) {
        (Kind::History, Some(Grain::Detail), Some(w)) => detail(src, ask, w, now),
        (Kind::History, _, Some(w)) if w.0 > now => Vec::new(),
        (Kind::History, _, Some(w)) => aggregate(src, ask, w, now),
        (Kind::History, _, None) => Vec::new(),
        _ => snapshot(src, ask, now),
    };
    cap(&mut records, src.row_cap);
    override_fields(ask.ep, ask.params, &mut records);
    override_fields(ask.ep, ask.live, &mut records);
    records
}

/// The records as output rows in [`Endpoint::columns`] order, the way
/// `api::envelope::decode` reads them from a body.
pub(crate) fn flatten(ep: &Endpoint, records: &[Record]) -> Vec<Vec<Option<String>>> {
    let width = ep.columns().len();
    let mut rows = Vec::new();
    for rec in records {
        let mut base: Vec<Option<String>> = Vec::with_capacity(width);
        if ep.key_field.is_some() {
            base.push(rec.key.clone());
        }
        base.extend(rec.values.iter().cloned().map(Some));
        if rec.children.is_empty() {
            base.resize(width, None);
            rows.push(base);
            continue;
        }
        for child in &rec.children {
            let mut row = base.clone();
            row.extend(child.iter().cloned().map(Some));
            row.resize(width, None);
            rows.push(row);
        }
    }
    rows
}

fn cap(records: &mut Vec<Record>, row_cap: usize) {
    let mut seen = 0;
    for (i, rec) in records.iter_mut().enumerate() {
        let n = rec.row_count();
        if seen + n > row_cap {
            if rec.children.is_empty() || seen == row_cap {
                records.truncate(i);
            } else {
                rec.children.truncate(row_cap - seen);
                records.truncate(i + 1);
            }
            return;
        }
        seen += n;
    }
}

/// A value given for a field's key replaces the generated one: a parameter
/// naming one agent, skill or campaign fills its field as a filtered report
/// would, and live counters fill theirs.
fn override_fields(ep: &Endpoint, values: &[(String, String)], records: &mut [Record]) {
    for (key, value) in values {
        if value.is_empty() || value == "all" {
            continue;
        }
        let parent = ep.fields.iter().position(|f| &f.key == key);
        let child = ep.child_fields.iter().position(|f| &f.key == key);
        for rec in records.iter_mut() {
            if let Some(i) = parent {
                rec.values[i].clone_from(value);
            }
            for row in rec.children.iter_mut() {
                if let Some(i) = child {
                    row[i].clone_from(value);
                }
            }
        }
    }
}

fn params_key(params: &[(String, String)]) -> String {
    let parts: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join("&")
}

/// One generated event and when it becomes visible.
struct Event {
    at: civil::DateTime,
    visible: civil::DateTime,
    values: Vec<String>,
}

fn detail(
    src: &Source<'_>,
    ask: &Ask<'_>,
    (ini, end): (civil::DateTime, civil::DateTime),
    now: civil::DateTime,
) -> Vec<Record> {
    let mut records = Vec::new();
    let mut rows = 0;
    let mut slot = floor_hour(ini);
    while slot <= end && rows < src.row_cap {
        for rec in detail_slot(src, ask, slot) {
            let kept = keep_visible(rec, ini, end, now);
            if let Some(rec) = kept {
                rows += rec.row_count();
                records.push(rec);
            }
        }
        let Ok(next) = slot.checked_add(1.hour()) else { break };
        slot = next;
    }
    records
}

/// A slot's records with their events' times; for a nested endpoint the
/// events are the children.
struct SlotRecord {
    parent: Vec<String>,
    events: Vec<Event>,
    nested: bool,
}

fn keep_visible(
    rec: SlotRecord,
    ini: civil::DateTime,
    end: civil::DateTime,
    now: civil::DateTime,
) -> Option<Record> {
    let shown = |e: &Event| e.at >= ini && e.at <= end && e.visible <= now;
    let mut events = rec.events.into_iter().filter(shown).peekable();
    if !rec.nested {
        let event = events.next()?;
        return Some(Record { key: None, values: event.values, children: Vec::new() });
    }
    events.peek()?;
    let children = events.map(|e| e.values).collect();
    Some(Record { key: None, values: rec.parent, children })
}

fn detail_slot(src: &Source<'_>, ask: &Ask<'_>, slot: civil::DateTime) -> Vec<SlotRecord> {
    let id = ask.ep.id();
    let slot_name = slot.to_string();
    let mut rng = rng_for(src.seed, &[&src.op.name, &id, &params_key(ask.params), &slot_name]);
    let mut offsets: Vec<i64> = (0..src.volume).map(|_| rng.random_range(0..3_600i64)).collect();
    offsets.sort_unstable();
    let times: Vec<civil::DateTime> =
        offsets.iter().map(|s| slot.checked_add(s.seconds()).unwrap_or(slot)).collect();
    let child_time = ask.ep.time_field.as_deref().and_then(|f| f.split_once('.'));
    match child_time {
        None => flat_events(src, ask, &times, &mut rng),
        Some((_, key)) => nested_events(src, ask, &times, key, &mut rng),
    }
}

fn flat_events(
    src: &Source<'_>,
    ask: &Ask<'_>,
    times: &[civil::DateTime],
    rng: &mut SimRng,
) -> Vec<SlotRecord> {
    let time_key = ask.ep.time_field.as_deref();
    let mut out = Vec::with_capacity(times.len());
    for (i, &at) in times.iter().enumerate() {
        let visible = visible_at(src.late, at, rng);
        let values =
            fill(src, ask, &ask.ep.fields, Spot { at, window: None, index: i, time_key }, rng);
        out.push(SlotRecord {
            parent: Vec::new(),
            events: vec![Event { at, visible, values }],
            nested: false,
        });
    }
    out
}

/// Children are grouped into parents by runs of consecutive events, so
/// time order and parent order agree.
fn nested_events(
    src: &Source<'_>,
    ask: &Ask<'_>,
    times: &[civil::DateTime],
    time_key: &str,
    rng: &mut SimRng,
) -> Vec<SlotRecord> {
    let mut out = Vec::new();
    let mut rest = times;
    let mut index = 0;
    while let Some(&first) = rest.first() {
        let take = rng.random_range(2..=6).min(rest.len());
        let (run, tail) = rest.split_at(take);
        rest = tail;
        let spot = Spot { at: first, window: None, index, time_key: None };
        let parent = fill(src, ask, &ask.ep.fields, spot, rng);
        let mut events = Vec::with_capacity(run.len());
        for &at in run {
            let visible = visible_at(src.late, at, rng);
            let spot = Spot { at, window: None, index, time_key: Some(time_key) };
            let values = fill(src, ask, &ask.ep.child_fields, spot, rng);
            events.push(Event { at, visible, values });
        }
        out.push(SlotRecord { parent, events, nested: true });
        index += 1;
    }
    out
}

/// When an event stamped `at` shows up: at once, or later for the late
/// share. Both draws always happen, so the late setting never shifts other
/// values.
fn visible_at(late: &LateData, at: civil::DateTime, rng: &mut SimRng) -> civil::DateTime {
    let roll: f64 = rng.random();
    let min = late.min_delay.as_secs() as i64;
    let max = (late.max_delay.as_secs() as i64).max(min + 1);
    let delay = rng.random_range(min..max);
    if roll >= late.share {
        return at;
    }
    at.checked_add(delay.seconds()).unwrap_or(civil::DateTime::MAX)
}

fn aggregate(
    src: &Source<'_>,
    ask: &Ask<'_>,
    window: (civil::DateTime, civil::DateTime),
    now: civil::DateTime,
) -> Vec<Record> {
    let (ini, end) = window;
    let id = ask.ep.id();
    let parts =
        [src.op.name.as_str(), &id, &params_key(ask.params), &ini.to_string(), &end.to_string()];
    let mut rng = rng_for(src.seed, &parts);
    if matches!(ask.ep.shape, Shape::Keyed | Shape::KeyedList) {
        return keyed(src, ask, ini, &mut rng);
    }
    // Nothing is reported for the part of the window still to come.
    let last = end.min(now).max(ini);
    let span = ini.duration_until(last).as_secs().max(0);
    // Reports per hour have a row for each hour of the window and each
    // agent or skill (`agent_8`, `skill_4`: up to `volume` of them, one
    // when the query names one), or for the whole operation (`agent_6`);
    // the others have `volume` rows in all.
    let has = |k: &str| ask.ep.fields.iter().any(|f| f.key == k);
    let named = |k: &str| ask.params.iter().any(|(p, v)| p == k && v != "all");
    let pool = &src.op.pool;
    let per_hour = if has("agent_id") {
        if named("agent_id") { 1 } else { pool.agents.len() }
    } else if has("skill_id") {
        if named("skill_id") { 1 } else { pool.skills.len() }
    } else {
        1
    };
    let rows = match has("hour") {
        true => per_hour.min(src.volume as usize).max(1) * hour_slots((ini, last)),
        false => src.volume as usize,
    };
    let mut records = Vec::new();
    for i in 0..rows {
        let at = ini.checked_add(rng.random_range(0..=span).seconds()).unwrap_or(ini);
        let spot = Spot { at, window: Some((ini, last)), index: i, time_key: None };
        records.push(record(src, ask, spot, &mut rng));
    }
    records
}

fn snapshot(src: &Source<'_>, ask: &Ask<'_>, now: civil::DateTime) -> Vec<Record> {
    let (slot, base) = match ask.ep.kind {
        Kind::Realtime => (now.strftime("%Y-%m-%d %H:%M").to_string(), now),
        Kind::Billing => {
            let first = now.date().first_of_month().at(0, 0, 0, 0);
            (now.strftime("%Y-%m").to_string(), first)
        }
        _ => (now.date().to_string(), now.date().at(0, 0, 0, 0)),
    };
    let id = ask.ep.id();
    let mut rng = rng_for(src.seed, &[&src.op.name, &id, &params_key(ask.params), &slot]);
    match ask.ep.shape {
        Shape::Keyed | Shape::KeyedList => keyed(src, ask, base, &mut rng),
        Shape::Object => vec![record(src, ask, snap_spot(base, 0, ask, &mut rng), &mut rng)],
        _ => (0..src.volume as usize)
            .map(|i| record(src, ask, snap_spot(base, i, ask, &mut rng), &mut rng))
            .collect(),
    }
}

fn snap_spot(
    base: civil::DateTime,
    index: usize,
    ask: &Ask<'_>,
    rng: &mut SimRng,
) -> Spot<'static> {
    let back = if ask.ep.kind == Kind::Realtime { rng.random_range(0..600i64) } else { 0 };
    let at = base.checked_sub(back.seconds()).unwrap_or(base);
    Spot { at, window: None, index, time_key: None }
}

/// Keyed shapes: one record per key (`cdr_4`), or a few per key
/// (`quality_matrix`).
fn keyed(src: &Source<'_>, ask: &Ask<'_>, at: civil::DateTime, rng: &mut SimRng) -> Vec<Record> {
    let names = key_names(ask.ep.key_field.as_deref().unwrap_or(""));
    let mut records = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let n = if ask.ep.shape == Shape::KeyedList { rng.random_range(2..=4) } else { 1 };
        for j in 0..n {
            let spot = Spot { at, window: ask.window, index: i * 4 + j, time_key: None };
            let mut rec = record(src, ask, spot, rng);
            rec.key = Some((*name).to_string());
            records.push(rec);
        }
    }
    records
}

/// The object keys of keyed shapes, by the name of their column.
fn key_names(key_field: &str) -> &'static [&'static str] {
    match key_field {
        "interval" => &["0_5_seg", "6_20_seg", "21_60_seg", "61_120_seg", "greater_than_121"],
        "survey" => &["Encuesta calidad voz", "Auditoría ventas", "Monitoreo chat"],
        _ => &["primero", "segundo"],
    }
}

/// Where a row sits: its time, window, index and time field.
#[derive(Clone, Copy)]
struct Spot<'a> {
    at: civil::DateTime,
    window: Option<(civil::DateTime, civil::DateTime)>,
    index: usize,
    time_key: Option<&'a str>,
}

/// A whole record (with children for nested shapes) at `spot`.
fn record(src: &Source<'_>, ask: &Ask<'_>, spot: Spot<'_>, rng: &mut SimRng) -> Record {
    let values = fill(src, ask, &ask.ep.fields, spot, rng);
    let mut rec = Record { key: None, values, children: Vec::new() };
    if ask.ep.shape == Shape::Nested {
        let n = child_count(ask.ep, spot.window, rng);
        for j in 0..n {
            let child = Spot { index: j, ..spot };
            rec.children.push(fill(src, ask, &ask.ep.child_fields, child, rng));
        }
    }
    rec
}

/// One child per hour or day of the window when the children are hours or
/// days; a few otherwise.
fn child_count(
    ep: &Endpoint,
    window: Option<(civil::DateTime, civil::DateTime)>,
    rng: &mut SimRng,
) -> usize {
    let has = |k: &str| ep.child_fields.iter().any(|f| f.key == k);
    match window {
        Some((a, b)) if has("hour") => (a.duration_until(b).as_hours() + 1).clamp(1, 24) as usize,
        Some((a, b)) if has("date") => ((b.date() - a.date()).get_days() + 1).clamp(1, 31) as usize,
        _ => rng.random_range(1..=3),
    }
}

fn fill(
    src: &Source<'_>,
    ask: &Ask<'_>,
    fields: &[Field],
    spot: Spot<'_>,
    rng: &mut SimRng,
) -> Vec<String> {
    let pool = &src.op.pool;
    let mut agent = &pool.agents[rng.random_range(0..pool.agents.len())];
    let other = &pool.agents[rng.random_range(0..pool.agents.len())];
    let mut skill = &pool.skills[rng.random_range(0..pool.skills.len())];
    // Rows per hour take the hours of the window in turn: row i reports on
    // hour i mod n, for agent or skill i / n.
    let mut hour_slot = None;
    let mut entity = spot.index;
    if let Some(window) = spot.window.filter(|_| fields.iter().any(|f| f.key == "hour")) {
        let slots = hour_slots(window);
        let first = floor_hour(window.0);
        hour_slot = first.checked_add(((spot.index % slots) as i64).hours()).ok();
        entity = spot.index / slots;
    }
    if spot.window.is_some() {
        // Aggregates report one row per agent or skill.
        agent = &pool.agents[entity % pool.agents.len()];
        skill = &pool.skills[entity % pool.skills.len()];
    }
    let campaign = &pool.campaigns[rng.random_range(0..pool.campaigns.len())];
    let customer = Customer::new(rng);
    let cx = RowCtx {
        at: spot.at,
        window: spot.window,
        tz: &src.op.tz,
        operation: &src.op.name,
        agent,
        other,
        skill,
        campaign,
        index: spot.index,
        hour_slot,
        time_key: spot.time_key,
        upper_results: ask.ep.api.starts_with("campaign_"),
        compact_date: ask.ep.module == "gamification",
        email_from: ask.ep.fields.iter().any(|f| f.key == "subject"),
        customer: &customer,
    };
    fields.iter().map(|f| values::value(&f.key, f.ty, &cx, rng)).collect()
}

/// The hours a window touches, 1 to 31 days' worth.
fn hour_slots((start, end): (civil::DateTime, civil::DateTime)) -> usize {
    let hours = floor_hour(start).duration_until(end).as_hours().max(0) as usize + 1;
    hours.min(31 * 24)
}

fn floor_hour(at: civil::DateTime) -> civil::DateTime {
    at.date().at(at.hour(), 0, 0, 0)
}
