//! The `wolkvox-sync sim` subcommand.
