//! Trace context propagation over HTTP headers: W3C trace context and B3.
//!
//! W3C comes from the SDK's [`TraceContextPropagator`], B3 from `opentelemetry-propagator-b3`;
//! fusebox only composes them. By default a [`FuseboxPropagator`] **extracts** W3C
//! `traceparent`, B3 single `b3` and B3 multi `X-B3-*` (the first valid one in that order
//! wins) and **injects** W3C plus B3 multi. That is what Spring Boot 3 (Micrometer Tracing,
//! W3C) and Spring Boot 2 (Sleuth, B3) services send and accept, so a trace stays one trace
//! across both. `OTEL_PROPAGATORS` narrows or changes the list.
//!
//! Details that the SDK propagators leave open and fusebox settles, as Brave (Spring's B3
//! tracer) does:
//! * a 64-bit B3 trace id is left-padded to 128 bits (and exported to Zipkin as 16 hex chars);
//! * B3 debug (`b3: …-d`, `X-B3-Flags: 1`) implies sampled and forces the sampling decision for
//!   every span of the trace in this service; the spans reach Zipkin with `"debug": true` (which
//!   tells Zipkin to keep them past its own sampling) and the flag goes on downstream in the B3
//!   headers. When both `traceparent` and B3 headers arrive with the same ids (what fusebox and
//!   Brave send), the W3C context wins but keeps the B3 debug flag, which W3C cannot carry;
//! * a sampling decision sent **without ids** (`b3: 0`, `b3: 1`, `b3: d`; `X-B3-Sampled` or
//!   `X-B3-Flags: 1` without `X-B3-TraceId`) starts a new trace that honours it: `0` means the
//!   local root and its children are not recorded and `X-B3-Sampled: 0` goes downstream with the
//!   new ids; `d` means a debug trace. In OpenTelemetry terms the extracted context holds a remote
//!   span context with invalid ids and the decision in its flags (what the B3 propagator injects
//!   for such a context), so a parent-based sampler honours it;
//! * a B3 "deferred" context (no sampling flag) lets this service's root sampler decide, and the
//!   decision goes downstream (`X-B3-Sampled`), not the deferral;
//! * a context without a span injects no B3 headers at all (the B3 crate would send a deny);
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
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
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

/// The trace-state entry that marks a B3 debug trace whose local root has no remote parent (a
/// bare `b3: d` or `X-B3-Flags: 1`). The SDK starts a root span with empty trace flags, so the
/// debug bit cannot ride there; but it copies the trace state of the context a span starts in to
/// the span, so the mark reaches the root and every child. fusebox's W3C injection leaves it out.
const DEBUG_MARK: (&str, &str) = ("fusebox", "b3-debug");

/// Headers whose presence means the caller tried to send a trace context.
const TRACE_HEADERS: [&str; 3] = ["traceparent", "b3", "x-b3-traceid"];

/// Whether a span with this context belongs to a B3 debug trace: the B3 debug bit (from a remote
/// parent, inherited by its children) or the [`DEBUG_MARK`] of a debug trace started here.
pub(crate) fn is_debug(sc: &SpanContext) -> bool {
    sc.trace_flags() & B3_DEBUG == B3_DEBUG
        || sc.trace_state().get(DEBUG_MARK.0) == Some(DEBUG_MARK.1)
}

/// `sc` with other trace flags.
fn with_flags(sc: &SpanContext, flags: TraceFlags) -> SpanContext {
    SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        flags,
        sc.is_remote(),
        sc.trace_state().clone(),
    )
}

/// A B3 sampling decision received without ids, as a remote span context: invalid ids, the
/// decision in the flags and, for debug, the [`DEBUG_MARK`] in the trace state (which the SDK
/// copies to the new local root).
fn decision_only(flags: TraceFlags) -> SpanContext {
    let state = if flags & B3_DEBUG == B3_DEBUG {
        TraceState::from_key_value([DEBUG_MARK]).expect("DEBUG_MARK is a valid trace-state entry")
    } else {
        TraceState::NONE
    };
    SpanContext::new(TraceId::INVALID, SpanId::INVALID, flags, true, state)
}

/// A bare sampling state in the single header: `0` (deny), `1` (accept) or `d` (debug).
fn b3_single_decision(value: &str) -> Option<TraceFlags> {
    match value {
        "0" => Some(TraceFlags::NOT_SAMPLED),
        "1" => Some(TraceFlags::SAMPLED),
        "d" => Some(TraceFlags::SAMPLED | B3_DEBUG),
        _ => None,
    }
}

/// A sampling state in the multi headers without `X-B3-TraceId`: `X-B3-Flags: 1` (debug, which
/// wins) or `X-B3-Sampled` (`1`/`0`, or the legacy `true`/`false`). A malformed `X-B3-Sampled`
/// makes the whole state malformed, as in Brave.
fn b3_multi_decision(extractor: &dyn Extractor) -> Option<TraceFlags> {
    if extractor.get("x-b3-traceid").is_some() {
        return None;
    }
    let sampled = match extractor.get("x-b3-sampled") {
        None => None,
        Some("1" | "true") => Some(TraceFlags::SAMPLED),
        Some("0" | "false") => Some(TraceFlags::NOT_SAMPLED),
        Some(_) => return None,
    };
    if extractor.get("x-b3-flags") == Some("1") {
        Some(TraceFlags::SAMPLED | B3_DEBUG)
    } else {
        sampled
    }
}

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

    /// What one format finds: a remote span context with valid ids, or (B3) one that carries
    /// only a sampling decision.
    fn extract_span(&self, kind: PropagatorKind, extractor: &dyn Extractor) -> Option<SpanContext> {
        match kind {
            PropagatorKind::TraceContext => {
                // The SDK pads short ids; the W3C specification wants exact field widths.
                if !extractor.get("traceparent").is_some_and(w3c_shape_ok) {
                    return None;
                }
                let cx = self.0.w3c.extract_with_context(&Context::new(), extractor);
                let span = cx.span();
                let sc = span.span_context();
                sc.is_valid().then(|| sc.clone())
            }
            // Either B3 entry accepts both B3 forms, as the B3 specification asks.
            PropagatorKind::B3Single | PropagatorKind::B3Multi => self.extract_b3(extractor),
            PropagatorKind::Baggage => None,
        }
    }

    /// B3 in the precedence of the B3 specification and Brave: the single header (ids, or a bare
    /// sampling state) before the multi headers (ids, or a sampling state without a trace id).
    fn extract_b3(&self, extractor: &dyn Extractor) -> Option<SpanContext> {
        let p = &self.0;
        if let Some(flags) = extractor.get("b3").and_then(b3_single_decision) {
            return Some(decision_only(flags));
        }
        let empty = Context::new();
        // The single-header propagator accepts `…-d`, the multi-header one `X-B3-Sampled: true`;
        // each falls back to the other form.
        for b3 in [&p.b3_single, &p.b3_multi] {
            let cx = b3.extract_with_context(&empty, extractor);
            let span = cx.span();
            let sc = span.span_context();
            if sc.is_valid() {
                return Some(sc.clone());
            }
        }
        b3_multi_decision(extractor).map(decision_only)
    }

    /// Writes B3 headers for `cx`, filtered to the headers of `kind`'s form.
    fn inject_b3(&self, kind: PropagatorKind, cx: &Context, injector: &mut dyn Injector) {
        if !cx.has_active_span() {
            // No trace, so no decision either (the B3 crate would send a deny).
            return;
        }
        let single = kind == PropagatorKind::B3Single;
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            // A decision received without ids and passed on as it is (a proxy): forward it.
            if sc.is_remote() {
                let debug = is_debug(sc);
                let (key, value) = match (single, debug, sc.is_sampled()) {
                    (true, true, _) => ("b3", "d"),
                    (true, false, sampled) => ("b3", if sampled { "1" } else { "0" }),
                    (false, true, _) => ("x-b3-flags", "1"),
                    (false, false, sampled) => ("x-b3-sampled", if sampled { "1" } else { "0" }),
                };
                injector.set(key, value.to_owned());
            }
            return;
        }
        let mut flags = sc.trace_flags();
        if is_debug(sc) {
            // A debug trace started here carries the debug bit only in its mark.
            flags = flags | B3_DEBUG | TraceFlags::SAMPLED;
        }
        if !sc.is_remote() {
            // A local span carries this service's decision, which goes downstream instead of a
            // deferral it inherited from its remote parent.
            flags = flags & !B3_DEFERRED;
        }
        let adjusted;
        let cx = if flags == sc.trace_flags() {
            cx
        } else {
            adjusted = Context::new().with_remote_span_context(with_flags(sc, flags));
            &adjusted
        };
        // The B3 crate writes the multi headers even in single-header mode (its `UnSpecified`
        // check is always true), so each mode is filtered to its headers.
        if single {
            self.0.b3_single.inject_context(
                cx,
                &mut Only {
                    inner: injector,
                    keep: |k| k == "b3",
                },
            );
        } else {
            self.0.b3_multi.inject_context(
                cx,
                &mut Only {
                    inner: injector,
                    keep: |k| k.starts_with("x-b3-"),
                },
            );
        }
    }

    /// Writes `traceparent` and `tracestate` for `cx`, without fusebox's [`DEBUG_MARK`].
    fn inject_w3c(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.trace_state().get(DEBUG_MARK.0).is_none() {
            self.0.w3c.inject_context(cx, injector);
        } else {
            let state = sc
                .trace_state()
                .delete(DEBUG_MARK.0)
                .expect("DEBUG_MARK's key is a valid trace-state key");
            let sc = SpanContext::new(
                sc.trace_id(),
                sc.span_id(),
                sc.trace_flags(),
                sc.is_remote(),
                state,
            );
            self.0
                .w3c
                .inject_context(&Context::new().with_remote_span_context(sc), injector);
        }
    }

    /// The B3 debug flag of `w3c`'s B3 twin: the B3 headers of the same request with the same
    /// trace and span ids, as fusebox and Brave send both.
    fn b3_twin_is_debug(&self, w3c: &SpanContext, extractor: &dyn Extractor) -> bool {
        self.0
            .config
            .extract
            .iter()
            .any(|k| matches!(k, PropagatorKind::B3Single | PropagatorKind::B3Multi))
            && self.extract_b3(extractor).is_some_and(|b3| {
                b3.trace_id() == w3c.trace_id() && b3.span_id() == w3c.span_id() && is_debug(&b3)
            })
    }
}

impl TextMapPropagator for FuseboxPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        for kind in &self.0.config.inject {
            match kind {
                PropagatorKind::TraceContext => self.inject_w3c(cx, injector),
                PropagatorKind::B3Single | PropagatorKind::B3Multi => {
                    self.inject_b3(*kind, cx, injector);
                }
                PropagatorKind::Baggage => self.0.baggage.inject_context(cx, injector),
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
            .find_map(|kind| Some((*kind, self.extract_span(*kind, extractor)?)));
        match found {
            Some((kind, mut sc)) => {
                if kind == PropagatorKind::TraceContext
                    && !is_debug(&sc)
                    && self.b3_twin_is_debug(&sc, extractor)
                {
                    sc = with_flags(&sc, sc.trace_flags() | B3_DEBUG);
                }
                if is_debug(&sc) && !sc.is_sampled() {
                    // B3: "Debug implies an accept decision".
                    sc = with_flags(&sc, sc.trace_flags() | TraceFlags::SAMPLED);
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
