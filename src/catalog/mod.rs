//! The one table of wolkvox read endpoints.
//!
//! Every endpoint the product knows (module, api, kind, parameters, window
//! limit, row shape and each field's exact key and type) lives in
//! `endpoints.toml`, compiled into the binary. The client, the writers and
//! the simulator all look endpoints up here; nothing else names one.
//!
//! This module owns the table and the flattening of nested shapes into
//! output columns. Parsing a field's raw string into its type is
//! [`value`]'s job; reading a response body is `api::envelope`'s.

pub mod value;

use std::{fmt, str::FromStr, sync::OnceLock};

use serde::Deserialize;

const TABLE: &str = include_str!("endpoints.toml");

/// The name of the extra column that keeps keys the catalog does not know,
/// as a JSON object, so that a field the API adds is never lost.
pub const EXTRA_COLUMN: &str = "_extra";

/// What an endpoint reports on, which decides how it is windowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Date-windowed history (`date_ini`/`date_end`).
    History,
    /// A snapshot of now; no dates.
    Realtime,
    /// A configuration or catalogue list; no dates.
    Catalogue,
    /// The current month's billing; no dates.
    Billing,
}

/// How the rows of a history endpoint relate to the window asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One row per event, stamped inside the window.
    Detail,
    /// Rows aggregate over the whole window asked.
    Aggregate,
}

/// Where the rows sit in the response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `data` is an array of flat objects.
    Flat,
    /// `data` is an array of objects, each holding an array of child
    /// objects; one output row per child, carrying the parent's keys.
    Nested,
    /// `data` is one object: one row.
    Object,
    /// `data` is an object of name → flat object (`cdr_4`); the name
    /// becomes the `key_field` column.
    Keyed,
    /// `data` is an object of name → array of flat objects
    /// (`quality_matrix`).
    KeyedList,
    /// The body is a bare array, no envelope (`real_time campaigns`).
    Bare,
    /// The rows sit under `records` instead of `data` (`campaign_15`).
    Records,
    /// `data` is an object that wraps the array under `wrap` (default
    /// `data`), as the WhatsApp reads do.
    Wrapped,
}

/// How the endpoint writes `code` on success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeStyle {
    /// `200`
    Int,
    /// `"200"`
    String,
    /// `"0"`
    Zero,
    /// `""`
    Empty,
    /// No envelope at all.
    None,
}

/// The type a field's string value is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    Integer,
    Decimal,
    /// `HH:MM:SS` (hours may pass 24) or plain seconds.
    Duration,
    /// `"34.64 %"`, `"15,233.33 %"`.
    Percent,
    /// Local wall-clock `YYYY-MM-DD HH:MM:SS` (or `YYYYmmddHHiiss`).
    Datetime,
    /// `YYYY-MM-DD` or `YYYYMMDD`.
    Date,
    /// Hour of day, `HH:MM` or `HH`.
    Hour,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Duration => "duration",
            FieldType::Percent => "percent",
            FieldType::Datetime => "datetime",
            FieldType::Date => "date",
            FieldType::Hour => "hour",
        }
    }
}

impl FromStr for FieldType {
    type Err = String;

    fn from_str(s: &str) -> Result<FieldType, String> {
        let ty = match s {
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "decimal" => FieldType::Decimal,
            "duration" => FieldType::Duration,
            "percent" => FieldType::Percent,
            "datetime" => FieldType::Datetime,
            "date" => FieldType::Date,
            "hour" => FieldType::Hour,
            other => return Err(format!("unknown field type {other:?}")),
        };
        Ok(ty)
    }
}

/// One field of a row: its exact key and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub key: String,
    pub ty: FieldType,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        let spec = String::deserialize(d)?;
        let Some((key, ty)) = spec.rsplit_once(':') else {
            return Err(serde::de::Error::custom(format!("field {spec:?} has no type")));
        };
        let ty = ty.parse().map_err(serde::de::Error::custom)?;
        Ok(Field { key: key.to_string(), ty })
    }
}

/// One documented read endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub module: String,
    pub api: String,
    pub kind: Kind,
    #[serde(default = "default_method")]
    pub method: String,
    /// Parameters without which the API answers 400.
    pub required: Vec<String>,
    #[serde(default)]
    pub optional: Vec<String>,
    /// The longest window one call may ask, in seconds (history only).
    #[serde(default, deserialize_with = "de_span")]
    pub max_window: Option<i64>,
    pub grain: Option<Grain>,
    /// For detail rows: the field whose timestamp places the row in a
    /// window (`child.key` for a child field).
    pub time_field: Option<String>,
    pub shape: Shape,
    /// The column that holds the object key for keyed shapes.
    pub key_field: Option<String>,
    /// The key of the array inside a wrapped `data`.
    pub wrap: Option<String>,
    pub code: CodeStyle,
    /// The fields of a row (of the parent, for nested shapes).
    pub fields: Vec<Field>,
    /// The key of the nested array, for nested shapes.
    pub child: Option<String>,
    #[serde(default)]
    pub child_fields: Vec<Field>,
}

fn default_method() -> String {
    "GET".to_string()
}

fn de_span<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    parse_span(&text).map(Some).map_err(serde::de::Error::custom)
}

/// Parses a span such as `31d`, `24h`, `30m` or `90s` into seconds.
pub fn parse_span(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().map_err(|_| format!("span {text:?} has no number"))?;
    let unit = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => return Err(format!("span {text:?} has unknown unit {other:?}")),
    };
    if n <= 0 {
        return Err(format!("span {text:?} must be positive"));
    }
    Ok(n * unit)
}

/// An output column: a flattened field with the name it is written under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: FieldType,
}

impl Endpoint {
    /// `module/api`, the name users write in job files.
    pub fn id(&self) -> String {
        format!("{}/{}", self.module, self.api)
    }

    /// The output columns in order: the key column of keyed shapes, the
    /// parent fields, the child fields (renamed `child.key` where a child
    /// key repeats a parent key), then [`EXTRA_COLUMN`].
    pub fn columns(&self) -> Vec<Column> {
        let mut cols = Vec::new();
        if let Some(key) = &self.key_field {
            cols.push(Column { name: key.clone(), ty: FieldType::Text });
        }
        for f in &self.fields {
            cols.push(Column { name: f.key.clone(), ty: f.ty });
        }
        for f in &self.child_fields {
            let name = self.child_column_name(&f.key);
            cols.push(Column { name, ty: f.ty });
        }
        cols.push(Column { name: EXTRA_COLUMN.to_string(), ty: FieldType::Text });
        cols
    }

    /// The column a child key is written under.
    pub fn child_column_name(&self, key: &str) -> String {
        let clash =
            self.fields.iter().any(|f| f.key == key) || self.key_field.as_deref() == Some(key);
        match (&self.child, clash) {
            (Some(child), true) => format!("{child}.{key}"),
            _ => key.to_string(),
        }
    }

    /// Whether the endpoint takes `date_ini`/`date_end`.
    pub fn is_windowed(&self) -> bool {
        self.kind == Kind::History
    }

    /// The index (in [`Endpoint::columns`]) of the column that places a
    /// detail row in time.
    pub fn time_column(&self) -> Option<usize> {
        let field = self.time_field.as_deref()?;
        let name = match field.split_once('.') {
            Some((_, key)) => self.child_column_name(key),
            None => field.to_string(),
        };
        self.columns().iter().position(|c| c.name == name)
    }
}

/// The whole table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(rename = "endpoint")]
    pub endpoints: Vec<Endpoint>,
}

impl Catalog {
    /// Looks an endpoint up by module and api.
    pub fn get(&self, module: &str, api: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.module == module && e.api == api)
    }

    /// Looks an endpoint up by its `module/api` id.
    pub fn by_id(&self, id: &str) -> Option<&Endpoint> {
        let (module, api) = id.split_once('/')?;
        self.get(module, api)
    }

    /// Whether any endpoint lives in this module.
    pub fn has_module(&self, module: &str) -> bool {
        self.endpoints.iter().any(|e| e.module == module)
    }
}

/// The catalog compiled into the binary.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match toml::from_str(TABLE) {
        Ok(catalog) => catalog,
        // The table is part of the source and a unit test parses it, so
        // this can only fail in a build that never ran its tests.
        Err(err) => panic!("catalog/endpoints.toml is invalid: {err}"),
    })
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.module, self.api)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_is_unique() {
        let cat = catalog();
        assert_eq!(cat.endpoints.len(), 170);
        let mut ids: Vec<_> = cat.endpoints.iter().map(|e| e.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 170);
    }

    #[test]
    fn misspelt_keys_are_kept() {
        let cat = catalog();
        let keys = |id: &str| -> Vec<String> {
            let e = cat.by_id(id).unwrap();
            e.columns().into_iter().map(|c| c.name).collect()
        };
        assert!(keys("reports_manager/agent_1").contains(&"aht_outbund".to_string()));
        assert!(keys("reports_manager/agent_11").contains(&"aht_outbound".to_string()));
        assert!(keys("real_time/agents").contains(&"ocupation".to_string()));
        assert!(keys("reports_manager/agent_14").contains(&"destinity".to_string()));
    }

    #[test]
    fn history_endpoints_have_grain_and_windows() {
        for e in &catalog().endpoints {
            if e.kind != Kind::History {
                assert!(e.max_window.is_none(), "{e}");
                continue;
            }
            assert!(e.required.contains(&"date_ini".to_string()), "{e}");
            let grain = e.grain.unwrap_or_else(|| panic!("{e} has no grain"));
            if grain == Grain::Detail {
                assert!(e.time_column().is_some(), "{e} has no time column");
            }
        }
        let skill_5 = catalog().get("reports_manager", "skill_5").unwrap();
        assert_eq!(skill_5.max_window, Some(86_400));
    }

    #[test]
    fn nested_columns_carry_parent_keys() {
        let e = catalog().get("reports_manager", "agent_5").unwrap();
        let names: Vec<_> = e.columns().into_iter().map(|c| c.name).collect();
        assert_eq!(&names[..3], ["agent_name", "agent_id", "hour"]);
        assert_eq!(names.last().unwrap(), EXTRA_COLUMN);
    }
}
