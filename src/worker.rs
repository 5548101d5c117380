//! The model worker: one dedicated thread that owns the [`Analyzer`] and serves every caller
//! through a bounded queue.
//!
//! Why a thread and not `spawn_blocking`: the model is loaded once and never shared, so no
//! assumption about its `Send`/`Sync`-ness leaks into async code, and one thread driving candle's
//! own parallel kernels keeps both cores busy without two batches fighting over them. Why a queue:
//! concurrent requests are gathered into one `analyze_batch` call by a token budget, so 32 clients
//! cost about what one batch of 32 costs. The queue is bounded; when it is full, callers get
//! [`Error::Overloaded`] at once instead of piling up memory.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::pipeline::Analyzer;
use crate::settings::Settings;

/// How the worker is sized (the service derives these from `ServerSettings` and `Settings`).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Jobs that may wait in the queue.
    pub queue_capacity: usize,
    /// Token budget of one gathered batch (reports are added while their tokens fit); the
    /// service uses `Settings::batch_tokens`.
    pub gather_tokens: usize,
    /// How long a caller waits for its answer (and for queue room, when it may wait).
    pub timeout: Duration,
    /// Seconds callers are told to wait when the queue is full.
    pub retry_after_s: u64,
}

/// What the model thread did in one batch, for metrics.
#[derive(Debug, Clone)]
pub struct BatchStats {
    /// `"analyze"` or `"embed"`.
    pub kind: &'static str,
    /// Jobs (requests or request slices) gathered.
    pub jobs: usize,
    /// Reports or texts in the batch.
    pub items: usize,
    /// Their token count (untruncated, special tokens excluded).
    pub tokens: usize,
    /// Time inside the model call.
    pub model_time: Duration,
    /// Longest time a job of the batch waited in the queue.
    pub max_queue_wait: Duration,
}

/// Receives the worker's measurements; the HTTP layer turns them into Prometheus metrics.
pub trait Observer: Send + Sync {
    /// Called after every batch.
    fn batch(&self, _stats: &BatchStats) {}
    /// Called once per produced Analysis with its primary label.
    fn label(&self, _label: &str) {}
    /// Called for every job dropped unanswered because its caller had given up.
    fn expired(&self) {}
}

/// An observer that ignores everything.
pub struct NoObserver;
impl Observer for NoObserver {}

/// The worker's life cycle, as `/health` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The model is being loaded (or fetched on first use).
    Loading,
    /// The model is loaded and serving.
    Ready(ModelSummary),
    /// Loading failed; the message says why.
    Failed(String),
    /// The worker has stopped (shutdown).
    Stopped,
}

/// What is loaded, for `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    /// Embedding model name.
    pub embedder: String,
    /// Classifier head id.
    pub head: String,
    /// The head's labels.
    pub labels: Vec<String>,
}

type AnalyzeReply = oneshot::Sender<Vec<Result<Analysis>>>;
type EmbedReply = oneshot::Sender<Result<Vec<Vec<f32>>>>;

enum Work {
    Analyze { items: Vec<(Option<String>, String)>, reply: AnalyzeReply },
    Embed { texts: Vec<String>, reply: EmbedReply },
}

struct Job {
    work: Work,
    enqueued: Instant,
    deadline: Instant,
}

enum Msg {
    Job(Job),
    /// Sent once by [`Worker::stop`]: finish what is queued, then exit.
    Stop,
}

/// Whether a submission may wait for queue room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Fail at once with [`Error::Overloaded`] when the queue is full (new requests).
    TryOnce,
    /// Wait for room until the deadline (later slices of a request already admitted).
    Wait,
}

/// A submitted job's answer, to be awaited.
pub struct Ticket<T> {
    rx: oneshot::Receiver<T>,
    deadline: Instant,
    timeout: Duration,
}

impl<T> Ticket<T> {
    /// Waits for the answer until the job's deadline.
    pub async fn recv(self) -> Result<T> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, self.rx).await {
            Ok(Ok(v)) => Ok(v),
            // The worker dropped the reply: it stopped, or a panic was contained while serving it.
            Ok(Err(_)) => Err(Error::Internal("the model worker dropped the request".into())),
            Err(_) => Err(Error::Timeout(self.timeout.as_millis() as u64)),
        }
    }
}

struct Shared {
    status: watch::Sender<Status>,
    thread: Mutex<Option<JoinHandle<()>>>,
    opts: WorkerOptions,
}

/// A cloneable handle to the model thread.
#[derive(Clone)]
pub struct Worker {
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
}

impl Worker {
    /// Starts the model thread; it loads the model itself (see [`Worker::ready`]).
    pub fn start(settings: Settings, opts: WorkerOptions, observer: Arc<dyn Observer>) -> Result<Self> {
        let (tx, rx) = mpsc::channel(opts.queue_capacity.max(1));
        let (status, _) = watch::channel(Status::Loading);
        let shared = Arc::new(Shared { status, thread: Mutex::new(None), opts });
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("rootline-model".into())
            .spawn(move || run(settings, rx, thread_shared, observer))?;
        *shared.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(Worker { tx, shared })
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.shared.status.borrow().clone()
    }

    /// Waits until the model is loaded; fails with the load error if loading failed.
    pub async fn ready(&self) -> Result<ModelSummary> {
        let mut rx = self.shared.status.subscribe();
        let status = rx
            .wait_for(|s| !matches!(s, Status::Loading))
            .await
            .map_err(|_| Error::Internal("model worker vanished".into()))?
            .clone();
        match status {
            Status::Ready(m) => Ok(m),
            Status::Failed(msg) => Err(Error::ModelUnavailable(msg)),
            Status::Loading | Status::Stopped => {
                Err(Error::ModelUnavailable("the model worker stopped".into()))
            }
        }
    }

    /// Jobs waiting in the queue right now.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// The options the worker was started with.
    pub fn options(&self) -> &WorkerOptions {
        &self.shared.opts
    }

    /// Queues reports for analysis; results come back in input order, one per report.
    pub async fn submit_analyze(
        &self,
        items: Vec<(Option<String>, String)>,
        admission: Admission,
    ) -> Result<Ticket<Vec<Result<Analysis>>>> {
        let (reply, rx) = oneshot::channel();
        self.submit(Work::Analyze { items, reply }, rx, admission).await
    }

    /// Queues texts for embedding; vectors come back in input order, L2-normalised.
    pub async fn submit_embed(
        &self,
        texts: Vec<String>,
        admission: Admission,
    ) -> Result<Ticket<Result<Vec<Vec<f32>>>>> {
        let (reply, rx) = oneshot::channel();
        self.submit(Work::Embed { texts, reply }, rx, admission).await
    }

    async fn submit<T>(
        &self,
        work: Work,
        rx: oneshot::Receiver<T>,
        admission: Admission,
    ) -> Result<Ticket<T>> {
        match &*self.shared.status.borrow() {
            Status::Ready(_) => {}
            Status::Loading => return Err(Error::ModelUnavailable("the model is still loading".into())),
            Status::Failed(m) => return Err(Error::ModelUnavailable(m.clone())),
            Status::Stopped => return Err(Error::ModelUnavailable("the service is shutting down".into())),
        }
        let timeout = self.shared.opts.timeout;
        let enqueued = Instant::now();
        let deadline = enqueued + timeout;
        let msg = Msg::Job(Job { work, enqueued, deadline });
        match admission {
            Admission::TryOnce => self.tx.try_send(msg).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    Error::Overloaded { retry_after_s: self.shared.opts.retry_after_s }
                }
                mpsc::error::TrySendError::Closed(_) => stopped(),
            })?,
            Admission::Wait => self.tx.send_timeout(msg, timeout).await.map_err(|e| match e {
                mpsc::error::SendTimeoutError::Timeout(_) => Error::Timeout(timeout.as_millis() as u64),
                mpsc::error::SendTimeoutError::Closed(_) => stopped(),
            })?,
        }
        Ok(Ticket { rx, deadline, timeout })
    }

    /// Stops the worker after it has answered everything already queued: call once the HTTP server
    /// has stopped taking requests. Waits for room in the queue, then for the thread (blocking).
    pub async fn stop(&self) {
        // A full queue drains on its own, so waiting for room is bounded by the work queued.
        let _ = self.tx.send(Msg::Stop).await;
        let handle = self.shared.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            // Joining blocks; do it off the async runtime's threads.
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

fn stopped() -> Error {
    Error::ModelUnavailable("the model worker has stopped".into())
}

/// The model thread: load, then gather and serve batches until told to stop.
fn run(settings: Settings, mut rx: mpsc::Receiver<Msg>, shared: Arc<Shared>, observer: Arc<dyn Observer>) {
    let analyzer = match Analyzer::load(&settings) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "model failed to load");
            // Status::Failed is re-wrapped as ModelUnavailable; keep its message free of the prefix.
            let msg = match e {
                Error::ModelUnavailable(m) => m,
                other => other.to_string(),
            };
            shared.status.send_replace(Status::Failed(msg));
            return;
        }
    };
    let summary = ModelSummary {
        embedder: analyzer.embedder().name().to_string(),
        head: analyzer.head().id.clone(),
        labels: analyzer.head().meta.labels.clone(),
    };
    tracing::info!(embedder = %summary.embedder, head = %summary.head, "model loaded");
    shared.status.send_replace(Status::Ready(summary));

    let budget = shared.opts.gather_tokens.max(1);
    let mut carry: Option<(Job, usize)> = None;
    let mut stopping = false;
    loop {
        let first = match carry.take() {
            Some(j) => j,
            None => {
                // After Stop, only what is already queued is served; then the thread ends.
                let msg = if stopping { rx.try_recv().ok() } else { rx.blocking_recv() };
                match msg {
                    Some(Msg::Job(j)) => {
                        let cost = cost(&analyzer, &j.work);
                        (j, cost)
                    }
                    Some(Msg::Stop) => {
                        stopping = true;
                        continue;
                    }
                    None => break,
                }
            }
        };
        let mut tokens = first.1;
        let mut batch = vec![first.0];
        // Gather whatever else is already waiting, while it fits the budget. No waiting for more:
        // while the model is busy, requests pile up and the next batch is naturally bigger.
        while tokens < budget {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => {
                    let c = cost(&analyzer, &j.work);
                    if same_kind(&batch[0].work, &j.work) && tokens + c <= budget {
                        tokens += c;
                        batch.push(j);
                    } else {
                        carry = Some((j, c));
                        break;
                    }
                }
                Ok(Msg::Stop) => stopping = true,
                Err(_) => break,
            }
        }
        serve_batch(&analyzer, batch, tokens, settings.batch_tokens, &*observer);
    }
    shared.status.send_replace(Status::Stopped);
    tracing::info!("model worker stopped");
}

fn same_kind(a: &Work, b: &Work) -> bool {
    matches!((a, b), (Work::Analyze { .. }, Work::Analyze { .. }) | (Work::Embed { .. }, Work::Embed { .. }))
}

/// Token cost of a job: what the tokenizer counts, or a bytes/4 guess if it refuses the text.
fn cost(analyzer: &Analyzer, work: &Work) -> usize {
    let count = |t: &str| analyzer.embedder().count_tokens(t).unwrap_or(t.len() / 4).max(1);
    match work {
        Work::Analyze { items, .. } => items.iter().map(|(_, t)| count(t)).sum(),
        Work::Embed { texts, .. } => {
            texts.iter().map(|t| count(t).min(analyzer.embedder().max_tokens())).sum()
        }
    }
}

fn is_abandoned(job: &Job, now: Instant) -> bool {
    let closed = match &job.work {
        Work::Analyze { reply, .. } => reply.is_closed(),
        Work::Embed { reply, .. } => reply.is_closed(),
    };
    closed || now >= job.deadline
}

fn serve_batch(analyzer: &Analyzer, batch: Vec<Job>, tokens: usize, batch_tokens: usize, obs: &dyn Observer) {
    let now = Instant::now();
    let (live, dead): (Vec<Job>, Vec<Job>) = batch.into_iter().partition(|j| !is_abandoned(j, now));
    // Callers that gave up already got their timeout; computing their answer helps nobody.
    dead.iter().for_each(|_| obs.expired());
    let Some(first) = live.first() else { return };
    let kind = if matches!(first.work, Work::Analyze { .. }) { "analyze" } else { "embed" };
    let max_queue_wait =
        live.iter().map(|j| now.saturating_duration_since(j.enqueued)).max().unwrap_or_default();
    let jobs = live.len();
    let started = Instant::now();
    let items = if kind == "analyze" {
        serve_analyze(analyzer, live, obs)
    } else {
        serve_embed(analyzer, live, batch_tokens)
    };
    obs.batch(&BatchStats { kind, jobs, items, tokens, model_time: started.elapsed(), max_queue_wait });
}

fn serve_analyze(analyzer: &Analyzer, jobs: Vec<Job>, obs: &dyn Observer) -> usize {
    let mut replies = Vec::with_capacity(jobs.len());
    let mut all: Vec<(Option<String>, String)> = Vec::new();
    for job in jobs {
        if let Work::Analyze { items, reply } = job.work {
            replies.push((items.len(), reply));
            all.extend(items);
        }
    }
    let refs: Vec<(Option<String>, &str)> = all.iter().map(|(id, t)| (id.clone(), t.as_str())).collect();
    // A panic inside the model must cost only this batch, never the worker (and so the service).
    let results = std::panic::catch_unwind(AssertUnwindSafe(|| analyzer.analyze_batch(&refs)))
        .unwrap_or_else(|_| {
            tracing::error!("analysis panicked; the batch is answered with an internal error");
            refs.iter().map(|_| Err(Error::Internal("analysis failed unexpectedly".into()))).collect()
        });
    let n = results.len();
    let mut results = results.into_iter();
    for (count, reply) in replies {
        let mine: Vec<Result<Analysis>> = results.by_ref().take(count).collect();
        for a in mine.iter().flatten() {
            obs.label(&a.root_cause.label);
        }
        // The caller may have timed out meanwhile; nothing to do about a closed channel.
        let _ = reply.send(mine);
    }
    n
}

fn serve_embed(analyzer: &Analyzer, jobs: Vec<Job>, batch_tokens: usize) -> usize {
    let mut replies = Vec::with_capacity(jobs.len());
    let mut all: Vec<String> = Vec::new();
    for job in jobs {
        if let Work::Embed { texts, reply } = job.work {
            replies.push((texts.len(), reply));
            all.extend(texts);
        }
    }
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let result =
        std::panic::catch_unwind(AssertUnwindSafe(|| analyzer.embedder().embed(&refs, batch_tokens)))
            .unwrap_or_else(|_| Err(Error::Internal("embedding failed unexpectedly".into())));
    match result {
        Ok(vectors) => {
            let mut vectors = vectors.into_iter();
            for (count, reply) in replies {
                let _ = reply.send(Ok(vectors.by_ref().take(count).collect()));
            }
        }
        Err(e) => {
            for (_, reply) in replies {
                let _ = reply.send(Err(replicate(&e)));
            }
        }
    }
    refs.len()
}

/// A copy of an error for each caller that shares a failed batch (`Error` is not `Clone`: it wraps
/// I/O and tensor errors). Caller faults keep their kind; anything else becomes `Internal`.
fn replicate(e: &Error) -> Error {
    match e {
        Error::InvalidInput(m) => Error::InvalidInput(m.clone()),
        Error::TooLarge(m) => Error::TooLarge(m.clone()),
        Error::EmptyText => Error::EmptyText,
        other => Error::Internal(other.to_string()),
    }
}
