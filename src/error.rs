//! The one error type of the library and its one status table.
//!
//! Every failure the domain can produce is a variant here; each maps, in exactly one place
//! ([`Error::meta`]), to a stable snake_case code, an HTTP status and a CLI exit status, so the
//! HTTP layer and the CLI can never disagree about what a failure means.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in rootline's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input is malformed (bad JSON, missing field, non-UTF-8, junk).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The report text is empty or whitespace only.
    #[error("the report text is empty")]
    EmptyText,
    /// The input exceeds a configured limit (body size, text length, batch size).
    #[error("too large: {0}")]
    TooLarge(String),
    /// The request's media type is not one we accept.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// An input or output file cannot be used (missing, unreadable, empty, a folder expected).
    #[error("{}: {reason}", path.display())]
    InputFile { path: PathBuf, reason: String },
    /// A folder we must write to cannot be written (read-only models folder, say).
    #[error("cannot write to {}: {reason}", path.display())]
    Unwritable { path: PathBuf, reason: String },
    /// The embedding model or classifier head is missing, malformed or could not be fetched.
    #[error("model unavailable: {0}")]
    ModelUnavailable(String),
    /// The model's fetched weights do not match the pinned hash.
    #[error("model.safetensors hash mismatch: expected {expected}, got {actual}")]
    HashMismatch { expected: String, actual: String },
    /// The request lacks a valid bearer token (only when API keys are configured).
    #[error("missing or invalid API key")]
    Unauthorized,
    /// No route matches the request path.
    #[error("no route for {0}")]
    NotFound(String),
    /// The route exists but not for this method.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// The inference queue is full; the caller should retry later.
    #[error("the service is saturated; retry after {retry_after_s} s")]
    Overloaded { retry_after_s: u64 },
    /// A request did not finish within its deadline.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// Tensor maths failed: a bug or a malformed model, never the caller's fault.
    #[error("model computation failed: {0}")]
    Model(#[from] candle_core::Error),
    /// Any other I/O failure (disk full while writing output, say).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A broken invariant; should never reach a user.
    #[error("internal error: {0}")]
    Internal(String),
}

/// How one error kind presents itself to the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMeta {
    /// Stable snake_case code carried in every error body.
    pub code: &'static str,
    /// Short human title (problem+json `title`).
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// CLI exit status: 2 for the caller's fault, 1 for ours or the environment's.
    pub exit: u8,
}

impl Error {
    /// The status table: the only place an error is mapped to codes.
    pub fn meta(&self) -> ErrorMeta {
        let (code, title, status, exit) = match self {
            Error::InvalidInput(_) => ("invalid_input", "Invalid input", 400, 2),
            Error::EmptyText => ("empty_text", "Empty report text", 422, 2),
            Error::TooLarge(_) => ("too_large", "Input too large", 413, 2),
            Error::UnsupportedMediaType(_) => ("unsupported_media_type", "Unsupported media type", 415, 2),
            Error::InputFile { .. } => ("bad_input_file", "Bad input file", 400, 2),
            Error::Unwritable { .. } => ("unwritable", "Cannot write", 500, 2),
            Error::ModelUnavailable(_) => ("model_unavailable", "Model unavailable", 503, 1),
            Error::HashMismatch { .. } => ("model_hash_mismatch", "Model hash mismatch", 500, 1),
            Error::Unauthorized => ("unauthorized", "Unauthorized", 401, 2),
            Error::NotFound(_) => ("not_found", "Not found", 404, 2),
            Error::MethodNotAllowed(_) => ("method_not_allowed", "Method not allowed", 405, 2),
            Error::Overloaded { .. } => ("overloaded", "Service overloaded", 503, 1),
            Error::Timeout(_) => ("timeout", "Request timed out", 503, 1),
            Error::Model(_) => ("model_error", "Model computation failed", 500, 1),
            Error::Io(_) => ("io_error", "I/O error", 500, 1),
            Error::Internal(_) => ("internal", "Internal error", 500, 1),
        };
        ErrorMeta { code, title, status, exit }
    }

    /// Shorthand for [`Error::InputFile`].
    pub fn input_file(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        Error::InputFile { path: path.into(), reason: reason.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_faults_exit_2_and_ours_exit_1() {
        assert_eq!(Error::EmptyText.meta().exit, 2);
        assert_eq!(Error::InvalidInput("x".into()).meta().status, 400);
        assert_eq!(Error::Overloaded { retry_after_s: 1 }.meta().status, 503);
        assert_eq!(Error::Internal("x".into()).meta().exit, 1);
    }

    #[test]
    fn codes_are_snake_case_and_unique() {
        let all = [
            Error::InvalidInput(String::new()),
            Error::EmptyText,
            Error::TooLarge(String::new()),
            Error::UnsupportedMediaType(String::new()),
            Error::input_file("a", "b"),
            Error::Unwritable { path: "a".into(), reason: String::new() },
            Error::ModelUnavailable(String::new()),
            Error::HashMismatch { expected: String::new(), actual: String::new() },
            Error::Unauthorized,
            Error::NotFound(String::new()),
            Error::MethodNotAllowed(String::new()),
            Error::Overloaded { retry_after_s: 1 },
            Error::Timeout(1),
            Error::Io(std::io::Error::other("x")),
            Error::Internal(String::new()),
        ];
        let mut codes: Vec<_> = all.iter().map(|e| e.meta().code).collect();
        assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
