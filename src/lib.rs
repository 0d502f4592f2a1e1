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
//! * [`traced`] opens a child span of the current trace; [`telemetry::init`] sets up the
//!   OpenTelemetry pipeline with a Zipkin exporter and B3/W3C propagation.
//!
//! The breaker semantics are Resilience4j 2.4's; the differences are listed in the README.

pub use fusebox_macros::{circuit_breaker, traced};
pub use fusebox_runtime::*;

#[doc(hidden)]
pub mod __private {
    //! What the attribute macros expand to. Not a public API: it may change in any release.
    pub use fusebox_runtime::private::*;
}
