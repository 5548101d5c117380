//! The HTTP service (`rootline serve`): the routes of CONTRACT.md on actix-web.
//!
//! This layer parses, validates, limits and reports; the model lives on the [`crate::worker`]
//! thread and is reached only through its queue, so no async thread ever runs inference and no
//! code here touches tensors. [`create_app`] builds the whole application from an [`AppState`],
//! which the binary and the in-process tests share; [`serve`] adds the listener, graceful shutdown
//! and the worker's drain.

pub mod auth;
pub mod body;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod routes;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::web::{self, Data, JsonConfig, PayloadConfig};
use actix_web::{App, HttpServer};

use crate::error::{Error, Result};
use crate::settings::{ServerSettings, Settings};
use crate::worker::{Worker, WorkerOptions};
use metrics::Metrics;
use problem::actix_error;

/// The limits every request is held to.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest body, bytes.
    pub body_limit: usize,
    /// Most reports or inputs in one request.
    pub max_batch: usize,
    /// Longest report, characters (from [`Settings::max_text_chars`]).
    pub max_text_chars: usize,
    /// How long a request may take to arrive and be answered.
    pub timeout: Duration,
}

/// Everything a handler needs; cheap to clone (one per HTTP worker).
#[derive(Clone)]
pub struct AppState {
    /// The model thread's handle.
    pub worker: Worker,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// Request limits.
    pub limits: Limits,
    /// Accepted bearer tokens; empty means auth is off.
    pub api_keys: Arc<Vec<String>>,
}

impl AppState {
    /// Starts the model worker (which loads the model on its own thread) and assembles the state.
    /// Requests are answered 503 until [`Worker::ready`] resolves.
    pub fn start(settings: &Settings, server: &ServerSettings) -> Result<Self> {
        let metrics = Arc::new(Metrics::new()?);
        let timeout = Duration::from_secs(server.request_timeout.max(1));
        let opts = WorkerOptions {
            queue_capacity: server.queue_capacity.max(1),
            gather_tokens: settings.batch_tokens,
            timeout,
            retry_after_s: server.retry_after.max(1),
        };
        let worker = Worker::start(settings.clone(), opts, metrics.clone())?;
        let api_keys: Vec<String> =
            server.api_keys.iter().map(|k| k.0.clone()).filter(|k| !k.is_empty()).collect();
        Ok(AppState {
            worker,
            metrics,
            limits: Limits {
                body_limit: server.body_limit,
                max_batch: server.max_batch.max(1),
                max_text_chars: settings.max_text_chars,
                timeout,
            },
            api_keys: Arc::new(api_keys),
        })
    }
}

/// The whole application for a state: routes, limits, problem+json for every error, metrics and
/// request logging. Used by [`serve`] and by tests through `actix_web::test::init_service`.
pub fn create_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.limits.body_limit;
    // Extractor errors become problems here; anything actix answers on its own (404, 405, payload
    // errors) is rewritten by the ErrorHandlers middleware below.
    let json_config = JsonConfig::default().limit(limit).error_handler(|err, _req| {
        use actix_web::error::JsonPayloadError as J;
        let detail = err.to_string();
        match err {
            J::OverflowKnownLength { .. } | J::Overflow { .. } => {
                actix_error(Error::TooLarge(detail.clone()), detail)
            }
            J::ContentType => actix_error(
                Error::UnsupportedMediaType(detail),
                "Content-Type must be application/json on this route",
            ),
            J::Deserialize(e) => {
                actix_error(Error::InvalidInput(e.to_string()), format!("malformed JSON: {e}"))
            }
            other => actix_error(
                Error::InvalidInput(other.to_string()),
                format!("could not read the body: {other}"),
            ),
        }
    });
    let resource =
        |path: &str| web::resource(path.to_string()).default_service(web::to(routes::method_not_allowed));
    App::new()
        .app_data(Data::new(state))
        .app_data(json_config)
        .app_data(PayloadConfig::new(limit))
        .wrap(ErrorHandlers::new().default_handler(problem::to_problem))
        .wrap(from_fn(metrics::observe))
        .service(resource("/v1/analyze").route(web::post().to(routes::analyze)))
        .service(resource("/v1/analyze/batch").route(web::post().to(routes::analyze_batch)))
        .service(resource("/v1/embed").route(web::post().to(routes::embed)))
        .service(resource("/health").route(web::get().to(routes::health)))
        .service(resource("/metrics").route(web::get().to(routes::metrics)))
        .service(resource("/openapi.json").route(web::get().to(routes::openapi)))
        .service(resource("/docs").route(web::get().to(routes::docs)))
        .default_service(web::to(routes::not_found))
}

/// Runs the service until SIGINT/SIGTERM: binds, starts the model worker, serves, and on shutdown
/// lets in-flight requests finish and the worker drain its queue before returning. Fails (exit 1)
/// when the address cannot be bound or the model cannot be loaded.
pub fn serve(settings: &Settings, server: &ServerSettings) -> Result<()> {
    actix_web::rt::System::new().block_on(run(settings.clone(), server.clone()))
}

async fn run(settings: Settings, server: ServerSettings) -> Result<()> {
    let state = AppState::start(&settings, &server)?;
    let worker = state.worker.clone();
    let app_state = state.clone();
    let bound = HttpServer::new(move || create_app(app_state.clone()))
        .workers(server.http_workers.max(1))
        .shutdown_timeout(server.shutdown_timeout)
        .bind((server.host.as_str(), server.port))
        .map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {}:{}: {e}", server.host, server.port),
            ))
        })?;
    for addr in bound.addrs() {
        tracing::info!(%addr, auth = !state.api_keys.is_empty(), "listening on http://{addr}");
    }
    let running = bound.run();
    let handle = running.handle();
    // A model that cannot load makes the whole service useless: stop and exit 1 rather than sit
    // there answering 503 forever.
    let load_error: Arc<Mutex<Option<Error>>> = Arc::new(Mutex::new(None));
    let slot = load_error.clone();
    let watcher = worker.clone();
    actix_web::rt::spawn(async move {
        if let Err(e) = watcher.ready().await {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            handle.stop(false).await;
        }
    });
    let served = running.await;
    tracing::info!("HTTP server stopped; draining the model queue");
    worker.stop().await;
    tracing::info!("shutdown complete");
    if let Some(e) = load_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    served.map_err(Error::Io)
}
