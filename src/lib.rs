//! # fusebox
//!
//! Resilience4j-style circuit breakers and Zipkin distributed tracing for async Rust services,
//! written as attributes on ordinary async functions:
//!
//! ```ignore
//! #[fusebox::traced(kind = "client", remote_service = "order-service")]
//! #[fusebox::circuit_breaker(name = "orders", fallback = "empty_orders")]
//! async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> { /* ... */ }
//! ```
//!
//! * [`circuit_breaker`] consults a named breaker of the process-wide [`Registry`] whose configs
//!   come from a config file (`fusebox.toml` or Spring's `application.yml`) or from code.
//! * [`retry`](macro@retry) retries it with a named retry of the same registry; several attributes on one
//!   function nest in Resilience4j's aspect order, `Retry(CircuitBreaker(...))`.
//! * [`traced`] opens a child span of the current trace; [`telemetry::init`] sets up the
//!   OpenTelemetry pipeline with a Zipkin exporter and B3/W3C propagation.
//!
//! The breaker semantics are Resilience4j 2.4's; the differences are listed in the README.
//!
//! # Features
//!
//! With `default-features = false` fusebox is the breakers, the registry, events and metrics,
//! TOML config files and both attributes, where `#[traced]` makes plain `tracing` spans for
//! whatever subscriber the program installs: 31 crates (`cargo tree -e normal`), no HTTP client,
//! no OpenTelemetry, no YAML parser. Each feature adds one part (crates: that feature alone):
//!
//! | feature | default | brings | crates |
//! |---|---|---|---|
//! | `telemetry` | yes | [`telemetry::init`]: the OpenTelemetry pipeline, fusebox's Zipkin exporter (its own HTTP/1.1 `POST`, no HTTP client crate), B3/W3C propagation, the server layer, Sleuth-style log lines | 67 |
//! | `reqwest` | yes | `telemetry::client`: CLIENT spans and trace headers for `reqwest` requests (implies `telemetry`) | 112 |
//! | `yaml` | yes | Spring `application.yml` config files | 43 |
//! | `actuator` | yes | `observe::actuator`: the `/actuator/*` endpoints as an axum `Router` | 52 |
//! | `otlp` | no | `OTEL_TRACES_EXPORTER=otlp`: OTLP over HTTP/protobuf (implies `telemetry`) | 122 |
//! | `reqwest-middleware` | no | `telemetry::client::TracingMiddleware` (implies `reqwest`) | 114 |
//! | `watch` | no | `Registry::watch_file`: live reload of the config file | 40 |
//! | `metrics` | no | `observe::metrics_facade`: the metrics through the `metrics` crate | 34 |
//! | `tower` | no | `tower::CircuitBreakerLayer`, `RetryLayer`, `RateLimiterLayer`, `TimeLimiterLayer`: the patterns as tower layers | 36 |
//! | `testing` | no | `telemetry::ExporterKind::InMemory`, for tests: enable it in `[dev-dependencies]` | 67 |
//!
//! Without `yaml`, loading a `.yml` file is an error that names the feature.

pub use fusebox_macros::{bulkhead, circuit_breaker, rate_limiter, retry, time_limiter, traced};
pub use fusebox_runtime::*;

#[doc(hidden)]
pub mod __private {
    //! What the attribute macros expand to. Not a public API: it may change in any release.
    pub use fusebox_runtime::private::*;
}
