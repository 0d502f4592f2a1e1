//! Arbitrary `traceparent`, `b3` and `x-b3-*` headers: extraction never panics, and whatever it
//! accepts re-injects to headers that extract to the same span context.
#![no_main]
use fusebox_runtime::telemetry::propagation::{FuseboxPropagator, extract_with, inject_with};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use opentelemetry::trace::TraceContextExt;

const NAMES: [&str; 7] = [
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "x-b3-flags",
];

fuzz_target!(|data: &[u8]| {
    // Split the input into up to seven header values, one per name.
    let mut headers = HeaderMap::new();
    for (name, value) in NAMES.iter().zip(data.split(|b| *b == b'\n')) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let propagator = FuseboxPropagator::default();
    let cx = extract_with(&propagator, &headers);
    let span = cx.span().span_context().clone();
    if span.is_valid() {
        let mut out = HeaderMap::new();
        inject_with(&propagator, &cx, &mut out);
        let again = extract_with(&propagator, &out);
        let round = again.span().span_context().clone();
        assert_eq!(round.trace_id(), span.trace_id());
        assert_eq!(round.span_id(), span.span_id());
    }
});
