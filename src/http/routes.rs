//! The route handlers of CONTRACT.md's HTTP API, each documented for OpenAPI where it is defined.
//!
//! Handlers only parse, validate and hand work to the model worker; they never block: the model
//! runs on its own thread and answers on a oneshot channel. Batch requests are cut into slices that
//! queue as separate jobs, so a big batch cannot starve single requests and the NDJSON answer can
//! stream slice by slice.

use actix_web::http::header::{self, ContentType};
use actix_web::web::{self, Bytes, Data};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::auth::Authorized;
use super::body::{self, Line, Media, Report};
use super::problem::ApiError;
use super::AppState;
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::worker::{Admission, Status, Ticket, Worker};

/// Reports per queued job of a batch request: small enough to interleave with single requests and
/// stream steadily, big enough that gathering keeps model batches full.
const SLICE: usize = 8;
/// Slices of one batch request in flight at once (ordered output, bounded memory).
const SLICES_IN_FLIGHT: usize = 4;

/// Analyze one report.
#[utoipa::path(
    post,
    path = "/v1/analyze",
    tag = "analysis",
    request_body(
        description = "A report as JSON `{\"text\", \"id\"?}`, or the raw report as `text/plain` (or `text/markdown`).",
        content(
            (super::openapi::AnalyzeRequest = "application/json"),
            (String = "text/plain")
        )
    ),
    responses(
        (status = 200, description = "The report's Analysis.", body = super::openapi::Analysis),
        (status = 400, description = "Malformed JSON, missing or non-string `text`, invalid UTF-8.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "API keys are configured and none was sent.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit or text over `--max-text-chars`.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Type.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or whitespace-only text.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Saturated (with `Retry-After`), model loading, or timed out.", body = super::openapi::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn analyze(
    req: HttpRequest,
    _auth: Authorized,
    state: Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let media = body::media_type(&req, &[Media::Json, Media::Text])?;
    let raw = body::read_body(&req, payload, state.limits.body_limit, state.limits.timeout).await?;
    let report = match media {
        Media::Json => body::report(body::json(&raw)?, "the body", state.limits.max_text_chars)?,
        _ => {
            let text = body::utf8(raw)?;
            body::check_text(&text, "the body", state.limits.max_text_chars)?;
            (None, text)
        }
    };
    let ticket = state.worker.submit_analyze(vec![report], Admission::TryOnce).await?;
    let analysis = ticket
        .recv()
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("the model worker returned no result".into()))??;
    Ok(HttpResponse::Ok().json(analysis))
}

/// Analyze many reports; results keep the input order.
#[utoipa::path(
    post,
    path = "/v1/analyze/batch",
    tag = "analysis",
    request_body(
        description = "JSON `{\"reports\": [{\"id\",\"text\"}, …]}`, or NDJSON (`application/x-ndjson`), one `{\"id\",\"text\"}` a line. \
At most `--max-batch` reports. In JSON, any unreadable report rejects the request (naming `reports[i]`); in NDJSON, a bad line is answered in place by a problem object carrying its `line`, and every other line is kept.",
        content(
            (super::openapi::BatchRequest = "application/json"),
            (super::openapi::Report = "application/x-ndjson")
        )
    ),
    responses(
        (status = 200, description = "JSON in: `{\"results\": [...]}`, one Analysis per report in input order (a report the model could not finish is a problem object with its `index`). \
NDJSON in: NDJSON out, streamed, one line per input line in input order: an Analysis, or a problem object with the input `line`.",
            content(
                (super::openapi::BatchResponse = "application/json"),
                (super::openapi::Analysis = "application/x-ndjson")
            )
        ),
        (status = 400, description = "Malformed JSON, missing `reports` or `text`.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "API keys are configured and none was sent.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit, or more than `--max-batch` reports.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Type.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A report's text is empty (JSON body).", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Saturated (with `Retry-After`), model loading, or timed out.", body = super::openapi::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn analyze_batch(
    req: HttpRequest,
    _auth: Authorized,
    state: Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let media = body::media_type(&req, &[Media::Json, Media::Ndjson])?;
    let raw = body::read_body(&req, payload, state.limits.body_limit, state.limits.timeout).await?;
    let limits = &state.limits;
    let entries: Vec<Entry> = match media {
        Media::Ndjson => body::ndjson(&raw, limits.max_batch, limits.max_text_chars)?
            .into_iter()
            .map(|l| match l {
                Line::Report { line, report } => Entry::Good { pos: Pos::Line(line), report },
                Line::Bad { line, id, error } => Entry::Bad { pos: Pos::Line(line), id, error },
            })
            .collect(),
        _ => body::batch(body::json(&raw)?, limits.max_batch, limits.max_text_chars)?
            .into_iter()
            .enumerate()
            .map(|(i, report)| Entry::Good { pos: Pos::Index(i), report })
            .collect(),
    };
    let lines = answer_in_slices(state.worker.clone(), entries).await?;
    if media == Media::Ndjson {
        let body = lines.map(|l| Ok::<Bytes, actix_web::Error>(Bytes::from(l + "\n")));
        return Ok(HttpResponse::Ok().content_type("application/x-ndjson").streaming(body));
    }
    let results: Vec<String> = lines.collect().await;
    let mut out = String::with_capacity(results.iter().map(|r| r.len() + 1).sum::<usize>() + 16);
    out.push_str("{\"results\":[");
    out.push_str(&results.join(","));
    out.push_str("]}");
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(out))
}

/// Where an item sits in its request, for in-place problems.
#[derive(Debug, Clone, Copy)]
enum Pos {
    Index(usize),
    Line(usize),
}

enum Entry {
    Good { pos: Pos, report: Report },
    Bad { pos: Pos, id: Option<String>, error: ApiError },
}

/// A problem object placed where an item's answer would be.
fn in_place(pos: Pos, id: Option<&str>, problem: &Value) -> String {
    let mut p = problem.clone();
    match pos {
        Pos::Index(i) => p["index"] = json!(i),
        Pos::Line(l) => p["line"] = json!(l),
    }
    if let Some(id) = id {
        p["id"] = json!(id);
    }
    p.to_string()
}

fn analysis_json(a: &Analysis) -> String {
    serde_json::to_string(a).unwrap_or_else(|e| {
        ApiError::from(Error::Internal(format!("cannot serialise an Analysis: {e}"))).to_value().to_string()
    })
}

/// Queues the entries slice by slice and yields one JSON text per entry, in input order. The first
/// slice is admitted before anything is answered, so a saturated service says 503 up front; later
/// slices wait for queue room (the request was already accepted).
async fn answer_in_slices(
    worker: Worker,
    entries: Vec<Entry>,
) -> Result<impl futures_util::Stream<Item = String>, ApiError> {
    let mut slices: Vec<Vec<Entry>> = Vec::new();
    let mut goods = 0;
    for e in entries {
        let good = matches!(e, Entry::Good { .. });
        if slices.is_empty() || (good && goods == SLICE) {
            slices.push(Vec::new());
            goods = 0;
        }
        goods += good as usize;
        if let Some(s) = slices.last_mut() {
            s.push(e);
        }
    }
    let mut slices: Vec<(Vec<Entry>, Vec<Report>)> = slices
        .into_iter()
        .map(|slice| {
            let mut reports = Vec::new();
            let kept = slice
                .into_iter()
                .map(|e| match e {
                    Entry::Good { pos, report } => {
                        let id = report.0.clone();
                        reports.push(report);
                        Entry::Good { pos, report: (id, String::new()) }
                    }
                    bad => bad,
                })
                .collect();
            (kept, reports)
        })
        .collect();
    let mut first: Option<Ticket<Vec<Result<Analysis>>>> = None;
    if let Some((_, reports)) = slices.first_mut() {
        if !reports.is_empty() {
            first = Some(worker.submit_analyze(std::mem::take(reports), Admission::TryOnce).await?);
        }
    }
    let answers = stream::iter(slices.into_iter().enumerate())
        .map(move |(i, (entries, reports))| {
            let ticket = if i == 0 { first.take() } else { None };
            let worker = worker.clone();
            async move {
                let results = match ticket {
                    Some(t) => t.recv().await,
                    None if reports.is_empty() => Ok(Vec::new()),
                    None => match worker.submit_analyze(reports, Admission::Wait).await {
                        Ok(t) => t.recv().await,
                        Err(e) => Err(e),
                    },
                };
                merge(entries, results)
            }
        })
        .buffered(SLICES_IN_FLIGHT)
        .flat_map(stream::iter);
    Ok(answers)
}

/// Puts a slice's answers back between its bad entries.
fn merge(entries: Vec<Entry>, results: Result<Vec<Result<Analysis>>>) -> Vec<String> {
    let (mut results, shared_failure) = match results {
        Ok(r) => (r.into_iter(), None),
        Err(e) => (Vec::new().into_iter(), Some(ApiError::from(e).to_value())),
    };
    entries
        .into_iter()
        .map(|e| match e {
            Entry::Bad { pos, id, error } => in_place(pos, id.as_deref(), &error.to_value()),
            Entry::Good { pos, report: (id, _) } => match (&shared_failure, results.next()) {
                (Some(p), _) => in_place(pos, id.as_deref(), p),
                (None, Some(Ok(a))) => analysis_json(&a),
                (None, Some(Err(e))) => in_place(pos, id.as_deref(), &ApiError::from(e).to_value()),
                (None, None) => in_place(
                    pos,
                    id.as_deref(),
                    &ApiError::from(Error::Internal("missing result".into())).to_value(),
                ),
            },
        })
        .collect()
}

/// Embed texts (the text-embeddings-inference `/embed` shape).
#[utoipa::path(
    post,
    path = "/v1/embed",
    tag = "embeddings",
    request_body(content = super::openapi::EmbedRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "One L2-normalised vector per input, in input order (384 floats each with all-MiniLM-L6-v2). Texts longer than the model window are truncated, as sentence-transformers does.", body = Vec<Vec<f32>>),
        (status = 400, description = "Malformed JSON, `inputs` missing or not a string / array of strings, or `normalize: false` (vectors are always normalised).", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "API keys are configured and none was sent.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit, or more than `--max-batch` inputs.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No inputs, or an empty input.", body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Saturated (with `Retry-After`), model loading, or timed out.", body = super::openapi::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn embed(
    _auth: Authorized,
    state: Data<AppState>,
    request: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let texts = embed_inputs(request.into_inner(), state.limits.max_batch, state.limits.max_text_chars)?;
    let ticket = state.worker.submit_embed(texts, Admission::TryOnce).await?;
    let vectors = ticket.recv().await??;
    Ok(HttpResponse::Ok().json(vectors))
}

/// Reads `{"inputs": "text" | ["text", …], "normalize": true}`.
fn embed_inputs(v: Value, max: usize, max_chars: usize) -> Result<Vec<String>, ApiError> {
    let invalid = |d: String| ApiError::new(Error::InvalidInput(d.clone()), d);
    let Value::Object(mut obj) = v else {
        return Err(invalid(format!(
            "the body must be a JSON object with `inputs`, got {}",
            crate::records::json_kind(&v)
        )));
    };
    match obj.remove("normalize") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            return Err(invalid(
                "`normalize: false` is not supported: vectors are always L2-normalised".into(),
            ))
        }
        Some(other) => {
            return Err(invalid(format!(
                "`normalize` must be a boolean, got {}",
                crate::records::json_kind(&other)
            )))
        }
    }
    let texts = match obj.remove("inputs") {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => {
            body::check_count(items.len(), max, "inputs")?;
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s),
                    other => Err(invalid(format!(
                        "inputs[{i}] must be a string, got {}",
                        crate::records::json_kind(&other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        None => return Err(invalid("the body is missing `inputs`".into())),
        Some(other) => {
            return Err(invalid(format!(
                "`inputs` must be a string or an array of strings, got {}",
                crate::records::json_kind(&other)
            )))
        }
    };
    if texts.is_empty() {
        return Err(ApiError::new(Error::EmptyText, "`inputs` is an empty array"));
    }
    for (i, t) in texts.iter().enumerate() {
        body::check_text(t, &format!("inputs[{i}]"), max_chars)?;
    }
    Ok(texts)
}

/// Liveness and readiness: 200 once the model is loaded.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "The model is loaded and requests are served.", body = super::openapi::Health),
        (status = 503, description = "The model is loading (`Retry-After`), failed to load, or the service is stopping.", body = super::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn health(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.worker.status() {
        Status::Ready(m) => Ok(HttpResponse::Ok().json(json!({
            "status": "ok",
            "model": {"embedder": m.embedder, "head": m.head, "labels": m.labels},
            "queue_depth": state.worker.queue_depth(),
        }))),
        Status::Loading => Err(Error::ModelUnavailable("the model is loading".into()).into()),
        Status::Failed(msg) => Err(Error::ModelUnavailable(msg).into()),
        Status::Stopped => Err(Error::ModelUnavailable("the service is shutting down".into()).into()),
    }
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4: requests by route and status, latency histograms, batch sizes and tokens, queue depth and wait, model time, labels produced, resident memory.", body = String, content_type = "text/plain; version=0.0.4"))
)]
pub async fn metrics(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

/// This API's OpenAPI 3 description.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "OpenAPI 3 description of every route.", body = Object))
)]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(super::openapi::json())
}

/// Human documentation: a self-contained page that renders `/openapi.json` (no CDN).
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    responses((status = 200, description = "HTML documentation of the API, rendered from /openapi.json in the browser.", body = String, content_type = "text/html"))
)]
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(super::openapi::DOCS_HTML)
}

/// Unknown path: 404 problem.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    ApiError::new(Error::NotFound(req.path().to_string()), format!("no route for {}; see /docs", req.path()))
        .error_response()
}

/// Known path, wrong method: 405 problem with `Allow`.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let what = format!("{} {}", req.method(), req.path());
    ApiError::new(Error::MethodNotAllowed(what.clone()), format!("{what} is not allowed; see /docs"))
        .error_response()
}
