//! The Zipkin v2 mapping, checked field by field against the Zipkin v2 span model
//! (openzipkin/zipkin-api `zipkin2-api.yaml`), and the file exporter end to end.
#![cfg(feature = "telemetry")]

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fusebox_runtime::telemetry::{self, zipkin::ZipkinMapper};
use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use serde_json::{Value, json};

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;

fn at(micros: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(micros)
}

fn span(kind: SpanKind, parent: SpanId, attributes: Vec<KeyValue>, status: Status) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(TRACE),
            SpanId::from(0x00f0_67aa_0ba9_02b7),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: parent,
        parent_span_is_remote: false,
        span_kind: kind,
        name: Cow::Borrowed("get_orders"),
        start_time: at(1_795_604_863_175_206),
        end_time: at(1_795_604_863_179_714),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status,
        instrumentation_scope: InstrumentationScope::builder("fusebox")
            .with_version("0.1.0")
            .build(),
    }
}

#[test]
fn client_error_span_maps_field_by_field() {
    let mut data = span(
        SpanKind::Client,
        SpanId::from(0xe717_1f4f_cf61_fdac),
        vec![
            KeyValue::new("peer.service", "order-service"),
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", 8082_i64),
            KeyValue::new("retry", true),
            KeyValue::new("ratio", 0.5),
        ],
        Status::error("order-service failed: HTTP 500"),
    );
    data.events.events.push(Event::new(
        "exception",
        at(1_795_604_863_179_642),
        vec![KeyValue::new("exception.message", "HTTP 500")],
        0,
    ));
    data.events
        .events
        .push(Event::new("retrying", at(1_795_604_863_179_700), vec![], 0));

    let got = ZipkinMapper::new("user-service").span(&data);
    let expected = json!({
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "id": "00f067aa0ba902b7",
        "parentId": "e7171f4fcf61fdac",
        "kind": "CLIENT",
        "name": "get_orders",
        "timestamp": 1_795_604_863_175_206_u64,
        "duration": 4508,
        "localEndpoint": {"serviceName": "user-service"},
        "remoteEndpoint": {"serviceName": "order-service", "ipv4": "127.0.0.1", "port": 8082},
        "annotations": [
            {"timestamp": 1_795_604_863_179_642_u64, "value": "exception: {\"exception.message\":\"HTTP 500\"}"},
            {"timestamp": 1_795_604_863_179_700_u64, "value": "retrying"}
        ],
        "tags": {
            "peer.service": "order-service",
            "http.request.method": "GET",
            "server.address": "127.0.0.1",
            "server.port": "8082",
            "retry": "true",
            "ratio": "0.5",
            "otel.scope.name": "fusebox",
            "otel.scope.version": "0.1.0",
            "otel.status_code": "ERROR",
            "error": "order-service failed: HTTP 500"
        }
    });
    assert_eq!(got, expected);
    // Zipkin's model: tag values are strings, ids lowercase hex.
    for (k, v) in got["tags"].as_object().into_iter().flatten() {
        assert!(v.is_string(), "tag {k} is not a string: {v}");
    }
}

#[test]
fn root_internal_span_has_no_parent_no_kind_min_duration_and_short_trace_id() {
    let mut data = span(SpanKind::Internal, SpanId::INVALID, vec![], Status::Unset);
    // A 64-bit trace id received through B3 (upper half zero) is exported as 16 hex chars.
    data.span_context = SpanContext::new(
        TraceId::from(0xa3ce_929d_0e0e_4736_u128),
        SpanId::from(7),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    data.end_time = data.start_time;
    let got = ZipkinMapper::new("svc").span(&data);
    let obj = got.as_object().expect("object");
    assert_eq!(got["traceId"], "a3ce929d0e0e4736");
    assert_eq!(got["id"], "0000000000000007");
    assert!(
        !obj.contains_key("parentId"),
        "root must not carry parentId: {got}"
    );
    assert!(
        !obj.contains_key("kind"),
        "internal spans carry no kind: {got}"
    );
    assert!(!obj.contains_key("remoteEndpoint"));
    assert!(
        !obj.contains_key("annotations"),
        "no events, no annotations"
    );
    assert_eq!(
        got["duration"], 1,
        "Zipkin wants a duration of at least 1 µs"
    );
    assert!(!got["tags"].as_object().unwrap().contains_key("error"));
    assert!(
        !got["tags"]
            .as_object()
            .unwrap()
            .contains_key("otel.status_code")
    );
}

#[test]
fn status_ok_and_server_kind() {
    let data = span(SpanKind::Server, SpanId::from(1), vec![], Status::Ok);
    let got = ZipkinMapper::new("svc").span(&data);
    assert_eq!(got["kind"], "SERVER");
    assert_eq!(got["tags"]["otel.status_code"], "OK");
    assert!(got["tags"].get("error").is_none());
}

#[test]
fn breaker_outcomes_set_the_error_tag() {
    let attrs = |outcome: &str| {
        vec![
            KeyValue::new("circuit_breaker.name", "orders"),
            KeyValue::new("circuit_breaker.state", "OPEN"),
            KeyValue::new("circuit_breaker.outcome", outcome.to_owned()),
        ]
    };
    let mapper = ZipkinMapper::new("user-service");
    for outcome in ["failure", "not_permitted", "timeout"] {
        let got = mapper.span(&span(
            SpanKind::Internal,
            SpanId::from(1),
            attrs(outcome),
            Status::Unset,
        ));
        assert_eq!(
            got["tags"]["error"],
            format!("circuit_breaker.outcome={outcome}")
        );
        assert_eq!(got["tags"]["circuit_breaker.name"], "orders");
        assert_eq!(got["tags"]["circuit_breaker.state"], "OPEN");
    }
    for outcome in ["success", "ignored"] {
        let got = mapper.span(&span(
            SpanKind::Internal,
            SpanId::from(1),
            attrs(outcome),
            Status::Unset,
        ));
        assert!(got["tags"].get("error").is_none(), "{outcome}: {got}");
        assert_eq!(got["tags"]["circuit_breaker.outcome"], outcome);
    }
    // A status message wins over the outcome; an empty status message falls back to it.
    let got = mapper.span(&span(
        SpanKind::Internal,
        SpanId::from(1),
        attrs("not_permitted"),
        Status::error("CallNotPermitted"),
    ));
    assert_eq!(got["tags"]["error"], "CallNotPermitted");
    let got = mapper.span(&span(
        SpanKind::Internal,
        SpanId::from(1),
        attrs("timeout"),
        Status::error(""),
    ));
    assert_eq!(got["tags"]["error"], "circuit_breaker.outcome=timeout");
    // `error = false` recorded by an application is not an error.
    let got = mapper.span(&span(
        SpanKind::Internal,
        SpanId::from(1),
        vec![KeyValue::new("error", false)],
        Status::Unset,
    ));
    assert!(got["tags"].get("error").is_none(), "{got}");
    // An exception event without a status gives the error tag its message.
    let mut data = span(SpanKind::Internal, SpanId::from(1), vec![], Status::Unset);
    data.events.events.push(Event::new(
        "exception",
        at(1),
        vec![KeyValue::new("exception.message", "boom")],
        0,
    ));
    assert_eq!(mapper.span(&data)["tags"]["error"], "boom");
}

#[test]
fn batch_is_a_json_array() {
    let mapper = ZipkinMapper::new("svc");
    let batch = vec![
        span(SpanKind::Client, SpanId::from(1), vec![], Status::Unset),
        span(SpanKind::Server, SpanId::INVALID, vec![], Status::Unset),
    ];
    let parsed: Value = serde_json::from_slice(&mapper.to_json_bytes(&batch)).unwrap();
    assert_eq!(parsed.as_array().map(Vec::len), Some(2));
}

fn temp_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("fusebox-{}-{name}.json", std::process::id()))
}

/// The whole chain: `tracing` spans with the fields the macros record → OpenTelemetry → the file
/// exporter. Checks the service name from the resource, no `tracing-opentelemetry` noise tags,
/// parent/child, the breaker tags and error, the fallback child span and event attributes.
#[test]
fn tracing_spans_reach_the_file_exporter_as_zipkin_json() {
    let path = temp_file("chain");
    let telemetry = telemetry::builder("user-service")
        .ignore_env()
        .file(&path)
        .build()
        .expect("build");
    let guard_counters = telemetry.counters().clone();
    let subscriber = telemetry.subscriber();
    let guard = telemetry.into_guard();
    tracing::subscriber::with_default(subscriber, || {
        let call = tracing::info_span!(
            "get_orders",
            otel.kind = "client",
            peer.service = "order-service",
            circuit_breaker.name = "orders",
            circuit_breaker.state = tracing::field::Empty,
            circuit_breaker.outcome = tracing::field::Empty,
        );
        let _g = call.enter();
        call.record("circuit_breaker.state", "OPEN");
        call.record("circuit_breaker.outcome", "not_permitted");
        tracing::info!(user_id = 7, "short-circuited");
        let fallback = tracing::info_span!("fallback", circuit_breaker.name = "orders");
        fallback.in_scope(|| tracing::info!("empty list"));
    });
    guard.shutdown_blocking().expect("shutdown");
    assert_eq!(guard_counters.snapshot().exported, 2);

    let spans = telemetry::file::read_spans(&path).expect("valid JSON array");
    let _ = std::fs::remove_file(&path);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let call = spans.iter().find(|s| s["name"] == "get_orders").unwrap();
    let fallback = spans.iter().find(|s| s["name"] == "fallback").unwrap();
    assert_eq!(call["localEndpoint"]["serviceName"], "user-service");
    assert_eq!(call["kind"], "CLIENT");
    assert_eq!(call["remoteEndpoint"]["serviceName"], "order-service");
    assert_eq!(call["tags"]["circuit_breaker.state"], "OPEN");
    assert_eq!(
        call["tags"]["error"],
        "circuit_breaker.outcome=not_permitted"
    );
    assert!(call.get("parentId").is_none());
    assert_eq!(fallback["parentId"], call["id"]);
    assert_eq!(fallback["traceId"], call["traceId"]);
    let tags = call["tags"].as_object().unwrap();
    for noise in [
        "code.file.path",
        "code.line.number",
        "thread.id",
        "thread.name",
        "busy_ns",
        "idle_ns",
        "target",
    ] {
        assert!(!tags.contains_key(noise), "noise tag {noise}: {tags:?}");
    }
    let annotation = call["annotations"][0]["value"].as_str().unwrap();
    assert!(
        annotation.starts_with("short-circuited: {") && annotation.contains("\"user_id\":\"7\""),
        "{annotation}"
    );
}

#[test]
#[cfg(feature = "testing")] // `ExporterKind::InMemory`
fn in_memory_exporter_sees_spans_synchronously() {
    let memory = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let telemetry = telemetry::builder("svc")
        .ignore_env()
        .exporter(telemetry::ExporterKind::InMemory(memory.clone()))
        .build()
        .unwrap();
    tracing::subscriber::with_default(telemetry.subscriber(), || {
        tracing::info_span!("one").in_scope(|| {});
    });
    let spans = memory.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "one");
    assert_eq!(spans[0].instrumentation_scope.name(), "fusebox");
    assert_eq!(telemetry.counters().snapshot().exported, 1);
}

#[test]
fn file_exporter_file_is_valid_json_before_any_span() {
    let path = temp_file("empty");
    let telemetry = telemetry::builder("svc")
        .ignore_env()
        .file(&path)
        .build()
        .unwrap();
    assert_eq!(telemetry::file::read_spans(&path).unwrap().len(), 0);
    drop(telemetry);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_span_with_the_b3_debug_flag_maps_to_debug_true() {
    let mapper = ZipkinMapper::new("svc");
    let mut data = span(SpanKind::Server, SpanId::from(1), vec![], Status::Unset);
    let got = mapper.span(&data);
    assert!(got.get("debug").is_none(), "{got}");
    data.span_context = SpanContext::new(
        TraceId::from(TRACE),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::new(0x05),
        false,
        TraceState::default(),
    );
    assert_eq!(mapper.span(&data)["debug"], json!(true));
}

/// A B3 debug request through the real SERVER span, a child span and the file exporter: Zipkin
/// gets `"debug": true` on every span of the trace (and only then), whether the debug flag came
/// with ids or alone.
#[test]
fn b3_debug_requests_reach_zipkin_with_debug_true() {
    let ids = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1";
    let with_ids_d = format!("{ids}-d");
    let with_ids_1 = format!("{ids}-1");
    for (n, (incoming, debug, remote_parent)) in [
        (&[("b3", with_ids_d.as_str())][..], true, true),
        (
            &[
                ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
                ("x-b3-flags", "1"),
            ],
            true,
            true,
        ),
        (&[("b3", "d")], true, false),
        (&[("x-b3-flags", "1")], true, false),
        (&[("b3", with_ids_1.as_str())], false, true),
    ]
    .into_iter()
    .enumerate()
    {
        let path = temp_file(&format!("debug-{n}"));
        let telemetry = telemetry::builder("order-service")
            .ignore_env()
            .sampler(telemetry::SamplerKind::ParentBasedAlwaysOff)
            .file(&path)
            .build()
            .expect("build");
        let mut request = http::Request::new(());
        for (name, value) in incoming {
            request
                .headers_mut()
                .insert(*name, http::HeaderValue::from_str(value).unwrap());
        }
        let subscriber = telemetry.subscriber();
        let propagator = telemetry.propagator().clone();
        let guard = telemetry.into_guard();
        tracing::subscriber::with_default(subscriber, || {
            telemetry::server::server_span(&request, Some("/orders"), Some(&propagator))
                .in_scope(|| tracing::info_span!("load orders").in_scope(|| {}));
        });
        guard.shutdown_blocking().expect("shutdown");
        let spans = telemetry::file::read_spans(&path).expect("valid JSON array");
        let _ = std::fs::remove_file(&path);

        assert_eq!(spans.len(), 2, "{incoming:?}: {spans:#?}");
        for s in &spans {
            if debug {
                assert_eq!(s["debug"], json!(true), "{incoming:?}: {s}");
            } else {
                assert!(s.get("debug").is_none(), "{incoming:?}: {s}");
            }
            assert!(s["tags"].get("fusebox").is_none(), "{s}");
        }
        let server = spans.iter().find(|s| s["kind"] == "SERVER").unwrap();
        if remote_parent {
            assert_eq!(server["traceId"], "80f198ee56343ba864fe8b2a57d3eff7");
            assert_eq!(server["parentId"], "e457b5a2e4d86bd1");
        } else {
            assert!(server.get("parentId").is_none(), "a new root: {server}");
            assert_ne!(server["traceId"], "80f198ee56343ba864fe8b2a57d3eff7");
        }
    }
}
