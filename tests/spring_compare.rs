//! Against the real thing (issue 12): a fusebox service answers the actuator endpoints the way
//! the Spring Boot 3 + resilience4j-spring-boot3 reference service in `tests/spring-ref/` does.
//!
//! The test starts, on 127.0.0.1, a downstream that answers as told and a fusebox service with
//! the reference service's `GET /call/{breaker}` endpoint: two `#[circuit_breaker]` functions
//! calling the downstream with reqwest, over a [`Registry`] loaded from
//! `tests/spring-ref/application.yml` unchanged, plus the actuator router. It replays the
//! scenario of `tests/spring-ref/golden/scenario.json` phase by phase and, after each phase,
//! compares fusebox's answers with Resilience4j's recorded ones (`golden/<phase>.json`,
//! `golden/<phase>.prom`) field by field, with the rules of `tests/spring-ref/README.md`:
//!
//! * JSON bodies: every key, value and key order, except event `creationTime` (ignored: a wall
//!   clock), event `durationInMs` (see [`duration_class_ok`]), Spring error bodies' `timestamp`
//!   (ignored), and the order of the breakers inside the health component (a hash map in Spring).
//! * Prometheus: the `resilience4j_*` lines, in order: every `# HELP`/`# TYPE` line, every
//!   series name, label set and label order, and every value exactly, except the timer's
//!   `_seconds_sum` and `_seconds_max` (see [`seconds_ok`]).
//!
//! Every difference must be on the allow-list [`DEVIATIONS`] (endpoint, field, why; the same
//! rows are in the README's "Differences from Resilience4j and Spring Cloud"), and every entry of
//! the list must still be needed: a fixed deviation fails the test until its entry goes.
//!
//! The golden files are committed, so this test needs no Java. With `FUSEBOX_SPRING_LIVE=1` and
//! Java 17+ (Maven for the first build) it re-records the Spring side first
//! (`tests/spring-ref/record.py --out <temp dir>`) and compares with that recording instead. That
//! is not the default, nor in CI: it starts a JVM (6–12 s on two cores), its first build needs
//! Maven Central, and the recorded Resilience4j behaviour only changes when the pinned versions in
//! `tests/spring-ref/pom.xml` do, which is when to run it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fusebox::observe::Monitor;
use fusebox::observe::actuator::Actuator;
use fusebox::{BreakerError, Registry, circuit_breaker};
use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

// ------------------------------------------------------------------------------------------------
// The allow-list

/// A deliberate difference from Resilience4j / Spring Boot: where, what, and why.
struct Deviation {
    /// The request, with breaker names and event types as `{name}` / `{eventType}`.
    endpoint: &'static str,
    /// The field (JSON path with `[]` for array elements), `status`, or the Prometheus line.
    field: &'static str,
    why: &'static str,
}

/// Every difference this test accepts. Each row is also in README.md ("Differences from
/// Resilience4j and Spring Cloud").
const DEVIATIONS: &[Deviation] = &[
    Deviation {
        endpoint: "GET /actuator/circuitbreakerevents",
        field: "circuitBreakerEvents[].errorMessage",
        why: "Resilience4j writes the exception's toString(); fusebox's ERROR/IGNORED_ERROR events \
              carry no error value (the low-level on_error(elapsed) takes none), so it is null",
    },
    Deviation {
        endpoint: "GET /actuator/circuitbreakerevents/{name}",
        field: "circuitBreakerEvents[].errorMessage",
        why: "as above",
    },
    Deviation {
        endpoint: "GET /actuator/circuitbreakerevents/{name}/{eventType}",
        field: "circuitBreakerEvents[].errorMessage",
        why: "as above",
    },
    Deviation {
        endpoint: "GET /actuator/circuitbreakers/{name}",
        field: "status",
        why: "fusebox answers one breaker's details (200, 404 if unknown); resilience4j-spring-boot3 \
              has no GET there (405)",
    },
    Deviation {
        endpoint: "GET /actuator/circuitbreakerevents/{name}",
        field: "status",
        why: "an unknown breaker is 404 with a message; Resilience4j answers 200 with an empty list, \
              which hides a typo in the name",
    },
    Deviation {
        endpoint: "GET /actuator/circuitbreakerevents/{name}/{eventType}",
        field: "status",
        why: "an unknown event type is 400 naming the valid ones; Resilience4j fails with 500 (an \
              unhandled IllegalArgumentException)",
    },
    Deviation {
        endpoint: "POST /actuator/circuitbreakers/{name}",
        field: "message",
        why: "fusebox's 400 bodies carry a `message` saying what is wrong and what to send; \
              Spring Boot leaves it out unless server.error.include-message is set",
    },
    Deviation {
        endpoint: "GET /actuator/health",
        field: "components.ssl",
        why: "Spring Boot's own SSL certificate health; fusebox serves no TLS",
    },
    Deviation {
        endpoint: "GET /actuator/prometheus",
        field: "# HELP resilience4j_circuitbreaker_buffered_calls",
        why: "Micrometer writes the description of whichever series its hash map yields first \
              (`failed` or `successful`, it varies with the breaker names); fusebox always writes \
              the first one Resilience4j registers",
    },
    Deviation {
        endpoint: "GET /actuator/prometheus (Accept: OpenMetrics)",
        field: "Content-Type",
        why: "fusebox answers the text format 0.0.4 to a Prometheus server's OpenMetrics Accept \
              header, which Prometheus reads just as well; Spring answers OpenMetrics 1.0",
    },
];

/// One difference found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Difference {
    endpoint: String,
    field: String,
    detail: String,
}

#[derive(Default)]
struct Differences {
    phase: String,
    found: Vec<(String, Difference)>,
}

impl Differences {
    fn add(&mut self, endpoint: &str, field: &str, detail: String) {
        self.found.push((
            self.phase.clone(),
            Difference {
                endpoint: endpoint.to_owned(),
                field: field.to_owned(),
                detail,
            },
        ));
    }
}

// ------------------------------------------------------------------------------------------------
// JSON that keeps its key order (serde_json's Value sorts keys without `preserve_order`)

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn at(&self, key: &str) -> &Json {
        self.get(key)
            .unwrap_or_else(|| panic!("no key `{key}` in {self}"))
    }

    fn as_str(&self) -> &str {
        match self {
            Json::String(s) => s,
            other => panic!("not a string: {other}"),
        }
    }

    fn as_u64(&self) -> u64 {
        match self {
            Json::Number(n) if *n >= 0.0 && n.fract() == 0.0 => *n as u64,
            other => panic!("not a count: {other}"),
        }
    }

    fn parse(text: &str) -> Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => write!(f, "{n}"),
            Json::String(s) => write!(f, "{s:?}"),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Object(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k:?}:{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
                Ok(Json::Number(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
                Ok(Json::Number(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
                Ok(Json::Number(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::String(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Json, E> {
                Ok(Json::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry()? {
                    entries.push((k, v));
                }
                Ok(Json::Object(entries))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

// ------------------------------------------------------------------------------------------------
// The downstream: GET /<breaker> answers as the current step says

const SLOW: Duration = Duration::from_millis(300);
const HANG: Duration = Duration::from_millis(800);

#[derive(Default)]
struct DownstreamState {
    behaviour: HashMap<String, String>,
    hits: HashMap<String, u64>,
}

type Downstream = Arc<Mutex<DownstreamState>>;

async fn downstream_answer(State(state): State<Downstream>, Path(name): Path<String>) -> Response {
    let mode = {
        let mut s = state.lock().unwrap();
        *s.hits.entry(name.clone()).or_default() += 1;
        s.behaviour.get(&name).cloned()
    };
    match mode.as_deref() {
        Some("success") => (StatusCode::OK, format!("ok {name}")).into_response(),
        Some("failure") => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Some("slow") => {
            tokio::time::sleep(SLOW).await;
            (StatusCode::OK, format!("ok {name} (slow)")).into_response()
        }
        Some("hang") => {
            tokio::time::sleep(HANG).await;
            (StatusCode::OK, format!("ok {name} (too late)")).into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            format!("no behaviour set for /{name}"),
        )
            .into_response(),
    }
}

// ------------------------------------------------------------------------------------------------
// The fusebox service: the reference service's `GET /call/{breaker}`, written as a fusebox user
// writes it

fn spring_ref_dir() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR")).join("tests/spring-ref")
}

/// The registry of both guarded functions: the reference service's `application.yml`, unchanged.
static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let yml = spring_ref_dir().join("application.yml");
    Registry::from_file(&yml).unwrap_or_else(|e| panic!("{}: {e}", yml.display()))
});

/// Why a guarded call gave no body.
#[derive(Debug)]
enum CallError {
    /// The downstream answered an error status.
    Status(reqwest::StatusCode, String),
    /// The request itself failed.
    Transport(reqwest::Error),
    /// The breaker rejected the call or its time limit expired.
    Breaker(BreakerError),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Status(status, body) => write!(f, "downstream answered {status}: {body}"),
            CallError::Transport(e) => write!(f, "request failed: {e}"),
            CallError::Breaker(e) => write!(f, "{e}"),
        }
    }
}

impl From<BreakerError> for CallError {
    fn from(e: BreakerError) -> Self {
        CallError::Breaker(e)
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, CallError> {
    let response = client.get(url).send().await.map_err(CallError::Transport)?;
    let status = response.status();
    let body = response.text().await.map_err(CallError::Transport)?;
    if status.is_server_error() || status.is_client_error() {
        return Err(CallError::Status(status, body));
    }
    Ok(body)
}

/// `orders`: `@CircuitBreaker(name = "orders")` in the reference service.
#[circuit_breaker(name = "orders", registry = REGISTRY)]
async fn get_orders(client: &reqwest::Client, url: &str) -> Result<String, CallError> {
    fetch(client, url).await
}

/// `inventory`: `@CircuitBreaker @TimeLimiter(name = "inventory")`; the time limit is the YAML's
/// `resilience4j.timelimiter.instances.inventory.timeoutDuration`.
#[circuit_breaker(name = "inventory", registry = REGISTRY)]
async fn get_inventory(client: &reqwest::Client, url: &str) -> Result<String, CallError> {
    fetch(client, url).await
}

#[derive(Clone)]
struct Service {
    client: reqwest::Client,
    downstream: String,
}

async fn call(State(service): State<Service>, Path(breaker): Path<String>) -> Response {
    let url = format!("{}{breaker}", service.downstream);
    let result = match breaker.as_str() {
        "orders" => get_orders(&service.client, &url).await,
        "inventory" => get_inventory(&service.client, &url).await,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                format!("unknown breaker '{breaker}': this service guards orders, inventory"),
            )
                .into_response();
        }
    };
    match result {
        Ok(body) => (StatusCode::OK, body).into_response(),
        Err(CallError::Breaker(BreakerError::NotPermitted(e))) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not permitted: {e}"),
        )
            .into_response(),
        Err(CallError::Breaker(BreakerError::Timeout(e))) => {
            (StatusCode::GATEWAY_TIMEOUT, format!("timeout: {e}")).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed: {e}")).into_response(),
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

// ------------------------------------------------------------------------------------------------
// Talking to the fusebox service

struct Answer {
    status: u16,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Json {
        if self.text.is_empty() {
            return Json::Null;
        }
        Json::parse(&self.text).unwrap_or_else(|_| Json::String(self.text.clone()))
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the fusebox service answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.expect("a body");
        Answer {
            status,
            content_type,
            text,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn get_accepting(&self, path: &str, accept: &str) -> Answer {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .header(reqwest::header::ACCEPT, accept),
        )
        .await
    }

    async fn post_json(&self, path: &str, body: &str) -> Answer {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_owned()),
        )
        .await
    }
}

// ------------------------------------------------------------------------------------------------
// Comparison rules

/// A request path as an allow-list endpoint: breaker names become `{name}`, event types
/// `{eventType}`.
fn route(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let shape = match segments.as_slice() {
        ["actuator", "circuitbreakers", _] => "/actuator/circuitbreakers/{name}".to_owned(),
        ["actuator", "circuitbreakerevents", _] => {
            "/actuator/circuitbreakerevents/{name}".to_owned()
        }
        ["actuator", "circuitbreakerevents", _, _] => {
            "/actuator/circuitbreakerevents/{name}/{eventType}".to_owned()
        }
        ["actuator", "health", _] => "/actuator/health/{component}".to_owned(),
        ["call", _] => "/call/{breaker}".to_owned(),
        _ => path.to_owned(),
    };
    format!("{method} {shape}")
}

/// Event `durationInMs` of fusebox against Spring's: the class of call Spring's value shows must
/// be fusebox's too. Spring: instant ≈ 0–50 ms (its first call up to ~200), slow ≥ 300, timeout
/// 500–520. fusebox (1 ms clock tick): instant ≤ 150 (below the 200 ms slow threshold), slow 299–450, timeout 499–600.
fn duration_class_ok(spring_ms: f64, fusebox_ms: f64) -> bool {
    if spring_ms >= 450.0 {
        (499.0..=600.0).contains(&fusebox_ms)
    } else if spring_ms >= 290.0 {
        (299.0..=450.0).contains(&fusebox_ms)
    } else {
        (0.0..=150.0).contains(&fusebox_ms)
    }
}

/// Which sleeps the scenario scripted so far, per `(breaker, kind)` of the calls timer: their
/// sum and largest (seconds).
#[derive(Default, Clone, Copy, Debug)]
struct Scripted {
    sum: f64,
    max: f64,
}

/// The tolerance of `resilience4j_circuitbreaker_calls_seconds_sum` / `_max` (seconds), for
/// Spring's recorded value and fusebox's alike: `_sum` at least the scripted sleeps of its calls
/// (less 2 ms per call: fusebox's 1 ms clock tick) and at most 0.1 s per call more, plus 0.2 s
/// for the JVM's first call; `_max` likewise for the largest call; both exactly `0.0` without
/// calls.
fn seconds_ok(value: f64, count: u64, scripted: Scripted, is_max: bool) -> bool {
    if count == 0 {
        return value == 0.0;
    }
    let n = count as f64;
    if is_max {
        value >= scripted.max - 0.002 && value <= scripted.max + 0.2
    } else {
        value >= scripted.sum - 0.002 * n && value <= scripted.sum + 0.1 * n + 0.2
    }
}

struct Compare<'a> {
    diffs: &'a mut Differences,
    endpoint: String,
}

impl Compare<'_> {
    fn diff(&mut self, field: &str, detail: String) {
        let endpoint = self.endpoint.clone();
        self.diffs.add(&endpoint, field, detail);
    }

    /// Compares `fusebox` with `spring` at `path` (a JSON path with `[]` for elements).
    fn json(&mut self, path: &str, spring: &Json, fusebox: &Json) {
        let key = path.rsplit('.').next().unwrap_or(path);
        match key {
            "creationTime" | "timestamp" => {
                // Wall-clock times: their values are not compared, their shapes are (the
                // creationTime's fraction and zone vary with the clock and the machine).
                if key == "timestamp" {
                    // Spring's `2026-12-05T18:57:56.222+00:00`: the same shape, digits aside.
                    let shape = |j: &Json| match j {
                        Json::String(s) => s
                            .chars()
                            .map(|c| if c.is_ascii_digit() { '0' } else { c })
                            .collect::<String>(),
                        other => other.to_string(),
                    };
                    if shape(spring) != shape(fusebox) {
                        self.diff(path, format!("Spring {spring}, fusebox {fusebox}"));
                    }
                } else {
                    let text = if let Json::String(s) = fusebox {
                        s.as_str()
                    } else {
                        ""
                    };
                    let shaped = text.len() >= 17
                        && text.as_bytes()[4] == b'-'
                        && text.as_bytes()[10] == b'T'
                        && text.as_bytes()[13] == b':';
                    if !shaped {
                        self.diff(path, format!("not a ZonedDateTime text: {fusebox}"));
                    }
                }
                return;
            }
            "durationInMs" if path.contains("circuitBreakerEvents") => {
                match (spring, fusebox) {
                    (Json::Number(s), Json::Number(f)) => {
                        if !duration_class_ok(*s, *f) {
                            self.diff(path, format!("Spring {s} ms, fusebox {f} ms"));
                        }
                    }
                    (s, f) if s == f => {}
                    (s, f) => self.diff(path, format!("Spring {s}, fusebox {f}")),
                }
                return;
            }
            _ => {}
        }
        match (spring, fusebox) {
            (Json::Object(s), Json::Object(f)) => {
                let unordered = path == "components.circuitBreakers.details"
                    || path == "details" && self.endpoint.ends_with("/health/{component}");
                self.object(path, s, f, unordered);
            }
            (Json::Array(s), Json::Array(f)) => {
                let element = format!("{path}[]");
                if s.len() != f.len() {
                    let kinds = |items: &[Json]| -> Vec<String> {
                        items
                            .iter()
                            .map(|e| match e.get("type") {
                                Some(t) => t.to_string(),
                                None => e.to_string(),
                            })
                            .collect()
                    };
                    self.diff(
                        path,
                        format!(
                            "{} elements in Spring {:?}, {} in fusebox {:?}",
                            s.len(),
                            kinds(s),
                            f.len(),
                            kinds(f)
                        ),
                    );
                    return;
                }
                for (a, b) in s.iter().zip(f) {
                    self.json(&element, a, b);
                }
            }
            (s, f) if s == f => {}
            (s, f) => self.diff(path, format!("Spring {s}, fusebox {f}")),
        }
    }

    fn object(
        &mut self,
        path: &str,
        spring: &[(String, Json)],
        fusebox: &[(String, Json)],
        unordered: bool,
    ) {
        let join = |k: &str| {
            if path.is_empty() {
                k.to_owned()
            } else {
                format!("{path}.{k}")
            }
        };
        for (k, v) in spring {
            match fusebox.iter().find(|(fk, _)| fk == k) {
                Some((_, fv)) => self.json(&join(k), v, fv),
                None => self.diff(&join(k), format!("missing in fusebox; Spring: {v}")),
            }
        }
        for (k, v) in fusebox {
            if !spring.iter().any(|(sk, _)| sk == k) {
                self.diff(&join(k), format!("only in fusebox: {v}"));
            }
        }
        if !unordered {
            let common = |entries: &[(String, Json)], other: &[(String, Json)]| -> Vec<String> {
                entries
                    .iter()
                    .map(|(k, _)| k.clone())
                    .filter(|k| other.iter().any(|(o, _)| o == k))
                    .collect()
            };
            let (s, f) = (common(spring, fusebox), common(fusebox, spring));
            if s != f {
                let field = if path.is_empty() { "(key order)" } else { path };
                self.diff(field, format!("key order: Spring {s:?}, fusebox {f:?}"));
            }
        }
    }
}

/// Compares one answer: status code, content type (as a media type with its parameters, spaces
/// aside) and body.
fn compare_answer(
    diffs: &mut Differences,
    endpoint: String,
    spring: &Json,
    fusebox: &Answer,
    compare_content_type: bool,
) {
    let mut c = Compare { diffs, endpoint };
    let spring_status = spring.at("status").as_u64();
    if spring_status != u64::from(fusebox.status) {
        // Different answers altogether: their bodies are not comparable.
        c.diff(
            "status",
            format!(
                "Spring {spring_status}, fusebox {}: {}",
                fusebox.status, fusebox.text
            ),
        );
        return;
    }
    if compare_content_type {
        let spring_type = spring.at("contentType").as_str();
        if !same_media_type(spring_type, &fusebox.content_type) {
            c.diff(
                "Content-Type",
                format!("Spring {spring_type}, fusebox {}", fusebox.content_type),
            );
        }
    }
    c.json("", spring.at("body"), &fusebox.json());
}

fn same_media_type(a: &str, b: &str) -> bool {
    let norm = |t: &str| t.replace(' ', "").to_ascii_lowercase();
    norm(a) == norm(b)
}

// ------------------------------------------------------------------------------------------------
// Prometheus

#[derive(Debug, Clone, PartialEq)]
enum PromLine {
    /// `# HELP` / `# TYPE` (exact text).
    Comment(String),
    /// A sample: `name{labels}` as written, and its value text.
    Sample { series: String, value: String },
}

fn prom_lines(text: &str) -> Vec<PromLine> {
    text.lines()
        .filter(|l| {
            l.starts_with("resilience4j_")
                || l.starts_with("# HELP resilience4j_")
                || l.starts_with("# TYPE resilience4j_")
        })
        .map(|l| {
            if l.starts_with('#') {
                PromLine::Comment(l.to_owned())
            } else {
                let (series, value) = l.rsplit_once(' ').expect("a sample line has a value");
                PromLine::Sample {
                    series: series.to_owned(),
                    value: value.to_owned(),
                }
            }
        })
        .collect()
}

/// `name{a="x",b="y"}` → (`name`, {a: x, b: y}).
fn split_series(series: &str) -> (&str, BTreeMap<String, String>) {
    let Some((name, rest)) = series.split_once('{') else {
        return (series, BTreeMap::new());
    };
    let labels = rest
        .trim_end_matches('}')
        .split("\",")
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once("=\"").expect("label=\"value\"");
            (k.to_owned(), v.trim_end_matches('"').to_owned())
        })
        .collect();
    (name, labels)
}

fn compare_prometheus(
    diffs: &mut Differences,
    spring_text: &str,
    fusebox_text: &str,
    scripted: &HashMap<(String, String), Scripted>,
) {
    let endpoint = "GET /actuator/prometheus";
    let spring = prom_lines(spring_text);
    let fusebox = prom_lines(fusebox_text);
    let key = |l: &PromLine| match l {
        PromLine::Comment(c) => {
            // `# HELP name text` is keyed by name: the text is compared below.
            c.splitn(4, ' ').take(3).collect::<Vec<_>>().join(" ")
        }
        PromLine::Sample { series, .. } => series.clone(),
    };
    let spring_keys: Vec<String> = spring.iter().map(key).collect();
    let fusebox_keys: Vec<String> = fusebox.iter().map(key).collect();
    let spring_set: BTreeSet<&String> = spring_keys.iter().collect();
    let fusebox_set: BTreeSet<&String> = fusebox_keys.iter().collect();
    for missing in spring_set.difference(&fusebox_set) {
        diffs.add(endpoint, missing, "missing in fusebox".to_owned());
    }
    for extra in fusebox_set.difference(&spring_set) {
        diffs.add(endpoint, extra, "only in fusebox".to_owned());
    }
    let common = |keys: &[String], other: &BTreeSet<&String>| -> Vec<String> {
        keys.iter().filter(|k| other.contains(k)).cloned().collect()
    };
    if common(&spring_keys, &fusebox_set) != common(&fusebox_keys, &spring_set) {
        diffs.add(
            endpoint,
            "(line order)",
            format!("Spring:\n{spring_text}\nfusebox:\n{fusebox_text}"),
        );
    }
    // The `_count` of each timer series, to judge its `_sum` and `_max`.
    let counts: HashMap<String, u64> = spring
        .iter()
        .filter_map(|l| match l {
            PromLine::Sample { series, value } if series.contains("_seconds_count{") => Some((
                series.replace("_seconds_count{", "_seconds{"),
                value.parse().expect("an integer count"),
            )),
            _ => None,
        })
        .collect();
    let fusebox_by_key: HashMap<String, &PromLine> = fusebox.iter().map(|l| (key(l), l)).collect();
    for line in &spring {
        let Some(theirs) = fusebox_by_key.get(&key(line)) else {
            continue;
        };
        match (line, theirs) {
            (PromLine::Comment(s), PromLine::Comment(f)) => {
                if s != f {
                    diffs.add(endpoint, &key(line), format!("Spring `{s}`, fusebox `{f}`"));
                }
            }
            (PromLine::Sample { series, value: s }, PromLine::Sample { value: f, .. }) => {
                let (name, labels) = split_series(series);
                let timer = name.ends_with("_seconds_sum") || name.ends_with("_seconds_max");
                if !timer {
                    if s != f {
                        diffs.add(endpoint, series, format!("Spring {s}, fusebox {f}"));
                    }
                    continue;
                }
                let is_max = name.ends_with("_max");
                let base = series
                    .replace("_seconds_sum{", "_seconds{")
                    .replace("_seconds_max{", "_seconds{");
                let count = counts[&base];
                let script = scripted
                    .get(&(labels["name"].clone(), labels["kind"].clone()))
                    .copied()
                    .unwrap_or_default();
                let spring_value: f64 = s.parse().expect("a number");
                assert!(
                    seconds_ok(spring_value, count, script, is_max),
                    "the tolerance of {series} does not even fit Spring's recording: {s} \
                     ({count} calls, scripted {script:?})"
                );
                let ok = f
                    .parse::<f64>()
                    .is_ok_and(|v| seconds_ok(v, count, script, is_max));
                if !ok {
                    diffs.add(
                        endpoint,
                        series,
                        format!(
                            "fusebox {f} out of tolerance (Spring {s}, {count} calls, scripted {script:?})"
                        ),
                    );
                }
            }
            _ => diffs.add(
                endpoint,
                &key(line),
                "a comment against a sample".to_owned(),
            ),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The golden files (or a live recording)

fn read(path: &FsPath) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where the Spring side's answers come from: the committed golden files, or with
/// `FUSEBOX_SPRING_LIVE=1` a fresh recording in a temporary directory (the golden files again
/// when Java or Maven are missing, with a message saying so).
fn spring_recording() -> PathBuf {
    let golden = spring_ref_dir().join("golden");
    if std::env::var("FUSEBOX_SPRING_LIVE").as_deref() != Ok("1") {
        return golden;
    }
    let out = std::env::temp_dir().join(format!("fusebox-spring-live-{}", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(spring_ref_dir().join("record.py"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("python3 runs tests/spring-ref/record.py");
    match status.code() {
        Some(0) => out,
        Some(2) => {
            eprintln!(
                "FUSEBOX_SPRING_LIVE=1 but Java/Maven are missing (record.py said why above): \
                 comparing with the committed golden files instead"
            );
            golden
        }
        _ => panic!("tests/spring-ref/record.py failed ({status}); see its output above"),
    }
}

// ------------------------------------------------------------------------------------------------
// The test

const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0;charset=utf-8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fusebox_answers_like_resilience4j_under_spring_boot() {
    let recording = spring_recording();
    let scenario = Json::parse(&read(&recording.join("scenario.json"))).expect("scenario.json");

    // The downstream.
    let downstream: Downstream = Arc::default();
    let downstream_url = serve(
        Router::new()
            .route("/{name}", get(downstream_answer))
            .with_state(downstream.clone()),
    )
    .await;

    // The fusebox service: the guarded endpoint and the actuator router (POST allowed, as
    // Spring Boot allows it once `circuitbreakers` is exposed).
    // The health options (`registerHealthIndicator`, `allowHealthIndicatorToFail`) and the
    // `application` tag (`management.metrics.tags.application`) come from the YAML, as in Spring.
    // SUCCESS events are compared with Spring's: buffer them, as Resilience4j does.
    let monitor = Monitor::builder(&REGISTRY)
        .success_events(true)
        .build()
        .expect("valid monitor settings");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let service = Service {
        client: http.clone(),
        downstream: format!("{downstream_url}/"),
    };
    let app = Router::new()
        .route("/call/{breaker}", get(call))
        .with_state(service)
        .merge(Actuator::new(monitor).allow_state_changes(true).router());
    let client = Client {
        base: serve(app).await,
        http,
    };

    let mut diffs = Differences::default();
    let mut scripted: HashMap<(String, String), Scripted> = HashMap::new();
    let Json::Array(phases) = scenario.at("phases") else {
        panic!("scenario.json: phases is not a list");
    };
    let snapshot_gets = [
        "/actuator/circuitbreakers",
        "/actuator/circuitbreakerevents",
        "/actuator/circuitbreakerevents/orders",
        "/actuator/circuitbreakerevents/inventory",
        "/actuator/health",
    ];
    for phase in phases {
        let name = phase.at("phase").as_str();
        diffs.phase = name.to_owned();
        let golden = Json::parse(&read(&recording.join(format!("{name}.json"))))
            .unwrap_or_else(|e| panic!("{name}.json: {e}"));
        let Json::Array(actions) = phase.at("actions") else {
            panic!("{name}: actions is not a list");
        };
        let Json::Array(recorded) = golden.at("actions") else {
            panic!("{name}.json: actions is not a list");
        };
        assert_eq!(actions.len(), recorded.len(), "{name}: actions recorded");
        for (action, spring) in actions.iter().zip(recorded) {
            match action.at("do").as_str() {
                "wait" => {
                    let ms = action.at("ms").as_u64();
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                "call" => {
                    let breaker = action.at("breaker").as_str();
                    let behaviour = match action.at("downstream") {
                        Json::String(b) => Some(b.clone()),
                        _ => None,
                    };
                    let before = {
                        let mut d = downstream.lock().unwrap();
                        match &behaviour {
                            Some(b) => d.behaviour.insert(breaker.to_owned(), b.clone()),
                            None => d.behaviour.remove(breaker),
                        };
                        d.hits.get(breaker).copied().unwrap_or(0)
                    };
                    let answer = client.get(&format!("/call/{breaker}")).await;
                    let hits = downstream.lock().unwrap().hits.get(breaker).copied();
                    let hits = hits.unwrap_or(0) - before;
                    assert_eq!(
                        hits,
                        u64::from(behaviour.is_some()),
                        "{name}: GET /call/{breaker} reached the downstream {hits} time(s)"
                    );
                    // Only the status counts: the bodies are Java's exception texts.
                    let spring_status = spring.at("status").as_u64();
                    if spring_status != u64::from(answer.status) {
                        diffs.add(
                            "GET /call/{breaker}",
                            "status",
                            format!(
                                "{breaker} ({behaviour:?}): Spring {spring_status}, fusebox {}: {}",
                                answer.status, answer.text
                            ),
                        );
                    }
                    let kind = match answer.status {
                        200 => "successful",
                        _ => "failed",
                    };
                    let sleep = match behaviour.as_deref() {
                        Some("slow") => SLOW.as_secs_f64(),
                        // The call ends at inventory's time limit.
                        Some("hang") => 0.5,
                        _ => 0.0,
                    };
                    let s = scripted
                        .entry((breaker.to_owned(), kind.to_owned()))
                        .or_default();
                    s.sum += sleep;
                    s.max = s.max.max(sleep);
                }
                "post" => {
                    let breaker = action.at("breaker").as_str();
                    let path = format!("/actuator/circuitbreakers/{breaker}");
                    let answer = client.post_json(&path, action.at("body").as_str()).await;
                    compare_answer(&mut diffs, route("POST", &path), spring, &answer, true);
                }
                "get" => {
                    let path = action.at("path").as_str();
                    let answer = client.get(path).await;
                    let is_call = path.starts_with("/call/");
                    if is_call {
                        let spring_status = spring.at("status").as_u64();
                        if spring_status != u64::from(answer.status) {
                            diffs.add(
                                &route("GET", path),
                                "status",
                                format!("Spring {spring_status}, fusebox {}", answer.status),
                            );
                        }
                    } else {
                        compare_answer(&mut diffs, route("GET", path), spring, &answer, true);
                    }
                }
                other => panic!("{name}: unknown action `{other}`"),
            }
        }

        // The snapshot.
        for path in snapshot_gets {
            let answer = client.get(path).await;
            let spring = golden.at("answers").at(&format!("GET {path}"));
            compare_answer(&mut diffs, route("GET", path), spring, &answer, true);
        }
        let prometheus = client.get("/actuator/prometheus").await;
        assert_eq!(prometheus.status, 200, "{name}: /actuator/prometheus");
        let spring_type = scenario.at("prometheusContentType").as_str();
        if !same_media_type(spring_type, &prometheus.content_type) {
            diffs.add(
                "GET /actuator/prometheus",
                "Content-Type",
                format!("Spring {spring_type}, fusebox {}", prometheus.content_type),
            );
        }
        let spring_prom = read(&recording.join(format!("{name}.prom")));
        compare_prometheus(&mut diffs, &spring_prom, &prometheus.text, &scripted);
    }

    // As a Prometheus server asks, after the last phase.
    diffs.phase = "(after the last phase)".to_owned();
    let om = client
        .get_accepting("/actuator/prometheus", OPENMETRICS)
        .await;
    assert_eq!(om.status, 200);
    let spring_om_type = scenario.at("openMetricsContentType").as_str();
    if !same_media_type(spring_om_type, &om.content_type) {
        diffs.add(
            "GET /actuator/prometheus (Accept: OpenMetrics)",
            "Content-Type",
            format!("Spring {spring_om_type}, fusebox {}", om.content_type),
        );
    }

    // Every difference allowed, every allowance used.
    // (Grouped: the same difference in several phases or elements is reported once.)
    let mut unexplained: BTreeMap<&Difference, Vec<&str>> = BTreeMap::new();
    let mut used = vec![false; DEVIATIONS.len()];
    for (phase, d) in &diffs.found {
        match DEVIATIONS
            .iter()
            .position(|a| a.endpoint == d.endpoint && a.field == d.field)
        {
            Some(i) => used[i] = true,
            None => unexplained.entry(d).or_default().push(phase),
        }
    }
    let unexplained: Vec<String> = unexplained
        .into_iter()
        .map(|(d, phases)| {
            let mut phases = phases;
            phases.dedup();
            format!(
                "{} — {}: {} [{}]",
                d.endpoint,
                d.field,
                d.detail,
                phases.join(", ")
            )
        })
        .collect();
    let stale: Vec<String> = DEVIATIONS
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(a, _)| format!("{} — {} ({})", a.endpoint, a.field, a.why))
        .collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "fusebox differs from Resilience4j (answers in {}) where the allow-list does not say \
         why:\n  {}\n\n\
         allow-list entries no difference needs any more (remove them here and in README.md):\n  {}",
        recording.display(),
        unexplained.join("\n  "),
        stale.join("\n  ")
    );
    if recording != spring_ref_dir().join("golden") {
        // A live recording, kept above only for a failure's inspection.
        let _ = std::fs::remove_dir_all(&recording);
    }
}

/// The comparison itself finds differences: a golden answer against itself is equal, and each
/// kind of change to it (a value, the key order, a missing key, a Prometheus value, a missing
/// series, a duration outside its tolerance) is reported.
#[test]
fn the_comparison_reports_each_kind_of_difference() {
    let golden = spring_ref_dir().join("golden");
    let doc = Json::parse(&read(&golden.join("02-orders-open.json"))).unwrap();
    let answer = doc.at("answers").at("GET /actuator/circuitbreakers");
    let as_fusebox = |body: String| Answer {
        status: 200,
        content_type: answer.at("contentType").as_str().to_owned(),
        text: body,
    };
    let compare = |fusebox: &Answer| {
        let mut diffs = Differences::default();
        compare_answer(
            &mut diffs,
            "GET /actuator/circuitbreakers".to_owned(),
            answer,
            fusebox,
            true,
        );
        diffs
            .found
            .into_iter()
            .map(|(_, d)| d.field)
            .collect::<Vec<_>>()
    };
    let text = answer.at("body").to_string();
    assert_eq!(compare(&as_fusebox(text.clone())), Vec::<String>::new());
    let changed = text.replacen("\"OPEN\"", "\"HALF_OPEN\"", 1);
    assert_eq!(
        compare(&as_fusebox(changed)),
        ["circuitBreakers.orders.state"]
    );
    let reordered = text.replacen(
        "\"failureRate\":\"50.0%\",\"slowCallRate\":\"25.0%\"",
        "\"slowCallRate\":\"25.0%\",\"failureRate\":\"50.0%\"",
        1,
    );
    assert_ne!(reordered, text);
    assert_eq!(compare(&as_fusebox(reordered)), ["circuitBreakers.orders"]);
    let missing = text.replacen("\"slowFailedCalls\":0,", "", 1);
    assert_eq!(
        compare(&as_fusebox(missing)),
        ["circuitBreakers.inventory.slowFailedCalls"]
    );

    let prom = read(&golden.join("01-orders-closed.prom"));
    let scripted = HashMap::from([(
        ("orders".to_owned(), "successful".to_owned()),
        Scripted { sum: 0.3, max: 0.3 },
    )]);
    let prom_fields = |fusebox: &str| {
        let mut diffs = Differences::default();
        compare_prometheus(&mut diffs, &prom, fusebox, &scripted);
        diffs
            .found
            .into_iter()
            .map(|(_, d)| d.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(prom_fields(&prom), Vec::<String>::new());
    let slow = "resilience4j_circuitbreaker_slow_calls{application=\"spring-ref\",kind=\"successful\",name=\"orders\"}";
    assert_eq!(
        prom_fields(&prom.replace(&format!("{slow} 1.0"), &format!("{slow} 0.0"))),
        [slow]
    );
    let without: String = prom
        .lines()
        .filter(|l| !l.starts_with(slow))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(prom_fields(&without), [slow]);
    let sum = "resilience4j_circuitbreaker_calls_seconds_sum{application=\"spring-ref\",kind=\"successful\",name=\"orders\"}";
    let line = prom.lines().find(|l| l.starts_with(sum)).unwrap();
    assert_eq!(
        prom_fields(&prom.replace(line, &format!("{sum} 0.01"))),
        [sum]
    );
}
