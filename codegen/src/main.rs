//! The `volley` binary.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    volley_cli::cli::run(volley_cli::cli::Cli::parse())
}
