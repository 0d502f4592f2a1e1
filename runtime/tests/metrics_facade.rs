//! `observe::metrics_facade`: the Monitor's series through the `metrics` facade, checked with
//! metrics-util's debugging recorder (names, labels, values after scripted calls) and with
//! metrics-exporter-prometheus's own rendering (the same series names as `Monitor::prometheus`,
//! with and without the exporter's recommended naming).
#![cfg(feature = "metrics")]

use fusebox_runtime::observe::{Monitor, metrics_facade};
use fusebox_runtime::{CircuitBreakerConfig, ManualClock, Registry, State};
use metrics_exporter_prometheus::PrometheusBuilder;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// Two breakers after a scripted sequence: `orders` (time limit, tripped to OPEN with one
/// rejected call) and `users` (two successes, one slow; one ignored error).
fn scripted() -> (Registry, Monitor) {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "shop")
        .build()
        .unwrap();
    type Builder = fusebox_runtime::CircuitBreakerConfigBuilder;
    let config = |f: fn(Builder) -> Builder| {
        f(CircuitBreakerConfig::builder()
            .clock(clock.clone())
            .sliding_window_size(2)
            .minimum_number_of_calls(2))
        .build()
        .unwrap()
    };
    let orders = registry
        .circuit_breaker_with_config("orders", config(|c| c.timeout(Duration::from_secs(1))));
    let users = registry.circuit_breaker_with_config(
        "users",
        config(|c| c.slow_call_duration_threshold(Duration::from_millis(100))),
    );
    for _ in 0..2 {
        assert!(orders.try_acquire_permission());
        orders.on_error(250 * MS);
    }
    assert_eq!(orders.state(), State::Open);
    assert!(!orders.try_acquire_permission());
    assert!(users.try_acquire_permission());
    users.on_success(20 * MS);
    assert!(users.try_acquire_permission());
    users.on_success(500 * MS);
    assert!(users.try_acquire_permission());
    users.on_ignored_error(3 * MS);
    (registry, monitor)
}

/// What the debugging recorder holds: `(kind, name, labels)` → value.
type Snapshot = BTreeMap<(MetricKind, String, Vec<(String, String)>), DebugValue>;

fn snapshot(monitor: &Monitor) -> Snapshot {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || metrics_facade::publish(monitor));
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value): (CompositeKey, _, _, _)| {
            let (kind, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            ((kind, key.name().to_owned(), labels), value)
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn gauge(s: &Snapshot, name: &str, l: &[(&str, &str)]) -> f64 {
    match s.get(&(MetricKind::Gauge, name.to_owned(), labels(l))) {
        Some(DebugValue::Gauge(v)) => v.into_inner(),
        other => panic!("gauge {name}{l:?}: {other:?}\n{:#?}", s.keys()),
    }
}

fn counter(s: &Snapshot, name: &str, l: &[(&str, &str)]) -> u64 {
    match s.get(&(MetricKind::Counter, name.to_owned(), labels(l))) {
        Some(DebugValue::Counter(v)) => *v,
        other => panic!("counter {name}{l:?}: {other:?}\n{:#?}", s.keys()),
    }
}

#[test]
fn publishes_resilience4js_dotted_names_labels_and_values() {
    let (_registry, monitor) = scripted();
    let s = snapshot(&monitor);
    let app = ("application", "shop");

    for (state, expected) in [("closed", 0.0), ("open", 1.0), ("half_open", 0.0)] {
        assert_eq!(
            gauge(
                &s,
                "resilience4j.circuitbreaker.state",
                &[app, ("name", "orders"), ("state", state)]
            ),
            expected,
            "{state}"
        );
    }
    let orders = [app, ("name", "orders")];
    assert_eq!(
        gauge(&s, "resilience4j.circuitbreaker.failure.rate", &orders),
        100.0
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.buffered.calls",
            &[app, ("kind", "failed"), ("name", "orders")]
        ),
        2.0
    );
    let failed = [app, ("kind", "failed"), ("name", "orders")];
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.calls.seconds.count",
            &failed
        ),
        2.0
    );
    assert_eq!(
        gauge(&s, "resilience4j.circuitbreaker.calls.seconds.sum", &failed),
        0.5
    );
    assert_eq!(
        gauge(&s, "resilience4j.circuitbreaker.calls.seconds.max", &failed),
        0.25
    );
    assert_eq!(
        counter(
            &s,
            "resilience4j.circuitbreaker.not.permitted.calls.total",
            &[app, ("kind", "not_permitted"), ("name", "orders")]
        ),
        1
    );
    // The time limiter of `orders` (2 failed, no timeout); `users` has no time limit.
    assert_eq!(
        counter(
            &s,
            "resilience4j.timelimiter.calls.total",
            &[app, ("kind", "failed"), ("name", "orders")]
        ),
        2
    );
    assert!(!s.keys().any(
        |(_, name, l)| name == "resilience4j.timelimiter.calls.total"
            && l.contains(&("name".to_owned(), "users".to_owned()))
    ));
    assert_eq!(
        counter(
            &s,
            "fusebox.circuitbreaker.transitions.total",
            &[app, ("from", "closed"), ("name", "orders"), ("to", "open")]
        ),
        1
    );
    assert_eq!(
        counter(
            &s,
            "fusebox.circuitbreaker.rejected.calls.total",
            &[app, ("name", "orders"), ("reason", "open")]
        ),
        1
    );

    // users: 2 successes (1 slow), 1 ignored error.
    let users = |kind| [app, ("kind", kind), ("name", "users")];
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.calls.seconds.count",
            &users("successful")
        ),
        2.0
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.calls.seconds.sum",
            &users("successful")
        ),
        0.52
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.calls.seconds.count",
            &users("ignored")
        ),
        1.0
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.slow.calls",
            &users("successful")
        ),
        1.0
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.slow.call.rate",
            &[app, ("name", "users")]
        ),
        50.0
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.failure.rate",
            &[app, ("name", "users")]
        ),
        0.0
    );
}

#[test]
fn publishing_again_reports_the_values_as_of_now() {
    let (registry, monitor) = scripted();
    let orders = registry.circuit_breaker("orders");
    assert!(!orders.try_acquire_permission());
    orders.transition_to_forced_open_state().unwrap();
    let s = snapshot(&monitor);
    let app = ("application", "shop");
    assert_eq!(
        counter(
            &s,
            "resilience4j.circuitbreaker.not.permitted.calls.total",
            &[app, ("kind", "not_permitted"), ("name", "orders")]
        ),
        2
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.state",
            &[app, ("name", "orders"), ("state", "forced_open")]
        ),
        1.0
    );
    assert_eq!(
        gauge(
            &s,
            "resilience4j.circuitbreaker.state",
            &[app, ("name", "orders"), ("state", "open")]
        ),
        0.0
    );
}

/// The series of a text exposition: `name{labels}` of every sample line.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.rsplit_once(' ').expect("a sample line").0.to_owned())
        .collect()
}

#[test]
fn the_prometheus_exporter_renders_the_monitors_series_names() {
    let (_registry, monitor) = scripted();
    let expected = series(&monitor.prometheus());
    assert!(expected.contains(
        "resilience4j_circuitbreaker_not_permitted_calls_total{application=\"shop\",kind=\"not_permitted\",name=\"orders\"}"
    ));
    for recommended in [false, true] {
        let recorder = PrometheusBuilder::new()
            .with_recommended_naming(recommended)
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || metrics_facade::publish(&monitor));
        let rendered = handle.render();
        assert_eq!(
            series(&rendered),
            expected,
            "recommended naming {recommended}:\n{rendered}"
        );
        assert!(
            rendered.contains(
                "# HELP resilience4j_circuitbreaker_state The states of the circuit breaker\n"
            ),
            "{rendered}"
        );
        assert!(
            rendered
                .contains("# TYPE resilience4j_circuitbreaker_not_permitted_calls_total counter\n"),
            "{rendered}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_publisher_publishes_every_period_until_dropped() {
    let (registry, monitor) = scripted();
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // The task runs on this thread (current-thread runtime), so the thread-local recorder
    // installed around each poll below is the one it publishes to.
    let publisher = metrics_facade::spawn_publisher(monitor, Duration::from_secs(10)).unwrap();
    let line = "resilience4j_circuitbreaker_not_permitted_calls_total{application=\"shop\",kind=\"not_permitted\",name=\"orders\"}";
    let value = || {
        handle
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(line).map(|v| v.trim().to_owned()))
    };
    let step = |d: Duration| {
        let recorder = &recorder;
        async move {
            let guard = metrics::set_default_local_recorder(recorder);
            tokio::time::sleep(d).await;
            tokio::task::yield_now().await;
            drop(guard);
        }
    };
    step(Duration::ZERO).await;
    assert_eq!(value().as_deref(), Some("1"), "published at once");
    assert!(!registry.circuit_breaker("orders").try_acquire_permission());
    step(Duration::from_secs(5)).await;
    assert_eq!(value().as_deref(), Some("1"), "not yet");
    step(Duration::from_secs(5)).await;
    assert_eq!(value().as_deref(), Some("2"), "after one period");
    drop(publisher);
    assert!(!registry.circuit_breaker("orders").try_acquire_permission());
    step(Duration::from_secs(20)).await;
    assert_eq!(value().as_deref(), Some("2"), "stopped");
}

#[test]
fn the_publisher_refuses_a_zero_period_and_a_missing_runtime() {
    let monitor = Monitor::new(&Registry::new());
    let err = metrics_facade::spawn_publisher(monitor.clone(), Duration::ZERO).unwrap_err();
    assert_eq!(
        err.to_string(),
        "monitor setting `metrics_facade.period`: must be at least one millisecond (got 0ns)"
    );
    let err = metrics_facade::spawn_publisher(monitor, Duration::from_secs(1)).unwrap_err();
    assert_eq!(err.setting(), "metrics_facade.runtime");
}

#[tokio::test(start_paused = true)]
async fn retries_and_time_limiters_are_published_under_micrometers_names() {
    use fusebox_runtime::retry::RetryConfig;
    use fusebox_runtime::time_limiter::{TimeLimiterConfig, TimeLimiterError};
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "shop")
        .build()
        .unwrap();
    let retry = registry.retry_with_config(
        "payments",
        RetryConfig::builder()
            .max_attempts(2)
            .wait_duration(MS)
            .build()
            .unwrap(),
    );
    assert!(retry.call(|| async { Ok::<_, String>(1) }).await.is_ok());
    assert!(
        retry
            .call(|| async { Err::<u32, _>("down".to_owned()) })
            .await
            .is_err()
    );
    let limiter = registry.time_limiter_with_config(
        "payments",
        TimeLimiterConfig::builder()
            .timeout_duration(10 * MS)
            .build()
            .unwrap(),
    );
    let slow: Result<u32, TimeLimiterError<String>> = limiter
        .call(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(1)
        })
        .await;
    assert!(slow.is_err());

    let s = snapshot(&monitor);
    let l = |kind| {
        [
            ("application", "shop"),
            ("kind", kind),
            ("name", "payments"),
        ]
    };
    let retry_calls = "resilience4j.retry.calls.total";
    assert_eq!(counter(&s, retry_calls, &l("successful_without_retry")), 1);
    assert_eq!(counter(&s, retry_calls, &l("failed_with_retry")), 1);
    assert_eq!(counter(&s, retry_calls, &l("successful_with_retry")), 0);
    assert_eq!(counter(&s, retry_calls, &l("failed_without_retry")), 0);
    let tl_calls = "resilience4j.timelimiter.calls.total";
    assert_eq!(counter(&s, tl_calls, &l("timeout")), 1);
    assert_eq!(counter(&s, tl_calls, &l("successful")), 0);

    let expected = series(&monitor.prometheus());
    let recorder = PrometheusBuilder::new()
        .with_recommended_naming(true)
        .build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || metrics_facade::publish(&monitor));
    assert_eq!(series(&handle.render()), expected);
}

#[tokio::test]
async fn rate_limiters_are_published_under_micrometers_names() {
    use fusebox_runtime::rate_limiter::RateLimiterConfig;
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "shop")
        .build()
        .unwrap();
    let config = RateLimiterConfig::builder()
        .limit_for_period(1)
        .limit_refresh_period(Duration::from_secs(3600))
        .timeout_duration(Duration::from_secs(7200))
        .build()
        .unwrap();
    let limiter = registry.rate_limiter_with_config("payments", config);
    limiter.acquire_permission(1).await.unwrap();
    // A caller waiting for the next hour's permit (reserved: the count goes to -1).
    let waiter = {
        let limiter = limiter.clone();
        tokio::spawn(async move { limiter.acquire_permission(1).await })
    };
    while limiter.metrics().number_of_waiting_threads < 1 {
        tokio::task::yield_now().await;
    }

    let s = snapshot(&monitor);
    let l = [("application", "shop"), ("name", "payments")];
    assert_eq!(
        gauge(&s, "resilience4j.ratelimiter.available.permissions", &l),
        -1.0
    );
    assert_eq!(
        gauge(&s, "resilience4j.ratelimiter.waiting.threads", &l),
        1.0
    );
    assert_eq!(
        counter(&s, "fusebox.ratelimiter.monitor.dropped.events.total", &l),
        0
    );

    let expected = series(&monitor.prometheus());
    assert!(expected.contains(
        "resilience4j_ratelimiter_waiting_threads{application=\"shop\",name=\"payments\"}"
    ));
    for recommended in [false, true] {
        let recorder = PrometheusBuilder::new()
            .with_recommended_naming(recommended)
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || metrics_facade::publish(&monitor));
        let rendered = handle.render();
        assert_eq!(series(&rendered), expected, "{rendered}");
        assert!(
            rendered.contains(
                "# HELP resilience4j_ratelimiter_available_permissions The number of available permissions\n"
            ),
            "{rendered}"
        );
    }
    waiter.abort();
}

#[tokio::test]
async fn bulkheads_are_published_under_micrometers_names() {
    use fusebox_runtime::bulkhead::BulkheadConfig;
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "shop")
        .build()
        .unwrap();
    let config = BulkheadConfig::builder()
        .max_concurrent_calls(4)
        .build()
        .unwrap();
    let bulkhead = registry.bulkhead_with_config("inventory", config);
    let _running = (
        bulkhead.try_acquire_permission().unwrap(),
        bulkhead.try_acquire_permission().unwrap(),
        bulkhead.try_acquire_permission().unwrap(),
    );

    let s = snapshot(&monitor);
    let l = [("application", "shop"), ("name", "inventory")];
    assert_eq!(
        gauge(&s, "resilience4j.bulkhead.available.concurrent.calls", &l),
        1.0
    );
    assert_eq!(
        gauge(&s, "resilience4j.bulkhead.max.allowed.concurrent.calls", &l),
        4.0
    );
    assert_eq!(
        counter(&s, "fusebox.bulkhead.monitor.dropped.events.total", &l),
        0
    );

    let expected = series(&monitor.prometheus());
    assert!(expected.contains(
        "resilience4j_bulkhead_max_allowed_concurrent_calls{application=\"shop\",name=\"inventory\"}"
    ));
    for recommended in [false, true] {
        let recorder = PrometheusBuilder::new()
            .with_recommended_naming(recommended)
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || metrics_facade::publish(&monitor));
        let rendered = handle.render();
        assert_eq!(series(&rendered), expected, "{rendered}");
        assert!(
            rendered.contains(
                "# HELP resilience4j_bulkhead_available_concurrent_calls The number of available permissions\n"
            ),
            "{rendered}"
        );
        assert!(
            rendered.contains(
                "# HELP resilience4j_bulkhead_max_allowed_concurrent_calls The maximum number of available permissions\n"
            ),
            "{rendered}"
        );
    }
}
