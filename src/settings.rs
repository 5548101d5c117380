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

/// HTTP service settings (`rootline serve`): where to listen and how much to accept.
///
/// Each default is written in the field's doc (clap's own `[default: …]` is hidden so `--help`
/// shows it once).
///
/// Every limit here protects the one model worker: bodies, batches and the queue are all bounded,
/// so a flood of requests costs a bounded amount of memory and gets 503s, never an OOM kill.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerSettings {
    /// Address to listen on; `0.0.0.0` exposes the service to the network (as in the container).
    /// [default: 127.0.0.1]
    #[arg(long, env = "ROOTLINE_HOST", default_value = "127.0.0.1", hide_default_value = true)]
    pub host: String,

    /// Port to listen on; 0 picks a free port (the chosen address is logged). [default: 8080]
    #[arg(long, env = "ROOTLINE_PORT", default_value_t = 8080, hide_default_value = true)]
    pub port: u16,

    /// Largest request body in bytes; larger bodies get 413. [default: 1048576 (1 MiB)]
    #[arg(long, env = "ROOTLINE_BODY_LIMIT", default_value_t = 1 << 20, hide_default_value = true)]
    pub body_limit: usize,

    /// Most reports (or embed inputs) in one batch request; more get 413. [default: 256]
    #[arg(long, env = "ROOTLINE_MAX_BATCH", default_value_t = 256, hide_default_value = true)]
    pub max_batch: usize,

    /// Seconds a request may wait for the body and the model before it fails with 503 `timeout`.
    /// [default: 60]
    #[arg(long, env = "ROOTLINE_REQUEST_TIMEOUT", default_value_t = 60, hide_default_value = true)]
    pub request_timeout: u64,

    /// Model jobs (one per request, or per slice of a batch request) that may wait for the model;
    /// when full, new requests get 503 with `Retry-After`. [default: 64]
    #[arg(long, env = "ROOTLINE_QUEUE_CAPACITY", default_value_t = 64, hide_default_value = true)]
    pub queue_capacity: usize,

    /// Seconds sent in `Retry-After` when the queue is full. [default: 1]
    #[arg(long, env = "ROOTLINE_RETRY_AFTER", default_value_t = 1, hide_default_value = true)]
    pub retry_after: u64,

    /// HTTP worker threads (parsing and serialising only; the model has its own thread).
    /// [default: 2]
    #[arg(long, env = "ROOTLINE_HTTP_WORKERS", default_value_t = 2, hide_default_value = true)]
    pub http_workers: usize,

    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT. [default: 30]
    #[arg(long, env = "ROOTLINE_SHUTDOWN_TIMEOUT", default_value_t = 30, hide_default_value = true)]
    pub shutdown_timeout: u64,

    /// Comma-separated bearer tokens accepted on `/v1/*`; empty turns auth off. `/health`,
    /// `/metrics`, `/docs` and `/openapi.json` stay open. [default: empty, auth off]
    #[arg(long, env = "ROOTLINE_API_KEYS", value_delimiter = ',', hide_env_values = true)]
    pub api_keys: Vec<ApiKey>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            host: "127.0.0.1".into(),
            port: 8080,
            body_limit: 1 << 20,
            max_batch: 256,
            request_timeout: 60,
            queue_capacity: 64,
            retry_after: 1,
            http_workers: 2,
            shutdown_timeout: 30,
            api_keys: Vec::new(),
        }
    }
}

/// One bearer token. Its `Debug` is redacted so settings can be logged without leaking keys.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k = s.trim();
        if k.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("an API key must not contain whitespace".into());
        }
        Ok(ApiKey(k.to_string()))
    }
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
