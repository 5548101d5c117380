//! The one `Settings` struct: every knob of the model and the service, from flags or `ROOTLINE_*`
//! environment variables, each with its default written next to it.
//!
//! Commands take their own positional/input flags; everything that shapes how the model is loaded
//! and how the service behaves lives here so it is documented once and shared by all commands.

use std::path::PathBuf;

/// Default folder of the embedding model, relative to the working directory (the repo root when
/// run with `cargo run`, `/app` in the container).
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";
/// Default classifier head, committed in the repository.
pub const DEFAULT_HEAD: &str = "models/rootcause-head.safetensors";

/// Model and service settings shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Embedding model folder (any BERT-family sentence-transformers folder). Fetched on first use
    /// when it is the default and missing. [default: models/all-MiniLM-L6-v2]
    #[arg(long, env = "ROOTLINE_MODEL_DIR", global = true)]
    pub model_dir: Option<PathBuf>,

    /// Root-cause classifier head (safetensors written by `rootline train`).
    #[arg(long, env = "ROOTLINE_HEAD", global = true, default_value = DEFAULT_HEAD)]
    pub head: PathBuf,

    /// Maximum tokens per model window; longer text is chunked by sentences.
    #[arg(long, env = "ROOTLINE_MAX_TOKENS", global = true, default_value_t = 256)]
    pub max_tokens: usize,

    /// Token budget of one inference batch (padded tokens = sequences x longest).
    #[arg(long, env = "ROOTLINE_BATCH_TOKENS", global = true, default_value_t = 8192)]
    pub batch_tokens: usize,

    /// Maximum characters of one report; longer reports are rejected as too large.
    #[arg(long, env = "ROOTLINE_MAX_TEXT_CHARS", global = true, default_value_t = 200_000)]
    pub max_text_chars: usize,

    /// Entries kept in the in-memory embedding cache (keyed by content hash); 0 disables it.
    #[arg(long, env = "ROOTLINE_CACHE_ENTRIES", global = true, default_value_t = 20_000)]
    pub cache_entries: usize,

    /// Log format: `text` for people, `json` for log shippers.
    #[arg(long, env = "ROOTLINE_LOG_FORMAT", global = true, default_value = "text")]
    pub log_format: LogFormat,

    /// Log filter in `tracing` syntax (RUST_LOG also works).
    #[arg(long, env = "ROOTLINE_LOG", global = true, default_value = "info")]
    pub log: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines on stderr.
    Text,
    /// One JSON object a line on stderr.
    Json,
}

impl Settings {
    /// The model folder to use, and whether it is the default (which may be fetched).
    pub fn model_dir(&self) -> (PathBuf, bool) {
        match &self.model_dir {
            Some(d) => (d.clone(), false),
            None => (PathBuf::from(DEFAULT_MODEL_DIR), true),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model_dir: None,
            head: PathBuf::from(DEFAULT_HEAD),
            max_tokens: 256,
            batch_tokens: 8192,
            max_text_chars: 200_000,
            cache_entries: 20_000,
            log_format: LogFormat::Text,
            log: "info".into(),
        }
    }
}
