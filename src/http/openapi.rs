//! The OpenAPI 3 description of the service (utoipa) and the static `/docs` page that renders it.
//!
//! The route descriptions sit on the handlers in `routes.rs`; this file holds the schemas of the
//! bodies. The Analysis types live in the library and know nothing of OpenAPI, so their schema is
//! mirrored here; `tests/http_api.rs` checks every field a real Analysis carries against it, so the
//! two cannot drift apart silently.

// The schema types exist only to be described, never built.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::Error;

/// The `/docs` page: plain HTML and a little script, no external assets.
pub const DOCS_HTML: &str = include_str!("docs.html");

/// `POST /v1/analyze` JSON body.
#[derive(ToSchema)]
pub struct AnalyzeRequest {
    /// The report: plain text or markdown.
    #[schema(
        example = "At 09:04 UTC checkout began returning HTTP 500. Root cause: a configuration change lowered the connection pool limit."
    )]
    text: String,
    /// Your id, echoed in the Analysis (a number is accepted and turned into a string).
    #[schema(example = "INC-42")]
    id: Option<String>,
}

/// One report of a batch (or one NDJSON line).
#[derive(ToSchema)]
pub struct Report {
    /// Your id, echoed in the Analysis.
    id: Option<String>,
    /// The report text.
    text: String,
}

/// `POST /v1/analyze/batch` JSON body.
#[derive(ToSchema)]
pub struct BatchRequest {
    /// The reports, at most `--max-batch` (256 by default).
    reports: Vec<Report>,
}

/// `POST /v1/analyze/batch` JSON answer.
#[derive(ToSchema)]
pub struct BatchResponse {
    /// One Analysis per report, in input order.
    results: Vec<Analysis>,
}

/// `inputs` of `/v1/embed`: one text or many.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum EmbedInputs {
    /// One text.
    One(String),
    /// Many texts.
    Many(Vec<String>),
}

/// `POST /v1/embed` body (the text-embeddings-inference shape).
#[derive(ToSchema)]
pub struct EmbedRequest {
    /// A text or an array of texts (at most `--max-batch`).
    inputs: EmbedInputs,
    /// Must be true or absent: vectors are always L2-normalised.
    #[schema(default = true)]
    normalize: Option<bool>,
}

/// An RFC 9457 problem: the body of every error.
#[derive(ToSchema)]
pub struct Problem {
    /// `/docs#problem-CODE`: where the code is explained.
    #[schema(example = "/docs#problem-empty_text")]
    r#type: String,
    /// Short human title of the code.
    #[schema(example = "Empty report text")]
    title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    status: u16,
    /// What exactly was wrong with this request.
    #[schema(example = "the body: the report text is empty")]
    detail: String,
    /// Stable snake_case code; one of the codes listed in this API's description.
    #[schema(example = "empty_text")]
    code: String,
    /// NDJSON batches: the 1-based input line this problem answers.
    line: Option<usize>,
    /// JSON batches: the index of the report this problem answers.
    index: Option<usize>,
    /// The report's id, when it had one.
    id: Option<String>,
}

/// `GET /health` answer.
#[derive(ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: String,
    /// What is loaded.
    model: HealthModel,
    /// Model jobs waiting right now.
    queue_depth: usize,
}

/// The loaded models.
#[derive(ToSchema)]
pub struct HealthModel {
    /// Embedding model name.
    embedder: String,
    /// Classifier head id.
    head: String,
    /// Labels the head can give.
    labels: Vec<String>,
}

/// Everything rootline says about one report (CONTRACT.md).
#[derive(ToSchema)]
pub struct Analysis {
    /// Your id, when one was given.
    id: Option<String>,
    /// The root cause with calibrated scores and quoted evidence.
    root_cause: RootCause,
    /// Every timestamped event, in report order.
    timeline: Vec<TimelineEntry>,
    /// Incident metrics derived from the timeline.
    metrics: IncidentMetrics,
    /// Date, zone, impact, components and error codes the report names.
    entities: Entities,
    /// Inconsistencies a careful reader would raise.
    warnings: Vec<String>,
    /// Which models produced this.
    model: ModelInfo,
}

/// The classification part of an Analysis.
#[derive(ToSchema)]
pub struct RootCause {
    /// Primary cause: `config_change`, `dependency_bug`, `resource_leak`, `deployment` or `other`
    /// with the built-in head.
    #[schema(example = "config_change")]
    label: String,
    /// Calibrated probability of `label`.
    confidence: f32,
    /// Calibrated probability of every label; they sum to 1.
    scores: BTreeMap<String, f32>,
    /// Further labels the report clearly involves.
    contributing: Vec<String>,
    /// Sentences that drove each reported label.
    evidence: Vec<Evidence>,
}

/// One quoted sentence: `text` equals the report's characters `start..end` (Unicode scalars).
#[derive(ToSchema)]
pub struct Evidence {
    /// The label the sentence supports.
    label: String,
    /// The sentence, exactly as in the report.
    text: String,
    /// Offset of the first character.
    start: usize,
    /// Offset one past the last character.
    end: usize,
    /// Support strength, 0..1.
    score: f32,
}

/// One timestamped event.
#[derive(ToSchema)]
pub struct TimelineEntry {
    /// The time exactly as written.
    time_text: String,
    /// RFC 3339 with offset when date and zone are known, local date-time when only the date is,
    /// null when unresolvable.
    timestamp: Option<String>,
    /// What happened.
    event: String,
    /// Incident phase.
    phase: Phase,
    /// Offset of `time_text` in the report.
    start: usize,
    /// Offset one past `time_text`.
    end: usize,
}

/// Incident phase of a timeline entry.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The change or event that set it off.
    Trigger,
    /// Impact began.
    Started,
    /// Alert, page or customer report.
    Detected,
    /// On-call acknowledged.
    Acknowledged,
    /// Work to understand the problem.
    Investigating,
    /// Root cause found.
    Identified,
    /// Impact reduced.
    Mitigated,
    /// Fully recovered.
    Resolved,
    /// Postmortem published.
    Postmortem,
    /// Anything else.
    Other,
}

/// Metrics derived from the timeline; a figure that cannot be derived is null.
#[derive(ToSchema)]
#[schema(as = Metrics)]
pub struct IncidentMetrics {
    /// When impact began.
    started: Option<String>,
    /// When it was detected.
    detected: Option<String>,
    /// When it was mitigated.
    mitigated: Option<String>,
    /// When it was resolved.
    resolved: Option<String>,
    /// Seconds from start to detection.
    time_to_detect_s: Option<i64>,
    /// Seconds from start to mitigation.
    time_to_mitigate_s: Option<i64>,
    /// Seconds from start to resolution.
    time_to_resolve_s: Option<i64>,
}

/// What the report names.
#[derive(ToSchema)]
pub struct Entities {
    /// The incident's date.
    incident_date: Option<String>,
    /// The report's time zone offset.
    timezone: Option<String>,
    /// Impact statements.
    impact: Vec<String>,
    /// Affected components.
    components: Vec<String>,
    /// Error codes quoted.
    error_codes: Vec<String>,
}

/// Model provenance.
#[derive(ToSchema)]
pub struct ModelInfo {
    /// Embedding model name.
    embedder: String,
    /// Classifier head id.
    head: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Every problem code the service can send, with its title and status, for the description.
pub fn problem_codes() -> Vec<(&'static str, &'static str, u16)> {
    let all = [
        Error::InvalidInput(String::new()),
        Error::EmptyText,
        Error::TooLarge(String::new()),
        Error::UnsupportedMediaType(String::new()),
        Error::Unauthorized,
        Error::NotFound(String::new()),
        Error::MethodNotAllowed(String::new()),
        Error::Overloaded { retry_after_s: 1 },
        Error::ModelUnavailable(String::new()),
        Error::Timeout(0),
        Error::Internal(String::new()),
    ];
    all.iter().map(|e| e.meta()).map(|m| (m.code, m.title, m.status)).collect()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rootline",
        description = "Turns raw incident reports into structured Analysis JSON: root cause with calibrated confidence and quoted evidence, the timeline with phases, incident metrics and warnings. Runs locally; no report leaves the machine.\n\nErrors are `application/problem+json` (RFC 9457) with a stable `code`; see the problem codes below. When API keys are configured (`ROOTLINE_API_KEYS`), every `/v1/` route needs `Authorization: Bearer <key>`."
    ),
    paths(
        super::routes::analyze,
        super::routes::analyze_batch,
        super::routes::embed,
        super::routes::health,
        super::routes::metrics,
        super::routes::openapi,
        super::routes::docs,
    ),
    components(schemas(
        AnalyzeRequest, Report, BatchRequest, BatchResponse, EmbedRequest, EmbedInputs, Problem, Health,
        HealthModel, Analysis, RootCause, Evidence, TimelineEntry, Phase, IncidentMetrics, Entities, ModelInfo
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "analysis", description = "Incident reports in, Analysis out."),
        (name = "embeddings", description = "Sentence embeddings (text-embeddings-inference shape)."),
        (name = "operations", description = "Health, metrics and documentation; never behind auth."),
    )
)]
struct ApiDoc;

/// The OpenAPI document as JSON text (built once), with the problem-code table added to the
/// description and as `x-problem-codes`, which the docs page renders.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        let codes = problem_codes();
        let mut table = String::from("\n\n| code | status | title |\n|---|---|---|\n");
        for (code, title, status) in &codes {
            table.push_str(&format!("| `{code}` | {status} | {title} |\n"));
        }
        if let Some(d) = doc.info.description.as_mut() {
            d.push_str(&table);
        }
        let mut value = serde_json::to_value(&doc).unwrap_or_default();
        value["x-problem-codes"] = codes
            .iter()
            .map(|(code, title, status)| serde_json::json!({"code": code, "title": title, "status": status}))
            .collect();
        value.to_string()
    })
}
