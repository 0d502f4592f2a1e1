//! The Prometheus exposition of `observe::Monitor`: Micrometer's exact text for a fresh breaker,
//! every value after scripted call sequences in each state, and a strict third-party parser
//! (openmetrics-parser, Prometheus text mode) over busy expositions.

use fusebox_runtime::observe::Monitor;
use fusebox_runtime::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerConfigBuilder, Failure, ManualClock,
    Registry, State,
};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{PrometheusType, PrometheusValue};
use std::collections::BTreeMap;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// One parsed exposition: family name → (type, help), and series → value, where a series is
/// written `name{k="v",...}` with labels sorted and a summary gives `_count` and `_sum` series.
#[derive(Debug)]
struct Scrape {
    families: BTreeMap<String, (PrometheusType, String)>,
    series: BTreeMap<String, f64>,
}

fn series_key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<_> = labels.to_vec();
    labels.sort();
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// Parses `text` with a strict parser; every sample line must come out as one series.
fn parse(text: &str) -> Scrape {
    let exposition = parse_prometheus(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut families = BTreeMap::new();
    let mut series = BTreeMap::new();
    for (name, family) in &exposition.families {
        families.insert(
            name.clone(),
            (family.family_type.clone(), family.help.clone()),
        );
        for sample in family.iter_samples() {
            let set = sample.get_labelset().unwrap();
            let labels: Vec<(&str, &str)> =
                set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut put = |suffix: &str, v: f64| {
                let key = series_key(&format!("{name}{suffix}"), &labels);
                assert!(series.insert(key.clone(), v).is_none(), "duplicate {key}");
            };
            match &sample.value {
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => put("", n.as_f64()),
                PrometheusValue::Counter(c) => put("", c.value.as_f64()),
                PrometheusValue::Summary(s) => {
                    put("_count", s.count.expect("_count") as f64);
                    put("_sum", s.sum.expect("_sum").as_f64());
                }
                PrometheusValue::Histogram(_) => panic!("no histograms expected"),
            }
        }
    }
    let lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    assert_eq!(
        lines,
        series.len(),
        "every sample line is one series:\n{text}"
    );
    Scrape { families, series }
}

impl Scrape {
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let key = series_key(name, labels);
        *self
            .series
            .get(&key)
            .unwrap_or_else(|| panic!("no series {key} in {:#?}", self.series.keys()))
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.series.contains_key(&series_key(name, labels))
    }
}

fn config(
    clock: &ManualClock,
    f: impl FnOnce(CircuitBreakerConfigBuilder) -> CircuitBreakerConfigBuilder,
) -> CircuitBreakerConfig {
    f(CircuitBreakerConfig::builder().clock(clock.clone()))
        .build()
        .unwrap()
}

fn permit(b: &CircuitBreaker) {
    assert!(
        b.try_acquire_permission(),
        "expected a permit in {}",
        b.state()
    );
}

fn kind(k: &'static str, name: &'static str) -> [(&'static str, &'static str); 2] {
    [("kind", k), ("name", name)]
}

#[test]
fn a_fresh_breaker_is_exposed_exactly_as_micrometer_writes_it() {
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "demo")
        .build()
        .unwrap();
    registry.circuit_breaker("backendA");
    let expected = r#"# HELP fusebox_circuitbreaker_monitor_dropped_events_total fusebox: breaker events the monitor's queue dropped; the event-fed series above miss them (not a Resilience4j meter)
# TYPE fusebox_circuitbreaker_monitor_dropped_events_total counter
fusebox_circuitbreaker_monitor_dropped_events_total{application="demo",name="backendA"} 0.0
# HELP fusebox_circuitbreaker_rejected_calls_total fusebox: calls rejected by the circuit breaker, by the state that rejected them (not a Resilience4j meter)
# TYPE fusebox_circuitbreaker_rejected_calls_total counter
fusebox_circuitbreaker_rejected_calls_total{application="demo",name="backendA",reason="half_open"} 0.0
fusebox_circuitbreaker_rejected_calls_total{application="demo",name="backendA",reason="open"} 0.0
# HELP fusebox_circuitbreaker_transitions_total fusebox: state transitions of the circuit breaker (not a Resilience4j meter)
# TYPE fusebox_circuitbreaker_transitions_total counter
fusebox_circuitbreaker_transitions_total{application="demo",from="closed",name="backendA",to="open"} 0.0
fusebox_circuitbreaker_transitions_total{application="demo",from="half_open",name="backendA",to="closed"} 0.0
fusebox_circuitbreaker_transitions_total{application="demo",from="half_open",name="backendA",to="open"} 0.0
fusebox_circuitbreaker_transitions_total{application="demo",from="open",name="backendA",to="half_open"} 0.0
# HELP resilience4j_circuitbreaker_buffered_calls The number of buffered failed calls stored in the ring buffer
# TYPE resilience4j_circuitbreaker_buffered_calls gauge
resilience4j_circuitbreaker_buffered_calls{application="demo",kind="failed",name="backendA"} 0.0
resilience4j_circuitbreaker_buffered_calls{application="demo",kind="successful",name="backendA"} 0.0
# HELP resilience4j_circuitbreaker_calls_seconds Total number of successful calls
# TYPE resilience4j_circuitbreaker_calls_seconds summary
resilience4j_circuitbreaker_calls_seconds_count{application="demo",kind="failed",name="backendA"} 0
resilience4j_circuitbreaker_calls_seconds_sum{application="demo",kind="failed",name="backendA"} 0.0
resilience4j_circuitbreaker_calls_seconds_count{application="demo",kind="ignored",name="backendA"} 0
resilience4j_circuitbreaker_calls_seconds_sum{application="demo",kind="ignored",name="backendA"} 0.0
resilience4j_circuitbreaker_calls_seconds_count{application="demo",kind="successful",name="backendA"} 0
resilience4j_circuitbreaker_calls_seconds_sum{application="demo",kind="successful",name="backendA"} 0.0
# HELP resilience4j_circuitbreaker_calls_seconds_max Total number of successful calls
# TYPE resilience4j_circuitbreaker_calls_seconds_max gauge
resilience4j_circuitbreaker_calls_seconds_max{application="demo",kind="failed",name="backendA"} 0.0
resilience4j_circuitbreaker_calls_seconds_max{application="demo",kind="ignored",name="backendA"} 0.0
resilience4j_circuitbreaker_calls_seconds_max{application="demo",kind="successful",name="backendA"} 0.0
# HELP resilience4j_circuitbreaker_failure_rate The failure rate of the circuit breaker
# TYPE resilience4j_circuitbreaker_failure_rate gauge
resilience4j_circuitbreaker_failure_rate{application="demo",name="backendA"} -1.0
# HELP resilience4j_circuitbreaker_not_permitted_calls_total Total number of not permitted calls
# TYPE resilience4j_circuitbreaker_not_permitted_calls_total counter
resilience4j_circuitbreaker_not_permitted_calls_total{application="demo",kind="not_permitted",name="backendA"} 0.0
# HELP resilience4j_circuitbreaker_slow_call_rate The slow call of the circuit breaker
# TYPE resilience4j_circuitbreaker_slow_call_rate gauge
resilience4j_circuitbreaker_slow_call_rate{application="demo",name="backendA"} -1.0
# HELP resilience4j_circuitbreaker_slow_calls The number of slow successful which were slower than a certain threshold
# TYPE resilience4j_circuitbreaker_slow_calls gauge
resilience4j_circuitbreaker_slow_calls{application="demo",kind="failed",name="backendA"} 0.0
resilience4j_circuitbreaker_slow_calls{application="demo",kind="successful",name="backendA"} 0.0
# HELP resilience4j_circuitbreaker_state The states of the circuit breaker
# TYPE resilience4j_circuitbreaker_state gauge
resilience4j_circuitbreaker_state{application="demo",name="backendA",state="closed"} 1.0
resilience4j_circuitbreaker_state{application="demo",name="backendA",state="disabled"} 0.0
resilience4j_circuitbreaker_state{application="demo",name="backendA",state="forced_open"} 0.0
resilience4j_circuitbreaker_state{application="demo",name="backendA",state="half_open"} 0.0
resilience4j_circuitbreaker_state{application="demo",name="backendA",state="metrics_only"} 0.0
resilience4j_circuitbreaker_state{application="demo",name="backendA",state="open"} 0.0
"#;
    let text = monitor.prometheus();
    assert_eq!(text, expected);
    let scrape = parse(&text);
    assert_eq!(
        scrape.families["resilience4j_circuitbreaker_calls_seconds"].0,
        PrometheusType::Summary
    );
    assert_eq!(
        scrape.families["resilience4j_circuitbreaker_not_permitted_calls_total"].0,
        PrometheusType::Counter
    );
}

#[test]
fn scripted_calls_in_every_state_give_resilience4js_values() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let b = registry.circuit_breaker_with_config(
        "a",
        config(&clock, |c| {
            c.sliding_window_size(4)
                .failure_rate_threshold(50.0)
                .slow_call_duration_threshold(Duration::from_millis(100))
                .permitted_number_of_calls_in_half_open_state(1)
                .wait_duration_in_open_state(Duration::from_secs(10))
        }),
    );
    const CALLS: &str = "resilience4j_circuitbreaker_calls_seconds";

    // CLOSED: a success, a slow success, a failure, an ignored error.
    permit(&b);
    b.on_success(10 * MS);
    permit(&b);
    b.on_success(200 * MS);
    permit(&b);
    b.on_error(30 * MS);
    permit(&b);
    b.on_ignored_error(5 * MS);
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_buffered_calls",
            &kind("successful", "a")
        ),
        2.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_buffered_calls",
            &kind("failed", "a")
        ),
        1.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_slow_calls",
            &kind("successful", "a")
        ),
        1.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_slow_calls",
            &kind("failed", "a")
        ),
        0.0
    );
    assert_eq!(
        s.get("resilience4j_circuitbreaker_failure_rate", &[("name", "a")]),
        -1.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_slow_call_rate",
            &[("name", "a")]
        ),
        -1.0
    );
    assert_eq!(
        s.get(&format!("{CALLS}_count"), &kind("successful", "a")),
        2.0
    );
    assert_eq!(
        s.get(&format!("{CALLS}_sum"), &kind("successful", "a")),
        0.21
    );
    assert_eq!(
        s.get(&format!("{CALLS}_max"), &kind("successful", "a")),
        0.2
    );
    assert_eq!(s.get(&format!("{CALLS}_count"), &kind("failed", "a")), 1.0);
    assert_eq!(s.get(&format!("{CALLS}_sum"), &kind("failed", "a")), 0.03);
    assert_eq!(s.get(&format!("{CALLS}_count"), &kind("ignored", "a")), 1.0);
    assert_eq!(s.get(&format!("{CALLS}_sum"), &kind("ignored", "a")), 0.005);
    assert_eq!(s.get(&format!("{CALLS}_max"), &kind("ignored", "a")), 0.005);

    // A slow failure: 2 of 4 failed, 2 of 4 slow -> OPEN, rates from the inherited window.
    permit(&b);
    b.on_error(400 * MS);
    assert_eq!(b.state(), State::Open);
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get("resilience4j_circuitbreaker_failure_rate", &[("name", "a")]),
        50.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_slow_call_rate",
            &[("name", "a")]
        ),
        50.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_slow_calls",
            &kind("failed", "a")
        ),
        1.0
    );
    assert_eq!(s.get(&format!("{CALLS}_max"), &kind("failed", "a")), 0.4);
    for state in State::ALL {
        let expected = if state == State::Open { 1.0 } else { 0.0 };
        let labels = [("name", "a"), ("state", state.as_tag())];
        assert_eq!(
            s.get("resilience4j_circuitbreaker_state", &labels),
            expected,
            "{state}"
        );
    }
    let transition =
        |from: &'static str, to: &'static str| [("from", from), ("name", "a"), ("to", to)];
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_transitions_total",
            &transition("closed", "open")
        ),
        1.0
    );

    // OPEN rejects: counted by Resilience4j's counter and fusebox's by reason.
    for _ in 0..3 {
        assert!(!b.try_acquire_permission());
    }
    let s = parse(&monitor.prometheus());
    let not_permitted = [("kind", "not_permitted"), ("name", "a")];
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_not_permitted_calls_total",
            &not_permitted
        ),
        3.0
    );
    let reason = |r: &'static str| [("name", "a"), ("reason", r)];
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_rejected_calls_total",
            &reason("open")
        ),
        3.0
    );

    // HALF_OPEN (entered by the first call after the wait): one probe permit, the next call
    // is rejected, the probe's success closes.
    clock.advance(Duration::from_secs(10) + MS);
    permit(&b);
    assert_eq!(b.state(), State::HalfOpen);
    assert!(!b.try_acquire_permission());
    b.on_success(MS);
    assert_eq!(b.state(), State::Closed);
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_not_permitted_calls_total",
            &not_permitted
        ),
        4.0
    );
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_rejected_calls_total",
            &reason("half_open")
        ),
        1.0
    );
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_transitions_total",
            &transition("open", "half_open")
        ),
        1.0
    );
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_transitions_total",
            &transition("half_open", "closed")
        ),
        1.0
    );
    assert_eq!(
        s.get(&format!("{CALLS}_count"), &kind("successful", "a")),
        3.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_buffered_calls",
            &kind("successful", "a")
        ),
        0.0
    );

    // DISABLED and FORCED_OPEN count nothing (no events), as Resilience4j's meters.
    b.transition_to_disabled_state().unwrap();
    permit(&b);
    b.on_success(MS);
    permit(&b);
    b.on_error(MS);
    b.transition_to_forced_open_state().unwrap();
    assert!(!b.try_acquire_permission());
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(&format!("{CALLS}_count"), &kind("successful", "a")),
        3.0
    );
    assert_eq!(s.get(&format!("{CALLS}_count"), &kind("failed", "a")), 2.0);
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_not_permitted_calls_total",
            &not_permitted
        ),
        4.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_state",
            &[("name", "a"), ("state", "forced_open")]
        ),
        1.0
    );
    // Transitions outside the automatic four appear once they happen.
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_transitions_total",
            &transition("closed", "disabled")
        ),
        1.0
    );
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_transitions_total",
            &transition("disabled", "forced_open")
        ),
        1.0
    );
    assert!(!s.has(
        "fusebox_circuitbreaker_transitions_total",
        &transition("closed", "metrics_only")
    ));

    // METRICS_ONLY records and never trips.
    b.transition_to_metrics_only_state().unwrap();
    for _ in 0..4 {
        permit(&b);
        b.on_error(MS);
    }
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_state",
            &[("name", "a"), ("state", "metrics_only")]
        ),
        1.0
    );
    assert_eq!(
        s.get("resilience4j_circuitbreaker_failure_rate", &[("name", "a")]),
        100.0
    );
    assert_eq!(s.get(&format!("{CALLS}_count"), &kind("failed", "a")), 6.0);
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_transitions_total",
            &transition("forced_open", "metrics_only")
        ),
        1.0
    );
}

#[test]
fn a_float_rate_is_written_as_the_double_it_widens_to() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let b = registry.circuit_breaker_with_config(
        "thirds",
        config(&clock, |c| {
            c.sliding_window_size(3).failure_rate_threshold(90.0)
        }),
    );
    b.on_error(MS);
    b.on_success(MS);
    b.on_success(MS);
    let text = monitor.prometheus();
    assert!(
        text.contains(
            "resilience4j_circuitbreaker_failure_rate{name=\"thirds\"} 33.33333206176758\n"
        ),
        "{text}"
    );
}

#[test]
fn the_max_decays_after_80_to_120_seconds_on_the_breakers_clock() {
    // Micrometer's TimeWindowMax defaults (3 buckets, one cleared every 40 s), kept by the
    // breaker's call stats on the breaker's clock.
    let breaker_clock = ManualClock::at(Duration::from_secs(1_000));
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let b = registry.circuit_breaker_with_config("slow", config(&breaker_clock, |c| c));
    b.on_success(Duration::from_millis(2_500));
    let max = |m: &Monitor| {
        parse(&m.prometheus()).get(
            "resilience4j_circuitbreaker_calls_seconds_max",
            &kind("successful", "slow"),
        )
    };
    assert_eq!(max(&monitor), 2.5);
    breaker_clock.advance(Duration::from_secs(40));
    assert_eq!(max(&monitor), 2.5);
    breaker_clock.advance(Duration::from_secs(40));
    assert_eq!(max(&monitor), 2.5);
    breaker_clock.advance(Duration::from_secs(40));
    assert_eq!(max(&monitor), 0.0);
    // The count and sum are cumulative and stay.
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("successful", "slow")
        ),
        1.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_sum",
            &kind("successful", "slow")
        ),
        2.5
    );
}

#[tokio::test(start_paused = true)]
async fn time_limited_breakers_get_resilience4js_time_limiter_counters() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let limited = registry.circuit_breaker_with_config(
        "limited",
        config(&clock, |c| c.timeout(Duration::from_millis(50))),
    );
    let unlimited = registry.circuit_breaker_with_config("unlimited", config(&clock, |c| c));

    let slow: Result<(), Failure<&str>> = limited
        .call(async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        })
        .await;
    assert!(slow.unwrap_err().is_timeout());
    let ok: Result<u8, Failure<&str>> = limited.call(async { Ok(1) }).await;
    assert!(ok.is_ok());
    let failed: Result<u8, Failure<&str>> = limited.call(async { Err("boom") }).await;
    assert!(failed.is_err());
    unlimited.call(async { Ok::<_, &str>(()) }).await.unwrap();

    const TL: &str = "resilience4j_timelimiter_calls_total";
    let s = parse(&monitor.prometheus());
    assert_eq!(s.get(TL, &kind("successful", "limited")), 1.0);
    assert_eq!(s.get(TL, &kind("failed", "limited")), 1.0);
    assert_eq!(s.get(TL, &kind("timeout", "limited")), 1.0);
    assert!(!s.has(TL, &kind("successful", "unlimited")));
    assert_eq!(s.families[TL].0, PrometheusType::Counter);
    assert_eq!(s.families[TL].1, "The number of successful calls");
    // A timeout is a failed call for the breaker.
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("failed", "limited")
        ),
        2.0
    );

    // DISABLED publishes no events, but a timeout is still a timeout.
    limited.transition_to_disabled_state().unwrap();
    let slow: Result<(), Failure<&str>> = limited
        .call(async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        })
        .await;
    assert!(slow.unwrap_err().is_timeout());
    let s = parse(&monitor.prometheus());
    assert_eq!(s.get(TL, &kind("timeout", "limited")), 2.0);
    assert_eq!(s.get(TL, &kind("failed", "limited")), 1.0);
}

#[test]
fn breakers_created_replaced_and_removed_later_are_followed() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    assert_eq!(monitor.prometheus(), "");

    // Created after the monitor: its very first call is counted.
    let late = registry.circuit_breaker_with_config("late", config(&clock, |c| c));
    late.on_success(MS);
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("successful", "late")
        ),
        1.0
    );

    // Replaced: a fresh breaker, fresh counts, and its events are followed.
    let replaced = registry.replace("late", config(&clock, |c| c));
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("successful", "late")
        ),
        0.0
    );
    replaced.on_error(MS);
    late.on_error(MS); // the old breaker is no longer watched
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("failed", "late")
        ),
        1.0
    );

    // Removed: its series go.
    registry.remove("late");
    assert_eq!(monitor.prometheus(), "");
}

#[test]
fn without_a_runtime_events_wait_in_the_queue_until_the_next_read() {
    // No tokio runtime here: no task moves events; reads drain the queue. SUCCESS events are
    // buffered on request, so that 6000 successes overflow the queue.
    let clock = ManualClock::new();
    let registry = Registry::new();
    let b = registry.circuit_breaker_with_config("sync", config(&clock, |c| c));
    let monitor = Monitor::builder(&registry)
        .success_events(true)
        .build()
        .unwrap();
    for _ in 0..1000 {
        b.on_success(MS);
    }
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("successful", "sync")
        ),
        1000.0
    );
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_monitor_dropped_events_total",
            &[("name", "sync")]
        ),
        0.0
    );
    // Past the queue's 4096 events without a read, the overflow is dropped and counted; the
    // calls timer, read from the breaker's call stats, misses none of them.
    for _ in 0..5000 {
        b.on_success(MS);
    }
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("successful", "sync")
        ),
        6000.0
    );
    assert_eq!(
        monitor
            .events_of("sync", None)
            .unwrap()
            .circuit_breaker_events
            .len(),
        100
    );
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_monitor_dropped_events_total",
            &[("name", "sync")]
        ),
        904.0
    );
}

#[test]
fn by_default_success_events_are_not_buffered_and_nothing_is_missed() {
    // No runtime, no read in between: SUCCESS events are not subscribed to, so nothing queues
    // up for them, and the calls timer still counts every success.
    let clock = ManualClock::new();
    let registry = Registry::new();
    let b = registry.circuit_breaker_with_config("quiet", config(&clock, |c| c));
    let monitor = Monitor::new(&registry);
    for _ in 0..6000 {
        b.on_success(MS);
    }
    b.on_error(2 * MS);
    let s = parse(&monitor.prometheus());
    let count = |k| {
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind(k, "quiet"),
        )
    };
    assert_eq!(count("successful"), 6000.0);
    assert_eq!(count("failed"), 1.0);
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_monitor_dropped_events_total",
            &[("name", "quiet")]
        ),
        0.0
    );
    let types: Vec<String> = monitor
        .events_of("quiet", None)
        .unwrap()
        .circuit_breaker_events
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["ERROR"]);
    assert!(
        monitor
            .events_of("quiet", Some("success"))
            .unwrap()
            .circuit_breaker_events
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_runtime_events_move_in_as_they_come() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .success_events(true)
        .build()
        .unwrap();
    let b = registry.circuit_breaker_with_config("busy", config(&clock, |c| c));
    // 3 x 3000 events: more than the queue holds, with pauses but no read in between.
    for _ in 0..3 {
        for _ in 0..3000 {
            b.on_success(MS);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = parse(&monitor.prometheus());
    assert_eq!(
        s.get(
            "fusebox_circuitbreaker_monitor_dropped_events_total",
            &[("name", "busy")]
        ),
        0.0
    );
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind("successful", "busy")
        ),
        9000.0
    );
}

#[test]
fn a_busy_exposition_passes_the_strict_parser() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "orders \"blue\" \\ green\nline")
        .tag("zone", "eu-1")
        .build()
        .unwrap();
    let names = ["payments", "inventory", "users", "search"];
    for (i, name) in names.into_iter().enumerate() {
        let b = registry.circuit_breaker_with_config(
            name,
            config(&clock, |c| {
                let c = c.sliding_window_size(2).register_health_indicator(true);
                if i % 2 == 0 {
                    c.timeout(Duration::from_secs(1))
                } else {
                    c
                }
            }),
        );
        b.on_error(Duration::from_micros(1_234));
        b.on_error(Duration::from_nanos(7));
        b.on_ignored_error(Duration::from_nanos(7));
        let _ = b.try_acquire_permission();
    }
    registry.circuit_breaker("quote\"and\\backslash");
    let text = monitor.prometheus();
    let s = parse(&text);
    assert_eq!(
        s.get(
            "resilience4j_circuitbreaker_buffered_calls",
            &[
                ("application", "orders \"blue\" \\ green\nline"),
                ("kind", "failed"),
                ("name", "users"),
                ("zone", "eu-1"),
            ]
        ),
        2.0
    );
    assert!(text.contains(r#"application="orders \"blue\" \\ green\nline""#));
    assert!(text.contains(r#"name="quote\"and\\backslash""#));
    // Micrometer's types for every family.
    for (family, ty) in [
        ("resilience4j_circuitbreaker_state", PrometheusType::Gauge),
        (
            "resilience4j_circuitbreaker_buffered_calls",
            PrometheusType::Gauge,
        ),
        (
            "resilience4j_circuitbreaker_slow_calls",
            PrometheusType::Gauge,
        ),
        (
            "resilience4j_circuitbreaker_failure_rate",
            PrometheusType::Gauge,
        ),
        (
            "resilience4j_circuitbreaker_slow_call_rate",
            PrometheusType::Gauge,
        ),
        (
            "resilience4j_circuitbreaker_calls_seconds",
            PrometheusType::Summary,
        ),
        (
            "resilience4j_circuitbreaker_calls_seconds_max",
            PrometheusType::Gauge,
        ),
        (
            "resilience4j_circuitbreaker_not_permitted_calls_total",
            PrometheusType::Counter,
        ),
        (
            "resilience4j_timelimiter_calls_total",
            PrometheusType::Counter,
        ),
        (
            "fusebox_circuitbreaker_transitions_total",
            PrometheusType::Counter,
        ),
        (
            "fusebox_circuitbreaker_rejected_calls_total",
            PrometheusType::Counter,
        ),
        (
            "fusebox_circuitbreaker_monitor_dropped_events_total",
            PrometheusType::Counter,
        ),
    ] {
        assert_eq!(s.families[family].0, ty, "{family}");
    }
    assert_eq!(s.families.len(), 12);
    // A 7 ns call is written in Java's scientific form and parsed back.
    assert!(text.contains("7.0E-9"), "{text}");
}

#[test]
fn bad_monitor_settings_name_the_setting() {
    let registry = Registry::new();
    let err = |b: fusebox_runtime::observe::MonitorBuilder| b.build().unwrap_err().to_string();
    assert_eq!(
        err(Monitor::builder(&registry).tag("app.name", "x")),
        "monitor setting `tags.app.name`: the tag name `app.name` must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name)"
    );
    assert_eq!(
        err(Monitor::builder(&registry).tag("9lives", "x")),
        "monitor setting `tags.9lives`: the tag name `9lives` must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name)"
    );
    assert!(
        err(Monitor::builder(&registry).tag("name", "x")).starts_with(
            "monitor setting `tags.name`: `name` is a label the breaker series set themselves"
        )
    );
    assert_eq!(
        err(Monitor::builder(&registry).tag("__meta", "x")),
        "monitor setting `tags.__meta`: the tag name `__meta` starts with `__`, which Prometheus reserves"
    );
    assert_eq!(
        err(Monitor::builder(&registry).tag("app", "x").tag("app", "y")),
        "monitor setting `tags.app`: the tag is given twice"
    );
}

#[test]
fn the_parser_used_above_rejects_what_prometheus_rejects() {
    // The checks above mean something only if the parser is strict.
    for bad in [
        "foo{a=b} 1\n",                                  // unquoted label value
        "foo{a=\"b\"} one\n",                            // not a number
        "# TYPE foo summary\nfoo_total{a=\"b\"} 1\n",    // a counter sample in a summary
        "# TYPE foo gauge\n# TYPE foo counter\nfoo 1\n", // two types
        "foo{a=\"b\"} 1\nfoo{a=\"b\"} 2\n",              // one series twice
    ] {
        assert!(parse_prometheus(bad).is_err(), "accepted: {bad:?}");
    }
}

/// The descriptions Resilience4j gives the series of a family, when they differ.
fn descriptions_of(family: &str) -> Option<&'static [&'static str]> {
    Some(match family {
        "resilience4j_circuitbreaker_buffered_calls" => &[
            "The number of buffered failed calls stored in the ring buffer",
            "The number of buffered successful calls stored in the ring buffer",
        ],
        "resilience4j_circuitbreaker_slow_calls" => &[
            "The number of slow successful which were slower than a certain threshold",
            "The number of slow failed calls which were slower than a certain threshold",
        ],
        "resilience4j_circuitbreaker_calls_seconds"
        | "resilience4j_circuitbreaker_calls_seconds_max" => &[
            "Total number of successful calls",
            "Total number of failed calls",
            "Total number of calls which failed but the exception was ignored",
        ],
        "resilience4j_retry_calls_total" => &[
            "The number of successful calls without a retry attempt",
            "The number of successful calls after a retry attempt",
            "The number of failed calls without a retry attempt",
            "The number of failed calls after a retry attempt",
        ],
        "resilience4j_timelimiter_calls_total" => &[
            "The number of successful calls",
            "The number of failed calls",
            "The number of timed out calls",
        ],
        _ => return None,
    })
}

/// Compares fusebox's exposition (without its own `fusebox_*` families) with Micrometer's,
/// line by line; a HELP line of a multi-description family may be any of its descriptions.
fn assert_same_as_micrometer(ours: &str, micrometer: &str) {
    let mut skipping = false;
    let ours: Vec<&str> = ours
        .lines()
        .filter(|l| {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                skipping = rest.starts_with("fusebox_");
            }
            !skipping
        })
        .collect();
    let theirs: Vec<&str> = micrometer.lines().collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours:\n{}\n\nMicrometer's:\n{micrometer}",
        ours.join("\n")
    );
    for (o, t) in ours.iter().zip(&theirs) {
        if let (Some(o), Some(t)) = (o.strip_prefix("# HELP "), t.strip_prefix("# HELP ")) {
            let (o_name, o_help) = o.split_once(' ').unwrap();
            let (t_name, t_help) = t.split_once(' ').unwrap();
            assert_eq!(o_name, t_name);
            if let Some(helps) = descriptions_of(o_name) {
                assert!(
                    helps.contains(&o_help) && helps.contains(&t_help),
                    "{o} / {t}"
                );
                continue;
            }
        }
        assert_eq!(o, t);
    }
}

#[test]
fn the_output_matches_micrometers_own_for_a_fresh_breaker() {
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "demo")
        .build()
        .unwrap();
    registry.circuit_breaker("backendA");
    assert_same_as_micrometer(
        &monitor.prometheus(),
        include_str!("data/micrometer/fresh.txt"),
    );
}

#[test]
fn the_output_matches_micrometers_own_after_the_same_calls() {
    // The calls of `data/micrometer/Main.java`, made on fusebox breakers.
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let b = registry.circuit_breaker_with_config(
        "a",
        config(&clock, |c| {
            c.sliding_window_size(4)
                .failure_rate_threshold(50.0)
                .slow_call_duration_threshold(Duration::from_millis(100))
                .permitted_number_of_calls_in_half_open_state(1)
                .wait_duration_in_open_state(Duration::from_secs(10))
        }),
    );
    let t = registry.circuit_breaker_with_config(
        "thirds",
        config(&clock, |c| {
            c.sliding_window_size(3).failure_rate_threshold(90.0)
        }),
    );
    permit(&b);
    b.on_success(10 * MS);
    permit(&b);
    b.on_success(200 * MS);
    permit(&b);
    b.on_error(30 * MS);
    permit(&b);
    b.on_ignored_error(5 * MS);
    permit(&b);
    b.on_error(400 * MS);
    for _ in 0..3 {
        assert!(!b.try_acquire_permission());
    }
    t.on_error(MS);
    t.on_success(MS);
    t.on_success(MS);
    assert_same_as_micrometer(
        &monitor.prometheus(),
        include_str!("data/micrometer/scripted.txt"),
    );
}

#[test]
fn a_breaker_without_call_stats_has_no_series_made_from_them() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let off = registry
        .circuit_breaker_with_config("off", config(&clock, |c| c.call_stats_enabled(false)));
    off.on_success(MS);
    let s = parse(&monitor.prometheus());
    assert!(s.has(
        "resilience4j_circuitbreaker_state",
        &[("name", "off"), ("state", "closed")]
    ));
    for k in ["successful", "failed", "ignored"] {
        assert!(!s.has(
            "resilience4j_circuitbreaker_calls_seconds_count",
            &kind(k, "off")
        ));
        assert!(!s.has(
            "resilience4j_circuitbreaker_calls_seconds_max",
            &kind(k, "off")
        ));
    }
    assert!(!s.has(
        "resilience4j_circuitbreaker_not_permitted_calls_total",
        &kind("not_permitted", "off")
    ));
    assert!(
        !s.families
            .contains_key("fusebox_circuitbreaker_transitions_total")
    );
}

mod retries_and_time_limiters {
    use super::*;
    use fusebox_runtime::retry::RetryConfig;
    use fusebox_runtime::time_limiter::{TimeLimiterConfig, TimeLimiterError};

    #[derive(Debug, PartialEq)]
    enum Error {
        Boom,
        Business,
    }
    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    #[test]
    fn fresh_entries_are_exposed_exactly_as_micrometer_writes_them() {
        let registry = Registry::new();
        let monitor = Monitor::builder(&registry)
            .tag("application", "demo")
            .build()
            .unwrap();
        registry.retry("backendA");
        registry.time_limiter("backendA");
        assert_same_as_micrometer(
            &monitor.prometheus(),
            include_str!("data/micrometer/retry/fresh.txt"),
        );
    }

    /// The calls of `data/micrometer/retry/Main.java`, made on fusebox's retries and time
    /// limiters.
    #[tokio::test(start_paused = true)]
    async fn the_output_matches_micrometers_own_after_the_same_calls() {
        let registry = Registry::new();
        let monitor = Monitor::new(&registry);
        let config = RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(MS)
            .ignore_error(|e: &Error| *e == Error::Business)
            .build()
            .unwrap();
        let r = registry.retry_with_config("orders", config.clone());
        registry.retry_with_config("idle", config);
        for _ in 0..2 {
            assert!(r.call(|| async { Ok::<_, Error>(1) }).await.is_ok());
        }
        let mut n = 0;
        let after_one = r
            .call(|| {
                n += 1;
                let first = n == 1;
                async move { if first { Err(Error::Boom) } else { Ok(1) } }
            })
            .await;
        assert!(after_one.is_ok());
        assert!(
            r.call(|| async { Err::<u32, _>(Error::Boom) })
                .await
                .is_err()
        );
        for _ in 0..2 {
            let business = r.call(|| async { Err::<u32, _>(Error::Business) }).await;
            assert!(business.is_err());
        }

        let t = registry.time_limiter("orders");
        registry.time_limiter_with_config(
            "slow",
            TimeLimiterConfig::builder()
                .timeout_duration(10 * MS)
                .build()
                .unwrap(),
        );
        for _ in 0..3 {
            let ok: Result<u32, TimeLimiterError<Error>> = t.call(async { Ok(1) }).await;
            assert!(ok.is_ok());
        }
        let failed: Result<u32, TimeLimiterError<Error>> = t.call(async { Err(Error::Boom) }).await;
        assert!(failed.is_err());
        for _ in 0..2 {
            let slow: Result<u32, TimeLimiterError<Error>> = t
                .call(async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Ok(1)
                })
                .await;
            assert!(slow.unwrap_err().is_timeout());
        }
        let text = monitor.prometheus();
        assert_same_as_micrometer(&text, include_str!("data/micrometer/retry/scripted.txt"));
        parse_prometheus(&text).expect("a valid exposition");
    }

    #[tokio::test(start_paused = true)]
    async fn a_breaker_timeout_and_a_time_limiter_of_one_name_share_one_series() {
        let registry = Registry::new();
        let monitor = Monitor::new(&registry);
        let breaker = registry.circuit_breaker_with_config(
            "orders",
            CircuitBreakerConfig::builder()
                .timeout(10 * MS)
                .build()
                .unwrap(),
        );
        let limiter = registry.time_limiter("orders");
        let via_breaker: Result<u32, fusebox_runtime::Failure<Error>> =
            breaker.call(async { Ok(1) }).await;
        assert!(via_breaker.is_ok());
        let via_limiter: Result<u32, TimeLimiterError<Error>> = limiter.call(async { Ok(1) }).await;
        assert!(via_limiter.is_ok());
        let text = monitor.prometheus();
        let lines: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("resilience4j_timelimiter_calls_total{kind=\"successful\""))
            .collect();
        assert_eq!(
            lines,
            ["resilience4j_timelimiter_calls_total{kind=\"successful\",name=\"orders\"} 2.0"]
        );
        parse_prometheus(&text).expect("no duplicate series");
    }
}

mod rate_limiters {
    use super::*;
    use fusebox_runtime::rate_limiter::RateLimiterConfig;

    const HOUR: Duration = Duration::from_secs(3600);

    fn hourly(limit: u32, timeout: Duration) -> RateLimiterConfig {
        RateLimiterConfig::builder()
            .limit_for_period(limit)
            .limit_refresh_period(HOUR)
            .timeout_duration(timeout)
            .build()
            .unwrap()
    }

    #[test]
    fn a_fresh_rate_limiter_is_exposed_exactly_as_micrometer_writes_it() {
        let registry = Registry::new();
        let monitor = Monitor::builder(&registry)
            .tag("application", "demo")
            .build()
            .unwrap();
        registry.rate_limiter("backendA");
        let text = monitor.prometheus();
        assert_same_as_micrometer(
            &text,
            include_str!("data/micrometer/rate_limiter/fresh.txt"),
        );
        assert!(text.contains(
            "fusebox_ratelimiter_monitor_dropped_events_total{application=\"demo\",name=\"backendA\"} 0.0"
        ));
    }

    /// The calls of `data/micrometer/rate_limiter/Main.java`, made on fusebox's rate limiters.
    #[tokio::test]
    async fn the_output_matches_micrometers_own_after_the_same_calls() {
        let registry = Registry::new();
        let monitor = Monitor::new(&registry);
        // "orders": 3 of 5 taken, 3 more refused.
        let orders = registry.rate_limiter_with_config("orders", hourly(5, Duration::ZERO));
        for _ in 0..3 {
            orders.acquire_permission(1).await.unwrap();
        }
        assert!(orders.acquire_permission(3).await.is_err());
        // "queued": its permit taken, a caller waiting for the next cycle's.
        let queued = registry.rate_limiter_with_config("queued", hourly(1, 2 * HOUR));
        queued.acquire_permission(1).await.unwrap();
        let waiter = {
            let queued = queued.clone();
            tokio::spawn(async move { queued.acquire_permission(1).await })
        };
        while queued.metrics().number_of_waiting_threads < 1 {
            tokio::task::yield_now().await;
        }
        // "reserved": 3 reserved of 2 a cycle, nobody waiting.
        let reserved = registry.rate_limiter_with_config("reserved", hourly(2, 2 * HOUR));
        for _ in 0..3 {
            reserved.reserve_permission(1).unwrap();
        }
        // "drained".
        let drained = registry.rate_limiter_with_config("drained", hourly(4, Duration::ZERO));
        drained.drain_permissions();

        let text = monitor.prometheus();
        assert_same_as_micrometer(
            &text,
            include_str!("data/micrometer/rate_limiter/scripted.txt"),
        );
        parse_prometheus(&text).expect("a valid exposition");
        // Read at scrape time: the waiter gone, the gauge says so.
        waiter.abort();
        let _ = waiter.await;
        assert!(
            monitor
                .prometheus()
                .contains("resilience4j_ratelimiter_waiting_threads{name=\"queued\"} 0.0")
        );
    }
}

mod bulkheads {
    use super::*;
    use fusebox_runtime::bulkhead::BulkheadConfig;

    fn slots(max: u32) -> BulkheadConfig {
        BulkheadConfig::builder()
            .max_concurrent_calls(max)
            .build()
            .unwrap()
    }

    #[test]
    fn a_fresh_bulkhead_is_exposed_exactly_as_micrometer_writes_it() {
        let registry = Registry::new();
        let monitor = Monitor::builder(&registry)
            .tag("application", "demo")
            .build()
            .unwrap();
        // Created after the monitor: followed through the registry's entry hook.
        registry.bulkhead("backendA");
        let text = monitor.prometheus();
        assert_same_as_micrometer(&text, include_str!("data/micrometer/bulkhead/fresh.txt"));
        assert!(text.contains(
            "fusebox_bulkhead_monitor_dropped_events_total{application=\"demo\",name=\"backendA\"} 0.0"
        ));
        parse_prometheus(&text).expect("a valid exposition");
    }

    /// The calls of `data/micrometer/bulkhead/Main.java`, made on fusebox's bulkheads.
    #[tokio::test]
    async fn the_output_matches_micrometers_own_after_the_same_calls() {
        let registry = Registry::new();
        let monitor = Monitor::new(&registry);
        // "orders": 5 slots, 3 calls running.
        let orders = registry.bulkhead_with_config("orders", slots(5));
        let running: Vec<_> = (0..3)
            .map(|_| orders.try_acquire_permission().unwrap())
            .collect();
        // "full": 2 slots, both taken, a third call rejected.
        let full = registry.bulkhead_with_config("full", slots(2));
        let both = (
            full.try_acquire_permission().unwrap(),
            full.try_acquire_permission().unwrap(),
        );
        assert!(full.try_acquire_permission().is_err());
        // "finished": 4 slots, 3 calls, 2 of them finished.
        let finished = registry.bulkhead_with_config("finished", slots(4));
        let mut three: Vec<_> = (0..3)
            .map(|_| finished.try_acquire_permission().unwrap())
            .collect();
        three.truncate(1);
        // "grown": 3 slots, 1 call running, then 6 slots.
        let grown = registry.bulkhead_with_config("grown", slots(3));
        let grown_call = grown.try_acquire_permission().unwrap();
        grown.change_config(slots(6)).await;
        // "shrunk": 6 slots, 1 call running, then 2 slots.
        let shrunk = registry.bulkhead_with_config("shrunk", slots(6));
        let shrunk_call = shrunk.try_acquire_permission().unwrap();
        shrunk.change_config(slots(2)).await;
        // "closed": 0 slots, every call rejected.
        let closed = registry.bulkhead_with_config("closed", slots(0));
        assert!(closed.try_acquire_permission().is_err());

        let text = monitor.prometheus();
        assert_same_as_micrometer(&text, include_str!("data/micrometer/bulkhead/scripted.txt"));
        parse_prometheus(&text).expect("a valid exposition");
        // Read at scrape time: the calls ended, every slot is free again.
        drop((running, both, three, grown_call, shrunk_call));
        let text = monitor.prometheus();
        for (name, free) in [("orders", 5), ("full", 2), ("finished", 4), ("grown", 6)] {
            assert!(
                text.contains(&format!(
                    "resilience4j_bulkhead_available_concurrent_calls{{name=\"{name}\"}} {free}.0"
                )),
                "{name}: {text}"
            );
        }
        // "shrunk" took its slot back from the call that ended: 2 free of 2.
        assert!(
            text.contains("resilience4j_bulkhead_available_concurrent_calls{name=\"shrunk\"} 2.0")
        );
    }
}
