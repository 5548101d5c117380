//! Request bodies: media-type checks, bounded reading, and turning JSON / text / NDJSON into
//! reports, with an error for every way a client can get it wrong.
//!
//! Kept apart from the handlers so every parsing rule (what is a 400, a 413, a 415, a 422) lives in
//! one file and the handlers read as the contract does. Nothing here ever panics on input: JSON
//! nesting is bounded by serde_json's recursion limit, sizes by the body limit, and UTF-8 is
//! checked, never assumed.

use std::time::Duration;

use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde_json::Value;

use super::problem::ApiError;
use crate::error::Error;
use crate::pipeline::validate_text;
use crate::records::json_kind;

/// The body formats the service reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/json` (or any `+json`).
    Json,
    /// `text/plain` or `text/markdown`: the raw report.
    Text,
    /// `application/x-ndjson` (also `application/ndjson`, `application/jsonl`): one report a line.
    Ndjson,
}

impl Media {
    fn name(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::Text => "text/plain",
            Media::Ndjson => "application/x-ndjson",
        }
    }
}

/// The request's media type, if it is one of `accepted`; otherwise 415 naming what is accepted.
pub fn media_type(req: &HttpRequest, accepted: &[Media]) -> Result<Media, ApiError> {
    let names: Vec<&str> = accepted.iter().map(|m| m.name()).collect();
    let unsupported = |what: String| {
        ApiError::new(
            Error::UnsupportedMediaType(what.clone()),
            format!("{what}; this route accepts {}", names.join(", ")),
        )
    };
    let mime = match req.mime_type() {
        Ok(Some(m)) => m,
        Ok(None) => return Err(unsupported("no Content-Type header".into())),
        Err(_) => return Err(unsupported("unreadable Content-Type header".into())),
    };
    if let Some(cs) = mime.get_param("charset") {
        if !cs.as_str().eq_ignore_ascii_case("utf-8") && !cs.as_str().eq_ignore_ascii_case("utf8") {
            return Err(unsupported(format!("charset {cs} (only UTF-8 is read)")));
        }
    }
    let essence = mime.essence_str().to_ascii_lowercase();
    let media = match essence.as_str() {
        "application/json" => Some(Media::Json),
        "text/plain" | "text/markdown" => Some(Media::Text),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Some(Media::Ndjson)
        }
        _ if mime.suffix().is_some_and(|s| s.as_str() == "json") => Some(Media::Json),
        _ => None,
    };
    match media {
        Some(m) if accepted.contains(&m) => Ok(m),
        _ => Err(unsupported(format!("Content-Type {essence}"))),
    }
}

/// Reads the whole body, refusing more than `limit` bytes (early, from `Content-Length`, when the
/// client declares it) and giving up after `timeout` (a client trickling bytes holds no worker).
pub async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let too_large = |n: String| {
        ApiError::new(
            Error::TooLarge(format!("body over {limit} bytes")),
            format!("{n}; the limit is {limit} bytes"),
        )
    };
    if let Some(len) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit as u64 {
            return Err(too_large(format!("the body is {len} bytes")));
        }
    }
    let read = async {
        let mut buf = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(Error::InvalidInput(e.to_string()), format!("could not read the body: {e}"))
            })?;
            if buf.len() + chunk.len() > limit {
                return Err(too_large("the body is larger".into()));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::new(
            Error::Timeout(timeout.as_millis() as u64),
            format!("the body did not arrive within {} s", timeout.as_secs()),
        )),
    }
}

/// A body as UTF-8 text (the raw report of `text/plain`).
pub fn utf8(body: Bytes) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec()).map_err(|e| {
        ApiError::new(
            Error::InvalidInput("not valid UTF-8".into()),
            format!(
                "the body is not valid UTF-8 (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Parses a JSON body; serde_json's recursion limit turns absurd nesting into an ordinary error.
pub fn json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(Error::InvalidInput(e.to_string()), format!("malformed JSON: {e}")))
}

/// One report to analyse: the caller's id (if any) and the text.
pub type Report = (Option<String>, String);

/// Reads `{"text": "...", "id": "optional"}`; `at` names the value in error messages.
/// Checks the text too: empty is 422, longer than `max_chars` is 413.
pub fn report(v: Value, at: &str, max_chars: usize) -> Result<Report, ApiError> {
    let invalid = |d: String| ApiError::new(Error::InvalidInput(d.clone()), d);
    let Value::Object(mut obj) = v else {
        return Err(invalid(format!(
            "{at} must be a JSON object with a `text` field, got {}",
            json_kind(&v)
        )));
    };
    let text = match obj.remove("text") {
        Some(Value::String(s)) => s,
        None => return Err(invalid(format!("{at} is missing the `text` field"))),
        Some(other) => {
            return Err(invalid(format!("{at}: `text` must be a string, got {}", json_kind(&other))))
        }
    };
    let id = match obj.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(invalid(format!(
                "{at}: `id` must be a string or a number, got {}",
                json_kind(&other)
            )))
        }
    };
    check_text(&text, at, max_chars)?;
    Ok((id, text))
}

/// Empty or whitespace-only text is 422, over-long text 413 (the pipeline's own rule).
pub fn check_text(text: &str, at: &str, max_chars: usize) -> Result<(), ApiError> {
    validate_text(text, max_chars).map_err(|e| {
        let d = format!("{at}: {e}");
        ApiError::new(e, d)
    })
}

/// Reads `{"reports": [{"id","text"}, …]}`; any bad report rejects the request, naming its index.
pub fn batch(v: Value, max_batch: usize, max_chars: usize) -> Result<Vec<Report>, ApiError> {
    let invalid = |d: String| ApiError::new(Error::InvalidInput(d.clone()), d);
    let Value::Object(mut obj) = v else {
        return Err(invalid(format!("the body must be a JSON object with `reports`, got {}", json_kind(&v))));
    };
    let reports = match obj.remove("reports") {
        Some(Value::Array(a)) => a,
        None => return Err(invalid("the body is missing the `reports` array".into())),
        Some(other) => return Err(invalid(format!("`reports` must be an array, got {}", json_kind(&other)))),
    };
    check_count(reports.len(), max_batch, "reports")?;
    reports.into_iter().enumerate().map(|(i, r)| report(r, &format!("reports[{i}]"), max_chars)).collect()
}

/// More than `max` items in one request is 413.
pub fn check_count(n: usize, max: usize, what: &str) -> Result<(), ApiError> {
    if n > max {
        return Err(ApiError::new(
            Error::TooLarge(format!("{n} {what}")),
            format!("{n} {what} in one request; at most {max} are accepted"),
        ));
    }
    Ok(())
}

/// One NDJSON line: a report, or the problem that line has.
pub enum Line {
    /// A readable report, with its 1-based line number.
    Report { line: usize, report: Report },
    /// A line that cannot be analysed, reported in place (with its id when one could be read).
    Bad { line: usize, id: Option<String>, error: ApiError },
}

/// Splits an NDJSON body into lines (blank lines skipped, numbers counted over all lines).
/// Each line fails or succeeds on its own; only too many lines rejects the whole request.
pub fn ndjson(body: &[u8], max_batch: usize, max_chars: usize) -> Result<Vec<Line>, ApiError> {
    let mut out = Vec::new();
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let at = format!("line {line}");
        let Ok(s) = std::str::from_utf8(raw) else {
            let error = ApiError::new(
                Error::InvalidInput("not valid UTF-8".into()),
                format!("{at} is not valid UTF-8"),
            );
            out.push(Line::Bad { line, id: None, error });
            continue;
        };
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        let value = serde_json::from_str::<Value>(s).map_err(|e| {
            ApiError::new(Error::InvalidInput(e.to_string()), format!("{at}: malformed JSON: {e}"))
        });
        let id = value.as_ref().ok().and_then(|v| match v.get("id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        out.push(match value.and_then(|v| report(v, &at, max_chars)) {
            Ok(report) => Line::Report { line, report },
            Err(error) => Line::Bad { line, id, error },
        });
    }
    check_count(out.len(), max_batch, "lines")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_rules() {
        let code = |v: Value| report(v, "body", 100).unwrap_err().error.meta().code;
        assert_eq!(code(serde_json::json!({"id": "a"})), "invalid_input");
        assert_eq!(code(serde_json::json!({"text": 5})), "invalid_input");
        assert_eq!(code(serde_json::json!({"text": " \n"})), "empty_text");
        assert_eq!(code(serde_json::json!({"text": "x".repeat(101)})), "too_large");
        assert_eq!(code(serde_json::json!([1])), "invalid_input");
        let (id, text) = report(serde_json::json!({"id": 7, "text": "ok"}), "body", 100).unwrap();
        assert_eq!((id.as_deref(), text.as_str()), (Some("7"), "ok"));
    }

    #[test]
    fn ndjson_keeps_good_lines_and_numbers_bad_ones() {
        let body = b"{\"text\":\"a\"}\n\nnot json\n\xff\n{\"id\":\"d\",\"text\":\"d\"}\n";
        let lines = ndjson(body, 10, 100).unwrap();
        let shape: Vec<(usize, bool)> = lines
            .iter()
            .map(|l| match l {
                Line::Report { line, .. } => (*line, true),
                Line::Bad { line, .. } => (*line, false),
            })
            .collect();
        assert_eq!(shape, [(1, true), (3, false), (4, false), (5, true)]);
        assert!(ndjson(body, 3, 100).is_err());
    }

    #[test]
    fn deep_nesting_is_an_ordinary_error() {
        let deep = "[".repeat(100_000);
        assert_eq!(json(deep.as_bytes()).unwrap_err().error.meta().code, "invalid_input");
    }
}
