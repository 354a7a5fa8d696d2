//! Talking to the wolkvox API: reading and classifying answers.
//!
//! [`envelope`] decodes a response body into rows for a [`RowSink`];
//! [`messages`] holds the API's literal error texts.

pub mod client;
pub mod envelope;
pub mod messages;

/// Receives decoded rows one at a time, values in the order of
/// [`crate::catalog::Endpoint::columns`]. `None` is a missing key or a JSON
/// `null`; placeholders such as `"-"` arrive as sent.
pub trait RowSink {
    fn row(&mut self, values: &[Option<&str>]) -> std::io::Result<()>;
}

/// A sink that only counts rows.
#[derive(Debug, Default)]
pub struct CountSink {
    pub rows: u64,
}

impl RowSink for CountSink {
    fn row(&mut self, _values: &[Option<&str>]) -> std::io::Result<()> {
        self.rows += 1;
        Ok(())
    }
}

/// A sink that keeps every row as owned strings, for tests and small
/// responses.
#[derive(Debug, Default)]
pub struct VecSink {
    pub rows: Vec<Vec<Option<String>>>,
}

impl RowSink for VecSink {
    fn row(&mut self, values: &[Option<&str>]) -> std::io::Result<()> {
        self.rows.push(values.iter().map(|v| v.map(str::to_string)).collect());
        Ok(())
    }
}
