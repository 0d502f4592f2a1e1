//! The `/actuator/*` router over real HTTP on 127.0.0.1: every endpoint, Resilience4j's JSON
//! bodies, Spring's health mapping and aggregation, and every 4xx case.
#![cfg(feature = "actuator")]

use fusebox_runtime::observe::Monitor;
use fusebox_runtime::observe::actuator::{ACTUATOR_JSON, Actuator};
use fusebox_runtime::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerConfigBuilder, ManualClock, Registry, State,
};
use serde_json::{Value, json};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// Serves `actuator` on an ephemeral port of 127.0.0.1; returns its base URL.
async fn serve(actuator: Actuator) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app: axum::Router = actuator.router();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

struct Answer {
    status: u16,
    content_type: String,
    allow: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: response.status().as_u16(),
        content_type: header(reqwest::header::CONTENT_TYPE).unwrap_or_default(),
        allow: header(reqwest::header::ALLOW),
        text: response.text().await.unwrap(),
    }
}

async fn get(base: &str, path: &str) -> Answer {
    send(reqwest::Client::new().get(format!("{base}{path}"))).await
}

async fn post(base: &str, path: &str, body: &str) -> Answer {
    send(
        reqwest::Client::new()
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body.to_owned()),
    )
    .await
}

fn config(
    clock: &ManualClock,
    f: impl FnOnce(CircuitBreakerConfigBuilder) -> CircuitBreakerConfigBuilder,
) -> CircuitBreakerConfig {
    f(CircuitBreakerConfig::builder().clock(clock.clone()))
        .build()
        .unwrap()
}

/// Trips `b` (a window of 2, threshold 50 %) with two failures.
fn trip(b: &CircuitBreaker) {
    b.on_error(MS);
    b.on_error(MS);
    assert_eq!(b.state(), State::Open);
}

fn assert_error(answer: &Answer, status: u16, path: &str, message: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.content_type, "application/json");
    let body = answer.json();
    assert_eq!(body["status"], status);
    assert_eq!(body["path"], path);
    assert!(body["error"].is_string());
    let text = body["message"].as_str().unwrap();
    assert!(text.contains(message), "{text:?} lacks {message:?}");
}

#[tokio::test]
async fn circuitbreakers_lists_resilience4js_details() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let base = serve(Actuator::new(Monitor::new(&registry))).await;
    registry.circuit_breaker("b-fresh");
    let tripped = registry.circuit_breaker_with_config(
        "a-tripped",
        config(&clock, |c| {
            c.sliding_window_size(2)
                .failure_rate_threshold(50.0)
                .slow_call_rate_threshold(80.0)
        }),
    );
    trip(&tripped);
    assert!(!tripped.try_acquire_permission());

    let answer = get(&base, "/actuator/circuitbreakers").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, ACTUATOR_JSON);
    // Field order as Resilience4j's CircuitBreakerDetails, breakers sorted by name.
    assert_eq!(
        answer.text,
        concat!(
            r#"{"circuitBreakers":{"#,
            r#""a-tripped":{"failureRate":"100.0%","slowCallRate":"0.0%","failureRateThreshold":"50.0%","#,
            r#""slowCallRateThreshold":"80.0%","bufferedCalls":2,"failedCalls":2,"slowCalls":0,"#,
            r#""slowFailedCalls":0,"notPermittedCalls":1,"state":"OPEN"},"#,
            r#""b-fresh":{"failureRate":"-1.0%","slowCallRate":"-1.0%","failureRateThreshold":"50.0%","#,
            r#""slowCallRateThreshold":"100.0%","bufferedCalls":0,"failedCalls":0,"slowCalls":0,"#,
            r#""slowFailedCalls":0,"notPermittedCalls":0,"state":"CLOSED"}}}"#
        )
    );

    // Plain JSON when asked for.
    let answer = send(
        reqwest::Client::new()
            .get(format!("{base}/actuator/circuitbreakers"))
            .header("accept", "application/json"),
    )
    .await;
    assert_eq!(answer.content_type, "application/json");

    // One breaker (fusebox's addition), with a percent-encoded name.
    registry.circuit_breaker("with space");
    let answer = get(&base, "/actuator/circuitbreakers/a-tripped").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["state"], "OPEN");
    assert_eq!(answer.json()["failureRate"], "100.0%");
    let answer = get(&base, "/actuator/circuitbreakers/with%20space").await;
    assert_eq!(answer.json()["state"], "CLOSED");

    let answer = get(&base, "/actuator/circuitbreakers/nope").await;
    assert_error(
        &answer,
        404,
        "/actuator/circuitbreakers/nope",
        "no circuit breaker is named 'nope'",
    );
    let answer = get(&base, "/actuator/circuitbreakers/%FF").await;
    assert_error(
        &answer,
        400,
        "/actuator/circuitbreakers/%FF",
        "invalid path segment",
    );
}

#[tokio::test]
async fn state_changes_are_off_unless_switched_on() {
    let registry = Registry::new();
    let b = registry.circuit_breaker("orders");
    let base = serve(Actuator::new(Monitor::new(&registry))).await;
    let answer = post(
        &base,
        "/actuator/circuitbreakers/orders",
        r#"{"updateState":"FORCE_OPEN"}"#,
    )
    .await;
    assert_error(
        &answer,
        405,
        "/actuator/circuitbreakers/orders",
        "Actuator::allow_state_changes(true)",
    );
    assert_eq!(answer.allow.as_deref(), Some("GET"));
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test]
async fn state_changes_answer_as_resilience4j() {
    let registry = Registry::new();
    let b = registry.circuit_breaker("orders");
    let base = serve(Actuator::new(Monitor::new(&registry)).allow_state_changes(true)).await;
    let path = "/actuator/circuitbreakers/orders";

    let answer = post(&base, path, r#"{"updateState":"FORCE_OPEN"}"#).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, ACTUATOR_JSON);
    assert_eq!(
        answer.text,
        r#"{"circuitBreakerName":"orders","currentState":"FORCED_OPEN","message":"orders state has been changed successfully"}"#
    );
    assert_eq!(b.state(), State::ForcedOpen);

    // Spring reads enums leniently; other keys are ignored.
    let answer = post(
        &base,
        path,
        r#"{"updateState":"disable","note":"incident 42"}"#,
    )
    .await;
    assert_eq!(answer.json()["currentState"], "DISABLED");
    assert_eq!(b.state(), State::Disabled);
    let answer = post(&base, path, r#"{"updateState":"Close"}"#).await;
    assert_eq!(answer.json()["currentState"], "CLOSED");
    assert_eq!(b.state(), State::Closed);

    // A breaker that does not exist yet is created, as Resilience4j does.
    let answer = post(
        &base,
        "/actuator/circuitbreakers/new-one",
        r#"{"updateState":"FORCE_OPEN"}"#,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        registry.find("new-one").map(|b| b.state()),
        Some(State::ForcedOpen)
    );

    // Bad input: nothing changes, 4xx with a message.
    for (body, message) in [
        (
            r#"{"updateState":"OPEN"}"#,
            "'OPEN' is not a state to change to; use CLOSE, FORCE_OPEN or DISABLE",
        ),
        (r#"{"updateState":7}"#, "invalid body"),
        (r#"{"state":"CLOSE"}"#, "missing field `updateState`"),
        (r#"{"updateState":"CLOSE""#, "invalid body"),
        ("not json", "invalid body"),
        ("[]", "invalid body"),
        ("", "the body is empty"),
    ] {
        let answer = post(&base, path, body).await;
        assert_error(&answer, 400, path, message);
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains(r#"{"updateState":"CLOSE"|"FORCE_OPEN"|"DISABLE"}"#),
            "{body}: the message shows the expected body"
        );
    }
    assert_eq!(b.state(), State::Closed);

    let answer = send(
        reqwest::Client::new()
            .post(format!("{base}{path}"))
            .header("content-type", "text/plain")
            .body(r#"{"updateState":"FORCE_OPEN"}"#),
    )
    .await;
    assert_error(&answer, 415, path, "must be JSON");

    let huge = format!(
        r#"{{"updateState":"CLOSE","pad":"{}"}}"#,
        "x".repeat(10_000)
    );
    let answer = post(&base, path, &huge).await;
    assert_error(&answer, 413, path, "larger than 1024 bytes");
    assert_eq!(b.state(), State::Closed);

    // Unsupported methods are axum's 405.
    let answer = send(reqwest::Client::new().delete(format!("{base}{path}"))).await;
    assert_eq!(answer.status, 405);
}

#[tokio::test]
async fn events_are_buffered_filtered_and_shaped_as_resilience4js() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    // SUCCESS events are buffered only on request (Resilience4j buffers them always).
    let monitor = Monitor::builder(&registry)
        .success_events(true)
        .build()
        .unwrap();
    let base = serve(Actuator::new(monitor)).await;
    let a = registry.circuit_breaker_with_config(
        "a",
        config(&clock, |c| {
            c.sliding_window_size(2).failure_rate_threshold(50.0)
        }),
    );
    a.on_success(Duration::from_micros(12_700));
    a.on_ignored_error(3 * MS);
    a.on_error(5 * MS);
    assert_eq!(a.state(), State::Open);
    assert!(!a.try_acquire_permission());
    a.reset();

    let answer = get(&base, "/actuator/circuitbreakerevents/a").await;
    assert_eq!(answer.status, 200);
    let events = answer.json()["circuitBreakerEvents"]
        .as_array()
        .unwrap()
        .clone();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "SUCCESS",
            "IGNORED_ERROR",
            "ERROR",
            "FAILURE_RATE_EXCEEDED",
            "STATE_TRANSITION",
            "NOT_PERMITTED",
            "STATE_TRANSITION",
            "RESET"
        ]
    );
    for e in &events {
        assert_eq!(e["circuitBreakerName"], "a");
        // ZonedDateTime.toString(): date, time, offset and the zone's name.
        let time = e["creationTime"].as_str().unwrap();
        assert!(
            time.len() >= 17 && time.as_bytes()[10] == b'T' && time.ends_with(']'),
            "{time}"
        );
        // fusebox's events carry no error value: errorMessage is null, written as Spring
        // writes absent values (all six keys).
        assert_eq!(e["errorMessage"], serde_json::Value::Null);
        assert_eq!(e.as_object().unwrap().len(), 6, "{e}");
    }
    assert_eq!(events[0]["durationInMs"], 12);
    assert_eq!(events[1]["durationInMs"], 3);
    assert_eq!(events[2]["durationInMs"], 5);
    assert_eq!(events[3]["durationInMs"], serde_json::Value::Null);
    assert_eq!(events[0]["stateTransition"], serde_json::Value::Null);
    assert_eq!(events[4]["stateTransition"], "CLOSED_TO_OPEN");
    assert_eq!(events[6]["stateTransition"], "OPEN_TO_CLOSED");
    let keys: Vec<&String> = events[4].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6, "{keys:?}");

    // By type, any case.
    for t in ["state_transition", "STATE_TRANSITION", "State_Transition"] {
        let answer = get(&base, &format!("/actuator/circuitbreakerevents/a/{t}")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.json()["circuitBreakerEvents"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
    // Valid in Resilience4j's enum, never published.
    let answer = get(&base, "/actuator/circuitbreakerevents/a/forced_open").await;
    assert_eq!(answer.text, r#"{"circuitBreakerEvents":[]}"#);

    // The buffer keeps the last `eventConsumerBufferSize` events.
    let small = registry
        .circuit_breaker_with_config("small", config(&clock, |c| c.event_consumer_buffer_size(3)));
    for i in 1..=5 {
        small.on_success(i * MS);
    }
    let answer = get(&base, "/actuator/circuitbreakerevents/small").await;
    let durations: Vec<u64> = answer.json()["circuitBreakerEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["durationInMs"].as_u64().unwrap())
        .collect();
    assert_eq!(durations, [3, 4, 5]);

    // All breakers, sorted by creation time.
    let answer = get(&base, "/actuator/circuitbreakerevents").await;
    let all = answer.json()["circuitBreakerEvents"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 8 + 3);
    assert!(all[..8].iter().all(|e| e["circuitBreakerName"] == "a"));
    assert!(all[8..].iter().all(|e| e["circuitBreakerName"] == "small"));

    // Bad input.
    let answer = get(&base, "/actuator/circuitbreakerevents/a/bogus").await;
    assert_error(
        &answer,
        400,
        "/actuator/circuitbreakerevents/a/bogus",
        "'bogus' is not a circuit breaker event type; use one of ERROR, IGNORED_ERROR, SUCCESS",
    );
    let answer = get(&base, "/actuator/circuitbreakerevents/nope").await;
    assert_error(
        &answer,
        404,
        "/actuator/circuitbreakerevents/nope",
        "no circuit breaker is named 'nope'",
    );
    let answer = get(&base, "/actuator/circuitbreakerevents/nope/error").await;
    assert_eq!(answer.status, 404);
}

/// One breaker in `state`, made by calls or by hand.
fn breaker_in(
    registry: &Registry,
    clock: &ManualClock,
    name: &str,
    state: State,
    (register, allow): (bool, bool),
) -> CircuitBreaker {
    let b = registry.circuit_breaker_with_config(
        name,
        config(clock, |c| {
            c.sliding_window_size(2)
                .failure_rate_threshold(50.0)
                .register_health_indicator(register)
                .allow_health_indicator_to_fail(allow)
        }),
    );
    match state {
        State::Closed => {}
        State::Open => trip(&b),
        State::HalfOpen => {
            trip(&b);
            b.transition_to_half_open_state().unwrap();
        }
        State::Disabled => b.transition_to_disabled_state().unwrap(),
        State::ForcedOpen => b.transition_to_forced_open_state().unwrap(),
        State::MetricsOnly => b.transition_to_metrics_only_state().unwrap(),
    }
    assert_eq!(b.state(), state);
    b
}

/// `/actuator/health` for breakers in `states`, all registered, `allow` to fail or not.
async fn health_of(states: &[State], allow: bool) -> (u16, Value) {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    for (i, state) in states.iter().enumerate() {
        breaker_in(&registry, &clock, &format!("b{i}"), *state, (true, allow));
    }
    let base = serve(Actuator::new(monitor)).await;
    let answer = get(&base, "/actuator/health").await;
    (answer.status, answer.json())
}

#[tokio::test]
async fn health_maps_and_aggregates_as_spring() {
    use State::*;
    // (breaker states, allowHealthIndicatorToFail) -> (circuitBreakers status, HTTP status)
    let table: &[(&[State], bool, &str, u16)] = &[
        (&[], false, "UNKNOWN", 200),
        (&[Closed], false, "UP", 200),
        (&[Open], false, "UNKNOWN", 200),
        (&[Open], true, "DOWN", 503),
        (&[HalfOpen], false, "UNKNOWN", 200),
        (&[HalfOpen], true, "UNKNOWN", 200),
        (&[Disabled], false, "UNKNOWN", 200),
        (&[ForcedOpen], true, "UNKNOWN", 200),
        (&[MetricsOnly], true, "UNKNOWN", 200),
        (&[Closed, Open], false, "UP", 200),
        (&[Closed, Open], true, "DOWN", 503),
        (&[Closed, HalfOpen, Open], false, "UP", 200),
        (&[Closed, ForcedOpen], true, "UP", 200),
    ];
    let expected_breaker = |state: State, allow: bool| match state {
        Closed => "UP",
        Open if allow => "DOWN",
        Open => "CIRCUIT_OPEN",
        HalfOpen => "CIRCUIT_HALF_OPEN",
        Disabled | ForcedOpen | MetricsOnly => "UNKNOWN",
    };
    for (states, allow, component, http) in table {
        let (status, body) = health_of(states, *allow).await;
        let case = format!("{states:?} allow={allow}");
        assert_eq!(status, *http, "{case}: {body}");
        let cb = &body["components"]["circuitBreakers"];
        assert_eq!(cb["status"], *component, "{case}: {body}");
        // Overall: with `ping` UP, UNKNOWN and custom statuses give UP; DOWN wins.
        let overall = if *component == "DOWN" { "DOWN" } else { "UP" };
        assert_eq!(body["status"], overall, "{case}: {body}");
        assert_eq!(body["components"]["ping"], json!({"status": "UP"}));
        for (i, state) in states.iter().enumerate() {
            let b = &cb["details"][format!("b{i}")];
            assert_eq!(b["status"], expected_breaker(*state, *allow), "{case}");
            assert_eq!(b["details"]["state"], state.as_str(), "{case}");
        }
        if states.is_empty() {
            // No registered breaker: Spring writes the component without details.
            assert_eq!(*cb, json!({"status": "UNKNOWN"}));
        }
    }
}

#[tokio::test]
async fn health_details_keys_registration_and_components() {
    let clock = ManualClock::new();
    let registry = Registry::new();
    let monitor = Monitor::new(&registry);
    let watched = breaker_in(&registry, &clock, "watched", State::Open, (true, true));
    breaker_in(&registry, &clock, "unwatched", State::Open, (false, false));
    let base = serve(Actuator::new(monitor.clone())).await;

    let answer = get(&base, "/actuator/health").await;
    assert_eq!(answer.status, 503);
    assert_eq!(
        answer.text,
        concat!(
            r#"{"status":"DOWN","components":{"circuitBreakers":{"status":"DOWN","details":{"watched":"#,
            r#"{"status":"DOWN","details":{"failureRate":"100.0%","failureRateThreshold":"50.0%","#,
            r#""slowCallRate":"0.0%","slowCallRateThreshold":"100.0%","bufferedCalls":2,"slowCalls":0,"#,
            r#""slowFailedCalls":0,"failedCalls":2,"notPermittedCalls":0,"state":"OPEN"}}}},"#,
            r#""ping":{"status":"UP"}}}"#
        )
    );

    let answer = get(&base, "/actuator/health/circuitBreakers").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["details"]["watched"]["status"], "DOWN");
    let answer = get(&base, "/actuator/health/ping").await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"status": "UP"}))
    );
    let answer = get(&base, "/actuator/health/nope").await;
    assert_error(
        &answer,
        404,
        "/actuator/health/nope",
        "no health component is named 'nope'; there are: circuitBreakers, ping",
    );

    // Recovery shows at once.
    watched.transition_to_closed_state().unwrap();
    let answer = get(&base, "/actuator/health").await;
    assert_eq!(
        (answer.status, answer.json()["status"].clone()),
        (200, json!("UP"))
    );

    // Spring's `show-details: never`.
    watched.transition_to_open_state().unwrap();
    let base = serve(Actuator::new(monitor).show_health_details(false)).await;
    let answer = get(&base, "/actuator/health").await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (503, r#"{"status":"DOWN"}"#)
    );
}

#[tokio::test]
async fn prometheus_is_served_as_text_format_0_0_4() {
    let registry = Registry::new();
    let monitor = Monitor::builder(&registry)
        .tag("application", "shop")
        .build()
        .unwrap();
    let base = serve(Actuator::new(monitor)).await;
    let b = registry.circuit_breaker("orders");
    b.transition_to_forced_open_state().unwrap();
    let answer = get(&base, "/actuator/prometheus").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(answer.text.contains(
        "resilience4j_circuitbreaker_state{application=\"shop\",name=\"orders\",state=\"forced_open\"} 1.0\n"
    ));
    assert!(answer.text.contains(
        "fusebox_circuitbreaker_transitions_total{application=\"shop\",from=\"closed\",name=\"orders\",to=\"forced_open\"} 1.0\n"
    ));
    assert!(openmetrics_parser::prometheus::parse_prometheus(&answer.text).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_do_not_hold_up_guarded_calls() {
    // Endpoints read breakers through short locks: calls keep flowing while clients poll
    // every endpoint as fast as they can.
    let registry = Registry::with_default_config(
        CircuitBreakerConfig::builder()
            .register_health_indicator(true)
            .build()
            .unwrap(),
    );
    let monitor = Monitor::new(&registry);
    let base = serve(Actuator::new(monitor)).await;
    let b = registry.circuit_breaker("busy");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut pollers = Vec::new();
    for path in [
        "/actuator/prometheus",
        "/actuator/circuitbreakers",
        "/actuator/circuitbreakerevents/busy",
        "/actuator/health",
    ] {
        let (base, stop) = (base.clone(), stop.clone());
        pollers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(get(&base, path).await.status, 200);
                n += 1;
            }
            n
        }));
    }
    let caller = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        for i in 0..200_000u32 {
            let permit = b.try_acquire().unwrap();
            if i % 100 == 0 {
                permit.on_error();
            } else {
                permit.on_success();
            }
        }
        started.elapsed()
    });
    let elapsed = tokio::task::spawn_blocking(move || caller.join().unwrap())
        .await
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut scrapes = 0;
    for p in pollers {
        scrapes += p.await.unwrap();
    }
    assert!(scrapes > 0);
    // Generous: 200k calls take well under a second even in a debug build on a busy machine.
    assert!(
        elapsed < Duration::from_secs(20),
        "{elapsed:?} with {scrapes} scrapes"
    );
}

mod retries_and_time_limiters {
    use super::*;
    use fusebox_runtime::retry::RetryConfig;
    use fusebox_runtime::time_limiter::{TimeLimiterConfig, TimeLimiterError};

    #[derive(Debug)]
    struct Boom(&'static str);
    impl std::fmt::Display for Boom {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "boom: {}", self.0)
        }
    }

    fn retry_config(buffer: u32) -> RetryConfig {
        RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(MS)
            .ignore_error(|e: &Boom| e.0 == "business")
            .event_consumer_buffer_size(buffer)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn retries_and_their_events_answer_as_resilience4j() {
        let registry = Registry::new();
        let base = serve(Actuator::new(Monitor::new(&registry))).await;
        // Created after the monitor: followed through the registry's entry hook.
        let orders = registry.retry_with_config("orders", retry_config(100));
        registry.retry_with_config("idle", retry_config(100));

        let answer = get(&base, "/actuator/retries").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type, ACTUATOR_JSON);
        assert_eq!(answer.json(), json!({"retries": ["idle", "orders"]}));

        // A first-attempt success (no event), a success after one retry, an ignored error,
        // and a failure after all attempts.
        let mut n = 0;
        let ok = orders
            .call(|| {
                n += 1;
                let attempt = n;
                async move { if attempt < 2 { Err(Boom("io")) } else { Ok(1) } }
            })
            .await;
        assert!(ok.is_ok());
        assert!(orders.call(|| async { Ok::<_, Boom>(1) }).await.is_ok());
        assert!(
            orders
                .call(|| async { Err::<u32, _>(Boom("business")) })
                .await
                .is_err()
        );
        assert!(
            orders
                .call(|| async { Err::<u32, _>(Boom("io")) })
                .await
                .is_err()
        );

        let events = get(&base, "/actuator/retryevents/orders").await.json()["retryEvents"]
            .as_array()
            .unwrap()
            .clone();
        let shape: Vec<(String, Option<String>, u64)> = events
            .iter()
            .map(|e| {
                assert_eq!(e["retryName"], "orders");
                assert!(e["creationTime"].as_str().unwrap().contains('T'));
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e.get("errorMessage")
                        .map(|m| m.as_str().unwrap().to_owned()),
                    e["numberOfAttempts"].as_u64().unwrap(),
                )
            })
            .collect();
        let io = Some("boom: io".to_owned());
        assert_eq!(
            shape,
            [
                ("RETRY".into(), io.clone(), 1),
                ("SUCCESS".into(), io.clone(), 1),
                ("IGNORED_ERROR".into(), Some("boom: business".into()), 0),
                ("RETRY".into(), io.clone(), 1),
                ("RETRY".into(), io.clone(), 2),
                ("ERROR".into(), io.clone(), 3),
            ]
        );
        // Filtered by type, any case; all retries' events sorted by time.
        let retries = get(&base, "/actuator/retryevents/orders/retry")
            .await
            .json();
        assert_eq!(retries["retryEvents"].as_array().unwrap().len(), 3);
        let all = get(&base, "/actuator/retryevents").await.json();
        assert_eq!(all["retryEvents"].as_array().unwrap().len(), 6);
        let idle = get(&base, "/actuator/retryevents/idle").await.json();
        assert_eq!(idle, json!({"retryEvents": []}));

        // 4xx with a clear message.
        assert_error(
            &get(&base, "/actuator/retryevents/nope").await,
            404,
            "/actuator/retryevents/nope",
            "no retry is named 'nope'",
        );
        assert_error(
            &get(&base, "/actuator/retryevents/orders/TIMEOUT").await,
            400,
            "/actuator/retryevents/orders/TIMEOUT",
            "'TIMEOUT' is not a retry event type; use one of RETRY, ERROR, SUCCESS, IGNORED_ERROR",
        );
    }

    #[tokio::test]
    async fn event_buffers_are_bounded_by_event_consumer_buffer_size() {
        let registry = Registry::new();
        let tight = registry.retry_with_config("tight", retry_config(2));
        // Created before the monitor: tapped when it starts.
        let monitor = Monitor::new(&registry);
        for _ in 0..3 {
            let _ = tight
                .call(|| async { Err::<u32, _>(Boom("business")) })
                .await;
        }
        let _ = tight.call(|| async { Err::<u32, _>(Boom("io")) }).await;
        let kept = monitor.retry_events_of("tight", None).unwrap().retry_events;
        let types: Vec<_> = kept.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["RETRY", "ERROR"]);

        let limiter = registry.time_limiter_with_config(
            "tl",
            TimeLimiterConfig::builder()
                .timeout_duration(Duration::from_millis(1))
                .event_consumer_buffer_size(1)
                .build()
                .unwrap(),
        );
        for _ in 0..3 {
            let _ = limiter.call(async { Err::<u32, _>(Boom("x")) }).await;
        }
        let kept = monitor.time_limiter_events_of("tl", None).unwrap();
        assert_eq!(kept.time_limiter_events.len(), 1);
    }

    #[tokio::test]
    async fn time_limiters_and_their_events_answer_as_resilience4j() {
        let registry = Registry::new();
        let monitor = Monitor::builder(&registry)
            .success_events(true)
            .build()
            .unwrap();
        let base = serve(Actuator::new(monitor)).await;
        let limiter = registry.time_limiter_with_config(
            "orders",
            TimeLimiterConfig::builder()
                .timeout_duration(Duration::from_millis(20))
                .build()
                .unwrap(),
        );
        registry.time_limiter("another");
        let answer = get(&base, "/actuator/timelimiters").await;
        assert_eq!(
            answer.json(),
            json!({"timeLimiters": ["another", "orders"]})
        );

        let ok: Result<u32, TimeLimiterError<Boom>> = limiter.call(async { Ok(1) }).await;
        assert!(ok.is_ok());
        let err: Result<u32, TimeLimiterError<Boom>> = limiter.call(async { Err(Boom("x")) }).await;
        assert!(err.is_err());
        let slow: Result<u32, TimeLimiterError<Boom>> = limiter
            .call(async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(1)
            })
            .await;
        assert!(slow.unwrap_err().is_timeout());

        let events = get(&base, "/actuator/timelimiterevents/orders")
            .await
            .json();
        let list = events["timeLimiterEvents"].as_array().unwrap();
        let types: Vec<_> = list.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["SUCCESS", "ERROR", "TIMEOUT"]);
        for e in list {
            // Exactly Resilience4j's `TimeLimiterEventDTO` fields.
            let keys: Vec<_> = e.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, ["creationTime", "timeLimiterName", "type"]);
            assert_eq!(e["timeLimiterName"], "orders");
        }
        let timeouts = get(&base, "/actuator/timelimiterevents/orders/timeout").await;
        assert_eq!(
            timeouts.json()["timeLimiterEvents"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let all = get(&base, "/actuator/timelimiterevents").await.json();
        assert_eq!(all["timeLimiterEvents"].as_array().unwrap().len(), 3);
        assert_error(
            &get(&base, "/actuator/timelimiterevents/missing/SUCCESS").await,
            404,
            "/actuator/timelimiterevents/missing/SUCCESS",
            "no time limiter is named 'missing'",
        );
        assert_error(
            &get(&base, "/actuator/timelimiterevents/orders/RETRY").await,
            400,
            "/actuator/timelimiterevents/orders/RETRY",
            "use one of SUCCESS, TIMEOUT, ERROR",
        );
    }

    #[tokio::test]
    async fn by_default_time_limiter_successes_are_not_buffered() {
        let registry = Registry::new();
        let monitor = Monitor::new(&registry);
        let limiter = registry.time_limiter("orders");
        for _ in 0..3 {
            let _ = limiter.call(async { Ok::<u32, Boom>(1) }).await;
        }
        let _ = limiter.call(async { Err::<u32, _>(Boom("x")) }).await;
        let events = monitor.time_limiter_events_of("orders", None).unwrap();
        let types: Vec<_> = events
            .time_limiter_events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(types, ["ERROR"]);
        // The counters never need the events.
        assert_eq!(limiter.metrics().successful, 3);
    }
}

mod rate_limiters {
    use super::*;
    use fusebox_runtime::config::file::RegistryConfig;
    use fusebox_runtime::rate_limiter::{RateLimiter, RateLimiterConfig};

    const HOUR: Duration = Duration::from_secs(3600);

    /// `limit` permits an hour (nothing refreshes during a test), refused at once when none is
    /// left, events kept for the endpoint when `subscribe`.
    fn limiter_config(limit: u32, subscribe: bool) -> RateLimiterConfig {
        RateLimiterConfig::builder()
            .limit_for_period(limit)
            .limit_refresh_period(HOUR)
            .timeout_duration(Duration::ZERO)
            .subscribe_for_events(subscribe)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn rate_limiters_and_their_events_answer_as_resilience4j() {
        let registry = Registry::new();
        let monitor = Monitor::builder(&registry)
            .success_events(true)
            .build()
            .unwrap();
        let base = serve(Actuator::new(monitor)).await;
        // Created after the monitor: followed through the registry's entry hook.
        let orders = registry.rate_limiter_with_config("orders", limiter_config(2, true));
        let quiet = registry.rate_limiter_with_config("quiet", limiter_config(1, false));

        let answer = get(&base, "/actuator/ratelimiters").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type, ACTUATOR_JSON);
        assert_eq!(answer.json(), json!({"rateLimiters": ["orders", "quiet"]}));

        // Two acquired, one refused, then drained.
        orders.acquire_permission(1).await.unwrap();
        orders.acquire_permission(1).await.unwrap();
        assert!(orders.acquire_permission(1).await.is_err());
        orders.drain_permissions();
        // `quiet` does not subscribe for events (Spring's `subscribeForEvents`): none kept.
        quiet.acquire_permission(1).await.unwrap();
        assert!(quiet.acquire_permission(1).await.is_err());

        let events = get(&base, "/actuator/ratelimiterevents/orders").await;
        assert_eq!(events.status, 200);
        let list = events.json()["rateLimiterEvents"]
            .as_array()
            .unwrap()
            .clone();
        let types: Vec<_> = list.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "SUCCESSFUL_ACQUIRE",
                "SUCCESSFUL_ACQUIRE",
                "FAILED_ACQUIRE",
                "DRAINED"
            ]
        );
        for e in &list {
            // Exactly Resilience4j's `RateLimiterEventDTO` fields.
            let keys: Vec<_> = e.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, ["creationTime", "rateLimiterName", "type"]);
            assert_eq!(e["rateLimiterName"], "orders");
            assert!(e["creationTime"].as_str().unwrap().contains('T'));
        }
        // Filtered by type, any case.
        let failed = get(&base, "/actuator/ratelimiterevents/orders/failed_acquire").await;
        assert_eq!(
            failed.json()["rateLimiterEvents"].as_array().unwrap().len(),
            1
        );
        let drained = get(&base, "/actuator/ratelimiterevents/orders/DRAINED").await;
        assert_eq!(
            drained.json()["rateLimiterEvents"][0]["type"],
            json!("DRAINED")
        );
        // All limiters' events, sorted by time: `quiet`'s are not kept.
        let all = get(&base, "/actuator/ratelimiterevents").await.json();
        assert_eq!(all["rateLimiterEvents"].as_array().unwrap().len(), 4);
        let quiet_events = get(&base, "/actuator/ratelimiterevents/quiet").await;
        assert_eq!(
            (quiet_events.status, quiet_events.json()),
            (200, json!({"rateLimiterEvents": []}))
        );

        // 4xx with a clear message.
        assert_error(
            &get(&base, "/actuator/ratelimiterevents/nope").await,
            404,
            "/actuator/ratelimiterevents/nope",
            "no rate limiter is named 'nope'",
        );
        assert_error(
            &get(&base, "/actuator/ratelimiterevents/nope/DRAINED").await,
            404,
            "/actuator/ratelimiterevents/nope/DRAINED",
            "no rate limiter is named 'nope'",
        );
        assert_error(
            &get(&base, "/actuator/ratelimiterevents/orders/SUCCESS").await,
            400,
            "/actuator/ratelimiterevents/orders/SUCCESS",
            "'SUCCESS' is not a rate limiter event type; use one of SUCCESSFUL_ACQUIRE, \
             FAILED_ACQUIRE, DRAINED (any case)",
        );
    }

    #[tokio::test]
    async fn by_default_successful_acquires_are_not_buffered_and_buffers_are_bounded() {
        let registry = Registry::new();
        let limiter = registry.rate_limiter_with_config(
            "orders",
            RateLimiterConfig::builder()
                .limit_for_period(3)
                .limit_refresh_period(HOUR)
                .timeout_duration(Duration::ZERO)
                .subscribe_for_events(true)
                .event_consumer_buffer_size(2)
                .build()
                .unwrap(),
        );
        // Created before the monitor: tapped when it starts.
        let monitor = Monitor::new(&registry);
        for _ in 0..3 {
            limiter.acquire_permission(1).await.unwrap();
        }
        assert!(limiter.acquire_permission(1).await.is_err());
        let events = monitor.rate_limiter_events_of("orders", None).unwrap();
        let types: Vec<_> = events
            .rate_limiter_events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(types, ["FAILED_ACQUIRE"]);
        // The buffer keeps the last `event_consumer_buffer_size` events.
        limiter.drain_permissions();
        assert!(limiter.acquire_permission(2).await.is_err());
        let events = monitor.rate_limiter_events_of("orders", None).unwrap();
        let types: Vec<_> = events
            .rate_limiter_events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(types, ["DRAINED", "FAILED_ACQUIRE"]);
        // The gauges never need the events.
        assert_eq!(limiter.metrics().available_permissions, 0);
    }

    /// A registry from a TOML file's text: the health options are rate limiter properties.
    fn registry_from(toml_text: &str) -> Registry {
        Registry::from_config(&toml::from_str::<RegistryConfig>(toml_text).unwrap()).unwrap()
    }

    /// Makes `limiter` (1 permit an hour, a 90-minute timeout) RATE_LIMITED: its permit taken,
    /// a caller waiting for the next cycle's, so that one more would wait two hours.
    async fn rate_limit(limiter: &RateLimiter) -> tokio::task::JoinHandle<()> {
        limiter.acquire_permission(1).await.unwrap();
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                let _ = limiter.acquire_permission(1).await;
            })
        };
        while limiter.metrics().number_of_waiting_threads < 1 {
            tokio::task::yield_now().await;
        }
        waiter
    }

    const LIMITERS: &str = r#"
[rate_limiter.configs.default]
limit_for_period = 1
limit_refresh_period = "3600s"
timeout_duration = "5400s"

[rate_limiter.instances.api]
register_health_indicator = true
allow_health_indicator_to_fail = ALLOW

[rate_limiter.instances.unwatched]
"#;

    #[tokio::test]
    async fn rate_limiters_health_is_mounted_and_aggregates_with_the_breakers() {
        for allow in [false, true] {
            let registry = registry_from(&LIMITERS.replace("ALLOW", &allow.to_string()));
            let clock = ManualClock::new();
            breaker_in(&registry, &clock, "b", State::Closed, (true, false));
            let base = serve(Actuator::new(Monitor::new(&registry))).await;

            let answer = get(&base, "/actuator/health").await;
            assert_eq!(answer.status, 200);
            let body = answer.json();
            assert_eq!(body["status"], "UP");
            assert_eq!(
                body["components"]["rateLimiters"],
                json!({"status": "UP", "details": {"api": {"status": "UP", "details":
                    {"availablePermissions": 1, "numberOfWaitingThreads": 0}}}})
            );
            let answer = get(&base, "/actuator/health/rateLimiters").await;
            assert_eq!(
                answer.text,
                concat!(
                    r#"{"status":"UP","details":{"api":{"status":"UP","details":"#,
                    r#"{"availablePermissions":1,"numberOfWaitingThreads":0}}}}"#
                )
            );

            let api = registry.rate_limiter("api");
            let waiter = rate_limit(&api).await;
            let answer = get(&base, "/actuator/health").await;
            let body = answer.json();
            let limiter = &body["components"]["rateLimiters"]["details"]["api"];
            assert_eq!(
                limiter["details"],
                json!({"availablePermissions": -1, "numberOfWaitingThreads": 1})
            );
            if allow {
                assert_eq!(limiter["status"], "DOWN");
                // A DOWN rate limiter fails the whole health, next to an UP breaker.
                assert_eq!(answer.status, 503, "{body}");
                assert_eq!(body["status"], "DOWN");
                assert_eq!(body["components"]["circuitBreakers"]["status"], "UP");
                assert_eq!(body["components"]["rateLimiters"]["status"], "DOWN");
                let component = get(&base, "/actuator/health/rateLimiters").await;
                assert_eq!(component.status, 503);
            } else {
                // RATE_LIMITED is a custom status: dropped by the aggregation (UNKNOWN alone),
                // so the overall status stays UP.
                assert_eq!(limiter["status"], "RATE_LIMITED");
                assert_eq!(answer.status, 200, "{body}");
                assert_eq!(body["status"], "UP");
                assert_eq!(body["components"]["rateLimiters"]["status"], "UNKNOWN");
            }
            waiter.abort();
        }
    }

    /// Spring's keys, verbatim: `registerHealthIndicator` from `configs.default`,
    /// `allowHealthIndicatorToFail` on the instance.
    #[cfg(feature = "yaml")]
    #[tokio::test]
    async fn spring_yaml_sets_the_rate_limiter_health_options() {
        use fusebox_runtime::config::file::{Format, load_str};
        let yaml = r#"
resilience4j:
  ratelimiter:
    configs:
      default:
        registerHealthIndicator: true
        limitForPeriod: 1
        limitRefreshPeriod: 3600s
        timeoutDuration: 5400s
    instances:
      api:
        allowHealthIndicatorToFail: true
      relaxed:
        baseConfig: default
"#;
        let loaded = load_str(yaml, Format::SpringYaml, None).unwrap();
        let registry = Registry::from_resolved(loaded.resolved);
        let base = serve(Actuator::new(Monitor::new(&registry))).await;
        let relaxed = registry.rate_limiter("relaxed");
        let relaxed_waiter = rate_limit(&relaxed).await;
        let answer = get(&base, "/actuator/health/rateLimiters").await;
        // `relaxed` RATE_LIMITED (dropped), `api` UP: the component is UP.
        assert_eq!(answer.status, 200, "{}", answer.text);
        let body = answer.json();
        assert_eq!(body["status"], "UP");
        assert_eq!(body["details"]["relaxed"]["status"], "RATE_LIMITED");
        assert_eq!(body["details"]["api"]["status"], "UP");
        let api_waiter = rate_limit(&registry.rate_limiter("api")).await;
        let answer = get(&base, "/actuator/health").await;
        assert_eq!(answer.status, 503, "{}", answer.text);
        assert_eq!(
            answer.json()["components"]["rateLimiters"]["details"]["api"]["status"],
            "DOWN"
        );
        relaxed_waiter.abort();
        api_waiter.abort();
    }

    #[tokio::test]
    async fn the_rate_limiters_component_appears_with_the_first_rate_limiter() {
        let registry = Registry::new();
        let base = serve(Actuator::new(Monitor::new(&registry))).await;
        assert_error(
            &get(&base, "/actuator/health/rateLimiters").await,
            404,
            "/actuator/health/rateLimiters",
            "no health component is named 'rateLimiters'; there are: circuitBreakers, ping",
        );
        // One limiter that registers no health indicator: the component is UNKNOWN without
        // details, as Spring writes it; the overall status is unchanged.
        registry.rate_limiter("orders");
        let answer = get(&base, "/actuator/health").await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.json(),
            json!({"status": "UP", "components": {
                "circuitBreakers": {"status": "UNKNOWN"},
                "ping": {"status": "UP"},
                "rateLimiters": {"status": "UNKNOWN"}
            }})
        );
    }
}

mod bulkheads {
    use super::*;
    use fusebox_runtime::bulkhead::BulkheadConfig;

    fn bulkhead_config(max: u32, buffer: u32) -> BulkheadConfig {
        BulkheadConfig::builder()
            .max_concurrent_calls(max)
            .event_consumer_buffer_size(buffer)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn bulkheads_and_their_events_answer_as_resilience4j() {
        let registry = Registry::new();
        // Created before the monitor: tapped when it starts.
        let early = registry.bulkhead_with_config("early", bulkhead_config(1, 100));
        let monitor = Monitor::builder(&registry)
            .success_events(true)
            .build()
            .unwrap();
        let base = serve(Actuator::new(monitor)).await;
        // Created after the monitor: followed through the registry's entry hook.
        let orders = registry.bulkhead_with_config("orders", bulkhead_config(1, 100));

        let answer = get(&base, "/actuator/bulkheads").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type, ACTUATOR_JSON);
        assert_eq!(answer.json(), json!({"bulkheads": ["early", "orders"]}));

        // One call permitted, one rejected while it runs, then the first one finishes.
        let held = orders.try_acquire_permission().unwrap();
        assert!(orders.call(async {}).await.is_err());
        drop(held);
        // A call that ends by panicking gives its slot back and finishes too.
        let panicking = {
            let early = early.clone();
            tokio::spawn(async move {
                let _ = early
                    .call(async { panic!("the call panics while holding its slot") })
                    .await;
            })
        };
        assert!(panicking.await.is_err());
        assert_eq!(early.metrics().available_concurrent_calls, 1);

        let events = get(&base, "/actuator/bulkheadevents/orders").await;
        assert_eq!(events.status, 200);
        assert_eq!(events.content_type, ACTUATOR_JSON);
        let list = events.json()["bulkheadEvents"].as_array().unwrap().clone();
        let types: Vec<_> = list.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["CALL_PERMITTED", "CALL_REJECTED", "CALL_FINISHED"]);
        for e in &list {
            // Exactly Resilience4j's `BulkheadEventDTO` fields.
            let keys: Vec<_> = e.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, ["bulkheadName", "creationTime", "type"]);
            assert_eq!(e["bulkheadName"], "orders");
            assert!(e["creationTime"].as_str().unwrap().contains('T'));
        }
        // Filtered by type, any case.
        let rejected = get(&base, "/actuator/bulkheadevents/orders/call_rejected").await;
        assert_eq!(
            rejected.json(),
            json!({"bulkheadEvents": [list[1].clone()]})
        );
        let finished = get(&base, "/actuator/bulkheadevents/early/CALL_FINISHED").await;
        assert_eq!(
            finished.json()["bulkheadEvents"][0]["bulkheadName"],
            json!("early")
        );
        // Every bulkhead's events, sorted by creation time.
        let all = get(&base, "/actuator/bulkheadevents").await.json();
        let all = all["bulkheadEvents"].as_array().unwrap();
        assert_eq!(all.len(), 5);
        let names: Vec<_> = all
            .iter()
            .map(|e| e["bulkheadName"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["orders", "orders", "orders", "early", "early"]);

        // 4xx with a clear message.
        assert_error(
            &get(&base, "/actuator/bulkheadevents/nope").await,
            404,
            "/actuator/bulkheadevents/nope",
            "no bulkhead is named 'nope'",
        );
        assert_error(
            &get(&base, "/actuator/bulkheadevents/nope/CALL_REJECTED").await,
            404,
            "/actuator/bulkheadevents/nope/CALL_REJECTED",
            "no bulkhead is named 'nope'",
        );
        assert_error(
            &get(&base, "/actuator/bulkheadevents/orders/REJECTED").await,
            400,
            "/actuator/bulkheadevents/orders/REJECTED",
            "'REJECTED' is not a bulkhead event type; use one of CALL_PERMITTED, \
             CALL_REJECTED, CALL_FINISHED (any case)",
        );
        // No health indicator for bulkheads, as in Spring.
        let health = get(&base, "/actuator/health").await.json();
        assert!(health["components"].get("bulkheads").is_none(), "{health}");
        assert_eq!(get(&base, "/actuator/health/bulkheads").await.status, 404);
    }

    #[tokio::test]
    async fn by_default_only_rejections_are_buffered_and_buffers_are_bounded() {
        let registry = Registry::new();
        let monitor = Monitor::new(&registry);
        let base = serve(Actuator::new(monitor.clone())).await;
        let bulkhead = registry.bulkhead_with_config("orders", bulkhead_config(1, 2));
        let held = bulkhead.try_acquire_permission().unwrap();
        for _ in 0..3 {
            assert!(bulkhead.try_acquire_permission().is_err());
        }
        drop(held);
        assert_eq!(bulkhead.call(async { 7 }).await, Ok(7));
        // CALL_PERMITTED and CALL_FINISHED are left out (healthy calls); of the 3 rejections
        // the last `event_consumer_buffer_size` are kept.
        let answer = get(&base, "/actuator/bulkheadevents/orders").await.json();
        let types: Vec<_> = answer["bulkheadEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(types, ["CALL_REJECTED", "CALL_REJECTED"]);
        let none = get(&base, "/actuator/bulkheadevents/orders/CALL_PERMITTED").await;
        assert_eq!(
            (none.status, none.json()),
            (200, json!({"bulkheadEvents": []}))
        );
        // The same through the monitor's API.
        let events = monitor.bulkhead_events_of("orders", None).unwrap();
        assert_eq!(events.bulkhead_events.len(), 2);
        assert_eq!(
            monitor.bulkhead_events().bulkhead_events,
            events.bulkhead_events
        );
    }

    #[tokio::test]
    async fn the_gauges_are_served_by_the_prometheus_endpoint() {
        let registry = Registry::new();
        let base = serve(Actuator::new(Monitor::new(&registry))).await;
        let bulkhead = registry.bulkhead_with_config("orders", bulkhead_config(3, 100));
        let _held = bulkhead.try_acquire_permission().unwrap();
        let text = get(&base, "/actuator/prometheus").await.text;
        assert!(
            text.contains("resilience4j_bulkhead_available_concurrent_calls{name=\"orders\"} 2.0")
        );
        assert!(
            text.contains(
                "resilience4j_bulkhead_max_allowed_concurrent_calls{name=\"orders\"} 3.0"
            )
        );
    }
}
