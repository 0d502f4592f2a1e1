//! Reading the standard `OTEL_*` environment variables.
//!
//! Parsing goes through [`from_lookup`], which takes a lookup closure instead of reading the
//! process environment directly, so tests (and programs that keep their settings elsewhere) can
//! feed any map. [`from_env`] is `from_lookup` over [`std::env::var`]. As the OpenTelemetry
//! specification asks, a variable set to the empty string counts as unset.
//!
//! | variable | values | default |
//! |---|---|---|
//! | `OTEL_SERVICE_NAME` | any non-empty name | the name given to [`init`](super::init) / [`builder`](super::builder) |
//! | `OTEL_RESOURCE_ATTRIBUTES` | `key=value,key=value` | none |
//! | `OTEL_EXPORTER_ZIPKIN_ENDPOINT` | `http://host:port/path` | `http://localhost:9411/api/v2/spans` |
//! | `OTEL_EXPORTER_ZIPKIN_TIMEOUT` | milliseconds | `10000` |
//! | `OTEL_TRACES_SAMPLER` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` | `parentbased_always_on` |
//! | `OTEL_TRACES_SAMPLER_ARG` | ratio in `0..=1` (for the ratio samplers) | `1.0` |
//! | `OTEL_PROPAGATORS` | comma list of `tracecontext`, `b3`, `b3multi`, `baggage`, or `none` | extract W3C + B3 single + B3 multi, inject W3C + B3 multi |
//! | `OTEL_TRACES_EXPORTER` | `zipkin`, `otlp` (feature `otlp`), `file`, `none` | `zipkin` |
//! | `FUSEBOX_TRACES_FILE` | path of the JSON file written by the `file` exporter | `fusebox-traces.json` |
//! | `OTEL_SDK_DISABLED` | `true` / `false` | `false` |
//! | `OTEL_BSP_MAX_QUEUE_SIZE` | finished spans waiting for export, at least 1 | `2048` |
//! | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | spans in one export request, at least 1 (at most the queue size) | `512` |
//! | `OTEL_BSP_SCHEDULE_DELAY` | milliseconds between two exports | `5000` |
//!
//! fusebox reads the `OTEL_BSP_*` variables itself and configures the SDK's batch processor
//! with them explicitly ([`BatchSettings`]), so that its own queue accounting uses the same
//! bound as the processor. `OTEL_BSP_EXPORT_TIMEOUT` and `OTEL_BSP_MAX_CONCURRENT_EXPORTS` do
//! not apply: the batch thread exports one request at a time, bounded by
//! `OTEL_EXPORTER_ZIPKIN_TIMEOUT`.

use std::path::PathBuf;
use std::time::Duration;

use opentelemetry_sdk::trace::{BatchConfig, BatchConfigBuilder};

use super::error::TelemetryError;

/// Default Zipkin collector endpoint, as in the OpenTelemetry specification.
pub const DEFAULT_ZIPKIN_ENDPOINT: &str = "http://localhost:9411/api/v2/spans";
/// Default timeout of one export request (`OTEL_EXPORTER_ZIPKIN_TIMEOUT`).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_millis(10_000);
/// Default path of the `file` exporter.
pub const DEFAULT_TRACES_FILE: &str = "fusebox-traces.json";

/// Default bound of the span queue (`OTEL_BSP_MAX_QUEUE_SIZE`), as in the OpenTelemetry
/// specification.
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 2048;
/// Default number of spans in one export request (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
/// Default delay between two exports (`OTEL_BSP_SCHEDULE_DELAY`).
pub const DEFAULT_SCHEDULE_DELAY: Duration = Duration::from_millis(5000);

/// Settings of the batch span processor. A value left unset comes from the `OTEL_BSP_*`
/// variable, then from its default.
///
/// ```
/// use fusebox_runtime::telemetry::BatchSettings;
/// use std::time::Duration;
///
/// let batch = BatchSettings::default()
///     .with_max_queue_size(256)
///     .with_scheduled_delay(Duration::from_millis(100));
/// assert_eq!(batch.max_queue_size(), Some(256));
/// assert_eq!(batch.max_export_batch_size(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchSettings {
    max_queue_size: Option<usize>,
    max_export_batch_size: Option<usize>,
    scheduled_delay: Option<Duration>,
}

impl BatchSettings {
    /// How many finished spans may wait for export (`OTEL_BSP_MAX_QUEUE_SIZE`); a span that
    /// finds the queue full is dropped and counted in [`ExportStats::dropped`](super::ExportStats).
    pub fn with_max_queue_size(mut self, spans: usize) -> Self {
        self.max_queue_size = Some(spans);
        self
    }

    /// How many spans go in one export request (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`); capped at
    /// the queue size.
    pub fn with_max_export_batch_size(mut self, spans: usize) -> Self {
        self.max_export_batch_size = Some(spans);
        self
    }

    /// How long the batch thread waits between two exports (`OTEL_BSP_SCHEDULE_DELAY`).
    pub fn with_scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = Some(delay);
        self
    }

    /// The queue bound, if set.
    pub fn max_queue_size(&self) -> Option<usize> {
        self.max_queue_size
    }

    /// The batch size, if set.
    pub fn max_export_batch_size(&self) -> Option<usize> {
        self.max_export_batch_size
    }

    /// The delay between exports, if set.
    pub fn scheduled_delay(&self) -> Option<Duration> {
        self.scheduled_delay
    }

    /// These settings, with what they leave unset taken from `fallback`.
    pub(crate) fn or(self, fallback: BatchSettings) -> BatchSettings {
        BatchSettings {
            max_queue_size: self.max_queue_size.or(fallback.max_queue_size),
            max_export_batch_size: self
                .max_export_batch_size
                .or(fallback.max_export_batch_size),
            scheduled_delay: self.scheduled_delay.or(fallback.scheduled_delay),
        }
    }

    /// The SDK's config for these settings (defaults for what is unset), and the queue bound it
    /// holds. A size of 0 is an error: a queue of 0 spans drops every span, a batch of 0 spans
    /// exports none.
    pub(crate) fn to_sdk(self) -> Result<(BatchConfig, usize), TelemetryError> {
        let queue = self.max_queue_size.unwrap_or(DEFAULT_MAX_QUEUE_SIZE);
        if queue == 0 {
            return Err(TelemetryError::invalid(
                "OTEL_BSP_MAX_QUEUE_SIZE",
                "0",
                "the queue must hold at least 1 span",
            ));
        }
        let batch = self
            .max_export_batch_size
            .unwrap_or(DEFAULT_MAX_EXPORT_BATCH_SIZE);
        if batch == 0 {
            return Err(TelemetryError::invalid(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                "0",
                "a batch must hold at least 1 span",
            ));
        }
        // Every value is set here, so nothing the SDK's builder read from the process
        // environment remains in the result (but the two settings that do not apply, see the
        // module docs).
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(queue)
            .with_max_export_batch_size(batch)
            .with_scheduled_delay(self.scheduled_delay.unwrap_or(DEFAULT_SCHEDULE_DELAY))
            .build();
        Ok((config, queue))
    }
}

/// A validated `http://` collector endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    url: String,
    host: String,
    port: u16,
    path: String,
}

impl Endpoint {
    /// Parses and validates an endpoint URL; `setting` names the variable in the error.
    ///
    /// Only plain `http` is accepted: the built-in exporter has no TLS (Zipkin collectors are
    /// normally reached on a private network; use `OTEL_TRACES_EXPORTER=otlp` or a local
    /// collector for TLS).
    pub fn parse(setting: &'static str, url: &str) -> Result<Self, TelemetryError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| TelemetryError::invalid(setting, url, format!("not a URL: {e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(TelemetryError::invalid(
                    setting,
                    url,
                    "https is not supported by the built-in Zipkin exporter (no TLS); \
                     use http:// or OTEL_TRACES_EXPORTER=otlp",
                ));
            }
            _ => {
                return Err(TelemetryError::invalid(
                    setting,
                    url,
                    "expected an absolute http:// URL, e.g. http://localhost:9411/api/v2/spans",
                ));
            }
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| TelemetryError::invalid(setting, url, "the URL has no host"))?;
        // `http::Uri` keeps the brackets of IPv6 literals; the socket resolver wants them off.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(80);
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".to_owned());
        Ok(Self {
            url: url.to_owned(),
            host,
            port,
            path,
        })
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The host name or address (without IPv6 brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port (80 when the URL has none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Path and query, at least `/`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Which sampler decides whether a new trace is recorded (`OTEL_TRACES_SAMPLER`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum SamplerKind {
    /// `always_on`: every span, ignoring the parent's decision.
    AlwaysOn,
    /// `always_off`: nothing.
    AlwaysOff,
    /// `traceidratio`: this fraction of traces, ignoring the parent's decision.
    TraceIdRatio(f64),
    /// `parentbased_always_on` (default): follow the caller; sample every new root.
    #[default]
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`: follow the caller; never sample new roots.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`: follow the caller; sample this fraction of new roots
    /// (Spring's `management.tracing.sampling.probability`).
    ParentBasedTraceIdRatio(f64),
}

/// One propagation format (`OTEL_PROPAGATORS` entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropagatorKind {
    /// `tracecontext`: W3C `traceparent` / `tracestate`.
    TraceContext,
    /// `b3`: the single `b3` header (extraction also accepts the multi-header form).
    B3Single,
    /// `b3multi`: the `X-B3-*` headers.
    B3Multi,
    /// `baggage`: W3C `baggage`.
    Baggage,
}

/// Where finished spans go (`OTEL_TRACES_EXPORTER`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ExporterKind {
    /// `zipkin` (default): Zipkin v2 JSON over HTTP with fusebox's own exporter.
    Zipkin,
    /// `otlp`: OTLP over HTTP/protobuf through `opentelemetry-otlp` (feature `otlp`); configured by
    /// the `OTEL_EXPORTER_OTLP_*` variables.
    Otlp,
    /// `file`: a JSON array of Zipkin v2 spans, loadable in Zipkin UI's trace viewer.
    File(PathBuf),
    /// `none`: spans and ids are created (log correlation and propagation work) but not exported.
    None,
    /// An in-memory exporter for tests (not selectable by environment; feature `testing`).
    #[cfg(feature = "testing")]
    InMemory(opentelemetry_sdk::trace::InMemorySpanExporter),
}

/// The telemetry settings found in the environment. `None` means "not set".
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct EnvSettings {
    /// `OTEL_SERVICE_NAME`.
    pub service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, in order.
    pub resource_attributes: Vec<(String, String)>,
    /// `OTEL_EXPORTER_ZIPKIN_ENDPOINT`.
    pub zipkin_endpoint: Option<Endpoint>,
    /// `OTEL_EXPORTER_ZIPKIN_TIMEOUT`.
    pub export_timeout: Option<Duration>,
    /// `OTEL_TRACES_SAMPLER` with `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler: Option<SamplerKind>,
    /// `OTEL_PROPAGATORS` (`Some(vec![])` for `none`).
    pub propagators: Option<Vec<PropagatorKind>>,
    /// `OTEL_TRACES_EXPORTER` (and `FUSEBOX_TRACES_FILE` for `file`).
    pub exporter: Option<ExporterKind>,
    /// `OTEL_SDK_DISABLED=true`.
    pub sdk_disabled: bool,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`.
    pub batch: BatchSettings,
}

/// Reads the settings from the process environment.
pub fn from_env() -> Result<EnvSettings, TelemetryError> {
    from_lookup(|name| std::env::var(name).ok())
}

/// Reads the settings through `lookup` (variable name → value).
///
/// Every bad value is an error naming the variable and the value.
pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<EnvSettings, TelemetryError> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut settings = EnvSettings {
        service_name: get("OTEL_SERVICE_NAME"),
        ..EnvSettings::default()
    };
    if let Some(raw) = get("OTEL_RESOURCE_ATTRIBUTES") {
        settings.resource_attributes = parse_resource_attributes(&raw)?;
    }
    if let Some(raw) = get("OTEL_EXPORTER_ZIPKIN_ENDPOINT") {
        settings.zipkin_endpoint = Some(Endpoint::parse("OTEL_EXPORTER_ZIPKIN_ENDPOINT", &raw)?);
    }
    if let Some(raw) = get("OTEL_EXPORTER_ZIPKIN_TIMEOUT") {
        let ms: u64 = raw.parse().map_err(|_| {
            TelemetryError::invalid(
                "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
                &raw,
                "expected a whole number of milliseconds",
            )
        })?;
        if ms == 0 {
            return Err(TelemetryError::invalid(
                "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
                &raw,
                "the timeout must be at least 1 ms",
            ));
        }
        settings.export_timeout = Some(Duration::from_millis(ms));
    }
    let sampler_arg = get("OTEL_TRACES_SAMPLER_ARG");
    if let Some(raw) = get("OTEL_TRACES_SAMPLER") {
        settings.sampler = Some(parse_sampler(&raw, sampler_arg.as_deref())?);
    }
    if let Some(raw) = get("OTEL_PROPAGATORS") {
        settings.propagators = Some(parse_propagators(&raw)?);
    }
    if let Some(raw) = get("OTEL_TRACES_EXPORTER") {
        let file = get("FUSEBOX_TRACES_FILE").unwrap_or_else(|| DEFAULT_TRACES_FILE.to_owned());
        settings.exporter = Some(parse_exporter(&raw, PathBuf::from(file))?);
    }
    if let Some(raw) = get("OTEL_SDK_DISABLED") {
        settings.sdk_disabled = match raw.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(TelemetryError::invalid(
                    "OTEL_SDK_DISABLED",
                    raw,
                    "expected true or false",
                ));
            }
        };
    }
    settings.batch = parse_batch(&get)?;
    Ok(settings)
}

fn parse_batch(get: &dyn Fn(&str) -> Option<String>) -> Result<BatchSettings, TelemetryError> {
    let number = |name: &'static str, what: &str| -> Result<Option<u64>, TelemetryError> {
        let Some(raw) = get(name) else {
            return Ok(None);
        };
        let n: u64 = raw
            .parse()
            .map_err(|_| TelemetryError::invalid(name, &raw, format!("expected {what}")))?;
        Ok(Some(n))
    };
    let size = |name: &'static str| -> Result<Option<usize>, TelemetryError> {
        match number(name, "a whole number of spans")? {
            None => Ok(None),
            Some(0) => Err(TelemetryError::invalid(
                name,
                "0",
                "expected at least 1 span",
            )),
            Some(n) => usize::try_from(n)
                .map(Some)
                .map_err(|_| TelemetryError::invalid(name, n.to_string(), "too large")),
        }
    };
    Ok(BatchSettings {
        max_queue_size: size("OTEL_BSP_MAX_QUEUE_SIZE")?,
        max_export_batch_size: size("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")?,
        scheduled_delay: number("OTEL_BSP_SCHEDULE_DELAY", "a whole number of milliseconds")?
            .map(Duration::from_millis),
    })
}

fn parse_resource_attributes(raw: &str) -> Result<Vec<(String, String)>, TelemetryError> {
    raw.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
            _ => Err(TelemetryError::invalid(
                "OTEL_RESOURCE_ATTRIBUTES",
                raw,
                format!("entry {pair:?} is not key=value"),
            )),
        })
        .collect()
}

/// Parses `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`.
pub fn parse_sampler(name: &str, arg: Option<&str>) -> Result<SamplerKind, TelemetryError> {
    let ratio = || -> Result<f64, TelemetryError> {
        let Some(arg) = arg else { return Ok(1.0) };
        match arg.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(TelemetryError::invalid(
                "OTEL_TRACES_SAMPLER_ARG",
                arg,
                "expected a sampling ratio between 0 and 1, e.g. 0.1",
            )),
        }
    };
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "always_on" => SamplerKind::AlwaysOn,
        "always_off" => SamplerKind::AlwaysOff,
        "traceidratio" => SamplerKind::TraceIdRatio(ratio()?),
        "parentbased_always_on" => SamplerKind::ParentBasedAlwaysOn,
        "parentbased_always_off" => SamplerKind::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => SamplerKind::ParentBasedTraceIdRatio(ratio()?),
        _ => {
            return Err(TelemetryError::invalid(
                "OTEL_TRACES_SAMPLER",
                name,
                "unknown sampler; expected one of always_on, always_off, traceidratio, \
                 parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
            ));
        }
    })
}

/// Parses `OTEL_PROPAGATORS` (`none` gives an empty list; duplicates are dropped).
pub fn parse_propagators(raw: &str) -> Result<Vec<PropagatorKind>, TelemetryError> {
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let kind = match name.to_ascii_lowercase().as_str() {
            "tracecontext" => PropagatorKind::TraceContext,
            "b3" => PropagatorKind::B3Single,
            "b3multi" => PropagatorKind::B3Multi,
            "baggage" => PropagatorKind::Baggage,
            "none" => return Ok(Vec::new()),
            "jaeger" | "xray" | "ottrace" => {
                return Err(TelemetryError::invalid(
                    "OTEL_PROPAGATORS",
                    raw,
                    format!("propagator {name:?} is not supported by fusebox"),
                ));
            }
            _ => {
                return Err(TelemetryError::invalid(
                    "OTEL_PROPAGATORS",
                    raw,
                    format!(
                        "unknown propagator {name:?}; expected tracecontext, b3, b3multi, \
                         baggage or none"
                    ),
                ));
            }
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn parse_exporter(raw: &str, file: PathBuf) -> Result<ExporterKind, TelemetryError> {
    if raw.contains(',') {
        return Err(TelemetryError::invalid(
            "OTEL_TRACES_EXPORTER",
            raw,
            "fusebox exports to one destination; pick one of zipkin, otlp, file, none",
        ));
    }
    match raw.to_ascii_lowercase().as_str() {
        "zipkin" => Ok(ExporterKind::Zipkin),
        "otlp" => Ok(ExporterKind::Otlp),
        "file" => Ok(ExporterKind::File(file)),
        "none" => Ok(ExporterKind::None),
        _ => Err(TelemetryError::invalid(
            "OTEL_TRACES_EXPORTER",
            raw,
            "unknown exporter; expected zipkin, otlp, file or none",
        )),
    }
}
