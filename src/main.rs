//! The `rootline` binary: parse the command line, set up logging, run, map errors to exit codes.
//!
//! All logic lives in the library; this edge only turns a library `Error` into one stderr line
//! and the exit status its status-table entry names.

use std::process::ExitCode;

use clap::Parser;
use rootline::cli::{run, Cli};
use rootline::settings::{LogFormat, Settings};

fn init_logging(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&s.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init: a second init (tests embedding main) must not panic.
    let _ = match s.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.settings);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the error: multi-line causes are folded.
            let msg = e.to_string().replace('\n', " ");
            eprintln!("rootline: error: {msg}");
            ExitCode::from(e.meta().exit)
        }
    }
}
