//! Config files: fusebox's TOML layout and Spring's `application.yml` layout, read into
//! [`CircuitBreakerConfig`](super::CircuitBreakerConfig)s.
