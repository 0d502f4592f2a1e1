//! fusebox's own Zipkin v2 JSON exporter.
//!
//! Why not `opentelemetry-zipkin`: the upstream crate is deprecated (open-telemetry/opentelemetry-rust
//! PR #3492, slated for removal), and its 0.33 exporter never sends `localEndpoint.serviceName`
//! (Zipkin then shows every span as `unknown` and draws no dependency graph), ignores
//! `peer.service`, drops event attributes, sends `parentId: "0000000000000000"` on roots, and
//! panics when it is built inside a tokio runtime (its eager `reqwest::blocking::Client`).
//!
//! # Mapping (OpenTelemetry → Zipkin v2, per the OpenTelemetry Zipkin exporter specification)
//!
//! | Zipkin | from |
//! |---|---|
//! | `traceId` | trace id, 32 hex chars; 16 when the upper half is zero (a 64-bit id received via B3) |
//! | `id`, `parentId` | span id; parent id, left out on roots |
//! | `kind` | `CLIENT`/`SERVER`/`PRODUCER`/`CONSUMER`; `Internal` is left out |
//! | `name` | span name (Zipkin lowercases it) |
//! | `timestamp`, `duration` | start in epoch µs; duration in µs, at least 1 |
//! | `localEndpoint.serviceName` | the resource's `service.name` (given by the SDK through `set_resource`) |
//! | `remoteEndpoint` | `serviceName` from `peer.service`; `ipv4`/`ipv6`/`port` from `server.address` (if an IP) and `server.port` |
//! | `annotations` | one per span event: the event name, followed by `: {json}` of its attributes when it has some (e.g. `exception: {"exception.message":"boom"}`) |
//! | `tags` | every attribute, stringified; `otel.scope.name` / `otel.scope.version`; `otel.status_code` = `OK` / `ERROR` |
//! | `debug` | `true` on every span of a B3 debug trace (`X-B3-Flags: 1`, `b3: …-d` or `b3: d` received), so that Zipkin keeps it past its own sampling; left out otherwise |
//! | `tags.error` | status `Error`: its description; else the `exception.message` of an `exception` event; else `circuit_breaker.outcome` when it is `failure`, `not_permitted` or `timeout`; an `error` attribute set by the application is kept |
//!
//! Export runs on the SDK batch processor's own thread and posts with a runtime-free HTTP/1.1
//! client (see the `transport` notes in the module source), so it never needs or disturbs a tokio
//! runtime.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{Map, Value as Json};

use super::config::Endpoint;
use super::propagation::is_debug;
use super::transport::{AbortHandle, HttpPost};

/// Outcomes of `circuit_breaker.outcome` that mark the span as an error in Zipkin.
const ERROR_OUTCOMES: [&str; 3] = ["failure", "not_permitted", "timeout"];

/// Maps finished spans to the Zipkin v2 JSON model. Shared by the HTTP and file exporters.
#[derive(Clone, Debug, Default)]
pub struct ZipkinMapper {
    service_name: Option<String>,
}

impl ZipkinMapper {
    /// A mapper that puts `service_name` into every `localEndpoint`.
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            service_name: Some(service_name.into()),
        }
    }

    /// Takes `service.name` from the resource (what the SDK calls `set_resource` with).
    pub fn set_resource(&mut self, resource: &Resource) {
        if let Some(name) = resource.get(&Key::from_static_str("service.name")) {
            self.service_name = Some(name.as_str().into_owned());
        }
    }

    /// The service name put into `localEndpoint.serviceName`.
    pub fn service_name(&self) -> Option<&str> {
        self.service_name.as_deref()
    }

    /// One span as a Zipkin v2 JSON object.
    pub fn span(&self, span: &SpanData) -> Json {
        let mut out = Map::new();
        let cx = &span.span_context;
        out.insert("traceId".into(), Json::String(trace_id_hex(cx.trace_id())));
        out.insert("id".into(), Json::String(cx.span_id().to_string()));
        if span.parent_span_id != SpanId::INVALID {
            out.insert(
                "parentId".into(),
                Json::String(span.parent_span_id.to_string()),
            );
        }
        if let Some(kind) = kind(&span.span_kind) {
            out.insert("kind".into(), Json::String(kind.into()));
        }
        out.insert("name".into(), Json::String(span.name.to_string()));
        let start = micros(span.start_time);
        let end = micros(span.end_time);
        out.insert("timestamp".into(), Json::from(start));
        out.insert(
            "duration".into(),
            Json::from(end.saturating_sub(start).max(1)),
        );

        let mut local = Map::new();
        if let Some(name) = &self.service_name {
            local.insert("serviceName".into(), Json::String(name.clone()));
        }
        out.insert("localEndpoint".into(), Json::Object(local));
        if let Some(remote) = remote_endpoint(span) {
            out.insert("remoteEndpoint".into(), Json::Object(remote));
        }

        if !span.events.is_empty() {
            let annotations = span
                .events
                .iter()
                .map(|event| {
                    let mut value = event.name.to_string();
                    if !event.attributes.is_empty() {
                        let attrs: Map<String, Json> = event
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.to_string(), Json::String(kv.value.to_string())))
                            .collect();
                        let _ = write!(value, ": {}", Json::Object(attrs));
                    }
                    serde_json::json!({ "timestamp": micros(event.timestamp), "value": value })
                })
                .collect();
            out.insert("annotations".into(), Json::Array(annotations));
        }

        out.insert("tags".into(), Json::Object(tags(span)));
        if is_debug(cx) {
            out.insert("debug".into(), Json::Bool(true));
        }
        Json::Object(out)
    }

    /// A batch as the JSON array `POST /api/v2/spans` takes.
    pub fn to_json_bytes(&self, batch: &[SpanData]) -> Vec<u8> {
        let spans: Vec<Json> = batch.iter().map(|s| self.span(s)).collect();
        // Serializing a `serde_json::Value` to a Vec cannot fail.
        serde_json::to_vec(&spans).unwrap_or_default()
    }
}

/// 32 lowercase hex chars, or 16 when the upper 64 bits are zero, so a trace that arrived with a
/// 64-bit B3 id joins the spans its caller (e.g. Spring Sleuth) reported.
fn trace_id_hex(id: TraceId) -> String {
    let bytes = id.to_bytes();
    if bytes[..8].iter().all(|&b| b == 0) && id != TraceId::INVALID {
        let mut low = String::with_capacity(16);
        for b in &bytes[8..] {
            let _ = write!(low, "{b:02x}");
        }
        low
    } else {
        id.to_string()
    }
}

fn kind(kind: &SpanKind) -> Option<&'static str> {
    match kind {
        SpanKind::Client => Some("CLIENT"),
        SpanKind::Server => Some("SERVER"),
        SpanKind::Producer => Some("PRODUCER"),
        SpanKind::Consumer => Some("CONSUMER"),
        SpanKind::Internal => None,
    }
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_micros()
        .try_into()
        .unwrap_or(u64::MAX)
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn remote_endpoint(span: &SpanData) -> Option<Map<String, Json>> {
    let mut remote = Map::new();
    if let Some(peer) = attr(span, "peer.service") {
        remote.insert(
            "serviceName".into(),
            Json::String(peer.as_str().into_owned()),
        );
    }
    if let Some(addr) = attr(span, "server.address").or_else(|| attr(span, "network.peer.address"))
    {
        match addr.as_str().parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                remote.insert("ipv4".into(), Json::String(ip.to_string()));
            }
            Ok(IpAddr::V6(ip)) => {
                remote.insert("ipv6".into(), Json::String(ip.to_string()));
            }
            Err(_) => {}
        }
    }
    if let Some(port) = attr(span, "server.port").or_else(|| attr(span, "network.peer.port")) {
        let port = match port {
            Value::I64(p) => u16::try_from(*p).ok(),
            other => other.as_str().parse::<u16>().ok(),
        };
        if let Some(port) = port.filter(|p| *p != 0) {
            remote.insert("port".into(), Json::from(port));
        }
    }
    (!remote.is_empty()).then_some(remote)
}

fn tags(span: &SpanData) -> Map<String, Json> {
    let mut tags = Map::new();
    for kv in &span.attributes {
        tags.insert(kv.key.to_string(), Json::String(kv.value.to_string()));
    }
    let scope = &span.instrumentation_scope;
    if !scope.name().is_empty() {
        tags.insert(
            "otel.scope.name".into(),
            Json::String(scope.name().to_owned()),
        );
    }
    if let Some(version) = scope.version() {
        tags.insert(
            "otel.scope.version".into(),
            Json::String(version.to_owned()),
        );
    }
    if span.dropped_attributes_count > 0 {
        tags.insert(
            "otel.dropped_attributes_count".into(),
            Json::String(span.dropped_attributes_count.to_string()),
        );
    }
    if span.events.dropped_count > 0 {
        tags.insert(
            "otel.dropped_events_count".into(),
            Json::String(span.events.dropped_count.to_string()),
        );
    }

    let exception = || {
        span.events.iter().find(|e| e.name == "exception").map(|e| {
            e.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "exception.message")
                .map(|kv| kv.value.as_str())
                .unwrap_or(Cow::Borrowed("exception"))
                .into_owned()
        })
    };
    let outcome_error = || {
        attr(span, "circuit_breaker.outcome")
            .map(|v| v.as_str().into_owned())
            .filter(|o| ERROR_OUTCOMES.contains(&o.as_str()))
            .map(|o| format!("circuit_breaker.outcome={o}"))
    };
    let app_error = tags
        .get("error")
        .and_then(Json::as_str)
        .filter(|e| !e.is_empty() && *e != "false")
        .map(str::to_owned);

    let error = match &span.status {
        Status::Ok => {
            tags.insert("otel.status_code".into(), Json::String("OK".into()));
            None
        }
        Status::Error { description } => {
            tags.insert("otel.status_code".into(), Json::String("ERROR".into()));
            Some(
                Some(description.to_string())
                    .filter(|d| !d.is_empty())
                    .or(app_error)
                    .or_else(exception)
                    .or_else(outcome_error)
                    .unwrap_or_else(|| "error".to_owned()),
            )
        }
        Status::Unset => app_error.or_else(exception).or_else(outcome_error),
    };
    match error {
        Some(error) => {
            tags.insert("error".into(), Json::String(error));
        }
        // `error = false` recorded by an application is not an error; Zipkin would paint any
        // `error` key red.
        None => {
            tags.remove("error");
        }
    }
    tags
}

/// Exports spans to a Zipkin collector as v2 JSON over HTTP.
///
/// Use it behind the SDK's batch processor (what [`builder`](super::builder) does): `export`
/// blocks the calling thread for up to the timeout.
#[derive(Debug)]
pub struct ZipkinExporter {
    mapper: ZipkinMapper,
    post: HttpPost,
    abort: AbortHandle,
}

impl ZipkinExporter {
    /// An exporter posting to `endpoint`, each request bounded by `timeout`.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Self {
        let abort = AbortHandle::default();
        Self {
            mapper: ZipkinMapper::default(),
            post: HttpPost::new(endpoint, timeout, abort.clone()),
            abort,
        }
    }

    pub(crate) fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }

    /// The span mapper (holds the service name once the SDK has set the resource).
    pub fn mapper(&self) -> &ZipkinMapper {
        &self.mapper
    }
}

impl SpanExporter for ZipkinExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            return Ok(());
        }
        let body = self.mapper.to_json_bytes(&batch);
        self.post
            .post_json(&body)
            .map(|_| ())
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.abort.abort();
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.mapper.set_resource(resource);
    }
}
