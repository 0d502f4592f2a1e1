//! The `/actuator/*` endpoints of resilience4j-spring-boot3 as an axum [`Router`] (feature
//! `actuator`): same paths, same JSON, same status codes, so runbooks, probes and scrapers
//! written for a Spring service keep working.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /actuator/circuitbreakers` | every breaker's details ([`CircuitBreakersResponse`]) |
//! | `GET /actuator/circuitbreakers/{name}` | one breaker's details ([`CircuitBreakerDetails`](super::CircuitBreakerDetails)); 404 if unknown. Resilience4j has no such read; fusebox adds it |
//! | `POST /actuator/circuitbreakers/{name}` | body `{"updateState":"CLOSE"\|"FORCE_OPEN"\|"DISABLE"}`: [`UpdateStateResponse`]. **Off** unless [`Actuator::allow_state_changes`] (405 then); a bad body is 400, a non-JSON content type 415, a body over [`Actuator::max_body_bytes`] 413. Creates the breaker if absent, as Resilience4j |
//! | `GET /actuator/circuitbreakerevents` | every breaker's buffered events, oldest first |
//! | `GET /actuator/circuitbreakerevents/{name}` | one breaker's events in buffer order; 404 if unknown (Resilience4j answers an empty list) |
//! | `GET /actuator/circuitbreakerevents/{name}/{eventType}` | filtered by type, any case; 400 for an unknown type |
//! | `GET /actuator/retries` | every retry's name ([`RetriesResponse`](super::RetriesResponse)) |
//! | `GET /actuator/retryevents[/{name}[/{eventType}]]` | retry events ([`RetryEventsResponse`](super::RetryEventsResponse)), as for breakers: all sorted by time; one retry's in buffer order (404 if unknown); by type, any case (400 for an unknown type) |
//! | `GET /actuator/timelimiters` | every time limiter's name ([`TimeLimitersResponse`](super::TimeLimitersResponse)) |
//! | `GET /actuator/timelimiterevents[/{name}[/{eventType}]]` | time limiter events ([`TimeLimiterEventsResponse`](super::TimeLimiterEventsResponse)), same rules |
//! | `GET /actuator/ratelimiters` | every rate limiter's name ([`RateLimitersResponse`](super::RateLimitersResponse)) |
//! | `GET /actuator/ratelimiterevents[/{name}[/{eventType}]]` | rate limiter events ([`RateLimiterEventsResponse`](super::RateLimiterEventsResponse)), same rules; only limiters with `subscribe_for_events` keep any, as in Spring |
//! | `GET /actuator/bulkheads` | every bulkhead's name ([`BulkheadsResponse`](super::BulkheadsResponse)) |
//! | `GET /actuator/bulkheadevents[/{name}[/{eventType}]]` | bulkhead events ([`BulkheadEventsResponse`](super::BulkheadEventsResponse)), same rules; CALL_PERMITTED and CALL_FINISHED only with [`MonitorBuilder::success_events`](super::MonitorBuilder::success_events) |
//! | `GET /actuator/health` | [`Health`](super::Health): `circuitBreakers`, `rateLimiters` (when the registry has rate limiters) and `ping`; 503 when `DOWN` or `OUT_OF_SERVICE` |
//! | `GET /actuator/health/{component}` | one component; 404 if unknown |
//! | `GET /actuator/prometheus` | [`Monitor::prometheus`] as `text/plain; version=0.0.4` |
//!
//! JSON answers are `application/vnd.spring-boot.actuator.v3+json` (Spring's default), or
//! `application/json` when the request accepts that and not the former. Errors are Spring's
//! shape, plus a `message` saying what is wrong (Spring Boot leaves it out by default):
//! `{"timestamp":"2026-03-14T14:20:44.123+00:00","status":404,"error":"Not Found","message":"…","path":"/actuator/…"}`.
//!
//! Every handler reads the breakers through their public API (short locks, never held across
//! anything slow), so serving these endpoints never blocks guarded calls.
//!
//! ```
//! use fusebox_runtime::Registry;
//! use fusebox_runtime::observe::Monitor;
//! use fusebox_runtime::observe::actuator::Actuator;
//!
//! let registry = Registry::new();
//! let app: axum::Router = Actuator::new(Monitor::new(&registry))
//!     .allow_state_changes(true) // lets operators force-open breakers by POST
//!     .router();
//! // axum::serve(listener, app) — or merge it into your own router.
//! # let _ = app;
//! ```

use super::bulkhead::Bulkheads;
use super::entries::{EntryEventsError, Watched};
use super::rate_limiter::RateLimiters;
use super::retry::Retries;
use super::time_limiter::TimeLimiters;
use super::{
    CircuitBreakersResponse, EventsError, Monitor, UpdateStateRequest, UpdateStateResponse,
    prometheus,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// The largest `POST` body read by default (a valid one is under 40 bytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024;

/// Spring Boot's actuator media type, answered unless the client asks for plain JSON.
pub const ACTUATOR_JSON: &str = "application/vnd.spring-boot.actuator.v3+json";

/// Builds the actuator [`Router`] over a [`Monitor`].
#[derive(Clone)]
pub struct Actuator {
    monitor: Monitor,
    allow_state_changes: bool,
    show_health_details: bool,
    max_body_bytes: usize,
}

impl fmt::Debug for Actuator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actuator")
            .field("allow_state_changes", &self.allow_state_changes)
            .field("show_health_details", &self.show_health_details)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Actuator {
    /// Endpoints over `monitor`: read-only, health with details.
    pub fn new(monitor: Monitor) -> Self {
        Actuator {
            monitor,
            allow_state_changes: false,
            show_health_details: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Whether `POST /actuator/circuitbreakers/{name}` may change breaker states (default: no,
    /// it changes production behaviour). Put the router behind authentication when it may.
    pub fn allow_state_changes(mut self, allow: bool) -> Self {
        self.allow_state_changes = allow;
        self
    }

    /// Whether `/actuator/health` shows its components (Spring's `show-details: always`, which
    /// Resilience4j setups use; the default here) or only the status (`never`).
    pub fn show_health_details(mut self, show: bool) -> Self {
        self.show_health_details = show;
        self
    }

    /// The largest `POST` body accepted; larger ones are answered 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The router, with every path under `/actuator`; merge it into your application's router
    /// or serve it on a management port.
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let limit = self.max_body_bytes;
        let router = Router::new()
            .route("/actuator/circuitbreakers", get(circuit_breakers))
            .route(
                "/actuator/circuitbreakers/{name}",
                get(circuit_breaker).post(update_state),
            )
            .route("/actuator/circuitbreakerevents", get(all_events))
            .route("/actuator/circuitbreakerevents/{name}", get(events_of))
            .route(
                "/actuator/circuitbreakerevents/{name}/{event_type}",
                get(events_of_type),
            )
            .route("/actuator/health", get(health));
        let router = entry_routes::<Retries>(router);
        let router = entry_routes::<TimeLimiters>(router);
        let router = entry_routes::<RateLimiters>(router);
        let router = entry_routes::<Bulkheads>(router);
        router
            .route("/actuator/health/{component}", get(health_component))
            .route("/actuator/prometheus", get(prometheus_text))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(Arc::new(self))
    }
}

type Shared = State<Arc<Actuator>>;

/// The JSON media type to answer `headers`' request with.
fn json_type(headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/json") && !accept.contains(ACTUATOR_JSON) {
        "application/json"
    } else {
        ACTUATOR_JSON
    }
}

fn json<T: Serialize>(status: StatusCode, headers: &HeaderMap, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(json_type(headers)),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not write the answer as JSON: {e}"),
            "",
        ),
    }
}

/// Spring's error body: `{"timestamp","status","error","message","path"}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    /// When, as Spring's `DefaultErrorAttributes` writes it (Jackson's `java.util.Date` format,
    /// UTC, milliseconds): `2026-03-14T14:20:44.123+00:00`.
    timestamp: String,
    status: u16,
    error: &'a str,
    message: String,
    path: &'a str,
}

fn error(status: StatusCode, message: impl Into<String>, path: &str) -> Response {
    let body = ErrorBody {
        timestamp: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00")
            .to_string(),
        status: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error"),
        message: message.into(),
        path,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

fn bad_path(rejection: &PathRejection, uri: &OriginalUri) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("invalid path segment: {}", rejection.body_text()),
        uri.path(),
    )
}

async fn circuit_breakers(State(a): Shared, headers: HeaderMap) -> Response {
    let body: CircuitBreakersResponse = a.monitor.circuit_breakers();
    json(StatusCode::OK, &headers, &body)
}

async fn circuit_breaker(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(name) = match name {
        Ok(name) => name,
        Err(rejection) => return bad_path(&rejection, &uri),
    };
    match a.monitor.circuit_breaker(&name) {
        Some(details) => json(StatusCode::OK, &headers, &details),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no circuit breaker is named '{name}'"),
            uri.path(),
        ),
    }
}

const UPDATE_STATE_FORM: &str = r#"{"updateState":"CLOSE"|"FORCE_OPEN"|"DISABLE"}"#;

async fn update_state(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let path = uri.path();
    if !a.allow_state_changes {
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "changing circuit breaker states over HTTP is switched off; enable it with \
             Actuator::allow_state_changes(true)",
            path,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let Path(name) = match name {
        Ok(name) => name,
        Err(rejection) => return bad_path(&rejection, &uri),
    };
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("");
        if !content_type.contains("json") {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be JSON (application/json), not '{content_type}'"),
                path,
            );
        }
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the body is larger than {} bytes; send {UPDATE_STATE_FORM}",
                    a.max_body_bytes
                )
            } else {
                format!("could not read the body: {}", rejection.body_text())
            };
            return error(status, message, path);
        }
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("the body is empty; send {UPDATE_STATE_FORM}"),
            path,
        );
    }
    let request: UpdateStateRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("invalid body ({e}); send {UPDATE_STATE_FORM}"),
                path,
            );
        }
    };
    match a.monitor.update_state(&name, request.update_state) {
        Ok(answer) => {
            let answer: UpdateStateResponse = answer;
            json(StatusCode::OK, &headers, &answer)
        }
        Err(illegal) => error(StatusCode::CONFLICT, illegal.to_string(), path),
    }
}

async fn all_events(State(a): Shared, headers: HeaderMap) -> Response {
    json(StatusCode::OK, &headers, &a.monitor.events())
}

fn events_answer(
    a: &Actuator,
    uri: &OriginalUri,
    headers: &HeaderMap,
    name: &str,
    event_type: Option<&str>,
) -> Response {
    match a.monitor.events_of(name, event_type) {
        Ok(events) => json(StatusCode::OK, headers, &events),
        Err(e @ EventsError::UnknownBreaker { .. }) => {
            error(StatusCode::NOT_FOUND, e.to_string(), uri.path())
        }
        Err(e @ EventsError::UnknownEventType { .. }) => {
            error(StatusCode::BAD_REQUEST, e.to_string(), uri.path())
        }
    }
}

async fn events_of(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    match name {
        Ok(Path(name)) => events_answer(&a, &uri, &headers, &name, None),
        Err(rejection) => bad_path(&rejection, &uri),
    }
}

async fn events_of_type(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    match params {
        Ok(Path((name, event_type))) => events_answer(&a, &uri, &headers, &name, Some(&event_type)),
        Err(rejection) => bad_path(&rejection, &uri),
    }
}

async fn health(State(a): Shared, headers: HeaderMap) -> Response {
    let health = a.monitor.health();
    let status = StatusCode::from_u16(health.status.http_status()).unwrap_or(StatusCode::OK);
    if a.show_health_details {
        json(status, &headers, &health)
    } else {
        json(status, &headers, &health.without_details())
    }
}

async fn health_component(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    component: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(component) = match component {
        Ok(component) => component,
        Err(rejection) => return bad_path(&rejection, &uri),
    };
    let health = a.monitor.health();
    match health.components.get(&component) {
        Some(found) => {
            let status = StatusCode::from_u16(found.status.http_status()).unwrap_or(StatusCode::OK);
            json(status, &headers, found)
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!(
                "no health component is named '{component}'; there are: {}",
                health
                    .components
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            uri.path(),
        ),
    }
}

/// The list and events routes of one [`Watched`] kind: `/actuator/{list}`,
/// `/actuator/{events}[/{name}[/{eventType}]]`.
fn entry_routes<W: Watched>(router: Router<Arc<Actuator>>) -> Router<Arc<Actuator>> {
    let events = format!("/actuator/{}", W::EVENTS_PATH);
    router
        .route(
            &format!("/actuator/{}", W::LIST_PATH),
            get(entry_names::<W>),
        )
        .route(&events, get(entry_events::<W>))
        .route(&format!("{events}/{{name}}"), get(entry_events_of::<W>))
        .route(
            &format!("{events}/{{name}}/{{event_type}}"),
            get(entry_events_of_type::<W>),
        )
}

async fn entry_names<W: Watched>(State(a): Shared, headers: HeaderMap) -> Response {
    json(StatusCode::OK, &headers, &W::watch(&a.monitor).names())
}

async fn entry_events<W: Watched>(State(a): Shared, headers: HeaderMap) -> Response {
    json(StatusCode::OK, &headers, &W::watch(&a.monitor).events())
}

fn entry_events_answer<W: Watched>(
    a: &Actuator,
    uri: &OriginalUri,
    headers: &HeaderMap,
    name: &str,
    event_type: Option<&str>,
) -> Response {
    match W::watch(&a.monitor).events_of(name, event_type) {
        Ok(events) => json(StatusCode::OK, headers, &events),
        Err(e @ EntryEventsError::UnknownEntry { .. }) => {
            error(StatusCode::NOT_FOUND, e.to_string(), uri.path())
        }
        Err(e @ EntryEventsError::UnknownEventType { .. }) => {
            error(StatusCode::BAD_REQUEST, e.to_string(), uri.path())
        }
    }
}

async fn entry_events_of<W: Watched>(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    match name {
        Ok(Path(name)) => entry_events_answer::<W>(&a, &uri, &headers, &name, None),
        Err(rejection) => bad_path(&rejection, &uri),
    }
}

async fn entry_events_of_type<W: Watched>(
    State(a): Shared,
    uri: OriginalUri,
    headers: HeaderMap,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    match params {
        Ok(Path((name, event_type))) => {
            entry_events_answer::<W>(&a, &uri, &headers, &name, Some(&event_type))
        }
        Err(rejection) => bad_path(&rejection, &uri),
    }
}

async fn prometheus_text(State(a): Shared) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus::CONTENT_TYPE),
        )],
        a.monitor.prometheus(),
    )
        .into_response()
}
