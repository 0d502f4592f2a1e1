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
    // (`0`, `1` and `d` alone are a sampling state without ids: see below.)
    for bad in [
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

fn extracted_cx(pairs: &[(&'static str, &str)]) -> Context {
    propagation::extract_with(&FuseboxPropagator::default(), &headers(pairs))
}

/// What the extracted context carries: `None` without a span, else (valid ids, sampled, debug).
fn decision(cx: &Context) -> Option<(bool, bool, bool)> {
    cx.has_active_span().then(|| {
        let span = cx.span();
        let sc = span.span_context();
        let debug = sc.trace_flags() & TraceFlags::new(0x04) == TraceFlags::new(0x04);
        assert!(sc.is_remote());
        (sc.is_valid(), sc.is_sampled(), debug)
    })
}

/// B3 lets a caller send a sampling state without ids: `b3: 0|1|d`, or `X-B3-Sampled` /
/// `X-B3-Flags` without `X-B3-TraceId`. Brave honours it; so does fusebox.
#[test]
fn b3_sampling_state_without_ids_is_extracted() {
    let deny = Some((false, false, false));
    let accept = Some((false, true, false));
    let debug = Some((false, true, true));
    for (pairs, want) in [
        (&[("b3", "0")][..], deny),
        (&[("b3", "1")], accept),
        (&[("b3", "d")], debug),
        (&[("x-b3-sampled", "0")], deny),
        (&[("x-b3-sampled", "1")], accept),
        (&[("x-b3-sampled", "false")], deny),
        (&[("x-b3-sampled", "true")], accept),
        (&[("x-b3-flags", "1")], debug),
        // Debug wins over a deny, as in Brave.
        (&[("x-b3-flags", "1"), ("x-b3-sampled", "0")], debug),
        // A span id alone does not make a context; the decision still counts.
        (
            &[("x-b3-spanid", "a2fb4a1d1a96d312"), ("x-b3-sampled", "0")],
            deny,
        ),
        // The single header wins over the multi headers (B3 specification, Brave).
        (
            &[
                ("b3", "0"),
                ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
                ("x-b3-spanid", "a2fb4a1d1a96d312"),
                ("x-b3-sampled", "1"),
            ],
            deny,
        ),
        // A malformed single header falls through to the multi headers.
        (&[("b3", "2"), ("x-b3-sampled", "0")], deny),
        // Malformed: ignored, no decision.
        (&[("b3", "x")], None),
        (&[("b3", "0-")], None),
        (&[("b3", "D")], None),
        (&[("x-b3-sampled", "yes")], None),
        (&[("x-b3-sampled", "yes"), ("x-b3-flags", "1")], None),
        (&[("x-b3-flags", "0")], None),
        (&[("x-b3-flags", "2")], None),
        // A trace id that does not parse makes the multi headers malformed, decision and all.
        (&[("x-b3-traceid", "nothex"), ("x-b3-sampled", "0")], None),
    ] {
        assert_eq!(decision(&extracted_cx(pairs)), want, "{pairs:?}");
    }
    // A context with ids wins over a bare decision of a later format.
    let cx = extracted_cx(&[
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("b3", "0"),
    ]);
    assert_eq!(decision(&cx), Some((true, true, false)));
    // With only W3C extracted, `b3: 0` means nothing.
    let w3c = FuseboxPropagator::new(Propagation::symmetric(vec![PropagatorKind::TraceContext]));
    let cx = propagation::extract_with(&w3c, &headers(&[("b3", "0")]));
    assert!(!cx.has_active_span());
}

/// The B3 sampling rules through the real SERVER span and an in-memory exporter.
#[cfg(feature = "testing")] // `ExporterKind::InMemory`
mod through_the_server_span {
    use super::*;
    use fusebox_runtime::telemetry::{self, ExporterKind};
    use opentelemetry_sdk::trace::InMemorySpanExporter;

    /// One request through the real SERVER span ([`telemetry::server::server_span`]) with a child
    /// CLIENT span that injects headers for the next hop. Returns the finished spans and those headers.
    fn serve(
        sampler: telemetry::SamplerKind,
        incoming: &[(&'static str, &str)],
    ) -> (Vec<opentelemetry_sdk::trace::SpanData>, HeaderMap) {
        let memory = InMemorySpanExporter::default();
        let t = telemetry::builder("order-service")
            .ignore_env()
            .sampler(sampler)
            .exporter(ExporterKind::InMemory(memory.clone()))
            .build()
            .unwrap();
        let mut request = http::Request::new(());
        *request.headers_mut() = headers(incoming);
        let mut downstream = HeaderMap::new();
        tracing::subscriber::with_default(t.subscriber(), || {
            let server =
                telemetry::server::server_span(&request, Some("/orders"), Some(t.propagator()));
            server.in_scope(|| {
                let client = tracing::info_span!("GET inventory", otel.kind = "client");
                client.in_scope(|| {
                    propagation::inject_with(t.propagator(), &client, &mut downstream)
                });
            });
        });
        (memory.get_finished_spans().unwrap(), downstream)
    }

    fn header<'a>(map: &'a HeaderMap, name: &str) -> Option<&'a str> {
        map.get(name).map(|v| v.to_str().unwrap())
    }

    #[test]
    fn a_deny_without_ids_records_nothing_and_goes_downstream_with_new_ids() {
        use telemetry::SamplerKind::ParentBasedAlwaysOn;
        for incoming in [&[("b3", "0")][..], &[("x-b3-sampled", "0")]] {
            let (spans, down) = serve(ParentBasedAlwaysOn, incoming);
            assert!(spans.is_empty(), "{incoming:?}: {spans:?}");
            let trace_id = header(&down, "x-b3-traceid").expect("new ids go downstream");
            assert_eq!(trace_id.len(), 32);
            assert_ne!(trace_id, "0".repeat(32));
            assert_eq!(header(&down, "x-b3-sampled"), Some("0"), "{down:?}");
            assert!(header(&down, "x-b3-flags").is_none());
            let traceparent = header(&down, "traceparent").unwrap();
            assert!(
                traceparent.starts_with(&format!("00-{trace_id}-")) && traceparent.ends_with("-00"),
                "{traceparent}"
            );
        }
        // Without any header the same service samples: the deny above came from the header.
        let (spans, down) = serve(ParentBasedAlwaysOn, &[]);
        assert_eq!(spans.len(), 2);
        assert_eq!(header(&down, "x-b3-sampled"), Some("1"));
    }

    #[test]
    fn an_accept_or_debug_without_ids_starts_a_sampled_root_trace() {
        use telemetry::SamplerKind::ParentBasedAlwaysOff;
        for (incoming, debug) in [
            (&[("b3", "1")][..], false),
            (&[("x-b3-sampled", "1")], false),
            (&[("b3", "d")], true),
            (&[("x-b3-flags", "1")], true),
        ] {
            // The configured sampler would drop a new root: the header decides.
            let (spans, down) = serve(ParentBasedAlwaysOff, incoming);
            assert_eq!(spans.len(), 2, "{incoming:?}");
            let server = spans.iter().find(|s| s.name == "GET /orders").unwrap();
            let client = spans.iter().find(|s| s.name == "GET inventory").unwrap();
            assert_eq!(server.parent_span_id, SpanId::INVALID, "a new root");
            assert_eq!(client.parent_span_id, server.span_context.span_id());
            assert_eq!(
                header(&down, "x-b3-traceid"),
                Some(server.span_context.trace_id().to_string().as_str())
            );
            assert_eq!(
                header(&down, "x-b3-spanid"),
                Some(client.span_context.span_id().to_string().as_str())
            );
            if debug {
                // B3: debug implies accept, so X-B3-Sampled is not sent with it.
                assert_eq!(header(&down, "x-b3-flags"), Some("1"), "{incoming:?}");
                assert!(header(&down, "x-b3-sampled").is_none(), "{down:?}");
            } else {
                assert_eq!(header(&down, "x-b3-sampled"), Some("1"), "{incoming:?}");
                assert!(header(&down, "x-b3-flags").is_none(), "{down:?}");
            }
            assert!(header(&down, "traceparent").unwrap().ends_with("-01"));
            // fusebox's debug mark stays inside the process.
            assert!(header(&down, "tracestate").is_none(), "{down:?}");
        }
    }

    #[test]
    fn debug_with_ids_goes_downstream_from_every_span() {
        use telemetry::SamplerKind::AlwaysOff;
        for incoming in [
            &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d")][..],
            &[
                ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
                ("x-b3-flags", "1"),
            ],
        ] {
            // Even a sampler that drops everything keeps every span of a debug trace.
            let (spans, down) = serve(AlwaysOff, incoming);
            assert_eq!(spans.len(), 2, "{incoming:?}");
            assert_eq!(
                header(&down, "x-b3-traceid"),
                Some("80f198ee56343ba864fe8b2a57d3eff7")
            );
            assert_eq!(header(&down, "x-b3-flags"), Some("1"));
            assert!(header(&down, "x-b3-sampled").is_none());
        }
        // B3 single injection writes `-d`.
        let single = FuseboxPropagator::new(Propagation::symmetric(vec![PropagatorKind::B3Single]));
        let mut map = HeaderMap::new();
        propagation::inject_with(&single, &remote(0x05), &mut map);
        assert_eq!(
            map["b3"],
            "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-d"
        );
    }

    #[test]
    fn a_deferred_decision_goes_downstream_as_the_local_decision() {
        use telemetry::SamplerKind::{ParentBasedAlwaysOff, ParentBasedAlwaysOn};
        let deferred = [("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1")];
        let (spans, down) = serve(ParentBasedAlwaysOn, &deferred);
        assert_eq!(spans.len(), 2);
        assert_eq!(header(&down, "x-b3-sampled"), Some("1"), "{down:?}");
        let (spans, down) = serve(ParentBasedAlwaysOff, &deferred);
        assert!(spans.is_empty());
        assert_eq!(header(&down, "x-b3-sampled"), Some("0"), "{down:?}");
        // Passed on unchanged (no local span), the deferral stays a deferral.
        let mut map = HeaderMap::new();
        propagation::inject_with(
            &FuseboxPropagator::default(),
            &extracted_cx(&deferred),
            &mut map,
        );
        assert_eq!(header(&map, "x-b3-spanid"), Some("e457b5a2e4d86bd1"));
        assert!(header(&map, "x-b3-sampled").is_none() && header(&map, "x-b3-flags").is_none());
    }

    /// A context that carries only a decision (a proxy passing the extracted context on) forwards the
    /// decision; a context with no span at all sends nothing (not a deny).
    #[test]
    fn bare_decisions_are_forwarded_and_no_context_injects_nothing() {
        let multi = FuseboxPropagator::default();
        let single = FuseboxPropagator::new(Propagation::symmetric(vec![PropagatorKind::B3Single]));
        for (incoming, multi_header, single_value) in [
            ("0", ("x-b3-sampled", "0"), "0"),
            ("1", ("x-b3-sampled", "1"), "1"),
            ("d", ("x-b3-flags", "1"), "d"),
        ] {
            let cx = extracted_cx(&[("b3", incoming)]);
            let mut map = HeaderMap::new();
            propagation::inject_with(&multi, &cx, &mut map);
            assert_eq!(map.len(), 1, "{incoming}: {map:?}");
            assert_eq!(header(&map, multi_header.0), Some(multi_header.1));
            let mut map = HeaderMap::new();
            propagation::inject_with(&single, &cx, &mut map);
            assert_eq!(map.len(), 1, "{incoming}: {map:?}");
            assert_eq!(header(&map, "b3"), Some(single_value));
        }
        for p in [&multi, &single] {
            let mut map = HeaderMap::new();
            propagation::inject_with(p, &Context::new(), &mut map);
            assert!(map.is_empty(), "{map:?}");
        }
    }

    /// fusebox sends `traceparent` and B3 multi; the next fusebox prefers `traceparent`, which has no
    /// debug bit, but keeps the debug flag of the B3 headers with the same ids.
    #[test]
    fn debug_survives_a_hop_between_two_fusebox_services() {
        let p = FuseboxPropagator::default();
        let mut map = HeaderMap::new();
        propagation::inject_with(&p, &remote(0x05), &mut map);
        assert!(map.contains_key("traceparent") && map.contains_key("x-b3-flags"));
        let back = propagation::extract_with(&p, &map);
        assert_eq!(decision(&back), Some((true, true, true)));
        // A B3 debug flag for other ids does not leak into the W3C context.
        let back = extracted_cx(&[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("b3", "4bf92f3577b34da6a3ce929d0e0e4736-e457b5a2e4d86bd1-d"),
        ]);
        assert_eq!(decision(&back), Some((true, true, false)));
    }
}
