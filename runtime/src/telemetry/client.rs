//! Client side: CLIENT spans with `peer.service` and header injection for `reqwest`.
//!
//! fusebox injects itself instead of using `reqwest-tracing`, which lags OpenTelemetry's
//! releases and would put a second copy of `opentelemetry` (with its own global propagator) in
//! the build.
//!
//! ```ignore
//! let response = fusebox::telemetry::client::send(
//!     client.get(format!("{base}/order-service/{user_id}/orders")),
//!     "order-service",
//! ).await?;
//! ```
//!
//! [`send`] opens a CLIENT span named after the method, with `peer.service` (which the Zipkin
//! exporter turns into `remoteEndpoint.serviceName`, so Zipkin draws the dependency link even
//! when the callee is down or not instrumented), `http.request.method`, `server.address`,
//! `server.port`, `url.full` (without user info and query) and `http.response.status_code`;
//! injects the span's context into the request headers; and marks the span as an error for
//! transport errors and 4xx/5xx answers. Behind the `reqwest-middleware` feature,
//! `TracingMiddleware` (feature `reqwest-middleware`) does the same inside a `reqwest_middleware::ClientWithMiddleware`.

use tracing::Instrument;
use tracing::Span;
use tracing::field::Empty;

use super::propagation;

/// Opens a CLIENT span for a call to `peer_service`.
///
/// Enter or instrument with it while sending, and inject its context with
/// [`propagation::inject`].
pub fn client_span(peer_service: &str, method: &http::Method, url: &reqwest::Url) -> Span {
    let mut full = url.clone();
    let _ = full.set_username("");
    let _ = full.set_password(None);
    full.set_query(None);
    full.set_fragment(None);
    tracing::info_span!(
        target: "fusebox::http",
        "HTTP client",
        otel.name = %method,
        otel.kind = "client",
        peer.service = %peer_service,
        http.request.method = %method,
        server.address = url.host_str().unwrap_or_default(),
        server.port = url.port_or_known_default().map(i64::from),
        url.full = %full,
        http.response.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// Records the answer on a CLIENT span: 4xx and 5xx mark it as an error.
pub fn record_status(span: &Span, status: http::StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_client_error() || status.is_server_error() {
        span.record(
            "otel.status_description",
            tracing::field::display(format_args!("HTTP {}", status.as_u16())),
        );
    }
}

/// Records a transport error (connection refused, timeout…) on a CLIENT span.
pub fn record_error(span: &Span, error: &dyn std::fmt::Display) {
    span.record("otel.status_description", tracing::field::display(error));
}

/// Sends `request` inside a CLIENT span for `peer_service`, with the trace headers injected.
pub async fn send(
    request: reqwest::RequestBuilder,
    peer_service: &str,
) -> reqwest::Result<reqwest::Response> {
    let (client, request) = request.build_split();
    let mut request = request?;
    let span = client_span(peer_service, request.method(), request.url());
    propagation::inject(&span, request.headers_mut());
    let mut unfinished = Unfinished(Some(&span));
    let result = client.execute(request).instrument(span.clone()).await;
    unfinished.0 = None;
    match &result {
        Ok(response) => record_status(&span, response.status()),
        Err(error) => record_error(&span, error),
    }
    result
}

/// Marks a CLIENT span whose call was dropped before the answer came (a caller's time limit,
/// such as a circuit breaker's `timeout`, or a cancelled request) as an error.
struct Unfinished<'a>(Option<&'a Span>);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if let Some(span) = self.0 {
            record_error(span, &"cancelled before the response arrived");
        }
    }
}

#[cfg(feature = "reqwest-middleware")]
pub use middleware::TracingMiddleware;

#[cfg(feature = "reqwest-middleware")]
mod middleware {
    use std::borrow::Cow;
    use std::future::Future;
    use std::pin::Pin;

    use reqwest_middleware::{Middleware, Next};
    use tracing::Instrument;

    use super::{client_span, propagation, record_error, record_status};

    /// A `reqwest_middleware` middleware that opens a CLIENT span for `peer.service` and
    /// injects the trace headers (feature `reqwest-middleware`).
    #[derive(Clone, Debug)]
    pub struct TracingMiddleware {
        peer_service: Cow<'static, str>,
    }

    impl TracingMiddleware {
        /// A middleware for calls to `peer_service`.
        pub fn new(peer_service: impl Into<Cow<'static, str>>) -> Self {
            Self {
                peer_service: peer_service.into(),
            }
        }
    }

    // Written out instead of `#[async_trait]` (the trait's own macro) to avoid one more
    // dependency; this is exactly what `async_trait` expands to.
    impl Middleware for TracingMiddleware {
        fn handle<'life0, 'life1, 'life2, 'async_trait>(
            &'life0 self,
            mut req: reqwest::Request,
            extensions: &'life1 mut http::Extensions,
            next: Next<'life2>,
        ) -> Pin<
            Box<
                dyn Future<Output = reqwest_middleware::Result<reqwest::Response>>
                    + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            'life2: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                let span = client_span(&self.peer_service, req.method(), req.url());
                propagation::inject(&span, req.headers_mut());
                let result = next.run(req, extensions).instrument(span.clone()).await;
                match &result {
                    Ok(response) => record_status(&span, response.status()),
                    Err(error) => record_error(&span, error),
                }
                result
            })
        }
    }
}
