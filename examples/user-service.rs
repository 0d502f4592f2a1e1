//! **user-service** of the course's demo: answers a user with their orders, fetched from
//! order-service through the circuit breaker `orders`.
//!
//! ```text
//! GET /users/{id}        {"user_id": "...", "name": "...", "orders": [...]}
//! GET /admin/breakers    [{"name": "orders", "state": "CLOSED", "transitions": [...]}]
//! GET /actuator/circuitbreakers, /actuator/circuitbreakerevents, /actuator/retries,
//!     /actuator/retryevents, /actuator/timelimiters, /actuator/timelimiterevents,
//!     /actuator/ratelimiters, /actuator/ratelimiterevents, /actuator/bulkheads,
//!     /actuator/bulkheadevents,
//!     /actuator/health, /actuator/prometheus   resilience4j-spring-boot3's endpoints
//!     (fusebox::observe::actuator)
//! POST /actuator/circuitbreakers/orders  {"updateState":"FORCE_OPEN"}  (enabled in this demo)
//! ```
//!
//! The call to order-service is the course's `OrderServiceClient.getOrders` guarded the way
//! Spring Cloud CircuitBreaker guards it, as two attributes:
//!
//! ```ignore
//! #[traced]
//! #[circuit_breaker(name = "orders", fallback = "empty_orders")]
//! async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError>
//! ```
//!
//! When order-service fails, hangs past the breaker's timeout, or the breaker is open, the
//! fallback answers an empty list, so `GET /users/{id}` still answers 200 with `"orders": []`.
//! The breaker's settings come from a config file: `FUSEBOX_CONFIG`, by default
//! `examples/config/fusebox.toml` (the course's values: 4 % failure rate over the last 2 calls,
//! 1 s open, 4 s timeout; `examples/config/application.yml` is the same in Spring's layout).
//!
//! ```text
//! ORDER_SERVICE_URL=http://127.0.0.1:8081 PORT=8080 cargo run --example user-service
//! curl -i http://127.0.0.1:8080/users/u1
//! ```
//!
//! Tracing: a SERVER span per request (fusebox's tower layer), a span for `get_orders` with the
//! breaker's name, state and outcome (and a `fallback` child when the fallback runs), a CLIENT
//! span for the HTTP call with the trace headers injected. Each response carries the W3C
//! `traceresponse` header, so callers can look the trace up in Zipkin. Log lines carry
//! `[user-service,traceId,spanId]`; breaker state transitions are logged too.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use fusebox::observe::Monitor;
use fusebox::observe::actuator::Actuator;
use fusebox::telemetry::{self, client, server::HttpServerLayer};
use fusebox::{EventKind, Failure, Registry, circuit_breaker, traced};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// An order as order-service sends it (Spring's `ResponseOrder`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    product_id: String,
    qty: u32,
    unit_price: u32,
    total_price: u32,
    created_at: String,
    order_id: String,
}

/// The answer of `GET /users/{id}`.
#[derive(Debug, Serialize)]
struct User {
    user_id: String,
    name: String,
    orders: Vec<Order>,
}

/// Why a call to order-service failed.
#[derive(Debug)]
enum ClientError {
    /// No connection, a broken connection, an error status or an unreadable body.
    Http(reqwest::Error),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Http(e) => write!(f, "order-service: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        ClientError::Http(e)
    }
}

/// The client of order-service (the course's Feign `OrderServiceClient`).
#[derive(Debug)]
struct OrderServiceClient {
    http: reqwest::Client,
    /// e.g. `http://127.0.0.1:8081`, without a trailing slash.
    base_url: String,
}

impl OrderServiceClient {
    /// `GET {order-service}/order-service/{user_id}/orders`, guarded by the breaker `orders`.
    ///
    /// A 5xx answer, a transport error and a call slower than the breaker's `timeout` count as
    /// failures; the fallback answers for them and for calls the open breaker rejects.
    #[traced]
    #[circuit_breaker(name = "orders", fallback = "empty_orders")]
    async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> {
        let url = format!("{}/order-service/{user_id}/orders", self.base_url);
        // A CLIENT span with `peer.service = order-service`, trace headers injected.
        let response = client::send(self.http.get(url), "order-service").await?;
        Ok(response.error_for_status()?.json().await?)
    }

    /// The fallback: the user without orders (the course's `throwable -> new ArrayList<>()`).
    fn empty_orders(
        &self,
        user_id: &str,
        cause: Failure<ClientError>,
    ) -> Result<Vec<Order>, ClientError> {
        warn!(%user_id, %cause, "orders unavailable, answering without them");
        Ok(Vec::new())
    }
}

/// A state transition of the breaker, as `/admin/breakers` lists it.
#[derive(Debug, Clone, Serialize)]
struct Transition {
    from: String,
    to: String,
    /// Unix time in milliseconds.
    at_ms: u128,
}

/// Shared state of the handlers.
#[derive(Debug)]
struct App {
    orders: OrderServiceClient,
    transitions: Arc<Mutex<Vec<Transition>>>,
}

/// `GET /users/{id}`
async fn get_user(
    State(app): State<Arc<App>>,
    Path(user_id): Path<String>,
) -> Result<Json<User>, (StatusCode, String)> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if user_id.is_empty() || user_id.len() > 64 || !user_id.chars().all(valid) {
        return Err((
            StatusCode::BAD_REQUEST,
            "user ids are 1 to 64 of A-Z a-z 0-9 - _".to_owned(),
        ));
    }
    info!(%user_id, "Before call orders microservice");
    let orders = app
        .orders
        .get_orders(&user_id)
        .await
        // The fallback always answers; this is only reached if it is removed.
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
    info!(%user_id, count = orders.len(), "After called orders microservice");
    Ok(Json(User {
        name: format!("User {user_id}"),
        user_id,
        orders,
    }))
}

/// `GET /admin/breakers`: every breaker's name and state, with the transitions seen so far.
async fn breakers(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let transitions = app
        .transitions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let list: Vec<_> = Registry::global()
        .states()
        .into_iter()
        .map(|(name, state)| {
            let history: Vec<_> = if name == "orders" {
                transitions.clone()
            } else {
                Vec::new()
            };
            serde_json::json!({ "name": name, "state": state.as_str(), "transitions": history })
        })
        .collect();
    Json(serde_json::Value::Array(list))
}

/// Adds the W3C `traceresponse` header (Trace Context Level 2) naming the request's trace, so a
/// caller can find it in Zipkin: `traceresponse: 00-<traceId>-<spanId>-01`.
async fn trace_response(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some((trace_id, span_id)) = telemetry::current_trace_ids() {
        let value = format!("00-{trace_id}-{span_id}-01");
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert("traceresponse", value);
        }
    }
    response
}

/// Logs the breaker's state transitions and keeps them for `/admin/breakers`.
fn watch_breaker(name: &str, transitions: Arc<Mutex<Vec<Transition>>>) {
    let mut events = Registry::global().circuit_breaker(name).subscribe();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event.kind {
                EventKind::StateTransition { from, to } => {
                    info!("{event}");
                    let at_ms = event
                        .created_at
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or_default();
                    transitions
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Transition {
                            from: from.as_str().to_owned(),
                            to: to.as_str().to_owned(),
                            at_ms,
                        });
                }
                _ => tracing::debug!("{event}"),
            }
        }
    });
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

/// The port from `PORT` or the first argument (default 8080; 0 picks a free one).
fn port() -> Result<u16, String> {
    let value = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .unwrap_or_else(|| "8080".to_owned());
    value
        .parse()
        .map_err(|_| format!("invalid port {value:?} (PORT or first argument)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = telemetry::init("user-service")?;

    // The breakers' settings: the course's config file, installed as the global registry that
    // `#[circuit_breaker]` uses.
    let config = std::env::var("FUSEBOX_CONFIG")
        .unwrap_or_else(|_| "examples/config/fusebox.toml".to_owned());
    let registry = Registry::from_file(&config).map_err(|e| format!("{config}: {e}"))?;
    Registry::set_global(registry).map_err(|_| "the global registry was already in use")?;
    let transitions = Arc::new(Mutex::new(Vec::new()));
    watch_breaker("orders", transitions.clone());

    // What operators see, as under Spring Boot: Resilience4j's metrics with the registry-wide
    // `application` tag the official Grafana dashboard selects on, and `orders` in the
    // `circuitBreakers` health component (`register_health_indicator = true` in the config file;
    // OPEN reports CIRCUIT_OPEN, the service stays UP).
    let monitor = Monitor::builder(Registry::global())
        .tag("application", "user-service")
        .build()?;
    // POST /actuator/circuitbreakers/{name} (force-open, disable, close by hand) is OFF by
    // default: it changes production behaviour, so a service turns it on only behind
    // authentication. The demo turns it on so that you can try it with curl.
    let actuator = Actuator::new(monitor).allow_state_changes(true).router();

    let order_service =
        std::env::var("ORDER_SERVICE_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".to_owned());
    let base_url = reqwest::Url::parse(&order_service)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        .map(|_| order_service.trim_end_matches('/').to_owned())
        .ok_or_else(|| format!("ORDER_SERVICE_URL: not an http URL: {order_service:?}"))?;
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .build()?;
    let app = Arc::new(App {
        orders: OrderServiceClient { http, base_url },
        transitions,
    });

    let router = Router::new()
        .route("/users/{id}", get(get_user))
        .route("/admin/breakers", get(breakers))
        .with_state(app)
        .layer(middleware::from_fn(trace_response))
        // Outermost: one SERVER span per request, named after the route (`GET /users/{id}`).
        .layer(
            HttpServerLayer::new()
                .route_from(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
        // Merged after the layers: scrapes and probes are not traced (one trace per second of
        // Prometheus scrapes would bury the requests in Zipkin).
        .merge(actuator);

    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port()?))).await?;
    let addr = listener.local_addr()?;
    println!("LISTENING http://{addr}");
    info!(%addr, %order_service, %config, "user-service started");
    info!(
        "actuator: http://{addr}/actuator/circuitbreakers, /actuator/circuitbreakerevents, \
         /actuator/retries, /actuator/retryevents, /actuator/timelimiters, \
         /actuator/timelimiterevents, /actuator/ratelimiters, /actuator/ratelimiterevents, \
         /actuator/bulkheads, /actuator/bulkheadevents, /actuator/health, /actuator/prometheus"
    );

    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!("user-service stopped");
    telemetry.shutdown().await?;
    Ok(())
}
