//! The `wolkvox-sync` command line.

use clap::{Parser, Subcommand};

/// Keeps CSV and Parquet files in step with a wolkvox contact-center operation.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a simulated wolkvox API on a local port, for tests and demos.
    Sim(wolkvox_sync::sim::cli::SimArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Sim(args) => wolkvox_sync::sim::cli::run(args).await?,
    }
    Ok(())
}
