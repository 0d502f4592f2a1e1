//! The tower server layer, a two-hop trace in one process with in-memory exporters (two
//! pipelines, inject on one side, extract on the other), and the Sleuth log prefix.
#![cfg(feature = "telemetry")]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use fusebox_runtime::telemetry::{self, ExporterKind, Telemetry, log::SleuthFormat, propagation};
use http::{HeaderMap, Request, Response, StatusCode};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tower_layer::Layer;
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

fn memory_pipeline(service: &str) -> (Telemetry, InMemorySpanExporter) {
    let memory = InMemorySpanExporter::default();
    let t = telemetry::builder(service)
        .ignore_env()
        .exporter(ExporterKind::InMemory(memory.clone()))
        .build()
        .unwrap();
    (t, memory)
}

/// A handler answering with a fixed status and logging inside the request span.
#[derive(Clone)]
struct Handler(StatusCode);

impl Service<Request<()>> for Handler {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<()>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<()>) -> Self::Future {
        let status = self.0;
        Box::pin(async move {
            tracing::info!("handling");
            let mut response = Response::new(());
            *response.status_mut() = status;
            Ok(response)
        })
    }
}

#[derive(Clone)]
struct Route(&'static str);

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn two_hops_share_the_trace_and_link_server_to_client() {
    let (user, user_spans) = memory_pipeline("user-service");
    let (order, order_spans) = memory_pipeline("order-service");

    // user-service: a CLIENT span, its context injected into the request headers.
    let mut headers = HeaderMap::new();
    tracing::subscriber::with_default(user.subscriber(), || {
        let url = reqwest::Url::parse("http://127.0.0.1:8082/order-service/7/orders").unwrap();
        let span = telemetry::client::client_span("order-service", &http::Method::GET, &url);
        propagation::inject_with(user.propagator(), &span, &mut headers);
        span.in_scope(|| {});
    });
    assert!(headers.contains_key("traceparent") && headers.contains_key("x-b3-traceid"));

    // order-service: the server layer extracts it; on another thread, as another process would.
    let order_subscriber = order.subscriber();
    let propagator = order.propagator().clone();
    std::thread::spawn(move || {
        tracing::subscriber::with_default(order_subscriber, || {
            let mut service = telemetry::server::HttpServerLayer::new()
                .with_propagator(propagator)
                .route_from(|ext| ext.get::<Route>().map(|r| r.0))
                .layer(Handler(StatusCode::OK));
            let mut req = Request::get("/order-service/7/orders").body(()).unwrap();
            *req.headers_mut() = headers;
            req.extensions_mut()
                .insert(Route("/order-service/{user_id}/orders"));
            let response = block_on(service.call(req)).unwrap();
            assert_eq!(response.status(), 200);
        });
    })
    .join()
    .unwrap();

    let client = user_spans.get_finished_spans().unwrap().remove(0);
    let server = order_spans.get_finished_spans().unwrap().remove(0);
    assert_eq!(client.span_kind, SpanKind::Client);
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.name, "GET /order-service/{user_id}/orders");
    assert_eq!(
        server.span_context.trace_id(),
        client.span_context.trace_id()
    );
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert!(server.parent_span_is_remote);
    let attr = |key: &str| {
        server
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("http.request.method").as_deref(), Some("GET"));
    assert_eq!(attr("url.path").as_deref(), Some("/order-service/7/orders"));
    assert_eq!(
        attr("http.route").as_deref(),
        Some("/order-service/{user_id}/orders")
    );
    assert_eq!(attr("http.response.status_code").as_deref(), Some("200"));
    assert_eq!(server.status, Status::Unset);
    assert_eq!(
        server.events.len(),
        1,
        "the handler's log line is a span event"
    );
}

#[test]
fn server_5xx_is_an_error_4xx_is_not_and_no_route_means_method_only() {
    let (order, spans) = memory_pipeline("order-service");
    tracing::subscriber::with_default(order.subscriber(), || {
        for status in [StatusCode::SERVICE_UNAVAILABLE, StatusCode::NOT_FOUND] {
            let mut service = telemetry::server::HttpServerLayer::new()
                .with_propagator(order.propagator().clone())
                .layer(Handler(status));
            let req = Request::post("/x").body(()).unwrap();
            block_on(service.call(req)).unwrap();
        }
    });
    let spans = spans.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].name, "POST");
    assert_eq!(spans[0].status, Status::error("HTTP 503"));
    assert_eq!(spans[1].status, Status::Unset);
    // No incoming context: a new root.
    assert_eq!(
        spans[0].parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn log_lines_carry_service_trace_and_span_ids() {
    let (t, _spans) = memory_pipeline("user-service");
    let buffer = Buffer::default();
    let format = SleuthFormat::new(
        "user-service",
        tracing_subscriber::fmt::format::Format::default().without_time(),
    );
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .event_format(format.clone()),
        )
        .with(t.otel_layer());
    let dispatch = tracing::Dispatch::new(subscriber);
    format.attach(&dispatch);
    let (trace, span_id) = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("outside");
        let span = tracing::info_span!("get_user");
        let _g = span.enter();
        tracing::info!("inside");
        let cx = span.context();
        let otel = cx.span();
        (
            otel.span_context().trace_id(),
            otel.span_context().span_id(),
        )
    });
    let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("[user-service,,] "), "{out}");
    assert!(
        lines[1].starts_with(&format!("[user-service,{trace},{span_id}] ")),
        "{out}"
    );
    assert!(lines[1].contains("inside"));
}

#[test]
fn current_trace_ids_name_the_current_span() {
    let (user, _memory) = memory_pipeline("user-service");
    assert_eq!(fusebox_runtime::telemetry::current_trace_ids(), None);
    tracing::subscriber::with_default(user.subscriber(), || {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        let (trace, span_id) =
            fusebox_runtime::telemetry::current_trace_ids().expect("inside a sampled span");
        assert_eq!(trace.len(), 32);
        assert_eq!(span_id.len(), 16);
        assert!(trace.chars().all(|c| c.is_ascii_hexdigit()));
    });
}

/// A handler that never answers (the client will give up).
#[derive(Clone)]
struct Hang;

impl Service<Request<()>> for Hang {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<()>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<()>) -> Self::Future {
        Box::pin(std::future::pending())
    }
}

#[test]
fn a_server_span_dropped_before_its_response_is_an_error() {
    let (order, spans) = memory_pipeline("order-service");
    tracing::subscriber::with_default(order.subscriber(), || {
        let mut service = telemetry::server::HttpServerLayer::new()
            .with_propagator(order.propagator().clone())
            .layer(Hang);
        let future = service.call(Request::get("/slow").body(()).unwrap());
        // The connection closes: the server drops the handler's future after a poll.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let dropped = rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(5), future).await
        });
        assert!(dropped.is_err());
    });
    let spans = spans.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        spans[0].status,
        Status::error("cancelled: the request was dropped before a response")
    );
}

#[test]
fn a_client_call_cancelled_by_a_time_limit_is_an_error() {
    let (user, spans) = memory_pipeline("user-service");
    // A server that accepts and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/orders", listener.local_addr().unwrap());
    tracing::subscriber::with_default(user.subscriber(), || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let http = reqwest::Client::new();
            let call = telemetry::client::send(http.get(&url), "order-service");
            let cut = tokio::time::timeout(std::time::Duration::from_millis(50), call).await;
            assert!(cut.is_err(), "the call was cut by the time limit");
        });
    });
    drop(listener);
    let spans = spans.get_finished_spans().unwrap();
    let client = spans
        .iter()
        .find(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
        .expect("a CLIENT span");
    assert_eq!(
        client.status,
        Status::error("cancelled before the response arrived")
    );
}

/// `TracingMiddleware` (feature `reqwest-middleware`) inside a `ClientWithMiddleware`: a CLIENT
/// span for `peer.service`, the trace headers on the wire, and a 503 answer marking the span.
#[test]
#[cfg(feature = "reqwest-middleware")]
fn tracing_middleware_opens_a_client_span_and_injects_the_headers() {
    use std::io::{BufRead, BufReader, Write};

    let (user, spans) = memory_pipeline("user-service");
    // A server that records the request head and answers 503.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/orders/7?page=2", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            head.push(line.trim().to_ascii_lowercase());
        }
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        head
    });

    let status = tracing::subscriber::with_default(user.subscriber(), || {
        block_on_io(async {
            let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                .with(telemetry::client::TracingMiddleware::new("order-service"))
                .build();
            client.get(&url).send().await.unwrap().status()
        })
    });
    assert_eq!(status, 503);
    let head = server.join().unwrap();

    let spans = spans.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let client = &spans[0];
    assert_eq!(client.span_kind, SpanKind::Client);
    assert_eq!(client.name, "GET");
    assert_eq!(client.status, Status::error("HTTP 503"));
    let attr = |key: &str| {
        client
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("peer.service").as_deref(), Some("order-service"));
    assert_eq!(attr("http.response.status_code").as_deref(), Some("503"));
    assert!(
        attr("url.full").is_some_and(|u| u.ends_with("/orders/7")),
        "{:?}",
        attr("url.full")
    );
    let trace_id = client.span_context.trace_id().to_string();
    let span_id = client.span_context.span_id().to_string();
    assert!(
        head.contains(&format!("traceparent: 00-{trace_id}-{span_id}-01")),
        "{head:?}"
    );
    assert!(
        head.contains(&format!("x-b3-traceid: {trace_id}")),
        "{head:?}"
    );
    assert!(
        head.contains(&format!("x-b3-spanid: {span_id}")),
        "{head:?}"
    );
}

#[cfg(feature = "reqwest-middleware")]
fn block_on_io<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
