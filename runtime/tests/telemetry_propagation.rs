//! Propagation: W3C trace-context and B3 header vectors from the specifications, the default
//! extract/inject sets, sampling flags, malformed input, and round trips.
#![cfg(feature = "telemetry")]

use fusebox_runtime::telemetry::PropagatorKind;
use fusebox_runtime::telemetry::propagation::{self, FuseboxPropagator, Propagation};
use http::{HeaderMap, HeaderValue};
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    map
}

fn extracted(pairs: &[(&'static str, &str)]) -> Option<SpanContext> {
    let p = FuseboxPropagator::default();
    let cx = propagation::extract_with(&p, &headers(pairs));
    let span = cx.span();
    let sc = span.span_context().clone();
    sc.is_valid().then_some(sc)
}

#[test]
fn w3c_vectors() {
    let sc = extracted(&[(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )])
    .expect("valid traceparent");
    assert_eq!(
        sc.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    assert!(sc.is_sampled() && sc.is_remote());
    let sc = extracted(&[(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
    )])
    .unwrap();
    assert!(!sc.is_sampled());
    for bad in [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",    // too short
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // 31 chars
        "garbage",
    ] {
        assert_eq!(extracted(&[("traceparent", bad)]), None, "{bad}");
    }
}

#[test]
fn b3_single_vectors() {
    let sc = extracted(&[(
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
    )])
    .unwrap();
    assert_eq!(
        sc.trace_id().to_string(),
        "80f198ee56343ba864fe8b2a57d3eff7"
    );
    assert_eq!(sc.span_id().to_string(), "e457b5a2e4d86bd1");
    assert!(sc.is_sampled());
    // 64-bit trace id: left-padded to 128 bits.
    let sc = extracted(&[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1")]).unwrap();
    assert_eq!(
        sc.trace_id().to_string(),
        "000000000000000064fe8b2a57d3eff7"
    );
    // deny
    let sc = extracted(&[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-0")]).unwrap();
    assert!(!sc.is_sampled());
    // debug implies sampled
    let sc = extracted(&[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-d")]).unwrap();
    assert!(sc.is_sampled());
    assert_eq!(
        sc.trace_flags() & TraceFlags::new(0x04),
        TraceFlags::new(0x04)
    );
    // deferred: valid, no decision
    let sc = extracted(&[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1")]).unwrap();
    assert!(!sc.is_sampled());
    for bad in [
        "0",
        "1",
        "d",
        "64fe8b2a57d3eff7",
        "xyz-abc-1",
        "64FE8B2A57D3EFF7-E457B5A2E4D86BD1-1",
    ] {
        assert_eq!(extracted(&[("b3", bad)]), None, "{bad}");
    }
}

#[test]
fn b3_multi_vectors() {
    let base = [
        ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ("x-b3-parentspanid", "0020000000000001"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        extracted(&all)
    };
    assert!(with(&[("x-b3-sampled", "1")]).unwrap().is_sampled());
    assert!(
        with(&[("x-b3-sampled", "true")]).unwrap().is_sampled(),
        "legacy true"
    );
    assert!(!with(&[("x-b3-sampled", "0")]).unwrap().is_sampled());
    assert!(with(&[("x-b3-flags", "1")]).unwrap().is_sampled(), "debug");
    assert!(!with(&[]).unwrap().is_sampled(), "deferred");
    let sc = extracted(&[
        ("x-b3-traceid", "48485a3953bb6124"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
    ])
    .unwrap();
    assert_eq!(
        sc.trace_id().to_string(),
        "000000000000000048485a3953bb6124"
    );
    assert_eq!(
        extracted(&[
            ("x-b3-traceid", "nothex"),
            ("x-b3-spanid", "a2fb4a1d1a96d312")
        ]),
        None
    );
}

#[test]
fn w3c_wins_over_b3_and_b3_single_over_multi() {
    let sc = extracted(&[
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
    ])
    .unwrap();
    assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    // A malformed traceparent falls through to B3.
    let sc = extracted(&[
        ("traceparent", "00-bad"),
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
    ])
    .unwrap();
    assert_eq!(sc.span_id().to_string(), "e457b5a2e4d86bd1");
    let sc = extracted(&[
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
        ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
    ])
    .unwrap();
    assert_eq!(sc.span_id().to_string(), "e457b5a2e4d86bd1");
}

fn remote(flags: u8) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    ))
}

#[test]
fn default_injection_is_w3c_plus_b3_multi_without_empty_tracestate() {
    let mut map = HeaderMap::new();
    propagation::inject_with(&FuseboxPropagator::default(), &remote(1), &mut map);
    assert_eq!(
        map["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(map["x-b3-traceid"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(map["x-b3-spanid"], "00f067aa0ba902b7");
    assert_eq!(map["x-b3-sampled"], "1");
    assert!(map.get("b3").is_none());
    assert!(
        map.get("tracestate").is_none(),
        "empty tracestate is not sent"
    );
    // Debug travels as X-B3-Flags.
    let mut map = HeaderMap::new();
    propagation::inject_with(&FuseboxPropagator::default(), &remote(0x05), &mut map);
    assert_eq!(map["x-b3-flags"], "1");
    // OTEL_PROPAGATORS=b3 → single header.
    let single = FuseboxPropagator::new(Propagation::symmetric(vec![PropagatorKind::B3Single]));
    let mut map = HeaderMap::new();
    propagation::inject_with(&single, &remote(1), &mut map);
    assert_eq!(
        map["b3"],
        "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
    );
    assert_eq!(map.len(), 1);
    // `none` injects nothing and extracts nothing.
    let none = FuseboxPropagator::new(Propagation::symmetric(vec![]));
    let mut map = HeaderMap::new();
    propagation::inject_with(&none, &remote(1), &mut map);
    assert!(map.is_empty());
}

#[test]
fn round_trips_through_every_format() {
    for kinds in [
        vec![PropagatorKind::TraceContext],
        vec![PropagatorKind::B3Single],
        vec![PropagatorKind::B3Multi],
        vec![PropagatorKind::TraceContext, PropagatorKind::B3Multi],
    ] {
        for flags in [0u8, 1] {
            let p = FuseboxPropagator::new(Propagation::symmetric(kinds.clone()));
            let mut map = HeaderMap::new();
            let cx = remote(flags);
            propagation::inject_with(&p, &cx, &mut map);
            let back = propagation::extract_with(&p, &map);
            let (a, b) = (cx.span(), back.span());
            assert_eq!(
                a.span_context().trace_id(),
                b.span_context().trace_id(),
                "{kinds:?}"
            );
            assert_eq!(
                a.span_context().span_id(),
                b.span_context().span_id(),
                "{kinds:?}"
            );
            assert_eq!(
                a.span_context().is_sampled(),
                b.span_context().is_sampled(),
                "{kinds:?} {flags}"
            );
        }
    }
}

#[test]
fn garbage_headers_never_panic() {
    let p = FuseboxPropagator::default();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let alphabet = b"0123456789abcdefABCDEF-xyz ,;=\t";
    for _ in 0..2_000 {
        let mut value = String::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        for i in 0..(seed % 90) {
            value.push(
                alphabet[((seed >> (i % 50)) as usize + i as usize) % alphabet.len()] as char,
            );
        }
        for name in [
            "traceparent",
            "tracestate",
            "b3",
            "x-b3-traceid",
            "x-b3-sampled",
            "x-b3-flags",
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                let mut map = HeaderMap::new();
                map.insert(name, v);
                map.insert("x-b3-spanid", HeaderValue::from_static("a2fb4a1d1a96d312"));
                let _ = propagation::extract_with(&p, &map);
            }
        }
    }
    // Non-UTF-8 header bytes.
    let mut map = HeaderMap::new();
    map.insert(
        "traceparent",
        HeaderValue::from_bytes(&[0xff, 0xfe, 0x30]).unwrap(),
    );
    map.insert("b3", HeaderValue::from_bytes(&[0xc3, 0x28]).unwrap());
    assert!(
        !propagation::extract_with(&p, &map)
            .span()
            .span_context()
            .is_valid()
    );
}

/// Sampling of the server span for a remote parent: deny, debug and deferred.
#[test]
#[cfg(feature = "testing")] // `ExporterKind::InMemory`
fn sampling_flags_decide_the_server_span() {
    use fusebox_runtime::telemetry::{self, ExporterKind};
    let run = |sampler: telemetry::SamplerKind, b3: &str| -> usize {
        let memory = opentelemetry_sdk::trace::InMemorySpanExporter::default();
        let t = telemetry::builder("order-service")
            .ignore_env()
            .sampler(sampler)
            .exporter(ExporterKind::InMemory(memory.clone()))
            .build()
            .unwrap();
        let parent = propagation::extract_with(t.propagator(), &headers(&[("b3", b3)]));
        tracing::subscriber::with_default(t.subscriber(), || {
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            let span = tracing::info_span!("GET /orders", otel.kind = "server");
            let _ = span.set_parent(parent);
            span.in_scope(|| {});
        });
        memory.get_finished_spans().unwrap().len()
    };
    use telemetry::SamplerKind::*;
    let id = "64fe8b2a57d3eff7-e457b5a2e4d86bd1";
    assert_eq!(run(ParentBasedAlwaysOn, &format!("{id}-1")), 1);
    assert_eq!(
        run(ParentBasedAlwaysOn, &format!("{id}-0")),
        0,
        "deny is honoured"
    );
    assert_eq!(
        run(ParentBasedAlwaysOff, &format!("{id}-d")),
        1,
        "debug forces sampling"
    );
    assert_eq!(
        run(ParentBasedAlwaysOn, id),
        1,
        "deferred: the root sampler decides (on)"
    );
    assert_eq!(
        run(ParentBasedAlwaysOff, id),
        0,
        "deferred: the root sampler decides (off)"
    );
}
