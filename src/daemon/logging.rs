//! Log output: stderr for journald or a terminal, and optionally a
//! daily-rolling file.
//!
//! Under systemd (`JOURNAL_STREAM` set) lines carry no timestamps (the
//! journal adds them) and no colors; colors appear only on a terminal.
//! The config's `log_file` adds a plain copy of every line to a file that
//! rolls over daily (`<name>.YYYY-MM-DD`). Filters come from
//! `WOLKVOX_SYNC_LOG` (default `info`). What is logged is up to each
//! module; tokens never reach a log line because [`crate::config::Token`]
//! prints as `<redacted>`.

use std::{io::IsTerminal, path::Path};

use tracing_subscriber::{EnvFilter, Layer, Registry, layer::SubscriberExt};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("log file {path}: the path has no file name")]
    NoFileName { path: String },
    #[error("log file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: tracing_appender::rolling::InitError,
    },
}

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(log_file: Option<&Path>) -> Result<(), LoggingError> {
    let filter = EnvFilter::try_from_env("WOLKVOX_SYNC_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_cron_scheduler=warn"));
    let mut layers: Vec<BoxedLayer> = vec![stderr_layer()];
    if let Some(path) = log_file {
        layers.push(file_layer(path)?);
    }
    let subscriber = tracing_subscriber::registry().with(layers).with(filter);
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

fn stderr_layer() -> BoxedLayer {
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = !journal && std::io::stderr().is_terminal();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi);
    if journal { layer.without_time().boxed() } else { layer.boxed() }
}

fn file_layer(path: &Path) -> Result<BoxedLayer, LoggingError> {
    let shown = path.display().to_string();
    let Some(name) = path.file_name() else {
        return Err(LoggingError::NoFileName { path: shown });
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let appender = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(name.to_string_lossy())
        .build(dir)
        .map_err(|source| LoggingError::File { path: shown, source })?;
    let layer =
        tracing_subscriber::fmt::layer().with_writer(appender).with_target(false).with_ansi(false);
    Ok(layer.boxed())
}
