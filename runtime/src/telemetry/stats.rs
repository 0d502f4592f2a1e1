//! Export counters, the bounded queue in front of the batch processor, and the rate-limited
//! warning that reports export trouble.
//!
//! The SDK's `BatchSpanProcessor` keeps its drop count private, so fusebox puts its own
//! [`SpanProcessor`] in front of it: it counts the spans handed over and not yet taken by the
//! exporter, and drops (and counts) a span instead of enqueueing it once `max_queue_size` spans
//! wait. The caller never blocks: enqueueing is an atomic add and the SDK's `try_send`.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::INTERNAL_TARGET;
use super::transport::AbortHandle;

/// Minimum time between two export-trouble warnings of one pipeline.
const WARN_INTERVAL: Duration = Duration::from_secs(30);

/// A snapshot of export counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans the collector accepted (2xx), or written by the file / in-memory exporter.
    pub exported: u64,
    /// Spans in export requests that failed (collector down, slow, or answering an error).
    pub failed: u64,
    /// Spans dropped before export: the queue was full, or the pipeline was shut down.
    pub dropped: u64,
    /// Export requests (batches) that failed.
    pub failed_exports: u64,
}

#[derive(Debug, Default)]
struct Totals {
    exported: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    failed_exports: AtomicU64,
}

impl Totals {
    const fn new() -> Self {
        Self {
            exported: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed_exports: AtomicU64::new(0),
        }
    }

    fn snapshot(&self) -> ExportStats {
        ExportStats {
            exported: self.exported.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed_exports: self.failed_exports.load(Ordering::Relaxed),
        }
    }
}

static GLOBAL: Totals = Totals::new();

/// Export counters summed over every fusebox pipeline in this process.
pub fn export_stats() -> ExportStats {
    GLOBAL.snapshot()
}

/// The live export counters of one pipeline (cheap to clone; all clones share the counts).
#[derive(Clone, Debug)]
pub struct ExportCounters(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    totals: Totals,
    /// Spans handed to the batch processor and not yet taken by the exporter.
    pending: AtomicUsize,
    max_queue_size: usize,
    shut_down: AtomicBool,
    /// Milliseconds since [`epoch`] before which no warning is logged.
    next_warn_ms: AtomicU64,
    service: String,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl ExportCounters {
    /// The counters of a pipeline whose queue holds `max_queue_size` spans.
    pub(crate) fn new(service: &str, max_queue_size: usize) -> Self {
        assert!(
            max_queue_size > 0,
            "BatchSettings rejects a queue of 0 spans"
        );
        Self(Arc::new(Inner {
            totals: Totals::default(),
            pending: AtomicUsize::new(0),
            max_queue_size,
            shut_down: AtomicBool::new(false),
            next_warn_ms: AtomicU64::new(0),
            service: service.to_owned(),
        }))
    }

    /// The current counts of this pipeline.
    pub fn snapshot(&self) -> ExportStats {
        self.0.totals.snapshot()
    }

    /// Spans waiting for export right now.
    pub fn pending(&self) -> usize {
        self.0.pending.load(Ordering::Relaxed)
    }

    fn add(&self, pick: impl Fn(&Totals) -> &AtomicU64, n: u64) {
        pick(&self.0.totals).fetch_add(n, Ordering::Relaxed);
        pick(&GLOBAL).fetch_add(n, Ordering::Relaxed);
    }

    /// Reserves a queue slot; `false` (and a counted drop) when the queue is full.
    fn try_enqueue(&self) -> bool {
        let inner = &self.0;
        let reserved = inner
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |p| {
                (p < inner.max_queue_size).then_some(p + 1)
            })
            .is_ok();
        if !reserved {
            self.add(|t| &t.dropped, 1);
            self.warn("the span queue is full (collector slow or down?); spans are dropped");
        }
        reserved
    }

    fn taken(&self, n: usize) {
        let _ = self
            .0
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(n))
            });
    }

    fn export_ok(&self, n: usize) {
        self.add(|t| &t.exported, n as u64);
    }

    fn export_failed(&self, n: usize, error: &OTelSdkError) {
        self.add(|t| &t.failed, n as u64);
        self.add(|t| &t.failed_exports, 1);
        self.warn(&format!("span export failed: {error}"));
    }

    /// Logs at most one warning per [`WARN_INTERVAL`] per pipeline, with the running totals.
    ///
    /// The target is excluded from fusebox's OpenTelemetry layer, so this line never becomes a
    /// span event (no feedback loop through the exporter).
    fn warn(&self, what: &str) {
        let now_ms = epoch().elapsed().as_millis() as u64;
        let next = self.0.next_warn_ms.load(Ordering::Relaxed);
        if now_ms < next {
            return;
        }
        let claimed = self
            .0
            .next_warn_ms
            .compare_exchange(
                next,
                now_ms + WARN_INTERVAL.as_millis() as u64,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok();
        if claimed {
            let s = self.snapshot();
            tracing::warn!(
                target: INTERNAL_TARGET,
                service = %self.0.service,
                exported = s.exported,
                failed = s.failed,
                dropped = s.dropped,
                "fusebox telemetry: {what} (further warnings suppressed for {}s)",
                WARN_INTERVAL.as_secs()
            );
        }
    }
}

/// Wraps an exporter to keep [`ExportCounters`] (and the queue accounting) up to date.
#[derive(Debug)]
pub(crate) struct CountingExporter<E> {
    inner: E,
    counters: ExportCounters,
}

impl<E> CountingExporter<E> {
    pub(crate) fn new(inner: E, counters: ExportCounters) -> Self {
        Self { inner, counters }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        self.counters.taken(n);
        if n == 0 {
            return Ok(());
        }
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => self.counters.export_ok(n),
            Err(e) => self.counters.export_failed(n, e),
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The bounded, counting front of a span processor (normally the SDK's `BatchSpanProcessor`).
#[derive(Debug)]
pub(crate) struct BoundedProcessor<P> {
    inner: P,
    counters: ExportCounters,
    abort: Option<AbortHandle>,
}

impl<P> BoundedProcessor<P> {
    pub(crate) fn new(inner: P, counters: ExportCounters, abort: Option<AbortHandle>) -> Self {
        Self {
            inner,
            counters,
            abort,
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for BoundedProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if self.counters.0.shut_down.load(Ordering::Relaxed) {
            self.counters.add(|t| &t.dropped, 1);
            return;
        }
        if self.counters.try_enqueue() {
            self.inner.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.counters.0.shut_down.store(true, Ordering::Relaxed);
        let result = self.inner.shutdown_with_timeout(timeout);
        if result.is_err() {
            // The processor thread may still sit in a request to a hung collector: cut it off
            // so the thread ends soon and later exports fail fast instead of waiting.
            if let Some(abort) = &self.abort {
                abort.abort();
            }
            // Spans still queued are exported (and fail fast, counted as failed) when the
            // thread reaches the shutdown message.
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
