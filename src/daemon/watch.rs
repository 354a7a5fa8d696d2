//! Watching the jobs folder for changes.
//!
//! A `notify` watcher reports every change to a `*.toml` file of the jobs
//! folder; a burst of changes (an editor's save, a `cp -r`) becomes one
//! reload request after `debounce` of quiet. The folder's parent is
//! watched too, for the folder itself being replaced (`mv jobs.new jobs`,
//! as deployment tools do): the watch then moves to the new folder and the
//! jobs are reloaded. Reading the files and working out what changed is
//! the event loop's job.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use notify::{
    EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode},
};
use tokio::sync::mpsc;

use super::{Handle, ReloadCause};

/// A running watcher; dropping it stops watching.
pub struct JobsWatcher {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JobsWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What an event means for the jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// A job file of the folder changed.
    Job,
    /// The folder itself was created, removed or renamed.
    Folder,
}

/// Starts watching `dir`; changes reach `handle` as reloads.
pub fn spawn(dir: &Path, debounce: Duration, handle: Handle) -> notify::Result<JobsWatcher> {
    // Events name paths as the watch was set, so set it on an absolute
    // path: then the folder always has a parent to compare with.
    let dir = &std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let (tx, rx) = mpsc::unbounded_channel();
    let folder = dir.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Some(change) = event.ok().and_then(|e| change_of(&e, &folder)) {
            let _ = tx.send(change);
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    if let Some(parent) = dir.parent() {
        // Without it only a replaced folder goes unnoticed; SIGHUP still
        // reloads.
        if let Err(e) = watcher.watch(parent, RecursiveMode::NonRecursive) {
            tracing::debug!(dir = %parent.display(), error = %e, "cannot watch the jobs folder's parent");
        }
    }
    let watch = Watch { watcher, dir: dir.to_path_buf() };
    let task = tokio::spawn(debounced(rx, debounce, handle, watch));
    Ok(JobsWatcher { task })
}

/// The watcher and the folder it follows.
struct Watch {
    watcher: RecommendedWatcher,
    dir: PathBuf,
}

impl Watch {
    /// Follows the folder now at `dir`: a watch stays on the folder it was
    /// set on, so a replaced folder needs a new one.
    fn follow(&mut self) {
        let _ = self.watcher.unwatch(&self.dir);
        if let Err(e) = self.watcher.watch(&self.dir, RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot watch the jobs folder; reload with SIGHUP");
        }
    }
}

async fn debounced(
    mut rx: mpsc::UnboundedReceiver<Change>,
    quiet: Duration,
    handle: Handle,
    mut watch: Watch,
) {
    while let Some(first) = rx.recv().await {
        let mut folder = first == Change::Folder;
        loop {
            tokio::select! {
                () = tokio::time::sleep(quiet) => break,
                more = rx.recv() => match more {
                    Some(change) => folder |= change == Change::Folder,
                    None => return,
                },
            }
        }
        if folder {
            watch.follow();
        }
        handle.reload(ReloadCause::Watch);
    }
}

/// What `event` means for the jobs of `dir`, if anything.
fn change_of(event: &notify::Event, dir: &Path) -> Option<Change> {
    if !is_write(event) {
        return None;
    }
    if event.paths.iter().any(|p| p == dir) {
        return Some(Change::Folder);
    }
    let in_dir = |p: &Path| p.parent() == Some(dir) && is_job_path(p);
    event.paths.iter().any(|p| in_dir(p)).then_some(Change::Job)
}

/// Not a read: the reload itself reads every job file.
fn is_write(event: &notify::Event) -> bool {
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other | EventKind::Any => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
    }
}

/// A visible `.toml` name.
fn is_job_path(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.ends_with(".toml") && !name.starts_with('.') && !name.starts_with('#')
}
