//! Writing rows as typed Parquet.
//!
//! The schema comes from the catalog alone ([`schema`]), so every file of a
//! job has the same columns and types, empty windows included (DESIGN.md
//! invariant 10). Each raw value is read with [`value::parse`]; a value that
//! does not read as its type becomes null in its typed column and is kept,
//! as sent, in [`REJECTS_COLUMN`] as a JSON object `{column: raw}`, so
//! nothing is silently zeroed. Rows are gathered into a `RecordBatch` every
//! [`BATCH_ROWS`] rows, and row groups are capped in rows and bytes, so
//! memory stays bounded whatever the size of the response. Where the bytes
//! go (and publishing them) is the caller's business.
//!
//! Type choices, picked so DuckDB, pyarrow/pandas and Spark read them as
//! what they are: Text → Utf8; Integer → Int64; Decimal → Float64;
//! Duration → Int64 seconds; Percent → Float64 (`"34.64 %"` → 34.64);
//! Datetime → Timestamp(µs) with no zone (the operation's wall clock);
//! Date → Date32; Hour → Utf8 `"HH:MM"` (`"HH:MM:SS"` when the seconds
//! are not zero), checked and zero-padded. Hour is not a Parquet TIME:
//! Spark before 4.1 refuses a whole file that has one ("Illegal Parquet
//! type"), and text of that form casts to a time in every reader.

use std::{
    io::Write,
    sync::{
        Arc,
        mpsc::{SyncSender, sync_channel},
    },
    thread::JoinHandle,
};

use arrow_array::{
    ArrayRef, RecordBatch,
    builder::{
        Date32Builder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
    },
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use jiff::civil::DateTime;
use parquet::{
    arrow::ArrowWriter,
    basic::{Compression, ZstdLevel},
    errors::ParquetError,
    file::{metadata::KeyValue, properties::WriterProperties},
};

use crate::api::RowSink;
use crate::catalog::{
    Endpoint, FieldType,
    value::{self, Parsed},
};

/// The extra column holding, for a row with values that did not parse,
/// a JSON object of column name → raw value. Null when the row had none.
pub const REJECTS_COLUMN: &str = "_rejects";

/// Rows gathered before they are handed to the Parquet writer.
pub const BATCH_ROWS: usize = 2_048;

/// The most rows in one row group.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The most (estimated, encoded) bytes in one row group: the writer holds
/// a whole row group in memory (CRATES.md §3.6).
pub const ROW_GROUP_BYTES: usize = 64 << 20;

/// The largest dictionary one column keeps per row group.
pub const DICTIONARY_PAGE_BYTES: usize = 128 << 10;

/// Key-value metadata keys written into every file.
pub mod meta {
    /// `module/api` of the endpoint.
    pub const ENDPOINT: &str = "wolkvox.endpoint";
    /// The window's first second, `YYYY-MM-DDTHH:MM:SS`.
    pub const WINDOW_START: &str = "wolkvox.window_start";
    /// The window's last second (inclusive), `YYYY-MM-DDTHH:MM:SS`.
    pub const WINDOW_END: &str = "wolkvox.window_end";
    /// A note on what the timestamps mean.
    pub const TIMESTAMPS: &str = "wolkvox.timestamps";
}

const TIMESTAMPS_NOTE: &str = "timestamps and the window are the operation's local wall clock \
     (no time zone attached; UTC-5 for most operations)";

/// The Arrow schema of an endpoint's files: one nullable column per
/// catalog column, then [`REJECTS_COLUMN`].
pub fn schema(ep: &Endpoint) -> SchemaRef {
    let mut fields: Vec<Field> =
        ep.columns().iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect();
    fields.push(Field::new(REJECTS_COLUMN, DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

/// The Arrow type a catalog field type is written as.
pub fn arrow_type(ty: FieldType) -> DataType {
    match ty {
        FieldType::Text => DataType::Utf8,
        FieldType::Integer | FieldType::Duration => DataType::Int64,
        FieldType::Decimal | FieldType::Percent => DataType::Float64,
        FieldType::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
        FieldType::Date => DataType::Date32,
        FieldType::Hour => DataType::Utf8,
    }
}

/// A [`RowSink`] that writes typed Parquet to `W`.
///
/// Values are read and gathered on the caller's thread; whole batches are
/// encoded and compressed on a thread of the writer's own, so reading a
/// body and encoding it use two cores.
pub struct ParquetWriter<W: Write + Send + 'static> {
    encoder: Encoder<W>,
    schema: SchemaRef,
    names: Vec<String>,
    columns: Vec<ColumnBuilder>,
    rejects: StringBuilder,
    pending: usize,
    rows: u64,
    rejected: u64,
}

impl<W: Write + Send + 'static> ParquetWriter<W> {
    /// Starts a file for `ep`; `window` (start, inclusive end) goes into
    /// the file's metadata when there is one.
    pub fn new(
        out: W,
        ep: &Endpoint,
        window: Option<(DateTime, DateTime)>,
    ) -> Result<ParquetWriter<W>, ParquetError> {
        let schema = schema(ep);
        let props = properties(ep, window)?;
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
        let cols = ep.columns();
        Ok(ParquetWriter {
            encoder: Encoder::start(writer)?,
            schema,
            names: cols.iter().map(|c| c.name.clone()).collect(),
            columns: cols.iter().map(|c| ColumnBuilder::new(c.ty)).collect(),
            rejects: StringBuilder::new(),
            pending: 0,
            rows: 0,
            rejected: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Values so far that did not read as their column's type.
    pub fn rejects(&self) -> u64 {
        self.rejected
    }

    /// Writes what is gathered and the footer (without it the file is
    /// unreadable), and hands the output back.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.flush_batch()?;
        self.encoder.finish()
    }

    fn push(&mut self, values: &[Option<&str>]) {
        let mut rejects = serde_json::Map::new();
        for ((col, name), raw) in self.columns.iter_mut().zip(&self.names).zip(values) {
            let Some(raw) = raw else {
                col.append_null();
                continue;
            };
            if !col.append(raw) {
                rejects.insert(name.clone(), serde_json::Value::String(raw.to_string()));
            }
        }
        if rejects.is_empty() {
            self.rejects.append_null();
        } else {
            self.rejected += rejects.len() as u64;
            self.rejects.append_value(serde_json::Value::Object(rejects).to_string());
        }
        self.pending += 1;
        self.rows += 1;
    }

    fn flush_batch(&mut self) -> Result<(), ParquetError> {
        if self.pending == 0 {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|c| c.finish()).collect();
        arrays.push(Arc::new(self.rejects.finish()));
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.pending = 0;
        self.encoder.send(batch)
    }
}

/// The thread that encodes batches into the file.
struct Encoder<W: Write + Send + 'static> {
    tx: Option<SyncSender<RecordBatch>>,
    worker: Option<JoinHandle<Result<W, ParquetError>>>,
}

impl<W: Write + Send + 'static> Encoder<W> {
    fn start(mut writer: ArrowWriter<W>) -> Result<Encoder<W>, ParquetError> {
        // One batch waits while another is encoded: enough to keep both
        // threads busy, little enough to keep memory bounded.
        let (tx, rx) = sync_channel::<RecordBatch>(1);
        let worker = std::thread::Builder::new()
            .name("parquet-encode".to_string())
            .spawn(move || {
                for batch in rx {
                    writer.write(&batch)?;
                }
                writer.into_inner()
            })
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        Ok(Encoder { tx: Some(tx), worker: Some(worker) })
    }

    fn send(&mut self, batch: RecordBatch) -> Result<(), ParquetError> {
        let Some(tx) = &self.tx else {
            return Err(ParquetError::General("the encoder is finished".to_string()));
        };
        if tx.send(batch).is_ok() {
            return Ok(());
        }
        // The worker stopped early: its error says why.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(ParquetError::General("the encoder stopped".to_string())),
        }
    }

    /// Lets the worker write the footer, and hands the output back.
    fn finish(mut self) -> Result<W, ParquetError> {
        self.join()
    }

    fn join(&mut self) -> Result<W, ParquetError> {
        drop(self.tx.take());
        let Some(worker) = self.worker.take() else {
            return Err(ParquetError::General("the encoder is finished".to_string()));
        };
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl<W: Write + Send + 'static> Drop for Encoder<W> {
    /// Waits for the worker, so that dropping a writer (an aborted window)
    /// has released its output when the drop returns.
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.join();
        }
    }
}

impl<W: Write + Send + 'static> RowSink for ParquetWriter<W> {
    fn row(&mut self, values: &[Option<&str>]) -> std::io::Result<()> {
        if values.len() != self.columns.len() {
            return Err(super::csv::width_error(values.len(), self.columns.len()));
        }
        self.push(values);
        if self.pending >= BATCH_ROWS {
            self.flush_batch().map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

impl<W: Write + Send + 'static> std::fmt::Debug for ParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("columns", &self.names.len())
            .field("rows", &self.rows)
            .field("rejects", &self.rejected)
            .finish_non_exhaustive()
    }
}

fn properties(
    ep: &Endpoint,
    window: Option<(DateTime, DateTime)>,
) -> Result<WriterProperties, ParquetError> {
    let mut kv = vec![
        KeyValue::new(meta::ENDPOINT.to_string(), ep.id()),
        KeyValue::new(meta::TIMESTAMPS.to_string(), TIMESTAMPS_NOTE.to_string()),
    ];
    if let Some((start, end)) = window {
        kv.push(KeyValue::new(meta::WINDOW_START.to_string(), start.to_string()));
        kv.push(KeyValue::new(meta::WINDOW_END.to_string(), end.to_string()));
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        // Each column keeps its dictionary in memory until the row group
        // ends; 20 columns at the default 1 MiB held more than a whole
        // 60,000-row response. Unique columns (ids, comments) fall back to
        // plain encoding sooner, which costs them nothing.
        .set_dictionary_page_size_limit(DICTIONARY_PAGE_BYTES)
        .set_key_value_metadata(Some(kv))
        .build();
    Ok(props)
}

/// One typed column being gathered.
enum ColumnBuilder {
    Text(StringBuilder),
    Int(FieldType, Int64Builder),
    Float(FieldType, Float64Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Hour(StringBuilder),
}

impl ColumnBuilder {
    fn new(ty: FieldType) -> ColumnBuilder {
        match ty {
            FieldType::Text => ColumnBuilder::Text(StringBuilder::new()),
            FieldType::Integer | FieldType::Duration => ColumnBuilder::Int(ty, Int64Builder::new()),
            FieldType::Decimal | FieldType::Percent => {
                ColumnBuilder::Float(ty, Float64Builder::new())
            }
            FieldType::Datetime => ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::new()),
            FieldType::Date => ColumnBuilder::Date(Date32Builder::new()),
            FieldType::Hour => ColumnBuilder::Hour(StringBuilder::new()),
        }
    }

    fn ty(&self) -> FieldType {
        match self {
            ColumnBuilder::Text(_) => FieldType::Text,
            ColumnBuilder::Int(ty, _) | ColumnBuilder::Float(ty, _) => *ty,
            ColumnBuilder::Timestamp(_) => FieldType::Datetime,
            ColumnBuilder::Date(_) => FieldType::Date,
            ColumnBuilder::Hour(_) => FieldType::Hour,
        }
    }

    /// Appends `raw` read as the column's type; false (and a null) when it
    /// does not read as that type.
    fn append(&mut self, raw: &str) -> bool {
        let parsed = value::parse(self.ty(), raw);
        if parsed == Parsed::Invalid {
            self.append_null();
            return false;
        }
        match (&mut *self, parsed) {
            (ColumnBuilder::Text(b), Parsed::Text) => b.append_value(raw),
            (ColumnBuilder::Int(_, b), Parsed::Int(v)) => b.append_value(v),
            (ColumnBuilder::Float(_, b), Parsed::Float(v)) => b.append_value(v),
            (ColumnBuilder::Timestamp(b), Parsed::Micros(v)) => b.append_value(v),
            (ColumnBuilder::Date(b), Parsed::Days(v)) => b.append_value(v),
            (ColumnBuilder::Hour(b), Parsed::Seconds(v)) => b.append_value(hour_text(v)),
            (this, _) => this.append_null(),
        }
        true
    }

    fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(b) => b.append_null(),
            ColumnBuilder::Int(_, b) => b.append_null(),
            ColumnBuilder::Float(_, b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Hour(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(_, b) => Arc::new(b.finish()),
            ColumnBuilder::Float(_, b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Hour(b) => Arc::new(b.finish()),
        }
    }
}

/// Seconds since midnight as `"HH:MM"`, or `"HH:MM:SS"` when the seconds
/// are not zero.
fn hour_text(seconds: i32) -> String {
    let (h, m, s) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if s == 0 { format!("{h:02}:{m:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}
