//! Output files: CSV and typed Parquet, published atomically.
//!
//! - [`csv`]: rows as CSV, values as the API sent them.
//! - [`parquet`]: rows as typed Parquet, with rejects kept.
//! - [`atomic`]: temp file → fsync → rename → fsync folder.
//! - [`convert`]: saved response bodies to the same files, no API involved.
//!
//! [`WindowFiles`] ties them together for one job window: it lays the files
//! out as `OUT/<job>/window_date=YYYY-MM-DD/<job>_<start>_<end>.{parquet,csv}`,
//! takes the rows as a [`RowSink`] fanning out to each format, and publishes
//! every file whole on [`WindowFiles::commit`] or leaves nothing behind.
//! Everything here is blocking and CPU-heavy, for `spawn_blocking`. Which
//! windows to write, and marking them complete once published, is the sync
//! engine's business.

pub mod atomic;
pub mod convert;
pub mod csv;
pub mod parquet;

use std::{
    io,
    path::{Path, PathBuf},
};

use jiff::civil::DateTime;

use crate::api::RowSink;
use crate::catalog::Endpoint;
use atomic::AtomicFile;
use csv::{CsvOptions, CsvWriter};
use parquet::ParquetWriter;

/// One output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Values as sent, see [`csv`].
    Csv,
    /// Typed columns, see [`parquet`].
    Parquet,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// Which formats to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    /// Write a `.csv` file.
    pub csv: bool,
    /// Write a `.parquet` file.
    pub parquet: bool,
}

impl Formats {
    /// CSV only.
    pub const CSV: Formats = Formats { csv: true, parquet: false };
    /// Parquet only.
    pub const PARQUET: Formats = Formats { csv: false, parquet: true };
    /// Parquet and CSV.
    pub const BOTH: Formats = Formats { csv: true, parquet: true };

    /// The chosen formats, Parquet first.
    pub fn list(self) -> Vec<Format> {
        let mut list = Vec::new();
        if self.parquet {
            list.push(Format::Parquet);
        }
        if self.csv {
            list.push(Format::Csv);
        }
        list
    }
}

/// A failure to create or publish output files.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The job name would not make a single, visible folder name.
    #[error("job name {0:?} cannot name an output folder")]
    JobName(String),
    /// Neither CSV nor Parquet was asked for.
    #[error("no output format chosen")]
    NoFormat,
    /// The window ends before it starts.
    #[error("window {start}..{end} ends before it starts")]
    Window { start: DateTime, end: DateTime },
    /// Creating, writing, syncing or renaming a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The Parquet encoder failed.
    #[error("{}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
}

/// Where and how to write one job window.
#[derive(Clone, Copy, Debug)]
pub struct WindowSpec<'a> {
    /// The output root (`OUT`).
    pub out_dir: &'a Path,
    /// The job name; it names a folder and the files.
    pub job: &'a str,
    /// The endpoint whose rows the files hold; it fixes the columns.
    pub endpoint: &'a Endpoint,
    /// The window's first second.
    pub start: DateTime,
    /// The window's last second (inclusive).
    pub end: DateTime,
    /// Which files to write.
    pub formats: Formats,
    /// How to spell the CSV file.
    pub csv: CsvOptions,
}

impl WindowSpec<'_> {
    /// `OUT/<job>/window_date=YYYY-MM-DD`, the date being the window
    /// start's. Not `date=`: readers take `key=value` folders as hive
    /// partitions, and a `date` partition would replace (DuckDB) or clash
    /// with (pyarrow, pandas) the `date` column that most wolkvox reports
    /// carry.
    pub fn dir(&self) -> PathBuf {
        let date = self.start.strftime("%Y-%m-%d");
        self.out_dir.join(self.job).join(format!("window_date={date}"))
    }

    /// `<job>_<start>_<end>` with times as `YYYYmmddHHMMSS`.
    pub fn stem(&self) -> String {
        let start = self.start.strftime("%Y%m%d%H%M%S");
        let end = self.end.strftime("%Y%m%d%H%M%S");
        format!("{}_{start}_{end}", self.job)
    }

    /// The published path of one format.
    pub fn path(&self, format: Format) -> PathBuf {
        self.dir().join(format!("{}.{}", self.stem(), format.extension()))
    }
}

/// The files of one output being written; rows go to every format.
#[derive(Debug)]
pub struct WindowFiles {
    dir: PathBuf,
    parquet: Option<ParquetWriter<AtomicFile>>,
    csv: Option<CsvWriter<AtomicFile>>,
    parquet_path: PathBuf,
    csv_path: PathBuf,
}

/// What [`WindowFiles::commit`] published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowReport {
    /// Rows in each file.
    pub rows: u64,
    /// Values that did not read as their type (kept in Parquet's
    /// `_rejects`); 0 when only CSV was written.
    pub rejects: u64,
    /// The files, Parquet first.
    pub files: Vec<WrittenFile>,
}

/// One published file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    pub format: Format,
    /// The final path.
    pub path: PathBuf,
    /// The file's size.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
}

impl WindowFiles {
    /// Creates the window's folder and starts its files under temporary
    /// names.
    pub fn create(spec: &WindowSpec) -> Result<WindowFiles, WriteError> {
        check_job_name(spec.job)?;
        if spec.end < spec.start {
            return Err(WriteError::Window { start: spec.start, end: spec.end });
        }
        let target =
            Target { dir: spec.dir(), stem: spec.stem(), window: Some((spec.start, spec.end)) };
        WindowFiles::start(&target, spec.endpoint, spec.formats, spec.csv)
    }

    /// Starts files `dir/<stem>.<ext>`; the folder is created if missing.
    fn start(
        target: &Target,
        ep: &Endpoint,
        formats: Formats,
        csv_opts: CsvOptions,
    ) -> Result<WindowFiles, WriteError> {
        if formats.list().is_empty() {
            return Err(WriteError::NoFormat);
        }
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Io { path, source }
        };
        atomic::create_dir_durable(&target.dir).map_err(io_err(&target.dir))?;
        let parquet_path = target.path(Format::Parquet);
        let csv_path = target.path(Format::Csv);
        let mut files = WindowFiles {
            dir: target.dir.clone(),
            parquet: None,
            csv: None,
            parquet_path,
            csv_path,
        };
        if formats.parquet {
            let file =
                AtomicFile::create(&files.parquet_path).map_err(io_err(&files.parquet_path))?;
            let writer = ParquetWriter::new(file, ep, target.window).map_err(|source| {
                WriteError::Parquet { path: files.parquet_path.clone(), source }
            })?;
            files.parquet = Some(writer);
        }
        if formats.csv {
            let file = AtomicFile::create(&files.csv_path).map_err(io_err(&files.csv_path))?;
            let writer = CsvWriter::new(file, ep, csv_opts).map_err(io_err(&files.csv_path))?;
            files.csv = Some(writer);
        }
        Ok(files)
    }

    /// Rows received so far.
    pub fn rows(&self) -> u64 {
        match (&self.parquet, &self.csv) {
            (Some(p), _) => p.rows(),
            (None, Some(c)) => c.rows(),
            (None, None) => 0,
        }
    }

    /// Values so far that did not read as their type.
    pub fn rejects(&self) -> u64 {
        self.parquet.as_ref().map_or(0, ParquetWriter::rejects)
    }

    /// Finishes every file and syncs it, then renames each onto its final
    /// name (replacing an earlier one) and syncs the folder. An error
    /// before the renames publishes nothing; a failed rename (rare once
    /// both files are synced) can leave the Parquet file published without
    /// the CSV. Either way no temporary file is left, and the caller must
    /// not mark the window complete.
    pub fn commit(mut self) -> Result<WindowReport, WriteError> {
        let rows = self.rows();
        let rejects = self.rejects();
        let mut synced = Vec::new();
        if let Some(writer) = self.parquet.take() {
            let path = &self.parquet_path;
            let file = writer
                .finish()
                .map_err(|source| WriteError::Parquet { path: path.clone(), source })?;
            synced.push((Format::Parquet, sync(file)?));
        }
        if let Some(writer) = self.csv.take() {
            let file = writer.finish().map_err(|source| io_error(&self.csv_path, source))?;
            synced.push((Format::Csv, sync(file)?));
        }
        let mut files = Vec::new();
        for (format, file) in synced {
            let path = file.published().path.clone();
            let published = file.rename().map_err(|source| io_error(&path, source))?;
            let atomic::Published { path, bytes, sha256 } = published;
            files.push(WrittenFile { format, path, bytes, sha256 });
        }
        atomic::sync_dir(&self.dir).map_err(|source| io_error(&self.dir, source))?;
        Ok(WindowReport { rows, rejects, files })
    }

    /// Drops every file unpublished; the same as dropping `self`, spelled
    /// out.
    pub fn abort(self) {}
}

impl RowSink for WindowFiles {
    fn row(&mut self, values: &[Option<&str>]) -> io::Result<()> {
        if let Some(writer) = &mut self.parquet {
            writer.row(values)?;
        }
        if let Some(writer) = &mut self.csv {
            writer.row(values)?;
        }
        Ok(())
    }
}

/// A folder, a file stem, and the window the files hold (if known).
struct Target {
    dir: PathBuf,
    stem: String,
    window: Option<(DateTime, DateTime)>,
}

impl Target {
    fn path(&self, format: Format) -> PathBuf {
        self.dir.join(format!("{}.{}", self.stem, format.extension()))
    }
}

fn sync(file: AtomicFile) -> Result<atomic::Synced, WriteError> {
    let path = file.target().to_path_buf();
    file.sync().map_err(|source| io_error(&path, source))
}

fn io_error(path: &Path, source: io::Error) -> WriteError {
    WriteError::Io { path: path.to_path_buf(), source }
}

/// A job name must be one visible path component.
fn check_job_name(job: &str) -> Result<(), WriteError> {
    let bad = job.is_empty()
        || job.starts_with('.')
        || job.contains(['/', '\\', '\0'])
        || job.chars().any(char::is_control);
    if bad {
        return Err(WriteError::JobName(job.to_string()));
    }
    Ok(())
}
