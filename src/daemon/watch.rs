//! Watching the jobs folder for changes.
//!
//! A `notify` watcher reports every change to a `*.toml` file of the jobs
//! folder; a burst of changes (an editor's save, a `cp -r`) becomes one
//! reload request after `debounce` of quiet. Reading the files and working
//! out what changed is the event loop's job.

use std::{path::Path, time::Duration};

use notify::{
    EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode},
};
use tokio::sync::mpsc;

use super::{Handle, ReloadCause};

/// A running watcher; dropping it stops watching.
pub struct JobsWatcher {
    _watcher: RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JobsWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `dir`; changes reach `handle` as reloads.
pub fn spawn(dir: &Path, debounce: Duration, handle: Handle) -> notify::Result<JobsWatcher> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| is_job_change(&e)) {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let task = tokio::spawn(debounced(rx, debounce, handle));
    Ok(JobsWatcher { _watcher: watcher, task })
}

async fn debounced(mut rx: mpsc::UnboundedReceiver<()>, quiet: Duration, handle: Handle) {
    while rx.recv().await.is_some() {
        loop {
            tokio::select! {
                () = tokio::time::sleep(quiet) => break,
                more = rx.recv() => if more.is_none() { return },
            }
        }
        handle.reload(ReloadCause::Watch);
    }
}

/// A change to a job file: not a read (the reload itself reads them all),
/// and a visible `.toml` name.
fn is_job_change(event: &notify::Event) -> bool {
    let writes = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other | EventKind::Any => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
    };
    writes && event.paths.iter().any(|p| is_job_path(p))
}

fn is_job_path(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.ends_with(".toml") && !name.starts_with('.') && !name.starts_with('#')
}
