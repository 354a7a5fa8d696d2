//! Writing rows as CSV, values exactly as the API sent them.
//!
//! RFC 4180 (CRLF line ends, fields quoted only when they need it), UTF-8,
//! a header of [`Endpoint::columns`] names even when no row follows. A
//! missing value is an empty field; placeholders such as `"-"` are kept as
//! sent, because CSV is the faithful copy and typing is Parquet's job. The
//! [`CsvOptions`] cover Spanish-locale Excel, which wants a BOM to read
//! UTF-8 and `;` between fields. Where the bytes go is the caller's choice.

use std::io::{self, Write};

use crate::api::RowSink;
use crate::catalog::Endpoint;

/// The UTF-8 byte order mark Excel looks for.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How CSV files are spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Start the file with a UTF-8 BOM. Default: no.
    pub bom: bool,
    /// The field separator. Default: `,`.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions { bom: false, delimiter: b',' }
    }
}

impl CsvOptions {
    /// What Excel in a Spanish locale opens without an import dialog: a
    /// BOM and `;`.
    pub const EXCEL_ES: CsvOptions = CsvOptions { bom: true, delimiter: b';' };
}

/// A [`RowSink`] that writes CSV to `W`.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
    width: usize,
    rows: u64,
}

impl<W: Write> CsvWriter<W> {
    /// Starts the file: the BOM if asked, then the header.
    pub fn new(mut out: W, ep: &Endpoint, opts: CsvOptions) -> io::Result<CsvWriter<W>> {
        if opts.bom {
            out.write_all(BOM)?;
        }
        let mut inner = csv::WriterBuilder::new()
            .delimiter(opts.delimiter)
            .terminator(csv::Terminator::CRLF)
            // Large writes: a 60,000-row window is about 15 MB.
            .buffer_capacity(256 * 1024)
            .from_writer(out);
        let columns = ep.columns();
        inner.write_record(columns.iter().map(|c| c.name.as_str()))?;
        Ok(CsvWriter { inner, width: columns.len(), rows: 0 })
    }

    /// Rows written so far, header not counted.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes what is buffered and hands the output back.
    pub fn finish(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|err| err.into_error())
    }
}

impl<W: Write> RowSink for CsvWriter<W> {
    fn row(&mut self, values: &[Option<&str>]) -> io::Result<()> {
        if values.len() != self.width {
            return Err(width_error(values.len(), self.width));
        }
        self.inner.write_record(values.iter().map(|v| v.unwrap_or("")))?;
        self.rows += 1;
        Ok(())
    }
}

/// The error for a row that does not have one value per column.
pub(crate) fn width_error(got: usize, want: usize) -> io::Error {
    let msg = format!("row has {got} values, the endpoint has {want} columns");
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}
