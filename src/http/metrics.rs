//! Prometheus metrics and the request-observing middleware (metrics + one structured log line per
//! request).
//!
//! One registry per service instance (not a process global), so tests can run several apps side by
//! side. Routes are labelled by their pattern, never the raw path, so a scanner hitting random URLs
//! cannot blow up label cardinality. Request and response bodies are never logged: reports can hold
//! customer data.

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use super::AppState;
use crate::error::{Error, Result};
use crate::worker::{BatchStats, Observer, Status};

/// Latency buckets in seconds: from a cached health check to a long batch under load.
const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Reports (or texts) per model batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    batch_items: HistogramVec,
    batch_tokens: HistogramVec,
    model_seconds: HistogramVec,
    queue_wait: Histogram,
    queue_depth: IntGauge,
    labels: IntCounterVec,
    expired: IntCounter,
    model_loaded: IntGauge,
    rss: IntGauge,
}

fn prom(e: prometheus::Error) -> Error {
    Error::Internal(format!("metrics: {e}"))
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("rootline_http_requests_total", "HTTP requests by route pattern, method and status."),
            &["route", "method", "status"],
        )
        .map_err(prom)?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "rootline_http_request_duration_seconds",
                "Time from request to response head, by route pattern.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .map_err(prom)?;
        let batch_items = HistogramVec::new(
            HistogramOpts::new("rootline_batch_size", "Reports (analyze) or texts (embed) per model batch.")
                .buckets(BATCH_BUCKETS.to_vec()),
            &["kind"],
        )
        .map_err(prom)?;
        let batch_tokens = HistogramVec::new(
            HistogramOpts::new("rootline_batch_tokens", "Tokens per gathered model batch.")
                .buckets(prometheus::exponential_buckets(64.0, 2.0, 12).map_err(prom)?),
            &["kind"],
        )
        .map_err(prom)?;
        let model_seconds = HistogramVec::new(
            HistogramOpts::new("rootline_model_seconds", "Time the model thread spent on one batch.")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["kind"],
        )
        .map_err(prom)?;
        let queue_wait = Histogram::with_opts(
            HistogramOpts::new("rootline_queue_wait_seconds", "Longest queue wait of a job in each batch.")
                .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .map_err(prom)?;
        let queue_depth =
            IntGauge::new("rootline_queue_depth", "Model jobs waiting in the queue.").map_err(prom)?;
        let labels = IntCounterVec::new(
            Opts::new("rootline_labels_total", "Analyses produced, by primary root-cause label."),
            &["label"],
        )
        .map_err(prom)?;
        let expired = IntCounter::new(
            "rootline_jobs_expired_total",
            "Jobs dropped unanswered because the caller had already timed out or gone.",
        )
        .map_err(prom)?;
        let model_loaded = IntGauge::new("rootline_model_loaded", "1 once the model is loaded and serving.")
            .map_err(prom)?;
        let rss = IntGauge::new("process_resident_memory_bytes", "Resident memory of the process, in bytes.")
            .map_err(prom)?;
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(batch_items.clone()),
            Box::new(batch_tokens.clone()),
            Box::new(model_seconds.clone()),
            Box::new(queue_wait.clone()),
            Box::new(queue_depth.clone()),
            Box::new(labels.clone()),
            Box::new(expired.clone()),
            Box::new(model_loaded.clone()),
            Box::new(rss.clone()),
        ] {
            registry.register(c).map_err(prom)?;
        }
        Ok(Metrics {
            registry,
            requests,
            latency,
            batch_items,
            batch_tokens,
            model_seconds,
            queue_wait,
            queue_depth,
            labels,
            expired,
            model_loaded,
            rss,
        })
    }

    /// Records one finished request.
    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition, with the gauges sampled now.
    pub fn render(&self, state: &AppState) -> Result<String> {
        self.queue_depth.set(state.worker.queue_depth() as i64);
        self.model_loaded.set(matches!(state.worker.status(), Status::Ready(_)) as i64);
        if let Some(rss) = resident_bytes() {
            self.rss.set(rss as i64);
        }
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).map_err(prom)?;
        String::from_utf8(buf).map_err(|e| Error::Internal(e.to_string()))
    }
}

impl Observer for Metrics {
    fn batch(&self, s: &BatchStats) {
        self.batch_items.with_label_values(&[s.kind]).observe(s.items as f64);
        self.batch_tokens.with_label_values(&[s.kind]).observe(s.tokens as f64);
        self.model_seconds.with_label_values(&[s.kind]).observe(s.model_time.as_secs_f64());
        self.queue_wait.observe(s.max_queue_wait.as_secs_f64());
        tracing::debug!(
            kind = s.kind,
            jobs = s.jobs,
            items = s.items,
            tokens = s.tokens,
            model_ms = s.model_time.as_millis() as u64,
            "batch"
        );
    }

    fn label(&self, label: &str) {
        self.labels.with_label_values(&[label]).inc();
    }

    fn expired(&self) {
        self.expired.inc();
    }
}

/// Resident set size from `/proc/self/statm` (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request id: the caller's `X-Request-Id` when it is short and printable, else a fresh one.
fn request_id(req: &ServiceRequest) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:x}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// Middleware: times the request, counts it by route pattern and status, logs one line, and echoes
/// the request id.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> std::result::Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<Data<AppState>>().cloned();
    let method = req.method().to_string();
    let id = request_id(&req);
    let mut res = next.call(req).await?;
    let elapsed = started.elapsed();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    if let Some(state) = state {
        state.metrics.request(&route, &method, status, elapsed);
    }
    tracing::info!(
        target: "rootline::http",
        request_id = %id,
        method = %method,
        route = %route,
        status,
        ms = elapsed.as_secs_f64() * 1e3,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    Ok(res)
}
