//! Interop with `axum-tracing-opentelemetry`: a service that uses its `OtelAxumLayer` (which
//! extracts with OpenTelemetry's *global* propagator) continues the traces fusebox clients
//! send — in B3 single, B3 multi or W3C — once fusebox's propagator is the global one, as
//! `fusebox::telemetry::init` makes it. Its spans flow through fusebox's pipeline too.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use axum_tracing_opentelemetry::middleware::OtelAxumLayer;
use fusebox::telemetry::{self, ExporterKind};
use http::Request;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tower::ServiceExt;

const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const PARENT: &str = "e457b5a2e4d86bd1";

fn server_span_parent(headers: &[(&str, String)]) -> (String, String) {
    let memory = InMemorySpanExporter::default();
    let pipeline = telemetry::builder("order-service")
        .ignore_env()
        .exporter(ExporterKind::InMemory(memory.clone()))
        .build()
        .expect("pipeline");
    opentelemetry::global::set_text_map_propagator(pipeline.propagator().clone());
    let app = Router::new()
        .route("/orders", get(|| async { "[]" }))
        .layer(OtelAxumLayer::default());
    let mut request = Request::get("/orders");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request.body(Body::empty()).expect("request");
    tracing::subscriber::with_default(pipeline.subscriber(), || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(async {
                let response = app.oneshot(request).await.expect("response");
                assert!(response.status().is_success());
            });
    });
    let spans = memory.get_finished_spans().expect("spans");
    let server = spans
        .iter()
        .find(|s| s.span_kind == opentelemetry::trace::SpanKind::Server)
        .unwrap_or_else(|| panic!("a SERVER span among {spans:#?}"));
    (
        server.span_context.trace_id().to_string(),
        server.parent_span_id.to_string(),
    )
}

#[test]
fn otel_axum_layer_continues_b3_and_w3c_traces_with_fusebox_propagation() {
    let cases: [(&str, Vec<(&str, String)>); 3] = [
        ("b3 single", vec![("b3", format!("{TRACE}-{PARENT}-1"))]),
        (
            "b3 multi",
            vec![
                ("x-b3-traceid", TRACE.to_owned()),
                ("x-b3-spanid", PARENT.to_owned()),
                ("x-b3-sampled", "1".to_owned()),
            ],
        ),
        (
            "w3c",
            vec![("traceparent", format!("00-{TRACE}-{PARENT}-01"))],
        ),
    ];
    for (name, headers) in cases {
        let (trace, parent) = server_span_parent(&headers);
        assert_eq!(trace, TRACE, "{name}: same trace id");
        assert_eq!(parent, PARENT, "{name}: the caller's span is the parent");
    }
}
