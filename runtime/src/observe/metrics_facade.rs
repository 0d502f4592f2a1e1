//! The [`Monitor`]'s series through the [`metrics`] facade (feature `metrics`), for services
//! that already run a `metrics` exporter such as `metrics-exporter-prometheus`.
//!
//! [`publish`] reads every breaker's figures from the monitor (never from the call path: a
//! guarded call does nothing more with this feature on) and sets them on the installed
//! recorder: gauges with [`Gauge::set`](metrics::Gauge::set), counters with
//! [`Counter::absolute`](metrics::Counter::absolute). Call it before each scrape (in the
//! exporter's handler), or let [`spawn_publisher`] call it periodically.
//!
//! # Names
//!
//! Each series is published under the dotted form of the name Micrometer's Prometheus registry
//! writes for it, with the same labels (registry tags included), so that
//! `metrics-exporter-prometheus` (which turns every character outside `[a-zA-Z0-9_:]` into `_`)
//! renders exactly the series names of [`Monitor::prometheus`]:
//!
//! | published (kind) | rendered |
//! |---|---|
//! | `resilience4j.circuitbreaker.state` (gauge) | `resilience4j_circuitbreaker_state{name,state}` |
//! | `resilience4j.circuitbreaker.buffered.calls`, `.slow.calls` (gauges) | `..._buffered_calls{kind,name}`, `..._slow_calls{kind,name}` |
//! | `resilience4j.circuitbreaker.failure.rate`, `.slow.call.rate` (gauges) | `..._failure_rate{name}`, `..._slow_call_rate{name}` |
//! | `resilience4j.circuitbreaker.calls.seconds.count`, `.sum` (gauges) | `..._calls_seconds_count{kind,name}`, `..._calls_seconds_sum{kind,name}` |
//! | `resilience4j.circuitbreaker.calls.seconds.max` (gauge) | `..._calls_seconds_max{kind,name}` |
//! | `resilience4j.circuitbreaker.not.permitted.calls.total` (counter) | `..._not_permitted_calls_total{kind,name}` |
//! | `resilience4j.timelimiter.calls.total` (counter) | `resilience4j_timelimiter_calls_total{kind,name}` |
//! | `resilience4j.retry.calls.total` (counter) | `resilience4j_retry_calls_total{kind,name}` |
//! | `resilience4j.ratelimiter.available.permissions`, `resilience4j.ratelimiter.waiting.threads` (gauges) | `resilience4j_ratelimiter_available_permissions{name}`, `resilience4j_ratelimiter_waiting_threads{name}` |
//! | `resilience4j.bulkhead.available.concurrent.calls`, `resilience4j.bulkhead.max.allowed.concurrent.calls` (gauges) | `resilience4j_bulkhead_available_concurrent_calls{name}`, `resilience4j_bulkhead_max_allowed_concurrent_calls{name}` |
//! | `fusebox.circuitbreaker.transitions.total`, `.rejected.calls.total`, `.monitor.dropped.events.total` (counters) | `fusebox_circuitbreaker_*_total` |
//! | `fusebox.retry.monitor.dropped.events.total`, `fusebox.timelimiter.monitor.dropped.events.total`, `fusebox.ratelimiter.monitor.dropped.events.total`, `fusebox.bulkhead.monitor.dropped.events.total` (counters) | `fusebox_retry_…_total`, `fusebox_timelimiter_…_total`, `fusebox_ratelimiter_…_total`, `fusebox_bulkhead_…_total` |
//!
//! Counters carry their `.total` in the name: the exporter appends `_total` only with
//! `with_recommended_naming(true)`, and then only when the name lacks it, so the rendered
//! name is Micrometer's either way. The calls timer cannot be a `metrics` histogram without
//! recording on the call path, so its count and sum are published as gauges named after
//! Micrometer's `_count` and `_sum` series (a gauge, so that recommended naming adds no
//! `_total`): PromQL's `rate(..._calls_seconds_count[1m])` and the dashboard's average-duration
//! panel work unchanged; only the `# TYPE` line says `gauge` where Micrometer says `summary`.
//! `# HELP` texts are Resilience4j's descriptions.
//!
//! A series stays in the exporter after its breaker is removed (the facade cannot unregister);
//! a replaced breaker's counts start over, which Prometheus reads as a counter reset.

use super::monitor::{Monitor, MonitorError};
use super::prometheus::{FamilyType, Value};
use metrics::Label;
use std::time::Duration;

/// Sets every series of `monitor` on the installed `metrics` recorder, with the values as of
/// now. Cheap enough to call on every scrape; does nothing visible without a recorder.
///
/// ```
/// use fusebox_runtime::Registry;
/// use fusebox_runtime::observe::{Monitor, metrics_facade};
///
/// let registry = Registry::new();
/// let monitor = Monitor::new(&registry);
/// registry.circuit_breaker("orders");
/// // In the handler that renders your exporter's output:
/// metrics_facade::publish(&monitor);
/// ```
pub fn publish(monitor: &Monitor) {
    for family in monitor.families().families {
        let dotted = family.name.replace('_', ".");
        let (count_name, sum_name, total_name) = (
            format!("{dotted}.count"),
            format!("{dotted}.sum"),
            format!("{dotted}.total"),
        );
        match family.kind {
            FamilyType::Gauge => metrics::describe_gauge!(dotted.clone(), family.help),
            FamilyType::Counter => metrics::describe_counter!(total_name.clone(), family.help),
            FamilyType::Summary => {
                metrics::describe_gauge!(count_name.clone(), family.help);
                metrics::describe_gauge!(sum_name.clone(), family.help);
            }
        }
        for series in family.series {
            let labels: Vec<Label> = series
                .labels
                .into_iter()
                .map(|(k, v)| Label::new(k, v))
                .collect();
            match (family.kind, series.value) {
                (FamilyType::Counter, Value::Count(n)) => {
                    metrics::counter!(total_name.clone(), labels).absolute(n);
                }
                (FamilyType::Counter, Value::Double(v)) => {
                    // Counters are built from counts; a double is a whole number here.
                    metrics::counter!(total_name.clone(), labels).absolute(v as u64);
                }
                (_, Value::Summary { count, sum }) => {
                    metrics::gauge!(count_name.clone(), labels.clone()).set(count as f64);
                    metrics::gauge!(sum_name.clone(), labels).set(sum);
                }
                (_, Value::Count(n)) => metrics::gauge!(dotted.clone(), labels).set(n as f64),
                (_, Value::Double(v)) => metrics::gauge!(dotted.clone(), labels).set(v),
            }
        }
    }
}

/// A task that calls [`publish`] periodically; dropping it (or calling
/// [`stop`](Self::stop)) stops the task.
#[derive(Debug)]
#[must_use = "dropping the publisher stops it"]
pub struct Publisher {
    task: tokio::task::AbortHandle,
}

impl Publisher {
    /// Stops publishing.
    pub fn stop(self) {}
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Publishes `monitor` now and then every `period` on the current tokio runtime, until the
/// returned [`Publisher`] is dropped. A period shorter than a millisecond, or a call outside a
/// tokio runtime, is an error naming the problem.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), fusebox_runtime::observe::MonitorError> {
/// use fusebox_runtime::Registry;
/// use fusebox_runtime::observe::{Monitor, metrics_facade};
/// use std::time::Duration;
///
/// let monitor = Monitor::new(&Registry::new());
/// let publisher = metrics_facade::spawn_publisher(monitor, Duration::from_secs(10))?;
/// // ... serve; the exporter renders what was last published.
/// drop(publisher);
/// # Ok(())
/// # }
/// ```
pub fn spawn_publisher(monitor: Monitor, period: Duration) -> Result<Publisher, MonitorError> {
    if period < Duration::from_millis(1) {
        return Err(MonitorError::new(
            "metrics_facade.period",
            format!("must be at least one millisecond (got {period:?})"),
        ));
    }
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        MonitorError::new(
            "metrics_facade.runtime",
            "spawn_publisher needs a tokio runtime (call it within one, or call `publish` yourself)",
        )
    })?;
    let task = runtime.spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            publish(&monitor);
        }
    });
    Ok(Publisher {
        task: task.abort_handle(),
    })
}
