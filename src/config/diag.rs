//! Problems in TOML files with their `path:line:column`, and decoding that
//! reports every bad key rather than the first.
//!
//! Shared by the config and job file checks; what is valid is theirs to say.

use std::{
    collections::BTreeSet,
    ops::Range,
    path::{Path, PathBuf},
};

use serde::de::DeserializeOwned;
use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

/// A problem in a TOML file, at a 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A TOML file being checked: its path and text, to turn byte spans into
/// `path:line:column`.
pub(crate) struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl SourceFile<'_> {
    /// A problem at the start of `span` (1:1 without a span).
    pub(crate) fn problem(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Problem {
        let (line, column) = span.map_or((1, 1), |span| line_column(self.text, span.start));
        Problem { path: self.path.to_path_buf(), line, column, message: message.into() }
    }
}

/// The 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The outcome of decoding a TOML document into a raw struct.
pub(crate) struct Decoded<T> {
    /// The raw struct, without the keys that failed; `None` after a syntax
    /// error or an error no single key could be blamed for.
    pub value: Option<T>,
    /// One problem per failure, with its position.
    pub problems: Vec<Problem>,
    /// The dotted paths of keys dropped because they failed (array items by
    /// index, e.g. `operation.1.licenses`), so that checks of required keys
    /// do not report them a second time.
    pub dropped: BTreeSet<String>,
}

/// Decodes `source` into `T` (a `deny_unknown_fields` struct whose fields
/// are all optional), reporting every failing key rather than the first:
/// serde stops at the first error, so the key it names is dropped and the
/// decoding tried again, until it succeeds.
pub(crate) fn decode<T: DeserializeOwned>(source: &SourceFile<'_>) -> Decoded<T> {
    let mut decoded = Decoded { value: None, problems: Vec::new(), dropped: BTreeSet::new() };
    let (mut doc, syntax) = DeTable::parse_recoverable(source.text);
    if !syntax.is_empty() {
        for err in syntax {
            decoded.problems.push(source.problem(err.span(), err.message()));
        }
        return decoded;
    }

    loop {
        let attempt = T::deserialize(toml::de::Deserializer::from(doc.clone()));
        let err = match attempt {
            Ok(value) => {
                decoded.value = Some(value);
                return decoded;
            }
            Err(err) => err,
        };
        decoded.problems.push(source.problem(err.span(), err.message()));
        let dropped = err.span().and_then(|span| drop_key(doc.get_mut(), &span, ""));
        match dropped {
            Some(path) => decoded.dropped.insert(path),
            None => return decoded,
        };
    }
}

/// Removes the innermost key of `table` whose key or value covers `span`,
/// returning its dotted path. Inner tables are searched first and without
/// asking their parent to cover the span, because a `[table]` header's span
/// does not reach the keys below it.
fn drop_key(table: &mut DeTable<'_>, span: &Range<usize>, prefix: &str) -> Option<String> {
    for (key, value) in table.iter_mut() {
        let path = dotted(prefix, key.get_ref());
        if let Some(inner) = drop_inside(value, span, &path) {
            return Some(inner);
        }
    }

    let covers = |outer: Range<usize>| outer.start <= span.start && span.end <= outer.end;
    let key = table
        .iter()
        .find(|(key, value)| covers(key.span()) || covers(value.span()))
        .map(|(key, _)| key.get_ref().to_string())?;
    table.remove(key.as_str());
    Some(dotted(prefix, &key))
}

fn drop_inside(
    value: &mut Spanned<DeValue<'_>>,
    span: &Range<usize>,
    path: &str,
) -> Option<String> {
    match value.get_mut() {
        DeValue::Table(table) => drop_key(table, span, path),
        DeValue::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                if let DeValue::Table(table) = item.get_mut()
                    && let Some(inner) = drop_key(table, span, &format!("{path}.{index}"))
                {
                    return Some(inner);
                }
            }
            None
        }
        _ => None,
    }
}

fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let text = "a = 1\nñb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 8), (2, 2));
    }
}
