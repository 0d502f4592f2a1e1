//! The runtime of [fusebox](https://docs.rs/fusebox): Resilience4j-exact circuit breakers, a
//! named registry, config files, events and metrics, and (feature `telemetry`) the
//! OpenTelemetry pipeline with a Zipkin exporter and B3/W3C propagation.
//!
//! Most users depend on the `fusebox` facade and its attributes; this crate is the machinery
//! those attributes call, and the low-level API for everyone else:
//!
//! ```
//! use fusebox_runtime::{CircuitBreakerConfig, Registry, State};
//! use std::time::Duration;
//!
//! let registry = Registry::new();
//! let breaker = registry.circuit_breaker_with_config(
//!     "orders",
//!     CircuitBreakerConfig::builder()
//!         .failure_rate_threshold(50.0)
//!         .sliding_window_size(4)
//!         .build()?,
//! );
//! for _ in 0..4 {
//!     let permit = breaker.try_acquire().expect("closed");
//!     permit.on_error();
//! }
//! assert_eq!(breaker.state(), State::Open);
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! ```
//!
//! # Features
//!
//! Without default features: the breakers, the registry, events and metrics, TOML config files
//! and the glue the attributes expand to (plain `tracing` spans). Then, each adding one part:
//! `telemetry` (default; the `telemetry` module), `reqwest` (default; `telemetry::client`,
//! implies `telemetry`), `yaml` (default; Spring YAML files), `otlp` (the OTLP exporter),
//! `reqwest-middleware` (`telemetry::client::TracingMiddleware`), `actuator` (the
//! `observe::actuator` router; a default of the `fusebox` facade, not of this crate), `watch`
//! (`Registry::watch_file`), `metrics` (`observe::metrics_facade`) and `testing`
//! (`telemetry::ExporterKind::InMemory`, for dev-dependencies), `tower` (the `tower` module's
//! layers). The `fusebox` facade forwards
//! each of them under the same name.

mod breaker;
pub mod bulkhead;
mod call;
mod clock;
pub mod config;
#[cfg(feature = "watch")]
mod config_watch;
mod event_bus;
mod events;
mod interned;
mod metrics;
pub mod observe;
#[doc(hidden)]
pub mod private;
pub mod rate_limiter;
mod registry;
pub mod retry;
mod state;
mod sync;
#[cfg(feature = "telemetry")]
pub mod telemetry;
pub mod time_limiter;
#[cfg(feature = "tower")]
pub mod tower;
mod window;

pub use breaker::{CallNotPermitted, CallStats, CallTimer, CircuitBreaker, Transitions};
pub use call::{BreakerError, Classifier, Failure, Outcome, Permit, TimeoutError};
pub use clock::{Clock, ManualClock, PreciseClock, SystemClock};
pub use config::{
    CircuitBreakerConfig, CircuitBreakerConfigBuilder, ConfigError, ConfigErrorKind,
    SlidingWindowType, WaitInterval,
};
#[cfg(feature = "watch")]
pub use config_watch::{ConfigWatcher, ConfigWatcherBuilder, DEFAULT_DEBOUNCE, ReloadStats};
pub use event_bus::EventSubscription;
pub use events::{CircuitBreakerEvent, DEFAULT_EVENT_BUFFER, EventKind, EventReceiver, EventType};
pub use metrics::Metrics;
pub use registry::{Registry, global_config_path};
pub use state::{IllegalStateTransition, State};
