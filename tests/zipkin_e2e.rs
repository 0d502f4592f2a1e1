//! End to end against a real Zipkin server (`scripts/zipkin.sh start` prints `ZIPKIN_URL`).
//!
//! Two services in one process, each with its own pipeline and subscriber on its own thread:
//! user-service (SERVER span `GET /users/{id}`, CLIENT calls to order-service through
//! `telemetry::client::send`, a short-circuited breaker span with its `fallback` child) and
//! order-service (an axum app behind `telemetry::server::HttpServerLayer`). Checks through
//! Zipkin's API that both services, the parent/child links across the hop, the error span and
//! the dependency link user-service → order-service are stored.
//!
//! Without `ZIPKIN_URL` the tests print `SKIPPED` and pass.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::MatchedPath;
use axum::http::StatusCode;
use fusebox::telemetry::{self, BatchSettings, Telemetry, client, server::HttpServerLayer};
use opentelemetry::trace::TraceContextExt;
use serde_json::Value;
use tracing_opentelemetry::OpenTelemetrySpanExt;

fn zipkin_url(test: &str) -> Option<String> {
    match std::env::var("ZIPKIN_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            println!(
                "SKIPPED {test}: no Zipkin (set ZIPKIN_URL or run `scripts/zipkin.sh start`; \
                 it needs Java 17+ and Maven)"
            );
            None
        }
    }
}

fn pipeline(service: &str, collector: &str) -> Telemetry {
    telemetry::builder(service)
        .ignore_env()
        .endpoint(format!("{collector}/api/v2/spans"))
        .export_timeout(Duration::from_secs(5))
        .shutdown_timeout(Duration::from_secs(5))
        .batch_config(BatchSettings::default().with_scheduled_delay(Duration::from_millis(100)))
        .build()
        .expect("pipeline")
}

/// Runs order-service on its own thread (own runtime, own default subscriber).
fn start_order_service(
    t: &Telemetry,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    thread::JoinHandle<()>,
) {
    let subscriber = t.subscriber();
    let propagator = t.propagator().clone();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = thread::spawn(move || {
        let _default = tracing::subscriber::set_default(subscriber);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new()
                .route(
                    "/order-service/{user_id}/orders",
                    axum::routing::get(|| async {
                        tracing::info!("loading orders");
                        "[]"
                    }),
                )
                .route(
                    "/order-service/{user_id}/fail",
                    axum::routing::get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "down") }),
                )
                .layer(
                    HttpServerLayer::new()
                        .with_propagator(propagator)
                        .route_from(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("order-service up");
    (addr, stop_tx, handle)
}

fn get_json(url: &str) -> Option<(u16, Value)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        Some((status, body))
    })
}

/// Polls `url` until `ok(body)` holds (Zipkin answers 202 before it stores spans).
fn poll(url: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = None;
    while Instant::now() < deadline {
        if let Some((200, body)) = get_json(url) {
            if ok(&body) {
                return body;
            }
            last = Some(body);
        }
        thread::sleep(Duration::from_millis(200));
    }
    panic!("{what}: not found at {url} within 30 s; last answer: {last:?}");
}

#[test]
fn two_services_one_trace_in_zipkin() {
    let Some(zipkin) = zipkin_url("two_services_one_trace_in_zipkin") else {
        return;
    };
    let user = pipeline("user-service", &zipkin);
    let order = pipeline("order-service", &zipkin);
    let (addr, stop_order, order_thread) = start_order_service(&order);
    let user_subscriber = user.subscriber();
    let user_counters = user.counters().clone();
    let order_counters = order.counters().clone();
    let user_guard = user.into_guard();
    let order_guard = order.into_guard();

    let trace_id = {
        let _default = tracing::subscriber::set_default(user_subscriber);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let request = tracing::info_span!(
                "HTTP request",
                otel.name = "GET /users/{id}",
                otel.kind = "server",
                http.route = "/users/{id}"
            );
            let trace_id = request.context().span().span_context().trace_id();
            async {
                let http = reqwest::Client::new();
                let ok = client::send(
                    http.get(format!("http://{addr}/order-service/7/orders")),
                    "order-service",
                )
                .await
                .expect("order-service answers");
                assert_eq!(ok.status(), 200);
                let failed = client::send(
                    http.get(format!("http://{addr}/order-service/7/fail")),
                    "order-service",
                )
                .await
                .expect("order-service answers");
                assert_eq!(failed.status(), 500);
                // What #[circuit_breaker] records once the breaker is open.
                let breaker = tracing::info_span!(
                    "get_orders",
                    circuit_breaker.name = "orders",
                    circuit_breaker.state = "OPEN",
                    circuit_breaker.outcome = "not_permitted"
                );
                breaker.in_scope(|| {
                    tracing::info_span!("fallback", circuit_breaker.name = "orders").in_scope(
                        || {
                            tracing::info!("empty orders");
                        },
                    );
                });
            }
            .instrument_in(&request)
            .await;
            trace_id
        })
    };
    let _ = stop_order.send(());
    order_thread.join().expect("order-service thread");
    user_guard.shutdown_blocking().expect("user-service flush");
    order_guard
        .shutdown_blocking()
        .expect("order-service flush");
    let (u, o) = (user_counters.snapshot(), order_counters.snapshot());
    println!("user-service export: {u:?}; order-service export: {o:?}");
    assert_eq!((u.failed, u.dropped, o.failed, o.dropped), (0, 0, 0, 0));

    let trace_hex = trace_id.to_string();
    let trace = poll(
        &format!("{zipkin}/api/v2/trace/{trace_hex}"),
        "the trace",
        |b| b.as_array().is_some_and(|spans| spans.len() >= 7),
    );
    let spans = trace.as_array().unwrap();
    let by = |service: &str, kind: Option<&str>, name_part: &str| -> Vec<&Value> {
        spans
            .iter()
            .filter(|s| s["localEndpoint"]["serviceName"] == service)
            .filter(|s| kind.is_none_or(|k| s["kind"] == k))
            .filter(|s| s["name"].as_str().is_some_and(|n| n.contains(name_part)))
            .collect()
    };
    let root = by("user-service", Some("SERVER"), "get /users/{id}");
    assert_eq!(root.len(), 1, "{spans:#?}");
    let clients = by("user-service", Some("CLIENT"), "get");
    assert_eq!(clients.len(), 2, "{spans:#?}");
    let servers = by("order-service", Some("SERVER"), "/order-service/{user_id}/");
    assert_eq!(servers.len(), 2, "{spans:#?}");
    for client in &clients {
        assert_eq!(client["parentId"], root[0]["id"]);
        assert_eq!(client["remoteEndpoint"]["serviceName"], "order-service");
        let server = servers
            .iter()
            .find(|s| s["parentId"] == client["id"])
            .expect("each client span has the order-service SERVER span as child");
        assert_eq!(server["traceId"], client["traceId"]);
    }
    let failed_client = clients
        .iter()
        .find(|c| c["tags"]["http.response.status_code"] == "500")
        .unwrap();
    assert_eq!(failed_client["tags"]["error"], "HTTP 500");
    let failed_server = servers
        .iter()
        .find(|s| s["name"].as_str().unwrap().ends_with("/fail"))
        .unwrap();
    assert_eq!(failed_server["tags"]["error"], "HTTP 500");
    assert_eq!(
        failed_server["tags"]["http.route"],
        "/order-service/{user_id}/fail"
    );
    let breaker = by("user-service", None, "get_orders");
    assert_eq!(
        breaker[0]["tags"]["error"],
        "circuit_breaker.outcome=not_permitted"
    );
    let fallback = by("user-service", None, "fallback");
    assert_eq!(fallback[0]["parentId"], breaker[0]["id"]);

    poll(&format!("{zipkin}/api/v2/services"), "both services", |b| {
        let names: Vec<&str> = b
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        names.contains(&"user-service") && names.contains(&"order-service")
    });
    let end_ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    let deps = poll(
        &format!("{zipkin}/api/v2/dependencies?endTs={end_ts}&lookback=3600000"),
        "the dependency link",
        |b| {
            b.as_array()
                .into_iter()
                .flatten()
                .any(|l| l["parent"] == "user-service" && l["child"] == "order-service")
        },
    );
    let link = deps
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["parent"] == "user-service" && l["child"] == "order-service")
        .unwrap();
    assert!(link["callCount"].as_u64().unwrap() >= 2, "{link}");
    assert!(link["errorCount"].as_u64().unwrap() >= 1, "{link}");
}

/// A TCP proxy in front of Zipkin that can be switched to "black hole" mid-run.
struct Proxy {
    addr: SocketAddr,
    blocked: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let blocked = Arc::new(AtomicBool::new(false));
        let flag = blocked.clone();
        thread::spawn(move || {
            let mut held = Vec::new();
            for client in listener.incoming().flatten() {
                if flag.load(Ordering::SeqCst) {
                    held.push(client); // accept, never answer
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                thread::spawn(move || pipe(client, server));
                thread::spawn(move || pipe(s2, c2));
            }
        });
        Self { addr, blocked }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

#[test]
fn collector_blocked_mid_run_does_not_hurt_calls() {
    let Some(zipkin) = zipkin_url("collector_blocked_mid_run_does_not_hurt_calls") else {
        return;
    };
    let upstream: SocketAddr = zipkin
        .trim_start_matches("http://")
        .parse()
        .expect("ZIPKIN_URL is http://127.0.0.1:PORT");
    let proxy = Proxy::start(upstream);
    let t = telemetry::builder("user-service")
        .ignore_env()
        .endpoint(format!("http://{}/api/v2/spans", proxy.addr))
        .export_timeout(Duration::from_secs(30))
        .shutdown_timeout(Duration::from_secs(1))
        .batch_config(
            BatchSettings::default()
                .with_scheduled_delay(Duration::from_millis(50))
                .with_max_queue_size(256),
        )
        .build()
        .unwrap();
    let counters = t.counters().clone();
    let dispatch = tracing::Dispatch::new(t.subscriber());
    let guard = t.into_guard();
    let run = |n: usize| {
        let began = Instant::now();
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..n {
                tracing::info_span!(
                    "call",
                    otel.kind = "client",
                    peer.service = "order-service",
                    i
                )
                .in_scope(|| {});
            }
        });
        began.elapsed()
    };
    run(10);
    guard.force_flush().expect("flush through the proxy");
    assert_eq!(counters.snapshot().exported, 10);

    proxy.blocked.store(true, Ordering::SeqCst);
    let took = run(2_000);
    assert!(took < Duration::from_secs(3), "calls slowed down: {took:?}");
    let began = Instant::now();
    let _ = guard.shutdown_blocking();
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "shutdown took {:?}",
        began.elapsed()
    );
    let stats = counters.snapshot();
    println!("after blocking the collector: {stats:?}");
    assert_eq!(stats.exported, 10);
    assert!(stats.dropped + stats.failed > 0, "{stats:?}");
}

/// Small helpers so the test reads top-down.
trait InstrumentIn: std::future::Future + Sized {
    fn instrument_in(self, span: &tracing::Span) -> tracing::instrument::Instrumented<Self> {
        tracing::Instrument::instrument(self, span.clone())
    }
}
impl<F: std::future::Future> InstrumentIn for F {}
