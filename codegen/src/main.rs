//! The `volley` binary.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    volley_codegen::cli::run(volley_codegen::cli::Cli::parse())
}
