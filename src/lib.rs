//! wolkvox-sync keeps CSV and Parquet files in step with a wolkvox
//! contact-center operation.
//!
//! # Layout
//!
//! - [`catalog`]: the one table of wolkvox endpoints and their field types.
//! - [`api`]: reading and classifying wolkvox responses, and the HTTP client.
//! - [`sim`]: a faithful simulator of the wolkvox API, for tests, benchmarks
//!   and the demo.
//! - [`writers`]: CSV and typed Parquet files, published atomically, and
//!   `convert` for saved response bodies.

#![forbid(unsafe_code)]

pub mod api;
pub mod catalog;
pub mod clock;
pub mod pacer;
pub mod sim;
pub mod state;
pub mod writers;
