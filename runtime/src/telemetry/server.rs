//! Server side: a `tower` layer that continues the caller's trace and opens a SERVER span.
//!
//! ```ignore
//! use axum::extract::MatchedPath;
//! let app = axum::Router::new()
//!     .route("/users/{id}", axum::routing::get(get_user))
//!     .layer(fusebox::telemetry::server::HttpServerLayer::new()
//!         .route_from(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)));
//! ```
//!
//! For each request the layer extracts the incoming context (W3C / B3, see
//! [`super::propagation`]), creates the span `"{METHOD} {route}"` (or just the method
//! when no route is known, as the HTTP semantic conventions ask, to keep names low-cardinality),
//! sets its parent **before** the span is first entered, and records `http.request.method`,
//! `url.path`, `http.route`, `url.scheme` and `http.response.status_code`. A 5xx answer, or an
//! error from the inner service, marks the span as an error.
//!
//! Routes: axum puts the matched route template into the request extensions as
//! `axum::extract::MatchedPath` when the layer is added with `Router::layer` (routing happens
//! first). fusebox does not depend on axum; pass the one-line accessor above to
//! [`HttpServerLayer::route_from`].
//!
//! Interop: `axum-tracing-opentelemetry`'s `OtelAxumLayer` does the same job with the *global*
//! propagator; after [`install`](super::Telemetry::install) that is fusebox's, so either layer
//! continues W3C and B3 traces. Use one of them per router, not both (each opens a span).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use opentelemetry::trace::TraceContextExt;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::propagation::{self, FuseboxPropagator};

/// Reads the route template (e.g. `/users/{id}`) from the request extensions.
pub type RouteFn = fn(&http::Extensions) -> Option<&str>;

/// A [`tower_layer::Layer`] that traces incoming HTTP requests as SERVER spans.
#[derive(Clone, Debug, Default)]
pub struct HttpServerLayer {
    propagator: Option<FuseboxPropagator>,
    route: Option<RouteFn>,
}

impl HttpServerLayer {
    /// A layer using the installed propagator and no route accessor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `propagator` instead of the installed one (e.g. two services in one process).
    pub fn with_propagator(mut self, propagator: FuseboxPropagator) -> Self {
        self.propagator = Some(propagator);
        self
    }

    /// Reads the route template from the request extensions (see the module docs for axum).
    pub fn route_from(mut self, route: RouteFn) -> Self {
        self.route = Some(route);
        self
    }
}

impl<S> tower_layer::Layer<S> for HttpServerLayer {
    type Service = HttpServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpServerService {
            inner,
            propagator: self.propagator.clone(),
            route: self.route,
        }
    }
}

/// The service made by [`HttpServerLayer`].
#[derive(Clone, Debug)]
pub struct HttpServerService<S> {
    inner: S,
    propagator: Option<FuseboxPropagator>,
    route: Option<RouteFn>,
}

impl<S> HttpServerService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Opens the SERVER span for `req`, with the parent taken from its headers.
pub fn server_span<B>(
    req: &Request<B>,
    route: Option<&str>,
    propagator: Option<&FuseboxPropagator>,
) -> Span {
    let method = req.method().as_str();
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        target: "fusebox::http",
        "HTTP request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = %method,
        url.path = %req.uri().path(),
        url.scheme = req.uri().scheme_str().unwrap_or("http"),
        http.route = route,
        http.response.status_code = Empty,
        otel.status_description = Empty,
    );
    let parent = match propagator {
        Some(p) => propagation::extract_with(p, req.headers()),
        None => propagation::extract(req.headers()),
    };
    // A remote span, or a B3 sampling decision sent without ids (a span context with invalid
    // ids that the sampler honours).
    if parent.has_active_span() {
        // Before the span is entered: the OpenTelemetry span is only started then.
        let _ = span.set_parent(parent);
    }
    span
}

/// Records the response status on a SERVER span; 5xx marks it as an error.
pub fn record_status(span: &Span, status: http::StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record(
            "otel.status_description",
            tracing::field::display(format_args!("HTTP {}", status.as_u16())),
        );
    }
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for HttpServerService<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: fmt::Display,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let route = self.route.and_then(|f| f(req.extensions()));
        let span = server_span(&req, route, self.propagator.as_ref());
        let inner = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        ResponseFuture {
            inner,
            guard: SpanGuard {
                span,
                finished: false,
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpServerService`]: runs the inner future inside the span and
    /// records the outcome.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        guard: SpanGuard,
    }
}

/// The SERVER span of a response in the making; dropped unfinished (the client went away and
/// the server cancelled the handler), it marks the span as an error.
#[derive(Debug)]
struct SpanGuard {
    span: Span,
    finished: bool,
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.span.record(
                "otel.status_description",
                "cancelled: the request was dropped before a response",
            );
        }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.guard.span.enter();
        let result = std::task::ready!(this.inner.poll(cx));
        this.guard.finished = true;
        match &result {
            Ok(response) => record_status(&this.guard.span, response.status()),
            Err(error) => {
                this.guard
                    .span
                    .record("otel.status_description", tracing::field::display(error));
            }
        }
        Poll::Ready(result)
    }
}
