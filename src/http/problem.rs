//! Every error the service sends is `application/problem+json` (RFC 9457), built here and only here.
//!
//! Handler errors go through [`ApiError`]; actix's own errors (extractor failures, 404, 405, body
//! overflow) are caught by [`to_problem`] in an `ErrorHandlers` middleware, so a client can parse
//! every non-2xx answer the same way. The code, title and status always come from
//! [`Error::meta`], the one status table.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

use crate::error::Error;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a caller is told to wait while the model is still loading.
const LOADING_RETRY_AFTER_S: u64 = 5;

/// A library [`Error`] on its way out as problem+json, optionally with a more precise detail
/// (which report of a batch, which field) than the error's own message.
#[derive(Debug)]
pub struct ApiError {
    /// What went wrong; decides code, title and status.
    pub error: Error,
    /// Overrides the error's message as the problem `detail`.
    pub detail: Option<String>,
}

impl ApiError {
    /// An error with a specific detail message.
    pub fn new(error: Error, detail: impl Into<String>) -> Self {
        ApiError { error, detail: Some(detail.into()) }
    }

    /// The `detail` sent to the client.
    pub fn detail(&self) -> String {
        self.detail.clone().unwrap_or_else(|| self.error.to_string())
    }

    /// The problem object, for in-place use (NDJSON lines, batch results).
    pub fn to_value(&self) -> Value {
        problem_value(&self.error, &self.detail())
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError { error, detail: None }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.meta().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(&self.error, &self.detail(), None)
    }
}

/// The `type` URI of a code: a fragment of the service's own docs page, which lists every code.
pub fn type_uri(code: &str) -> String {
    format!("/docs#problem-{code}")
}

/// The problem object for an error.
pub fn problem_value(err: &Error, detail: &str) -> Value {
    let m = err.meta();
    json!({
        "type": type_uri(m.code),
        "title": m.title,
        "status": m.status,
        "detail": detail,
        "code": m.code,
    })
}

/// A complete problem+json response; `status` overrides the table's status (only for actix
/// statuses the table has no entry for, so the body never contradicts the status line).
fn problem_response(err: &Error, detail: &str, status: Option<StatusCode>) -> HttpResponse {
    let m = err.meta();
    let status =
        status.unwrap_or_else(|| StatusCode::from_u16(m.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    let mut body = problem_value(err, detail);
    body["status"] = json!(status.as_u16());
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    match err {
        Error::Overloaded { retry_after_s } => {
            res.insert_header((header::RETRY_AFTER, retry_after_s.to_string()));
        }
        Error::ModelUnavailable(_) => {
            res.insert_header((header::RETRY_AFTER, LOADING_RETRY_AFTER_S.to_string()));
        }
        Error::Unauthorized => {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        Error::MethodNotAllowed(what) => {
            res.insert_header((header::ALLOW, HeaderValue::from_static(allow_for(what))));
        }
        _ => {}
    }
    res.body(body.to_string())
}

/// The methods a route accepts, for `Allow` (every `/v1/` route is POST, everything else GET);
/// `what` is the refused "METHOD /path".
fn allow_for(what: &str) -> &'static str {
    if what.contains(" /v1/") {
        "POST"
    } else {
        "GET"
    }
}

/// The library error an actix-made error status stands for.
fn error_for_status(status: StatusCode, detail: &str, method: &str, path: &str) -> Error {
    match status.as_u16() {
        401 => Error::Unauthorized,
        404 => Error::NotFound(path.to_string()),
        405 => Error::MethodNotAllowed(format!("{method} {path}")),
        408 => Error::Timeout(0),
        413 => Error::TooLarge(detail.to_string()),
        415 => Error::UnsupportedMediaType(detail.to_string()),
        s if s < 500 => Error::InvalidInput(detail.to_string()),
        _ => Error::Internal(detail.to_string()),
    }
}

/// `ErrorHandlers` default handler: rewrites any error response that is not problem+json yet.
pub fn to_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let method = res.request().method().to_string();
    let path = res.request().path().to_string();
    let detail = match res.response().error() {
        Some(e) => e.to_string(),
        None => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let err = error_for_status(status, &detail, &method, &path);
    let detail = match &err {
        Error::NotFound(p) => format!("no route for {p}; see /docs"),
        Error::MethodNotAllowed(what) => format!("{what} is not allowed; see /docs"),
        _ => detail,
    };
    // Keep actix's status when the table would say something else (411, 431…): the status line wins.
    let keep = (err.meta().status != status.as_u16()).then_some(status);
    let (req, _) = res.into_parts();
    let response = problem_response(&err, &detail, keep).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response)))
}

/// Problem response for a failed extractor or handler, as an actix error.
pub fn actix_error(err: Error, detail: impl Into<String>) -> actix_web::Error {
    ApiError::new(err, detail).into()
}
