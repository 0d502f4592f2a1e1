//! Trace context propagation over HTTP headers: W3C trace context and B3.
//!
//! W3C comes from the SDK's [`TraceContextPropagator`], B3 from `opentelemetry-propagator-b3`;
//! fusebox only composes them. By default a [`FuseboxPropagator`] **extracts** W3C
//! `traceparent`, B3 single `b3` and B3 multi `X-B3-*` (the first valid one in that order
//! wins) and **injects** W3C plus B3 multi. That is what Spring Boot 3 (Micrometer Tracing,
//! W3C) and Spring Boot 2 (Sleuth, B3) services send and accept, so a trace stays one trace
//! across both. `OTEL_PROPAGATORS` narrows or changes the list.
//!
//! Details that the SDK propagators leave open and fusebox settles:
//! * a 64-bit B3 trace id is left-padded to 128 bits (and exported to Zipkin as 16 hex chars);
//! * B3 debug (`b3: …-d`, `X-B3-Flags: 1`) implies sampled and forces the sampling decision;
//! * a B3 "deferred" context (no sampling flag) lets this service's root sampler decide;
//! * malformed headers are ignored (logged at debug level), never a panic or an error;
//! * an empty `tracestate` is not sent.
//!
//! [`inject`] / [`extract`] use the propagator that [`install`](super::Telemetry::install) made
//! global (or the default one if none was installed). `install` also sets it as OpenTelemetry's
//! global text-map propagator, so crates that use `opentelemetry::global::get_text_map_propagator`
//! — `axum-tracing-opentelemetry`'s `OtelAxumLayer`, `tracing-opentelemetry-instrumentation-sdk` —
//! extract and inject the same formats.

use std::sync::{Arc, RwLock};

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceFlags};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_propagator_b3::{B3Encoding, Propagator as B3Propagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::INTERNAL_TARGET;
pub use super::config::PropagatorKind;

/// The B3 debug bit as the B3 propagator stores it in [`TraceFlags`].
pub(crate) const B3_DEBUG: TraceFlags = TraceFlags::new(0x04);
/// The B3 "deferred" bit (no sampling decision received).
pub(crate) const B3_DEFERRED: TraceFlags = TraceFlags::new(0x02);

/// Headers whose presence means the caller tried to send a trace context.
const TRACE_HEADERS: [&str; 3] = ["traceparent", "b3", "x-b3-traceid"];

/// Which formats are extracted and which are injected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagation {
    /// Formats accepted on incoming requests, in priority order.
    pub extract: Vec<PropagatorKind>,
    /// Formats written on outgoing requests.
    pub inject: Vec<PropagatorKind>,
}

impl Default for Propagation {
    /// Extract W3C, B3 single, B3 multi; inject W3C and B3 multi.
    fn default() -> Self {
        Self {
            extract: vec![
                PropagatorKind::TraceContext,
                PropagatorKind::B3Single,
                PropagatorKind::B3Multi,
            ],
            inject: vec![PropagatorKind::TraceContext, PropagatorKind::B3Multi],
        }
    }
}

impl Propagation {
    /// The same formats both ways (what an `OTEL_PROPAGATORS` list means).
    pub fn symmetric(kinds: Vec<PropagatorKind>) -> Self {
        Self {
            extract: kinds.clone(),
            inject: kinds,
        }
    }
}

/// A text-map propagator composed of W3C, B3 and baggage as [`Propagation`] says.
#[derive(Clone, Debug)]
pub struct FuseboxPropagator(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    config: Propagation,
    w3c: TraceContextPropagator,
    /// Accepts `…-d` (debug) in the single header.
    b3_single: B3Propagator,
    /// Accepts the legacy `X-B3-Sampled: true`.
    b3_multi: B3Propagator,
    baggage: BaggagePropagator,
    fields: Vec<String>,
}

impl Default for FuseboxPropagator {
    fn default() -> Self {
        Self::new(Propagation::default())
    }
}

impl FuseboxPropagator {
    /// A propagator for these formats.
    pub fn new(config: Propagation) -> Self {
        let w3c = TraceContextPropagator::new();
        let b3_single = B3Propagator::with_encoding(B3Encoding::SingleHeader);
        let b3_multi = B3Propagator::with_encoding(B3Encoding::MultipleHeader);
        let baggage = BaggagePropagator::new();
        let mut fields: Vec<String> = Vec::new();
        for kind in &config.inject {
            let iter = match kind {
                PropagatorKind::TraceContext => w3c.fields(),
                PropagatorKind::B3Single => b3_single.fields(),
                PropagatorKind::B3Multi => b3_multi.fields(),
                PropagatorKind::Baggage => baggage.fields(),
            };
            for f in iter {
                if !fields.iter().any(|x| x == f) {
                    fields.push(f.to_owned());
                }
            }
        }
        Self(Arc::new(Parts {
            config,
            w3c,
            b3_single,
            b3_multi,
            baggage,
            fields,
        }))
    }

    /// The formats of this propagator.
    pub fn config(&self) -> &Propagation {
        &self.0.config
    }

    fn extract_span(&self, kind: PropagatorKind, extractor: &dyn Extractor) -> Option<Context> {
        let empty = Context::new();
        let p = &self.0;
        let cx = match kind {
            PropagatorKind::TraceContext => {
                // The SDK pads short ids; the W3C specification wants exact field widths.
                if !extractor.get("traceparent").is_some_and(w3c_shape_ok) {
                    return None;
                }
                p.w3c.extract_with_context(&empty, extractor)
            }
            // Either B3 entry accepts both B3 forms, as the B3 specification asks.
            PropagatorKind::B3Single | PropagatorKind::B3Multi => {
                let cx = p.b3_single.extract_with_context(&empty, extractor);
                if cx.span().span_context().is_valid() {
                    cx
                } else {
                    p.b3_multi.extract_with_context(&empty, extractor)
                }
            }
            PropagatorKind::Baggage => return None,
        };
        cx.span().span_context().is_valid().then_some(cx)
    }
}

impl TextMapPropagator for FuseboxPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let p = &self.0;
        for kind in &p.config.inject {
            match kind {
                PropagatorKind::TraceContext => p.w3c.inject_context(cx, injector),
                // The B3 crate writes the multi headers even in single-header mode (its
                // `UnSpecified` check is always true), so each mode is filtered to its headers.
                PropagatorKind::B3Single => p.b3_single.inject_context(
                    cx,
                    &mut Only {
                        inner: injector,
                        keep: |k| k == "b3",
                    },
                ),
                PropagatorKind::B3Multi => p.b3_multi.inject_context(
                    cx,
                    &mut Only {
                        inner: injector,
                        keep: |k| k.starts_with("x-b3-"),
                    },
                ),
                PropagatorKind::Baggage => p.baggage.inject_context(cx, injector),
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let p = &self.0;
        let mut out = cx.clone();
        let found = p
            .config
            .extract
            .iter()
            .find_map(|kind| self.extract_span(*kind, extractor));
        match found {
            Some(remote) => {
                let span = remote.span();
                let mut sc = span.span_context().clone();
                if sc.trace_flags() & B3_DEBUG == B3_DEBUG && !sc.is_sampled() {
                    // B3: "Debug implies an accept decision".
                    sc = opentelemetry::trace::SpanContext::new(
                        sc.trace_id(),
                        sc.span_id(),
                        sc.trace_flags() | TraceFlags::SAMPLED,
                        true,
                        sc.trace_state().clone(),
                    );
                }
                out = out.with_remote_span_context(sc);
            }
            None => {
                if let Some(name) = TRACE_HEADERS.iter().find(|h| extractor.get(h).is_some()) {
                    let value = extractor.get(name).unwrap_or_default();
                    let shown: String = value.chars().take(80).collect();
                    tracing::debug!(
                        target: INTERNAL_TARGET,
                        header = name,
                        value = ?shown,
                        "ignoring a malformed trace context header"
                    );
                }
            }
        }
        if p.config.extract.contains(&PropagatorKind::Baggage) {
            out = p.baggage.extract_with_context(&out, extractor);
        }
        out
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.0.fields)
    }
}

/// `version-traceid-spanid-flags` with 2, 32, 16 and 2 hex digits (more fields only for
/// versions above 00).
fn w3c_shape_ok(value: &str) -> bool {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() >= 4
        && hex(parts[0], 2)
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && (parts.len() == 4 || parts[0] != "00")
}

/// Passes on only the keys `keep` accepts.
struct Only<'a> {
    inner: &'a mut dyn Injector,
    keep: fn(&str) -> bool,
}

impl Injector for Only<'_> {
    fn set(&mut self, key: &str, value: String) {
        if (self.keep)(key) {
            self.inner.set(key, value);
        }
    }
}

static INSTALLED: RwLock<Option<FuseboxPropagator>> = RwLock::new(None);

pub(crate) fn set_installed(p: FuseboxPropagator) {
    *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = Some(p);
}

/// The propagator the helpers use: the installed one, or the default.
pub fn current() -> FuseboxPropagator {
    INSTALLED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Something that carries an OpenTelemetry context: a [`tracing::Span`] or a [`Context`].
pub trait ContextSource {
    /// The OpenTelemetry context to propagate.
    fn otel_context(&self) -> Context;
}

impl ContextSource for tracing::Span {
    fn otel_context(&self) -> Context {
        self.context()
    }
}

impl ContextSource for Context {
    fn otel_context(&self) -> Context {
        self.clone()
    }
}

/// Writes the trace context of `source` into `headers` with the current propagator.
pub fn inject(source: &impl ContextSource, headers: &mut HeaderMap) {
    inject_with(&current(), source, headers);
}

/// Writes the trace context of `source` into `headers` with `propagator`.
pub fn inject_with(
    propagator: &FuseboxPropagator,
    source: &impl ContextSource,
    headers: &mut HeaderMap,
) {
    propagator.inject_context(&source.otel_context(), &mut HeaderInjector(headers));
}

/// Reads a trace context from `headers` with the current propagator; an empty context when
/// there is none or it is malformed.
pub fn extract(headers: &HeaderMap) -> Context {
    extract_with(&current(), headers)
}

/// Reads a trace context from `headers` with `propagator`.
pub fn extract_with(propagator: &FuseboxPropagator, headers: &HeaderMap) -> Context {
    propagator.extract_with_context(&Context::new(), &HeaderExtractor(headers))
}

/// An [`Injector`] into an [`http::HeaderMap`] that skips empty values and invalid names or
/// values instead of failing.
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if value.is_empty() {
            return;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
