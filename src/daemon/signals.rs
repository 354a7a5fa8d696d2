//! Unix signals for the `run` command.
//!
//! SIGTERM and SIGINT ask the daemon for a graceful shutdown, SIGHUP for a
//! reload of the jobs folder (the units' `ExecReload=` sends it after
//! `validate`). A second SIGTERM or SIGINT exits at once with status 1,
//! for a drain that hangs: signal-hook's conditional shutdown is armed by
//! the first one (CRATES.md §3.2). Only the binary installs these; the
//! daemon itself takes its events through a [`Handle`], so tests and the
//! demo never touch process-wide signal handlers.

use std::sync::{Arc, atomic::AtomicBool};

use signal_hook::consts::{SIGINT, SIGTERM};
use tokio::signal::unix::{SignalKind, signal};

use super::{Handle, ReloadCause};

/// Installs the handlers and forwards signals to `handle`.
pub fn install(handle: Handle) -> std::io::Result<()> {
    let armed = Arc::new(AtomicBool::new(false));
    for sig in [SIGTERM, SIGINT] {
        // The order matters: the exit must be registered before the flag
        // that arms it, or the first signal would already exit.
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&armed))?;
        signal_hook::flag::register(sig, Arc::clone(&armed))?;
    }
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = term.recv() => stop(&handle, "SIGTERM"),
                Some(()) = int.recv() => stop(&handle, "SIGINT"),
                Some(()) = hup.recv() => {
                    tracing::info!("SIGHUP: reloading the jobs folder");
                    handle.reload(ReloadCause::Signal);
                }
                else => return,
            }
        }
    });
    Ok(())
}

fn stop(handle: &Handle, name: &str) {
    tracing::info!(signal = name, "shutdown requested; a second signal exits at once");
    handle.shutdown();
}
