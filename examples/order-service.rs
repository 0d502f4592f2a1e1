//! **order-service** of the course's demo: the service that user-service calls through a circuit
//! breaker.
//!
//! ```text
//! GET  /order-service/{user_id}/orders   the user's orders, as JSON (Spring's ResponseOrder)
//! POST /admin/fault                      {"mode":"ok"} | {"mode":"fail"} | {"mode":"delay","delay_ms":5000}
//! GET  /admin/stats                      {"orders_requests": N, "fault": {...}}
//! GET  /actuator/health, /actuator/prometheus, ...   the actuator endpoints (read-only)
//! ```
//!
//! Fault injection makes it misbehave on purpose: `fail` answers 500, `delay` answers after
//! `delay_ms` (longer than the breaker's 4 s timeout, it looks like a hang to user-service). The
//! starting mode comes from `ORDER_FAULT` (`ok`, `fail` or `delay:5000`). `/admin/stats` counts the
//! order requests that arrived, so a test can prove that none did while the breaker was open.
//!
//! Every request gets a SERVER span from fusebox's tower layer, continuing the caller's trace
//! (W3C `traceparent` or B3 headers), and log lines carry `[order-service,traceId,spanId]`.
//!
//! ```text
//! PORT=8081 cargo run --example order-service          # PORT=0 picks a free port
//! curl http://127.0.0.1:8081/order-service/u1/orders
//! ```
//!
//! On startup it prints `LISTENING http://127.0.0.1:<port>` on stdout; SIGTERM or Ctrl-C stops it
//! gracefully and flushes the spans. Tracing is configured by the standard `OTEL_*` variables
//! (see `fusebox::telemetry::config`), e.g. `OTEL_EXPORTER_ZIPKIN_ENDPOINT`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use fusebox::Registry;
use fusebox::observe::Monitor;
use fusebox::observe::actuator::Actuator;
use fusebox::telemetry::{self, server::HttpServerLayer};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// One order, with the field names of the course's Spring `ResponseOrder`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    product_id: String,
    qty: u32,
    unit_price: u32,
    total_price: u32,
    created_at: String,
    order_id: String,
}

/// How order-service answers order requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
enum Fault {
    /// Answer normally.
    Ok,
    /// Answer 500 Internal Server Error.
    Fail,
    /// Answer after `delay_ms` milliseconds.
    Delay { delay_ms: u64 },
}

impl std::str::FromStr for Fault {
    type Err = String;

    /// `ok`, `fail` or `delay:<ms>` (the `ORDER_FAULT` syntax).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "ok" => Ok(Fault::Ok),
            "fail" => Ok(Fault::Fail),
            other => other
                .strip_prefix("delay:")
                .and_then(|ms| ms.parse().ok())
                .map(|delay_ms| Fault::Delay { delay_ms })
                .ok_or_else(|| format!("expected ok, fail or delay:<ms>, got {other:?}")),
        }
    }
}

/// Shared state: the current fault and the request counter.
#[derive(Debug)]
struct App {
    fault: Mutex<Fault>,
    orders_requests: AtomicU64,
}

impl App {
    fn fault(&self) -> Fault {
        // A poisoned lock still holds a valid `Fault` (it is `Copy`).
        *self.fault.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(|e| e.into_inner()) = fault;
    }
}

/// `GET /order-service/{user_id}/orders`
async fn get_orders(
    State(app): State<Arc<App>>,
    Path(user_id): Path<String>,
) -> Result<Json<Vec<Order>>, StatusCode> {
    let received = app.orders_requests.fetch_add(1, Ordering::SeqCst) + 1;
    match app.fault() {
        Fault::Ok => {}
        Fault::Fail => {
            warn!(%user_id, received, "fault injection: answering 500");
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Fault::Delay { delay_ms } => {
            warn!(%user_id, received, delay_ms, "fault injection: answering late");
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
    }
    let orders = orders_of(&user_id);
    info!(%user_id, received, count = orders.len(), "orders found");
    Ok(Json(orders))
}

/// A fixed pair of orders per user, so answers are easy to check.
fn orders_of(user_id: &str) -> Vec<Order> {
    [("CATALOG-001", 2, 1500), ("CATALOG-002", 1, 900)]
        .into_iter()
        .enumerate()
        .map(|(i, (product, qty, price))| Order {
            product_id: product.to_owned(),
            qty,
            unit_price: price,
            total_price: qty * price,
            created_at: format!("2026-05-0{}T10:00:00Z", i + 1),
            order_id: format!("{user_id}-order-{}", i + 1),
        })
        .collect()
}

/// `POST /admin/fault`
async fn set_fault(State(app): State<Arc<App>>, Json(fault): Json<Fault>) -> Json<Fault> {
    app.set_fault(fault);
    info!(?fault, "fault mode changed");
    Json(fault)
}

/// `GET /admin/stats`
async fn stats(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "orders_requests": app.orders_requests.load(Ordering::SeqCst),
        "fault": app.fault(),
    }))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The port from `PORT` or the first argument (default 8081; 0 picks a free one).
fn port() -> Result<u16, String> {
    let value = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .unwrap_or_else(|| "8081".to_owned());
    value
        .parse()
        .map_err(|_| format!("invalid port {value:?} (PORT or first argument)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = telemetry::init("order-service")?;

    let fault: Fault = std::env::var("ORDER_FAULT")
        .unwrap_or_default()
        .parse()
        .map_err(|e| format!("ORDER_FAULT: {e}"))?;
    let app = Arc::new(App {
        fault: Mutex::new(fault),
        orders_requests: AtomicU64::new(0),
    });

    let router = Router::new()
        .route("/order-service/{user_id}/orders", get(get_orders))
        .route("/admin/fault", post(set_fault))
        .route("/admin/stats", get(stats))
        .with_state(app)
        // One SERVER span per request, named after the route (`GET /order-service/{user_id}/orders`).
        .layer(
            HttpServerLayer::new()
                .route_from(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
        // The same endpoints as user-service, untraced. order-service guards no call, so its
        // registry is empty: `/actuator/health` is what a Kubernetes probe of it reads. Read-only
        // (state changes are off by default: they change production behaviour).
        .merge(Actuator::new(Monitor::new(&Registry::new())).router());

    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port()?))).await?;
    let addr = listener.local_addr()?;
    println!("LISTENING http://{addr}");
    info!(%addr, ?fault, "order-service started");

    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!("order-service stopped");
    telemetry.shutdown().await?;
    Ok(())
}
