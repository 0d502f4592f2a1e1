//! Every breaker property, declared once.
//!
//! Each entry of the table below gives a property's name (the config field, getter and setter),
//! type, default, a non-default sample (for the tests), and the sections that apply:
//! - `eq by f`: how two values compare, when not by `PartialEq` (the clock compares by kind);
//! - `reload in_place`: the property only says how the breaker is observed (health, event
//!   buffer), so `Registry::reload_from_file` applies a change to it without starting the
//!   breaker over (its state and window stay);
//! - `get(copy)` / `get(borrow)`: the getter, returning the value or a reference, with its doc;
//! - `set(param) checked by rule`: the builder setter, with its doc and the rule its value must
//!   follow;
//! - `file key`: the key in config files, with its doc. When the file's value is not the
//!   property's (`wait_duration_in_open_state` builds the wait interval; `timeout = "off"`), it
//!   gives the file value's type (and [`Format`](super::file::Format), if not the type's own), default and sample,
//!   and the function that applies it to a builder.
//!
//! `file_only` keys have no property of their own: they shape another one (the backoff keys
//! shape the wait interval) and give a sample with the keys it needs and what it gives.
//!
//! [`property_table!`](super::property_macro) turns the table into the config struct, its
//! `Default`, `Debug`, `PartialEq` and getters, the builder setters, the file layout
//! ([`BreakerSettings`], its serde form, reading and applying it), and the rows of the docs'
//! property table. A getter or setter missing from an entry is written by hand in `config/mod.rs`.

use super::file::format::{Field, Timeout};
#[cfg(test)]
use super::property_tests::{FileSample, Sample};
use super::{CircuitBreakerConfigBuilder, SlidingWindowType, WaitInterval, property_table};
use crate::clock::ClockSource;
use crate::state::State;
use std::time::Duration;

/// Resilience4j's default exponential backoff multiplier.
const DEFAULT_MULTIPLIER: f64 = 1.5;
/// Resilience4j's default randomization factor.
const DEFAULT_RANDOM_FACTOR: f64 = 0.5;

property_table! {
    /// A validated circuit-breaker configuration. Build one with
    /// [`CircuitBreakerConfig::builder`]; [`Default`] gives Resilience4j's defaults.
    ///
    /// ```
    /// use fusebox_runtime::{CircuitBreakerConfig, SlidingWindowType};
    /// use std::time::Duration;
    ///
    /// // The course's breaker: 4 % failures over the last 2 calls, 1 s open, 4 s time limit.
    /// let config = CircuitBreakerConfig::builder()
    ///     .failure_rate_threshold(4.0)
    ///     .wait_duration_in_open_state(Duration::from_secs(1))
    ///     .sliding_window_type(SlidingWindowType::CountBased)
    ///     .sliding_window_size(2)
    ///     .timeout(Duration::from_secs(4))
    ///     .build()?;
    /// assert_eq!(config.sliding_window_size(), 2);
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    config CircuitBreakerConfig, builder CircuitBreakerConfigBuilder {
        eq_doc: "Two configs are equal when every property is; clocks compare by kind only \
                 (system or not).",
        behaves_like: behaves_like,
        samples: samples,
    }
    /// One `[configs.<name>]` or `[instances.<name>]` section: every property optional, keys
    /// in snake_case named after the builder's setters.
    ///
    /// Durations accept `"10s"`, `"500ms"`, `"1m 30s"`, ISO `"PT10S"` or an integer number of
    /// milliseconds; states and window types accept Resilience4j's names (`"OPEN"`,
    /// `"COUNT_BASED"`) in any case.
    ///
    /// ```
    /// use fusebox_runtime::config::file::BreakerSettings;
    /// use std::time::Duration;
    ///
    /// let s: BreakerSettings = toml::from_str(r#"
    ///     base_config = "shared"
    ///     wait_duration_in_open_state = "PT10S"
    ///     slow_call_duration_threshold = 2500
    /// "#)?;
    /// assert_eq!(s.wait_duration_in_open_state, Some(Duration::from_secs(10)));
    /// assert_eq!(s.slow_call_duration_threshold, Some(Duration::from_millis(2500)));
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    settings BreakerSettings {
        serde: "BreakerSettings" expecting "struct BreakerSettings",
        fields: FIELDS,
        file_keys: FILE_KEYS,
        what: "breaker",
        base_config_doc: "The shared config (under `configs`) this one starts from.",
    }
    properties {
        failure_rate_threshold: f32 {
            default 50.0;
            sample 25.0;
            get(copy) {
                /// Failure rate (percent) at or above which the breaker opens. Default 50.
            }
            set(percent) checked by rules::percent {
                /// Failure rate in percent, in (0, 100].
            }
            file failure_rate_threshold {
                /// Failure rate in percent, in (0, 100].
            }
        }
        slow_call_rate_threshold: f32 {
            default 100.0;
            sample 75.0;
            get(copy) {
                /// Slow-call rate (percent) at or above which the breaker opens. Default 100.
            }
            set(percent) checked by rules::percent {
                /// Slow-call rate in percent, in (0, 100].
            }
            file slow_call_rate_threshold {
                /// Slow-call rate in percent, in (0, 100].
            }
        }
        slow_call_duration_threshold: Duration {
            default Duration::from_secs(60);
            sample Duration::from_millis(2500);
            get(copy) {
                /// A call is slow when it takes strictly longer than this. Default 60 s.
            }
            set(threshold) checked by rules::at_least_a_nanosecond {
                /// Calls longer than this are slow; at least 1 ns.
            }
            file slow_call_duration_threshold {
                /// Calls longer than this are slow.
            }
        }
        permitted_number_of_calls_in_half_open_state: u32 {
            default 10;
            sample 3;
            get(copy) {
                /// Probe calls permitted in HALF_OPEN. Default 10.
            }
            set(calls) checked by rules::at_least_one {
                /// Probe calls in HALF_OPEN; at least 1.
            }
            file permitted_number_of_calls_in_half_open_state {
                /// Probe calls permitted in HALF_OPEN.
            }
        }
        max_wait_duration_in_half_open_state: Duration {
            default Duration::ZERO;
            sample Duration::from_millis(2500);
            get(copy) {
                /// Longest stay in HALF_OPEN before moving to
                /// [`transition_to_state_after_wait_duration`](Self::transition_to_state_after_wait_duration);
                /// zero (the default) means no limit.
            }
            set(wait) checked by rules::no_limit_or_a_millisecond {
                /// Longest stay in HALF_OPEN; zero means unlimited, otherwise at least 1 ms.
            }
            file max_wait_duration_in_half_open_state {
                /// Longest stay in HALF_OPEN (0 = unlimited).
            }
        }
        transition_to_state_after_wait_duration: State {
            default State::Open;
            sample State::Closed;
            get(copy) {
                /// Where HALF_OPEN goes when its maximum wait ends: OPEN (default) or CLOSED.
            }
            set(state) checked by rules::open_or_closed {
                /// Where HALF_OPEN goes after its maximum wait: [`State::Open`] or
                /// [`State::Closed`].
            }
            file transition_to_state_after_wait_duration {
                /// Where HALF_OPEN goes after its maximum wait: `OPEN` or `CLOSED`.
            }
        }
        sliding_window_type: SlidingWindowType {
            default SlidingWindowType::CountBased;
            sample SlidingWindowType::TimeBased;
            get(copy) {
                /// Count- or time-based window. Default count-based.
            }
            set(kind) {
                /// Count-based or time-based window.
            }
            file sliding_window_type {
                /// `COUNT_BASED` or `TIME_BASED`.
            }
        }
        sliding_window_size: u32 {
            default 100;
            sample 7;
            get(copy) {
                /// Calls (count-based) or seconds (time-based) in the window. Default 100.
            }
            set(size) checked by rules::at_least_one {
                /// Window size in calls or seconds; at least 1.
            }
            file sliding_window_size {
                /// Window size in calls or seconds.
            }
        }
        minimum_number_of_calls: u32 {
            default 100;
            sample 9;
            get(copy) {
                /// Calls needed before rates are computed, as configured. Default 100. A
                /// count-based window uses at most `sliding_window_size` of it, see
                /// [`Self::effective_minimum_number_of_calls`].
            }
            set(calls) checked by rules::at_least_one {
                /// Calls needed before rates count; at least 1.
            }
            file minimum_number_of_calls {
                /// Calls needed before rates are computed.
            }
        }
        // Set by hand: `wait_duration_in_open_state` and `wait_interval_in_open_state`, which
        // conflict with each other.
        wait_interval: WaitInterval {
            default WaitInterval::Constant(Duration::from_secs(60));
            sample WaitInterval::Constant(Duration::from_millis(2500));
            get(borrow) {
                /// How long OPEN lasts, by attempt.
            }
            file wait_duration_in_open_state: Duration = Duration::from_secs(60),
                sample Duration::from_millis(2500), applied by apply_wait {
                /// The wait in OPEN (the first wait, with backoff).
            }
        }
        automatic_transition_from_open_to_half_open_enabled: bool {
            default false;
            sample true;
            get(copy) {
                /// Whether a timer moves OPEN to HALF_OPEN when the wait ends (otherwise the next
                /// call does).
            }
            set(enabled) {
                /// Whether a timer (on the tokio runtime) moves OPEN to HALF_OPEN after the wait.
            }
            file automatic_transition_from_open_to_half_open_enabled {
                /// Whether a timer moves OPEN to HALF_OPEN.
            }
        }
        call_stats_enabled: bool {
            default true;
            sample false;
            get(copy) {
                /// Whether the breaker keeps [`CallStats`](crate::CallStats) (calls timers,
                /// not-permitted and transition counters), which the metrics endpoints
                /// (`observe`) read. Default on, as Resilience4j's `metrics.enabled`. Off, a
                /// healthy breaker writes nothing per call, and a monitor leaves out the
                /// series made from them (calls timer, not-permitted calls, transitions, time
                /// limiter).
            }
            set(enabled) {
                /// Whether to keep [`CallStats`](crate::CallStats): off saves a plain load and
                /// store on the caller's own cache line per permitted call in the healthy state
                /// (about 1 ns).
            }
            file call_stats_enabled {
                /// Whether the breaker keeps call stats (calls timers, not-permitted and
                /// transition counters) for the metrics endpoints.
            }
        }
        initial_state: State {
            default State::Closed;
            sample State::HalfOpen;
            get(copy) {
                /// The state a new breaker starts in. Default CLOSED.
            }
            set(state) {
                /// The state a new breaker starts in (any state; OPEN starts its wait at creation).
            }
            file initial_state {
                /// The state a new breaker starts in.
            }
        }
        // Set by hand: `timeout(limit)` and `no_timeout()`.
        timeout: Option<Duration> {
            default None;
            sample Some(Duration::from_millis(2500));
            get(copy) {
                /// The time limit for guarded async calls; `None` (the default) means no limit.
            }
            file timeout: Duration as Timeout = Duration::ZERO,
                sample Duration::from_millis(2500), applied by apply_timeout {
                /// Time limit for guarded async calls (the time limiter). `"off"`
                /// (`Some(Duration::ZERO)`) switches off a limit inherited through `base_config`.
            }
        }
        // How operators see the breaker (resilience4j-spring-boot3's instance properties),
        // read by `observe::Monitor`. A reload that changes only these keeps the breaker's
        // state and window.
        register_health_indicator: bool {
            default false;
            sample true;
            reload in_place;
            get(copy) {
                /// Whether the breaker appears in the `circuitBreakers` health component
                /// (Resilience4j's `registerHealthIndicator`). Default false.
            }
            set(register) {
                /// Whether the breaker appears in the `circuitBreakers` health component.
            }
            file register_health_indicator {
                /// Whether the breaker appears in the `circuitBreakers` health component.
            }
        }
        allow_health_indicator_to_fail: bool {
            default false;
            sample true;
            reload in_place;
            get(copy) {
                /// Whether OPEN reports the health status `DOWN` (HTTP 503) instead of
                /// `CIRCUIT_OPEN` (Resilience4j's `allowHealthIndicatorToFail`). Default false;
                /// see the readiness-probe trap in `observe::health`.
            }
            set(allow) {
                /// Whether OPEN reports `DOWN` (HTTP 503) instead of `CIRCUIT_OPEN`.
            }
            file allow_health_indicator_to_fail {
                /// Whether OPEN reports health `DOWN` (HTTP 503) instead of `CIRCUIT_OPEN`.
            }
        }
        event_consumer_buffer_size: u32 {
            default 100;
            sample 7;
            reload in_place;
            get(copy) {
                /// How many of the breaker's last events the events endpoint keeps
                /// (Resilience4j's `eventConsumerBufferSize`). Default 100.
            }
            set(size) checked by rules::at_least_one {
                /// Events kept for the events endpoint; at least 1.
            }
            file event_consumer_buffer_size {
                /// Events kept for the events endpoint.
            }
        }
        // Set by hand (`clock(impl Clock)`); no getter (`now_nanos` reads it), not in files.
        clock: ClockSource {
            default ClockSource::System;
            sample ClockSource::from_clock(crate::ManualClock::new());
            eq by same_clock_kind;
        }
    }
    file_only {
        enable_exponential_backoff: bool {
            /// Grow the wait in OPEN exponentially (needs `wait_duration_in_open_state` in the same
            /// section).
            default false;
            sample true,
                with { wait_duration_in_open_state: Duration::from_secs(2) },
                gives wait_interval = WaitInterval::ExponentialBackoff {
                    initial: Duration::from_secs(2),
                    multiplier: DEFAULT_MULTIPLIER,
                    max: None,
                };
        }
        exponential_backoff_multiplier: f64 {
            /// Growth factor of the exponential backoff (default 1.5).
            default DEFAULT_MULTIPLIER;
            sample 3.0,
                with {
                    wait_duration_in_open_state: Duration::from_secs(2),
                    enable_exponential_backoff: true
                },
                gives wait_interval = WaitInterval::ExponentialBackoff {
                    initial: Duration::from_secs(2),
                    multiplier: 3.0,
                    max: None,
                };
        }
        exponential_max_wait_duration_in_open_state: Duration {
            /// Cap of the exponential backoff.
            sample Duration::from_secs(30),
                with {
                    wait_duration_in_open_state: Duration::from_secs(2),
                    enable_exponential_backoff: true
                },
                gives wait_interval = WaitInterval::ExponentialBackoff {
                    initial: Duration::from_secs(2),
                    multiplier: DEFAULT_MULTIPLIER,
                    max: Some(Duration::from_secs(30)),
                };
        }
        enable_randomized_wait: bool {
            /// Randomize the wait in OPEN (needs `wait_duration_in_open_state` in the same
            /// section).
            default false;
            sample true,
                with { wait_duration_in_open_state: Duration::from_secs(2) },
                gives wait_interval = WaitInterval::Randomized {
                    interval: Duration::from_secs(2),
                    factor: DEFAULT_RANDOM_FACTOR,
                };
        }
        randomized_wait_factor: f64 {
            /// Spread of the randomized wait, in `[0, 1)` (default 0.5).
            default DEFAULT_RANDOM_FACTOR;
            sample 0.25,
                with {
                    wait_duration_in_open_state: Duration::from_secs(2),
                    enable_randomized_wait: true
                },
                gives wait_interval = WaitInterval::Randomized {
                    interval: Duration::from_secs(2),
                    factor: 0.25,
                };
        }
    }
}

// ---- rules ----------------------------------------------------------------------------------

/// The rules builder setters check, each returning the error for a value that breaks it.
mod rules {
    use crate::config::ConfigError;
    use crate::state::State;
    use std::time::Duration;

    /// A percentage in (0, 100].
    pub(super) fn percent(key: &'static str, v: f32) -> Option<ConfigError> {
        (!(v > 0.0 && v <= 100.0)).then(|| ConfigError::invalid(key, v, "must be in (0, 100]"))
    }

    /// A count of at least 1.
    pub(super) fn at_least_one(key: &'static str, v: u32) -> Option<ConfigError> {
        (v == 0).then(|| ConfigError::invalid(key, v, "must be at least 1"))
    }

    /// A duration of at least 1 ns.
    pub(super) fn at_least_a_nanosecond(key: &'static str, d: Duration) -> Option<ConfigError> {
        d.is_zero()
            .then(|| ConfigError::invalid(key, "0s", "must be at least 1ns"))
    }

    /// Zero (no limit) or at least 1 ms.
    pub(super) fn no_limit_or_a_millisecond(key: &'static str, d: Duration) -> Option<ConfigError> {
        (!d.is_zero() && d < Duration::from_millis(1)).then(|| {
            ConfigError::invalid(
                key,
                format!("{d:?}"),
                "must be 0 (no limit) or at least 1ms",
            )
        })
    }

    /// OPEN or CLOSED.
    pub(super) fn open_or_closed(key: &'static str, state: State) -> Option<ConfigError> {
        (!matches!(state, State::Open | State::Closed))
            .then(|| ConfigError::invalid(key, state, "must be OPEN or CLOSED"))
    }
}

// ---- what is not plain data -----------------------------------------------------------------

/// Clocks compare by kind (system or manual): two configs on different manual clocks are the
/// same config.
fn same_clock_kind(a: &ClockSource, b: &ClockSource) -> bool {
    a.is_manual() == b.is_manual()
}

/// `wait_duration_in_open_state` from a file: the wait interval, shaped by the section's backoff
/// keys (exponential or randomized; they cannot both be on, which resolution checks first).
fn apply_wait(
    builder: CircuitBreakerConfigBuilder,
    wait: Duration,
    s: &BreakerSettings,
) -> CircuitBreakerConfigBuilder {
    let interval = if s.enable_exponential_backoff == Some(true) {
        WaitInterval::ExponentialBackoff {
            initial: wait,
            multiplier: s
                .exponential_backoff_multiplier
                .unwrap_or(DEFAULT_MULTIPLIER),
            max: s.exponential_max_wait_duration_in_open_state,
        }
    } else if s.enable_randomized_wait == Some(true) {
        WaitInterval::Randomized {
            interval: wait,
            factor: s.randomized_wait_factor.unwrap_or(DEFAULT_RANDOM_FACTOR),
        }
    } else {
        WaitInterval::Constant(wait)
    };
    builder.wait_interval_in_open_state(interval)
}

/// `timeout` from a file: zero is `"off"`, no limit whatever `base_config` said.
fn apply_timeout(
    builder: CircuitBreakerConfigBuilder,
    limit: Duration,
    _: &BreakerSettings,
) -> CircuitBreakerConfigBuilder {
    if limit.is_zero() {
        builder.no_timeout()
    } else {
        builder.timeout(limit)
    }
}
