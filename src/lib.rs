//! wolkvox-sync keeps CSV and Parquet files in step with a wolkvox
//! contact-center operation.
//!
//! # Layout
//!
//! - [`catalog`]: the one table of wolkvox endpoints and their field types.
//! - [`api`]: reading and classifying wolkvox responses, and the HTTP client.
//! - [`sim`]: a faithful simulator of the wolkvox API, for tests, benchmarks
//!   and the demo.
//! - [`config`]: the operation config (hosts, token sources, budgets, zones).
//! - [`jobs`]: job files, read into validated jobs.
//! - [`plan`]: report windows and which of them are due.
//! - [`schedule`]: cron fire times in an operation's zone.
//! - [`clock`]: the injectable wall clock.
//! - [`state`]: the durable state shared by processes (windows, ledger,
//!   pauses, runs).
//! - [`pacer`]: in-flight slots, the daily budget and maintenance pauses.
//! - [`runtime`]: a config wired into clients, pacers and the engine.
//! - [`sync`]: fetching a run's windows and publishing their files.
//! - [`writers`]: CSV and typed Parquet files, published atomically, and
//!   `convert` for saved response bodies.

#![forbid(unsafe_code)]

pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod jobs;
pub mod pacer;
pub mod plan;
pub mod runtime;
pub mod schedule;
pub mod sim;
pub mod state;
pub mod sync;
pub mod writers;
