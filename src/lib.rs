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

#![forbid(unsafe_code)]

pub mod api;
pub mod catalog;
pub mod config;
pub mod jobs;
pub mod plan;
pub mod schedule;
pub mod sim;
