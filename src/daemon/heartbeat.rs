//! The heartbeat that wakes the scheduler.
//!
//! In production tokio-cron-scheduler runs one UTC job every second that
//! sends a tick into the daemon's event loop. It only keeps time: whether
//! a job is due is decided by [`super::scheduler`] from the injectable
//! clock and the job's own zone, because tokio-cron-scheduler freezes a
//! zone's UTC offset when a job is created, starts overlapping runs, and
//! its shutdown waits for nothing (CRATES.md §3.1, upstream #107). Tests
//! use a plain interval with a shorter period instead.

use std::time::Duration;

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use super::Handle;

/// What sends the ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// tokio-cron-scheduler, every second.
    Cron,
    /// A tokio interval with this period.
    Every(Duration),
}

/// A running heartbeat; dropping it stops the interval, [`Running::stop`]
/// also shuts the cron scheduler down.
pub(crate) enum Running {
    Cron(JobScheduler),
    Every(tokio::task::JoinHandle<()>),
}

impl Heartbeat {
    /// Starts sending ticks to `handle`.
    pub(crate) async fn start(self, handle: Handle) -> Result<Running, JobSchedulerError> {
        match self {
            Heartbeat::Cron => {
                let sched = JobScheduler::new().await?;
                let job = Job::new_async("* * * * * *", move |_id, _sched| {
                    let handle = handle.clone();
                    Box::pin(async move { handle.tick() })
                })?;
                sched.add(job).await?;
                sched.start().await?;
                Ok(Running::Cron(sched))
            }
            Heartbeat::Every(period) => {
                let task = tokio::spawn(async move {
                    let mut interval = tokio::time::interval(period);
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                    loop {
                        interval.tick().await;
                        handle.tick();
                    }
                });
                Ok(Running::Every(task))
            }
        }
    }
}

impl Running {
    /// Stops the ticks.
    pub(crate) async fn stop(self) {
        match self {
            Running::Cron(mut sched) => {
                if let Err(e) = sched.shutdown().await {
                    tracing::warn!(error = %e, "stopping the heartbeat failed");
                }
            }
            Running::Every(task) => task.abort(),
        }
    }
}
