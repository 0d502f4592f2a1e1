//! The demo's scenario (issue #5) against the two real services, run as separate processes:
//! `order-service` and `user-service` from `examples/`, built by this test if needed.
//!
//! The scenario is the demo's own (`examples/demo/harness.rs`): healthy → order-service answers
//! 500 → the breaker is open → half-open trial calls while order-service hangs past the 4 s
//! timeout → order-service recovered. Asserts:
//! * the answers: 200 with 2 orders while healthy, 200 with `orders: []` whenever the fallback
//!   answers (500, open, timeout), the timed-out calls cut at the configured 4 s;
//! * the breaker's transitions, in order: CLOSED→OPEN→HALF_OPEN→OPEN→HALF_OPEN→CLOSED (from
//!   `GET /admin/breakers`, and the same sequence in user-service's log);
//! * order-service received no request while the breaker was open (`GET /admin/stats`);
//! * the same trace id in both services' `[service,traceId,spanId]` log lines;
//! * the actuator endpoints, over real HTTP: every URL the demo prints answers; the summary's
//!   `/actuator/circuitbreakers` entry and `not_permitted` series taken while the breaker was open
//!   (OPEN, one rejected call per request of that phase); the events endpoint lists the five
//!   transitions; health maps the breaker's state (`UP`, then `UNKNOWN` when forced open);
//!   `POST /actuator/circuitbreakers/orders` force-opens and closes it (on in the demo) and
//!   rejects a bad body with 400; order-service's endpoints are read-only (405);
//! * the failed trace spans both services: order-service's SERVER span is a child of
//!   user-service's CLIENT span, with the error tags and the `fallback` span. With `ZIPKIN_URL`
//!   set (`scripts/zipkin.sh start` prints it; `.ci/run` exports it) this is read back from Zipkin,
//!   with `/api/v2/services` and the user-service → order-service dependency link; without it,
//!   from the services' span files (fusebox's file exporter), and the Zipkin part prints
//!   `SKIPPED (Zipkin part): ...`.
//!
//! Everything runs on 127.0.0.1 and is bounded in time (the scenario takes about 7 s).

#[path = "../examples/demo/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harness::{Client, Outcome, Phase, ServiceProcess, Settings};
use serde_json::Value;

/// Bound of the scenario and the checks (building the services comes before and is not bound).
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn course_scenario_across_two_processes() {
    let bin_dir = harness::build_services()
        .await
        .expect("building the example services");
    tokio::time::timeout(TEST_TIMEOUT, scenario(&bin_dir))
        .await
        .expect("the demo scenario took longer than its bound");
}

async fn scenario(bin_dir: &Path) {
    let zipkin = std::env::var("ZIPKIN_URL")
        .ok()
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty());
    let out = std::env::temp_dir().join(format!("fusebox-demo-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("a temporary directory");
    let config = Path::new(harness::REPO).join("examples/config/fusebox.toml");
    let settings = Settings::from_config(&config).expect("the course's config file");
    assert_eq!(
        settings.timeout,
        Duration::from_secs(4),
        "the course's time limit"
    );
    assert_eq!(
        settings.wait,
        Duration::from_secs(1),
        "the course's open wait"
    );

    let spans_file = |service: &str| out.join(format!("{service}.spans.json"));
    let env = |service: &str| {
        let mut env: Vec<(&str, String)> = vec![
            ("RUST_LOG", "info".into()),
            ("FUSEBOX_CONFIG", config.display().to_string()),
            ("OTEL_BSP_SCHEDULE_DELAY", "200".into()),
        ];
        match &zipkin {
            Some(url) => {
                env.push(("OTEL_TRACES_EXPORTER", "zipkin".into()));
                env.push((
                    "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                    format!("{url}/api/v2/spans"),
                ));
            }
            None => {
                env.push(("OTEL_TRACES_EXPORTER", "file".into()));
                env.push((
                    "FUSEBOX_TRACES_FILE",
                    spans_file(service).display().to_string(),
                ));
            }
        }
        env
    };
    let log = |service: &str| out.join(format!("{service}.log"));

    let mut order = ServiceProcess::start(
        "order-service",
        bin_dir,
        &env("order-service"),
        &log("order-service"),
    )
    .await
    .expect("order-service starts");
    let mut user_env = env("user-service");
    user_env.push(("ORDER_SERVICE_URL", order.url.clone()));
    let mut user = ServiceProcess::start("user-service", bin_dir, &user_env, &log("user-service"))
        .await
        .expect("user-service starts");
    let client = Client::new(&user.url, &order.url);

    let outcome = harness::run_scenario(&client, &settings, |_| {}).await;
    if let Ok(outcome) = &outcome {
        check_actuator(outcome, &user.url, &order.url).await;
    }
    // Stopped with SIGTERM: they flush their spans and their last log lines.
    user.stop().await;
    order.stop().await;
    let outcome = outcome.expect("the scenario runs");

    check_answers(&outcome, &settings);
    check_transitions(&outcome, &user.lines());
    let failed = trace_of(&outcome, Phase::Failing);
    let healthy = trace_of(&outcome, Phase::Healthy);
    check_logs(&[&failed, &healthy], &user.lines(), &order.lines());

    match &zipkin {
        Some(url) => check_zipkin(url, &failed).await,
        None => {
            println!(
                "SKIPPED (Zipkin part): ZIPKIN_URL is not set, so the trace was checked in the \
                 services' span files instead of Zipkin's API (run `scripts/zipkin.sh start`, \
                 which needs Java 17+ and Maven, and export the ZIPKIN_URL it prints)"
            );
            let mut spans = read(&spans_file("user-service"));
            spans.extend(read(&spans_file("order-service")));
            let trace: Vec<Value> = spans
                .into_iter()
                .filter(|s| s["traceId"] == failed.as_str())
                .collect();
            check_failed_trace(&trace);
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

fn check_answers(outcome: &Outcome, settings: &Settings) {
    let phase = |p| outcome.phase(p).collect::<Vec<_>>();
    for r in &outcome.requests {
        assert_eq!(
            r.reply.status, 200,
            "every request answers 200, fallback or not: {r:?}"
        );
        assert!(r.reply.trace_id.is_some(), "a traceresponse header: {r:?}");
    }
    for r in phase(Phase::Healthy)
        .into_iter()
        .chain(phase(Phase::Recovered))
    {
        assert_eq!(r.reply.orders, Some(2), "order-service's orders: {r:?}");
    }
    for p in [Phase::Failing, Phase::Open, Phase::Hanging] {
        assert!(!phase(p).is_empty(), "requests in {p:?}");
        for r in phase(p) {
            assert_eq!(
                r.reply.orders,
                Some(0),
                "the fallback's `orders: []` in {p:?}: {r:?}"
            );
        }
    }
    for r in phase(Phase::Open) {
        assert_eq!(r.state, "OPEN", "{r:?}");
    }
    let (before, after) = outcome.received_while_open;
    assert_eq!(
        before, after,
        "order-service received requests while the breaker was open"
    );

    let hanging = phase(Phase::Hanging);
    assert_eq!(
        hanging.len(),
        settings.half_open_calls as usize,
        "one trial call per HALF_OPEN permit"
    );
    for r in hanging {
        assert!(
            r.reply.elapsed >= settings.timeout
                && r.reply.elapsed < settings.timeout + Duration::from_millis(1500),
            "cut at the 4 s time limit, not at order-service's 5 s: {:?}",
            r.reply.elapsed
        );
    }
    assert_eq!(
        outcome.requests.last().map(|r| r.state.as_str()),
        Some("CLOSED")
    );
}

fn check_transitions(outcome: &Outcome, user_log: &[String]) {
    let expected = [
        ("CLOSED", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "CLOSED"),
    ];
    let seen: Vec<(&str, &str)> = outcome
        .transitions
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        seen, expected,
        "the breaker's transitions, from GET /admin/breakers"
    );

    let logged: Vec<(String, String)> = user_log
        .iter()
        .filter_map(|line| {
            let rest = line.split("changed state from ").nth(1)?;
            let (from, to) = rest.split_once(" to ")?;
            Some((from.trim().to_owned(), to.trim().to_owned()))
        })
        .collect();
    let logged: Vec<(&str, &str)> = logged
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    // Then check_actuator's two by hand: POST FORCE_OPEN, POST CLOSE.
    let by_hand = [("CLOSED", "FORCED_OPEN"), ("FORCED_OPEN", "CLOSED")];
    let expected_logged: Vec<(&str, &str)> = expected.iter().chain(&by_hand).copied().collect();
    assert_eq!(
        logged, expected_logged,
        "the breaker's transitions, from user-service's log"
    );
}

/// A GET or POST against a service: status, content type, body.
async fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String, String) {
    let http = reqwest::Client::new();
    let request = match body {
        None => http.get(url),
        Some(body) => http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned()),
    };
    let response = request
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    (status, content_type, text)
}

async fn get_json(url: &str) -> Value {
    let (status, content_type, body) = http("GET", url, None).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    assert!(content_type.contains("json"), "GET {url}: {content_type}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}

/// The actuator endpoints of both services after the scenario (the breaker is CLOSED again),
/// and what the demo's summary shows of them while it was OPEN.
async fn check_actuator(outcome: &Outcome, user: &str, order: &str) {
    // Every endpoint the demo prints answers.
    for line in harness::endpoint_lines(user) {
        let url = line.split_whitespace().next().expect("a URL first");
        let (status, content_type, body) = http("GET", url, None).await;
        assert_eq!(status, 200, "GET {url} (printed as `{line}`): {body}");
        let want = if url.ends_with("/prometheus") {
            "text/plain"
        } else {
            "json"
        };
        assert!(content_type.contains(want), "GET {url}: {content_type}");
    }

    // The summary: `orders` while OPEN, from /actuator/circuitbreakers and /actuator/prometheus.
    let rejected = outcome.phase(Phase::Open).count();
    let view = outcome
        .while_open
        .as_ref()
        .expect("the operator's view of `orders` while open");
    let entry = &view.entry;
    assert_eq!(entry["state"], "OPEN", "{entry}");
    assert_eq!(entry["notPermittedCalls"], rejected as u64, "{entry}");
    // The course's window of 2: one success, then the failure that tripped it.
    assert_eq!(entry["failureRate"], "50.0%", "{entry}");
    assert_eq!(entry["failureRateThreshold"], "4.0%", "{entry}");
    assert_eq!(entry["bufferedCalls"], 2, "{entry}");
    assert_eq!(entry["failedCalls"], 1, "{entry}");
    assert_eq!(
        view.not_permitted, rejected as f64,
        "{}",
        view.not_permitted_series
    );
    assert!(
        view.not_permitted_series.starts_with(
            "resilience4j_circuitbreaker_not_permitted_calls_total{application=\"user-service\",\
             kind=\"not_permitted\",name=\"orders\"} "
        ),
        "{}",
        view.not_permitted_series
    );
    let summary = harness::summary(outcome);
    let shown = |needle: &str| {
        assert!(
            summary.iter().any(|l| l.contains(needle)),
            "the summary shows {needle}:\n{}",
            summary.join("\n")
        );
    };
    shown(&format!("\"orders\": {entry}"));
    shown(&view.not_permitted_series);

    // The events endpoint: the five transitions in order.
    let events = get_json(&format!(
        "{user}/actuator/circuitbreakerevents/orders/state_transition"
    ))
    .await;
    let transitions: Vec<&str> = events["circuitBreakerEvents"]
        .as_array()
        .expect("circuitBreakerEvents")
        .iter()
        .map(|e| e["stateTransition"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        transitions,
        [
            "CLOSED_TO_OPEN",
            "OPEN_TO_HALF_OPEN",
            "HALF_OPEN_TO_OPEN",
            "OPEN_TO_HALF_OPEN",
            "HALF_OPEN_TO_CLOSED"
        ],
        "{events}"
    );

    // Prometheus: the state gauge and fusebox's transition counter (an OPEN shorter than a
    // scrape interval still shows there).
    let (_, _, text) = http("GET", &format!("{user}/actuator/prometheus"), None).await;
    for line in [
        "resilience4j_circuitbreaker_state{application=\"user-service\",name=\"orders\",state=\"closed\"} 1.0",
        "fusebox_circuitbreaker_transitions_total{application=\"user-service\",from=\"closed\",name=\"orders\",to=\"open\"} 1.0",
        "fusebox_circuitbreaker_transitions_total{application=\"user-service\",from=\"half_open\",name=\"orders\",to=\"open\"} 1.0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "/actuator/prometheus has `{line}`:\n{text}"
        );
    }

    // Health: CLOSED is UP; forced open by hand (enabled in the demo) it is UNKNOWN and the
    // service stays ready (200); a bad body is a 400 that says what to send; closed again, UP.
    let health = |want: &'static str| async move {
        let health = get_json(&format!("{user}/actuator/health")).await;
        assert_eq!(
            health["components"]["circuitBreakers"]["details"]["orders"]["status"], want,
            "{health}"
        );
    };
    health("UP").await;
    let post = |body: &'static str| {
        let url = format!("{user}/actuator/circuitbreakers/orders");
        async move { http("POST", &url, Some(body)).await }
    };
    let (status, _, body) = post(r#"{"updateState":"FORCE_OPEN"}"#).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""currentState":"FORCED_OPEN""#), "{body}");
    health("UNKNOWN").await;
    let (status, _, body) = post(r#"{"updateState":"OPEN"}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("FORCE_OPEN"),
        "the 400 says what to send: {body}"
    );
    let (status, _, body) = post(r#"{"updateState":"CLOSE"}"#).await;
    assert_eq!(status, 200, "{body}");
    health("UP").await;

    // order-service: the same endpoints, no breakers, read-only.
    let health = get_json(&format!("{order}/actuator/health")).await;
    assert!(
        health["components"]["circuitBreakers"].is_object(),
        "{health}"
    );
    let (status, _, body) = http(
        "POST",
        &format!("{order}/actuator/circuitbreakers/orders"),
        Some(r#"{"updateState":"FORCE_OPEN"}"#),
    )
    .await;
    assert_eq!(
        status, 405,
        "order-service's endpoints are read-only: {body}"
    );
}

fn trace_of(outcome: &Outcome, phase: Phase) -> String {
    outcome
        .phase(phase)
        .next()
        .and_then(|r| r.reply.trace_id.clone())
        .unwrap_or_else(|| panic!("a trace id in {phase:?}"))
}

fn check_logs(traces: &[&String], user_log: &[String], order_log: &[String]) {
    for trace in traces {
        for (service, log) in [("user-service", user_log), ("order-service", order_log)] {
            let prefix = format!("[{service},{trace},");
            assert!(
                log.iter().any(|l| l.starts_with(&prefix)),
                "no {service} log line starts with {prefix}; its log:\n{}",
                log.join("\n")
            );
        }
    }
}

/// The failed trace: user-service SERVER → get_orders (error) → CLIENT (error) → order-service
/// SERVER (error, child of the CLIENT span), and the `fallback` span.
fn check_failed_trace(spans: &[Value]) {
    let service = |s: &Value| {
        s["localEndpoint"]["serviceName"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let names: Vec<String> = spans
        .iter()
        .map(|s| format!("{}:{}", service(s), s["name"]))
        .collect();
    let client = spans
        .iter()
        .find(|s| s["kind"] == "CLIENT" && service(s) == "user-service")
        .unwrap_or_else(|| panic!("user-service's CLIENT span in {names:?}"));
    let server = spans
        .iter()
        .find(|s| s["kind"] == "SERVER" && service(s) == "order-service")
        .unwrap_or_else(|| panic!("order-service's SERVER span in {names:?}"));
    assert_eq!(
        server["parentId"], client["id"],
        "order-service continues user-service's trace"
    );
    assert_eq!(client["remoteEndpoint"]["serviceName"], "order-service");
    assert!(
        client["tags"].get("error").is_some(),
        "the CLIENT span is red: {client}"
    );
    assert!(
        server["tags"].get("error").is_some(),
        "order-service's 500 is red: {server}"
    );
    let guarded = spans
        .iter()
        .find(|s| s["tags"]["circuit_breaker.outcome"] == "failure")
        .unwrap_or_else(|| panic!("the guarded call's span in {names:?}"));
    assert_eq!(guarded["tags"]["circuit_breaker.name"], "orders");
    assert!(
        spans
            .iter()
            .any(|s| s["name"] == "fallback" && s["parentId"] == guarded["id"]),
        "a `fallback` span under the guarded call in {names:?}"
    );
}

fn read(path: &PathBuf) -> Vec<Value> {
    fusebox::telemetry::file::read_spans(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads the failed trace, the services and the dependency link back from Zipkin (polling:
/// Zipkin answers 202 before it stores).
async fn check_zipkin(url: &str, trace: &str) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let get = |path: String| {
        let http = http.clone();
        async move {
            let response = http.get(format!("{url}{path}")).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<Value>().await.ok()
        }
    };
    let spans = poll(
        || get(format!("/api/v2/trace/{trace}")),
        |v: &Value| {
            let services: Vec<&str> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["localEndpoint"]["serviceName"].as_str())
                .collect();
            services.contains(&"user-service") && services.contains(&"order-service")
        },
    )
    .await
    .unwrap_or_else(|| panic!("trace {trace} with both services in Zipkin {url}"));
    check_failed_trace(spans.as_array().map(Vec::as_slice).unwrap_or_default());

    let services = poll(
        || get("/api/v2/services".into()),
        |v: &Value| {
            v.as_array().is_some_and(|s| {
                s.contains(&"user-service".into()) && s.contains(&"order-service".into())
            })
        },
    )
    .await;
    assert!(
        services.is_some(),
        "both services in Zipkin's /api/v2/services"
    );

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let link = poll(
        || get(format!("/api/v2/dependencies?endTs={now}&lookback=3600000")),
        |v: &Value| {
            v.as_array().into_iter().flatten().any(|l| {
                l["parent"] == "user-service"
                    && l["child"] == "order-service"
                    && l["errorCount"].as_u64() > Some(0)
            })
        },
    )
    .await;
    assert!(
        link.is_some(),
        "the dependency link user-service → order-service, with errors, in Zipkin"
    );
    println!("Zipkin part: trace {trace} checked in {url}");
}

/// Calls `fetch` until `ok` accepts its answer, for at most 20 s.
async fn poll<F, Fut>(fetch: F, ok: impl Fn(&Value) -> bool) -> Option<Value>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Value>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if let Some(value) = fetch().await.filter(|v| ok(v)) {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}
