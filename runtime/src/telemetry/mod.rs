//! Distributed tracing to Zipkin: setup, exporter, propagation, HTTP layers, log correlation.
//!
//! What Spring Sleuth and Zipkin give a Spring service, for Rust services: one trace id kept
//! across services, a new span per hop, exported to Zipkin, and `[service,traceId,spanId]` on
//! every log line. Spans are `tracing` spans bridged to OpenTelemetry by `tracing-opentelemetry`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = fusebox_runtime::telemetry::init("user-service")?;
//! // … serve requests; spans go to Zipkin in batches …
//! telemetry.shutdown().await?; // or just drop it: flushes, bounded in time
//! # Ok(()) }
//! ```
//!
//! # What `init` installs
//! * a global `tracing` subscriber: `Registry` + `EnvFilter` from `RUST_LOG` (default `info`) +
//!   a fmt layer with the Sleuth prefix ([`log::SleuthFormat`]) + the OpenTelemetry layer;
//! * on the OpenTelemetry layer, a per-layer filter so that exporter internals (`hyper`, `h2`,
//!   `reqwest`, `tonic`, `opentelemetry*`) and fusebox's own diagnostics never become spans,
//!   and `tracing-opentelemetry`'s noise off (no `code.*`, `thread.*`, `busy_ns`/`idle_ns`,
//!   `target` tags);
//! * the global text-map propagator ([`propagation`]): extract W3C + B3 single + B3 multi,
//!   inject W3C + B3 multi;
//! * an exporter behind the SDK's batch processor (its own thread): fusebox's Zipkin v2 JSON
//!   exporter ([`zipkin`]) by default, or a JSON file ([`file`](mod@file)), OTLP (feature `otlp`), or none.
//!
//! # Configuration
//! [`builder`] sets everything in code; the environment is read as described in [`config`].
//! Precedence: a builder call wins over the environment, which wins over the default, except
//! the service name: the name given to [`init`] / [`builder`] is the *default*, and
//! `OTEL_SERVICE_NAME` overrides it (the OpenTelemetry convention: deployment beats code). Use
//! [`TelemetryBuilder::env_lookup`] to read settings from elsewhere than the process
//! environment. Bad values are a [`TelemetryError`] at setup that names the variable and value.
//!
//! # The exporter never hurts the caller
//! Finishing a span is an atomic add plus a `try_send` to the batch thread. With Zipkin down,
//! slow or answering errors, calls run as before; a full queue (`OTEL_BSP_MAX_QUEUE_SIZE`,
//! default 2048) drops spans. Exported, failed and dropped spans are counted
//! ([`export_stats`], [`Telemetry::counters`]) and reported by a warning at most every 30 s
//! (target `fusebox_telemetry_internal`, never turned into a span). Each export request is
//! bounded by `OTEL_EXPORTER_ZIPKIN_TIMEOUT`; shutdown is bounded by
//! [`TelemetryBuilder::shutdown_timeout`] (default 5 s) and cuts off a request to a hung
//! collector.
//!
//! # Fields mapped to Zipkin
//! Beyond `tracing-opentelemetry`'s own special fields (`otel.name`, `otel.kind`,
//! `otel.status_code`, `otel.status_description`), the Zipkin mapping understands:
//! * `peer.service` → `remoteEndpoint.serviceName` (draws the dependency link);
//! * `error` (any value but `false`) → the `error` tag (red in Zipkin);
//! * `circuit_breaker.name`, `circuit_breaker.state`, `circuit_breaker.outcome` → tags; an
//!   outcome of `failure`, `not_permitted` or `timeout` also sets the `error` tag (to
//!   `circuit_breaker.outcome=<outcome>` unless the status or an exception gave a message).
//!   The `fallback` child span is exported like any span;
//! * `exception` events (from `#[instrument(err)]`-style error events) → annotations and,
//!   without a status message, the `error` tag.

use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchConfig, BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

#[cfg(feature = "reqwest")]
pub mod client;
pub mod config;
mod error;
pub mod file;
pub mod log;
pub mod propagation;
mod sampler;
pub mod server;
mod stats;
mod transport;
pub mod zipkin;

pub use config::{BatchSettings, Endpoint, EnvSettings, ExporterKind, PropagatorKind, SamplerKind};
pub use error::TelemetryError;
pub use propagation::{FuseboxPropagator, Propagation};
pub use stats::{ExportCounters, ExportStats, export_stats};

use stats::{BoundedProcessor, CountingExporter};
use transport::AbortHandle;

/// Target of fusebox's own diagnostics (export warnings, malformed headers). Excluded from the
/// OpenTelemetry layer so that reporting export trouble never produces more spans.
pub const INTERNAL_TARGET: &str = "fusebox_telemetry_internal";

/// Name of the instrumentation scope (`otel.scope.name` in Zipkin).
pub const SCOPE_NAME: &str = "fusebox";

/// Default bound of [`TelemetryGuard`]'s shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets up tracing for `service_name` from the environment and installs it globally.
///
/// `service_name` is the default; `OTEL_SERVICE_NAME` overrides it. Keep the guard alive for the
/// life of the program; dropping it flushes and shuts the pipeline down.
pub fn init(service_name: &str) -> Result<TelemetryGuard, TelemetryError> {
    builder(service_name).install()
}

/// A [`TelemetryBuilder`] for `service_name` (a default that `OTEL_SERVICE_NAME` overrides).
pub fn builder(service_name: impl Into<String>) -> TelemetryBuilder {
    TelemetryBuilder::new(service_name.into())
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Configures a telemetry pipeline; see the [module docs](self) for precedence.
pub struct TelemetryBuilder {
    service_name: String,
    lookup: Lookup,
    endpoint: Option<String>,
    export_timeout: Option<Duration>,
    sampler: Option<SamplerKind>,
    propagation: Option<Propagation>,
    exporter: Option<ExporterKind>,
    batch: BatchSettings,
    shutdown_timeout: Duration,
    log_filter: Option<String>,
    resource_attributes: Vec<KeyValue>,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("service_name", &self.service_name)
            .field("endpoint", &self.endpoint)
            .field("export_timeout", &self.export_timeout)
            .field("sampler", &self.sampler)
            .field("propagation", &self.propagation)
            .field("exporter", &self.exporter)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    fn new(service_name: String) -> Self {
        Self {
            service_name,
            lookup: Box::new(|name| std::env::var(name).ok()),
            endpoint: None,
            export_timeout: None,
            sampler: None,
            propagation: None,
            exporter: None,
            batch: BatchSettings::default(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            log_filter: None,
            resource_attributes: Vec::new(),
        }
    }

    /// Reads `OTEL_*` and `RUST_LOG` through `lookup` instead of the process environment.
    pub fn env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Box::new(lookup);
        self
    }

    /// Ignores the environment entirely (tests).
    pub fn ignore_env(self) -> Self {
        self.env_lookup(|_| None)
    }

    /// The Zipkin collector URL (`OTEL_EXPORTER_ZIPKIN_ENDPOINT`), validated at build.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Bound of one export request (`OTEL_EXPORTER_ZIPKIN_TIMEOUT`).
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = Some(timeout);
        self
    }

    /// The sampler (`OTEL_TRACES_SAMPLER`).
    pub fn sampler(mut self, sampler: SamplerKind) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// The propagation formats (`OTEL_PROPAGATORS`).
    pub fn propagation(mut self, propagation: Propagation) -> Self {
        self.propagation = Some(propagation);
        self
    }

    /// Where spans go (`OTEL_TRACES_EXPORTER`).
    pub fn exporter(mut self, exporter: ExporterKind) -> Self {
        self.exporter = Some(exporter);
        self
    }

    /// Shortcut for the JSON file exporter.
    pub fn file(self, path: impl Into<PathBuf>) -> Self {
        self.exporter(ExporterKind::File(path.into()))
    }

    /// Batch processor settings; what they leave unset comes from `OTEL_BSP_*`, then from the
    /// defaults.
    pub fn batch_config(mut self, batch: BatchSettings) -> Self {
        self.batch = batch;
        self
    }

    /// Bound of the shutdown done by [`TelemetryGuard`] (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Log filter directives for [`install`](Self::install), instead of `RUST_LOG`.
    pub fn log_filter(mut self, directives: impl Into<String>) -> Self {
        self.log_filter = Some(directives.into());
        self
    }

    /// An extra resource attribute (e.g. `deployment.environment.name`).
    pub fn resource_attribute(mut self, kv: KeyValue) -> Self {
        self.resource_attributes.push(kv);
        self
    }

    /// Builds the pipeline without installing anything globally.
    pub fn build(self) -> Result<Telemetry, TelemetryError> {
        let env = config::from_lookup(&self.lookup)?;
        let service_name = env
            .service_name
            .clone()
            .unwrap_or_else(|| self.service_name.clone());
        if service_name.trim().is_empty() {
            return Err(TelemetryError::invalid(
                "OTEL_SERVICE_NAME",
                service_name,
                "the service name must not be empty",
            ));
        }
        let log_filter = match self.log_filter.clone() {
            Some(f) => f,
            None => (self.lookup)("RUST_LOG")
                .filter(|v| !v.trim().is_empty())
                // `otel::tracing` is where axum-tracing-opentelemetry and its siblings open
                // their spans, at TRACE level: admit them, as init-tracing-opentelemetry does.
                .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned()),
        };
        // Validate now, so a bad RUST_LOG is a setup error like every other setting.
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| TelemetryError::invalid("RUST_LOG", &log_filter, e.to_string()))?;

        let propagation = self.propagation.clone().unwrap_or_else(|| {
            env.propagators
                .clone()
                .map(Propagation::symmetric)
                .unwrap_or_default()
        });
        let propagator = FuseboxPropagator::new(propagation);

        let sampler = if env.sdk_disabled {
            SamplerKind::AlwaysOff
        } else {
            self.sampler.or(env.sampler).unwrap_or_default()
        };
        let exporter = if env.sdk_disabled {
            ExporterKind::None
        } else {
            self.exporter
                .clone()
                .or(env.exporter.clone())
                .unwrap_or(ExporterKind::Zipkin)
        };
        let (batch, max_queue) = self.batch.or(env.batch).to_sdk()?;
        let counters = ExportCounters::new(&service_name, max_queue);

        let mut resource = Resource::builder_empty()
            .with_service_name(service_name.clone())
            .with_attributes([
                KeyValue::new("telemetry.sdk.language", "rust"),
                KeyValue::new("telemetry.sdk.name", "opentelemetry"),
                KeyValue::new("telemetry.distro.name", "fusebox"),
                KeyValue::new("telemetry.distro.version", env!("CARGO_PKG_VERSION")),
            ]);
        for (k, v) in &env.resource_attributes {
            if k != "service.name" {
                resource = resource.with_attribute(KeyValue::new(k.clone(), v.clone()));
            }
        }
        resource = resource.with_attributes(self.resource_attributes.clone());

        let mut provider = SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_sampler(sampler::FuseboxSampler::new(sampler));

        let describe;
        match exporter {
            ExporterKind::Zipkin => {
                let endpoint = match &self.endpoint {
                    Some(url) => Endpoint::parse("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url)?,
                    None => match env.zipkin_endpoint.clone() {
                        Some(e) => e,
                        None => Endpoint::parse(
                            "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                            config::DEFAULT_ZIPKIN_ENDPOINT,
                        )?,
                    },
                };
                let timeout = self
                    .export_timeout
                    .or(env.export_timeout)
                    .unwrap_or(config::DEFAULT_EXPORT_TIMEOUT);
                describe = format!("zipkin {}", endpoint.url());
                let exporter = zipkin::ZipkinExporter::new(endpoint, timeout);
                let abort = exporter.abort_handle();
                provider = provider.with_span_processor(batched(
                    exporter,
                    batch,
                    counters.clone(),
                    Some(abort),
                ));
            }
            ExporterKind::File(path) => {
                let exporter = file::FileExporter::create(&path)?;
                describe = format!("file {}", path.display());
                provider =
                    provider.with_span_processor(batched(exporter, batch, counters.clone(), None));
            }
            ExporterKind::Otlp => {
                #[cfg(feature = "otlp")]
                {
                    let exporter = opentelemetry_otlp::SpanExporter::builder()
                        .with_http()
                        .build()
                        .map_err(|e| TelemetryError::Exporter {
                            exporter: "otlp",
                            reason: e.to_string(),
                        })?;
                    describe = "otlp".to_owned();
                    provider = provider.with_span_processor(batched(
                        exporter,
                        batch,
                        counters.clone(),
                        None,
                    ));
                }
                #[cfg(not(feature = "otlp"))]
                {
                    return Err(TelemetryError::FeatureDisabled {
                        exporter: "otlp",
                        feature: "otlp",
                    });
                }
            }
            #[cfg(feature = "testing")]
            ExporterKind::InMemory(memory) => {
                // Synchronous, so a test sees a span as soon as it ends.
                describe = "in-memory".to_owned();
                provider = provider.with_span_processor(BoundedProcessor::new(
                    opentelemetry_sdk::trace::SimpleSpanProcessor::new(CountingExporter::new(
                        memory,
                        counters.clone(),
                    )),
                    counters.clone(),
                    None,
                ));
            }
            ExporterKind::None => {
                describe = "none".to_owned();
            }
        }

        let provider = provider.build();
        let scope = opentelemetry::InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope);
        Ok(Telemetry {
            service_name,
            provider,
            tracer,
            propagator,
            counters,
            shutdown_timeout: self.shutdown_timeout,
            log_filter,
            describe,
        })
    }

    /// Builds the pipeline and installs it globally (see [`Telemetry::install`]).
    pub fn install(self) -> Result<TelemetryGuard, TelemetryError> {
        self.build()?.install()
    }
}

fn batched<E>(
    exporter: E,
    batch: BatchConfig,
    counters: ExportCounters,
    abort: Option<AbortHandle>,
) -> BoundedProcessor<BatchSpanProcessor>
where
    E: opentelemetry_sdk::trace::SpanExporter + 'static,
{
    let processor = BatchSpanProcessor::builder(CountingExporter::new(exporter, counters.clone()))
        .with_batch_config(batch)
        .build();
    BoundedProcessor::new(processor, counters, abort)
}

/// A built pipeline, not (yet) installed globally.
///
/// Install it with [`install`](Self::install), or use its layers with your own subscriber
/// (e.g. `tracing::subscriber::set_default(telemetry.subscriber())` to run two services in one
/// process, each on its own threads).
#[derive(Debug)]
pub struct Telemetry {
    service_name: String,
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    propagator: FuseboxPropagator,
    counters: ExportCounters,
    shutdown_timeout: Duration,
    log_filter: String,
    describe: String,
}

/// The log filter when neither `RUST_LOG` nor [`TelemetryBuilder::log_filter`] says otherwise.
pub const DEFAULT_LOG_FILTER: &str = "info,otel::tracing=trace";

/// Targets that never become spans: exporter and HTTP-client internals, and fusebox's own
/// diagnostics.
fn otel_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("h2", LevelFilter::OFF)
        .with_target("reqwest", LevelFilter::OFF)
        .with_target("tonic", LevelFilter::OFF)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target(INTERNAL_TARGET, LevelFilter::OFF)
}

impl Telemetry {
    /// The effective service name.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// The SDK tracer provider.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The tracer (scope `fusebox`).
    pub fn tracer(&self) -> &SdkTracer {
        &self.tracer
    }

    /// The propagator of this pipeline.
    pub fn propagator(&self) -> &FuseboxPropagator {
        &self.propagator
    }

    /// The export counters of this pipeline.
    pub fn counters(&self) -> &ExportCounters {
        &self.counters
    }

    /// The OpenTelemetry layer, with noise knobs off and the per-layer filter on.
    pub fn otel_layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer.clone())
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_target(false)
            .with_filter(otel_filter())
    }

    /// A subscriber with only the OpenTelemetry layer (no logging): for
    /// `tracing::subscriber::set_default` in tests and multi-service processes.
    pub fn subscriber(&self) -> impl Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static {
        tracing_subscriber::registry().with(self.otel_layer())
    }

    /// A full dispatcher (log filter, Sleuth-style fmt layer to stderr, OpenTelemetry layer)
    /// without installing it globally.
    pub fn dispatch(&self) -> tracing::Dispatch {
        let format = log::SleuthFormat::new(
            &self.service_name,
            tracing_subscriber::fmt::format::Format::default(),
        );
        let attachment = format.attachment();
        // Validated in `build`; an unparsable filter cannot reach here.
        let filter = tracing_subscriber::EnvFilter::try_new(&self.log_filter)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .event_format(format),
            )
            .with(self.otel_layer());
        let dispatch = tracing::Dispatch::new(subscriber);
        let _ = attachment.set(dispatch.downgrade());
        dispatch
    }

    /// Installs the global `tracing` subscriber ([`dispatch`](Self::dispatch)), the global
    /// propagator and the global tracer provider.
    pub fn install(self) -> Result<TelemetryGuard, TelemetryError> {
        let dispatch = self.dispatch();
        tracing::dispatcher::set_global_default(dispatch)
            .map_err(|e| TelemetryError::SubscriberAlreadySet(e.to_string()))?;
        opentelemetry::global::set_text_map_propagator(self.propagator.clone());
        propagation::set_installed(self.propagator.clone());
        opentelemetry::global::set_tracer_provider(self.provider.clone());
        tracing::info!(
            target: INTERNAL_TARGET,
            service = %self.service_name,
            exporter = %self.describe,
            "fusebox telemetry installed"
        );
        Ok(self.into_guard())
    }

    /// A guard that shuts this pipeline down on drop, without installing anything.
    pub fn into_guard(self) -> TelemetryGuard {
        TelemetryGuard {
            provider: Some(self.provider),
            counters: self.counters,
            timeout: self.shutdown_timeout,
        }
    }
}

/// Keeps the pipeline running; flushes and shuts it down when dropped (bounded in time).
#[derive(Debug)]
#[must_use = "dropping the guard shuts tracing down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    counters: ExportCounters,
    timeout: Duration,
}

impl TelemetryGuard {
    /// The export counters of this pipeline.
    pub fn counters(&self) -> &ExportCounters {
        &self.counters
    }

    /// The tracer provider (e.g. to create raw OpenTelemetry spans).
    pub fn provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// Exports what is queued now (blocking; bounded by the SDK's 5 s flush timeout).
    pub fn force_flush(&self) -> OTelSdkResult {
        match &self.provider {
            Some(p) => p.force_flush(),
            None => Ok(()),
        }
    }

    /// Flushes and shuts down, blocking for at most the shutdown timeout.
    pub fn shutdown_blocking(mut self) -> OTelSdkResult {
        match self.provider.take() {
            Some(p) => p.shutdown_with_timeout(self.timeout),
            None => Ok(()),
        }
    }

    /// Flushes and shuts down; in a tokio runtime the blocking part runs on
    /// `spawn_blocking`, so no worker thread is held.
    pub async fn shutdown(mut self) -> OTelSdkResult {
        let Some(provider) = self.provider.take() else {
            return Ok(());
        };
        let timeout = self.timeout;
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || provider.shutdown_with_timeout(timeout))
                .await
                .unwrap_or_else(|e| {
                    Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                        e.to_string(),
                    ))
                }),
            Err(_) => provider.shutdown_with_timeout(timeout),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown_with_timeout(self.timeout)
        {
            tracing::warn!(target: INTERNAL_TARGET, error = %e, "fusebox telemetry shutdown");
        }
    }
}

/// The trace and span ids of the current `tracing` span's OpenTelemetry context, as lowercase
/// hex (32 and 16 digits), or `None` outside a sampled trace. Handy for a `traceresponse` header
/// or an error page that quotes the trace id.
///
/// ```
/// assert_eq!(fusebox_runtime::telemetry::current_trace_ids(), None);
/// ```
pub fn current_trace_ids() -> Option<(String, String)> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}
