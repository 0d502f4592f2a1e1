//! A real Prometheus server scrapes fusebox's `/actuator/prometheus` (the `actuator` router over
//! a `Monitor` of a registry loaded from `tests/spring-ref/application.yml`, registry-wide tag
//! `application`), and the circuit-breaker queries of the official Resilience4j Grafana dashboard
//! (`grafana_dashboard.json`, title "Resilience4j"; `../shared/reference/resilience4j-ops.md` A.7)
//! return the series its panels draw. Needs the `actuator` feature.
//!
//! `scripts/prometheus.sh install` builds Prometheus once with `go install` (cached under
//! `~/.cache/fusebox/prometheus/<version>/`). Without Go the test prints `SKIPPED: ...` and
//! passes; `FUSEBOX_REQUIRE_PROMETHEUS=1` turns that skip into a failure.
//!
//! One Prometheus for the whole binary (this file has one test), scraping every second; a guard
//! stops it at the end, on a panic too, and the script's watchdog (`PROMETHEUS_OWNER_PID`) stops
//! it if this process is killed. The scenario, about 6 s once Prometheus is built:
//! 1. three successful calls (one slow) through a `#[circuit_breaker(name = "orders")]` function:
//!    both breakers CLOSED, `orders` below its minimum number of calls; the first scrape must
//!    succeed (`up` = 1) and keep every sample the endpoint served;
//! 2. the dashboard's variables are resolved as Grafana does (`label_values(...)`, multi-value
//!    regexes), then every circuit-breaker panel query is checked: names, label sets (`application`,
//!    `name`, `kind`, `state`, `instance`, `job`), values; the `rate(...[1m])` and
//!    `increase(...[1m])` panels wait for a second scrape;
//! 3. `orders` trips (two failed calls through the same function): the state panels show it OPEN,
//!    its failure rate 50 %, and the call-rate and average-duration panels show the failed calls.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use fusebox::observe::Monitor;
use fusebox::observe::actuator::Actuator;
use fusebox::{BreakerError, Registry, State, circuit_breaker};
use serde_json::Value;

/// The scrape job `scripts/prometheus.sh` writes into prometheus.yml.
const JOB: &str = "fusebox";
/// The registry-wide `application` tag the target sets (the dashboard selects on it), as
/// `spring.application.name` in the Spring reference service.
const APPLICATION: &str = "spring-ref";
/// The target's breakers, sorted.
const BREAKERS: [&str; 2] = ["inventory", "orders"];
/// The states Micrometer exposes one 0/1 series for, per breaker.
const STATES: [&str; 6] = [
    "closed",
    "disabled",
    "forced_open",
    "half_open",
    "metrics_only",
    "open",
];
/// `kind` values of `resilience4j_circuitbreaker_calls_seconds_*`.
const CALL_KINDS: [&str; 3] = ["failed", "ignored", "successful"];
/// `kind` values of `resilience4j_circuitbreaker_buffered_calls`.
const BUFFERED_KINDS: [&str; 2] = ["failed", "successful"];
/// Bound of each wait for a scrape (Prometheus scrapes every second).
const SCRAPE_DEADLINE: Duration = Duration::from_secs(20);
/// Bound of the whole scenario once Prometheus is built.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// The scraped target: a fusebox service.
// ---------------------------------------------------------------------------------------------

/// The breakers' configuration: the very file the Spring reference service (`tests/spring-ref`)
/// loads, so fusebox's `orders` and `inventory` are configured as Resilience4j's were.
const APPLICATION_YML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/spring-ref/application.yml"
);

/// The scraped service's registry, read from [`APPLICATION_YML`] (both breakers are instances
/// there, so both exist from the start).
static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    Registry::from_file(APPLICATION_YML).unwrap_or_else(|e| panic!("{APPLICATION_YML}: {e}"))
});

/// What the downstream behind `orders` did.
#[derive(Debug)]
enum DownstreamError {
    /// It answered with an error.
    Failed,
    /// The breaker did not let the call through, or cut it.
    Breaker(
        #[expect(dead_code, reason = "shown through Debug in assertion messages")] BreakerError,
    ),
}

impl From<BreakerError> for DownstreamError {
    fn from(e: BreakerError) -> Self {
        DownstreamError::Breaker(e)
    }
}

/// A call to the downstream through fusebox's `orders` breaker: it takes `took`, then succeeds
/// or fails.
#[circuit_breaker(name = "orders", registry = REGISTRY)]
async fn call_orders(took: Duration, fail: bool) -> Result<(), DownstreamError> {
    tokio::time::sleep(took).await;
    if fail {
        Err(DownstreamError::Failed)
    } else {
        Ok(())
    }
}

/// The scraped service's state: its registry and its monitor.
struct Target {
    monitor: Monitor,
}

impl Target {
    /// Monitors [`REGISTRY`] with the registry-wide tag the dashboard selects on, then makes
    /// `orders`' first three calls, all successful, one slow (over its 200 ms
    /// slowCallDurationThreshold): CLOSED, below its minimumNumberOfCalls of 4.
    async fn new() -> Target {
        let monitor = Monitor::builder(&REGISTRY)
            .tag("application", APPLICATION)
            .build()
            .expect("valid monitor settings");
        let names: Vec<String> = REGISTRY.all().iter().map(|b| b.name().to_owned()).collect();
        assert_eq!(names, BREAKERS, "the breakers of {APPLICATION_YML}");
        for took in [300, 5, 5] {
            call_orders(Duration::from_millis(took), false)
                .await
                .expect("a successful call through the CLOSED breaker");
        }
        Target { monitor }
    }

    /// Moves `orders` from CLOSED to OPEN: two failed calls through the breaker (the last 4
    /// calls then hold 50 % failures, its failureRateThreshold).
    async fn trip_orders(&self) {
        for _ in 0..2 {
            let outcome = call_orders(Duration::from_millis(20), true).await;
            assert!(
                matches!(outcome, Err(DownstreamError::Failed)),
                "a failed call through the CLOSED breaker: {outcome:?}"
            );
        }
        let orders = REGISTRY.find("orders").expect("the breaker `orders`");
        assert_eq!(
            orders.state(),
            State::Open,
            "two failures of four trip `orders`"
        );
    }
}

/// The HTTP app Prometheus scrapes: fusebox's actuator router over the target's monitor
/// (read-only, as a production service runs it).
fn actuator_router(target: &Target) -> axum::Router {
    Actuator::new(target.monitor.clone()).router()
}

/// Serves `app` on 127.0.0.1:<free port> until the returned handle is aborted.
async fn serve(app: axum::Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the target on 127.0.0.1");
    let addr = listener.local_addr().expect("the target's address");
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("the target server");
    });
    (addr, handle)
}

// ---------------------------------------------------------------------------------------------
// Prometheus (scripts/prometheus.sh).
// ---------------------------------------------------------------------------------------------

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/prometheus.sh")
}

/// Builds Prometheus if needed; `None` (after printing why) when Go is absent.
async fn install() -> Option<()> {
    let began = Instant::now();
    let out = tokio::process::Command::new("bash")
        .arg(script())
        .arg("install")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("running scripts/prometheus.sh install");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {
            println!(
                "prometheus_scrape: scripts/prometheus.sh install took {:.1}s",
                began.elapsed().as_secs_f64()
            );
            Some(())
        }
        Some(2) => {
            let why = stderr.trim();
            assert!(
                std::env::var("FUSEBOX_REQUIRE_PROMETHEUS").as_deref() != Ok("1"),
                "FUSEBOX_REQUIRE_PROMETHEUS=1 but Prometheus cannot be built: {why}"
            );
            println!(
                "SKIPPED: the Prometheus scrape test needs Go to build Prometheus \
                 (scripts/prometheus.sh install: {why})"
            );
            None
        }
        code => panic!(
            "scripts/prometheus.sh install failed (exit {code:?}):\n{stderr}{}",
            String::from_utf8_lossy(&out.stdout)
        ),
    }
}

/// A running Prometheus with its own state directory; stops it when dropped (panics included).
struct Prometheus {
    state: PathBuf,
    url: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// Starts Prometheus scraping `target`'s `/actuator/prometheus` every second.
    async fn start(target: SocketAddr) -> Prometheus {
        let state =
            std::env::temp_dir().join(format!("fusebox-prometheus-scrape-{}", std::process::id()));
        let mut prometheus = Prometheus {
            state,
            url: String::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        };
        let out = prometheus
            .script()
            .arg("start")
            .arg(target.to_string())
            .arg("/actuator/prometheus")
            .env("PROMETHEUS_JOB", JOB)
            .env("PROMETHEUS_OWNER_PID", std::process::id().to_string())
            .output()
            .await
            .expect("running scripts/prometheus.sh start");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scripts/prometheus.sh start failed ({}):\n{}{stdout}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        prometheus.url = stdout
            .lines()
            .find_map(|l| l.strip_prefix("PROMETHEUS_URL="))
            .unwrap_or_else(|| panic!("no PROMETHEUS_URL= line in: {stdout}"))
            .trim()
            .to_owned();
        prometheus
    }

    fn script(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("bash");
        cmd.arg(script())
            .env("PROMETHEUS_STATE_DIR", &self.state)
            .stdin(Stdio::null());
        cmd
    }

    /// GETs `path` with `params` and returns `data` of a successful answer.
    async fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let url = reqwest::Url::parse_with_params(&format!("{}{path}", self.url), params)
            .expect("a Prometheus API URL");
        let answer = self
            .http
            .get(url.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = answer.status();
        let body: Value = answer
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: not JSON ({e})"));
        assert!(
            status.is_success() && body["status"] == "success",
            "GET {url}: HTTP {status}: {body}"
        );
        body["data"].clone()
    }

    /// An instant query (`/api/v1/query`) whose answer must be a vector.
    async fn query(&self, promql: &str) -> Vec<Sample> {
        let data = self.api("/api/v1/query", &[("query", promql)]).await;
        assert_eq!(data["resultType"], "vector", "{promql}: {data}");
        data["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{promql}: no result array in {data}"))
            .iter()
            .map(|s| Sample::from_json(promql, s))
            .collect()
    }

    /// What Grafana's `label_values(metric, label)` lists.
    async fn label_values(&self, metric: &str, label: &str) -> Vec<String> {
        let data = self
            .api(
                &format!("/api/v1/label/{label}/values"),
                &[("match[]", metric)],
            )
            .await;
        data.as_array()
            .unwrap_or_else(|| panic!("label_values({metric}, {label}): {data}"))
            .iter()
            .map(|v| v.as_str().expect("a label value").to_owned())
            .collect()
    }

    /// Waits until a scrape of `instance` succeeded (`up` = 1); on timeout, panics with the
    /// scrape's last error as Prometheus reports it (`/api/v1/targets`), e.g. a wrong
    /// Content-Type or a line the parser rejected.
    async fn wait_for_first_scrape(&self, instance: &str) {
        let up = format!(r#"up{{job="{JOB}"}}"#);
        let began = Instant::now();
        loop {
            let samples = self.query(&up).await;
            if matches!(samples.as_slice(), [s] if s.value == 1.0 && s.label("instance") == instance)
            {
                return;
            }
            if began.elapsed() > SCRAPE_DEADLINE {
                let targets = self.api("/api/v1/targets", &[("state", "active")]).await;
                let errors: Vec<String> = targets["activeTargets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| format!("{} {}: {}", t["scrapeUrl"], t["health"], t["lastError"]))
                    .collect();
                panic!(
                    "no successful scrape of {instance} after {SCRAPE_DEADLINE:?}: {up} = \
                     {samples:?}; targets: {errors:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Re-runs `promql` until `check` accepts its samples; panics with the last reason after
    /// [`SCRAPE_DEADLINE`].
    async fn wait_for<T>(
        &self,
        promql: &str,
        mut check: impl FnMut(&[Sample]) -> Result<T, String>,
    ) -> T {
        let began = Instant::now();
        loop {
            let samples = self.query(promql).await;
            match check(&samples) {
                Ok(t) => return t,
                Err(why) if began.elapsed() > SCRAPE_DEADLINE => panic!(
                    "{promql}: still wrong after {SCRAPE_DEADLINE:?}: {why}\nsamples: {samples:#?}"
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log =
                std::fs::read_to_string(self.state.join("prometheus.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("prometheus_scrape: Prometheus' log (last 30 lines, newest first):");
            for line in tail {
                eprintln!("  {line}");
            }
        }
        let stopped = std::process::Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("PROMETHEUS_STATE_DIR", &self.state)
            .stdin(Stdio::null())
            .output();
        if !matches!(&stopped, Ok(out) if out.status.success()) {
            eprintln!("prometheus_scrape: scripts/prometheus.sh stop failed: {stopped:?}");
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// One sample of an instant vector.
#[derive(Debug, Clone)]
struct Sample {
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Sample {
    fn from_json(promql: &str, s: &Value) -> Sample {
        let labels = s["metric"]
            .as_object()
            .unwrap_or_else(|| panic!("{promql}: sample without labels: {s}"))
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a label value").to_owned()))
            .collect();
        // Prometheus writes values as strings: "1", "-1", "0.0047", "NaN".
        let value = s["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{promql}: sample without a value: {s}"));
        Sample { labels, value }
    }

    fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }

    fn label_names(&self) -> BTreeSet<&str> {
        self.labels.keys().map(String::as_str).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard.
// ---------------------------------------------------------------------------------------------

/// A Grafana multi-value variable as the Prometheus data source interpolates it into a regex
/// matcher: every value regex-escaped, several values as `(a|b)`.
fn grafana_regex(values: &[String]) -> String {
    let escaped: Vec<String> = values
        .iter()
        .map(|v| {
            let mut out = String::new();
            for c in v.chars() {
                if "\\$^*{}[]'+?.()|".contains(c) {
                    // `\\` in the PromQL string literal is one `\` in the regex.
                    out.push_str("\\\\");
                }
                out.push(c);
            }
            out
        })
        .collect();
    match escaped.as_slice() {
        [one] => one.clone(),
        many => format!("({})", many.join("|")),
    }
}

/// The dashboard's circuit-breaker panel queries (verbatim from grafana_dashboard.json), with
/// `$instance` and `$circuitbreaker_name` substituted.
struct Panels {
    closed: String,
    open: String,
    half_open: String,
    states: String,
    failure_rate: String,
    call_rate: String,
    buffered: String,
    max_buffered: String,
    average_duration: String,
    average_duration_total: String,
}

impl Panels {
    fn new(instance: &str, name: &str) -> Panels {
        let sel = format!(r#"{{instance=~"{instance}",name=~"{name}"}}"#);
        Panels {
            closed: r#"sum(resilience4j_circuitbreaker_state{state="closed"})"#.into(),
            open: r#"sum(resilience4j_circuitbreaker_state{state=~"open|forced_open"})"#.into(),
            half_open: r#"sum(resilience4j_circuitbreaker_state{state="half_open"})"#.into(),
            states: format!(r#"resilience4j_circuitbreaker_state{{instance=~"{instance}"}}"#),
            failure_rate: format!("resilience4j_circuitbreaker_failure_rate{sel}"),
            call_rate: format!("rate(resilience4j_circuitbreaker_calls_seconds_count{sel}[1m])"),
            buffered: format!("resilience4j_circuitbreaker_buffered_calls{sel}"),
            max_buffered: format!("resilience4j_circuitbreaker_max_buffered_calls{sel}"),
            average_duration: format!(
                "increase(resilience4j_circuitbreaker_calls_seconds_sum{sel}[1m]) / \
                 increase(resilience4j_circuitbreaker_calls_seconds_count{sel}[1m])"
            ),
            average_duration_total: format!(
                "sum(increase(resilience4j_circuitbreaker_calls_seconds_sum{sel}[1m])) / \
                 sum(increase(resilience4j_circuitbreaker_calls_seconds_count{sel}[1m]))"
            ),
        }
    }
}

/// The label names Prometheus must keep on a series: the target's own plus `instance` and `job`
/// (and `__name__` unless a function such as `rate` dropped it).
fn expected_labels(own: &[&'static str], with_name: bool) -> BTreeSet<&'static str> {
    let mut names: BTreeSet<&str> = own.iter().copied().collect();
    names.extend(["application", "instance", "job"]);
    if with_name {
        names.insert("__name__");
    }
    names
}

/// Every sample carries exactly `labels`, the target's `instance`, `job` and `application`, and
/// one sample per combination of `name` (x `key` values when given); returns the samples by
/// (`name`, key value).
fn by_series<'s>(
    samples: &'s [Sample],
    labels: &BTreeSet<&str>,
    target: &str,
    key: Option<(&str, &[&str])>,
) -> Result<BTreeMap<(String, String), &'s Sample>, String> {
    let mut out = BTreeMap::new();
    for s in samples {
        if s.label_names() != *labels {
            return Err(format!("labels {:?}, expected {labels:?}", s.label_names()));
        }
        if s.label("instance") != target || s.label("job") != JOB {
            return Err(format!("instance/job {:?}", s.labels));
        }
        if s.label("application") != APPLICATION {
            return Err(format!("application {:?}", s.label("application")));
        }
        let k = key.map_or("", |(k, _)| s.label(k)).to_owned();
        if out.insert((s.label("name").to_owned(), k), s).is_some() {
            return Err(format!("duplicate series {:?}", s.labels));
        }
    }
    let want: BTreeSet<(String, String)> = BREAKERS
        .iter()
        .flat_map(|b| match key {
            Some((_, values)) => values
                .iter()
                .map(|v| (b.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
            None => vec![(b.to_string(), String::new())],
        })
        .collect();
    let got: BTreeSet<(String, String)> = out.keys().cloned().collect();
    if got != want {
        return Err(format!("series {got:?}, expected {want:?}"));
    }
    Ok(out)
}

/// A `sum(...)` panel: one sample without labels, equal to `want`.
fn single(samples: &[Sample], want: f64) -> Result<(), String> {
    match samples {
        [s] if s.labels.is_empty() && s.value == want => Ok(()),
        _ => Err(format!("expected one unlabeled sample = {want}")),
    }
}

/// The state panels: one series per breaker and state, `1` exactly for `open_breakers`' `open`
/// and everyone else's `closed`.
fn check_states(samples: &[Sample], target: &str, open_breakers: &[&str]) -> Result<(), String> {
    let labels = expected_labels(&["name", "state"], true);
    let series = by_series(samples, &labels, target, Some(("state", &STATES)))?;
    for ((name, state), s) in &series {
        let current = if open_breakers.contains(&name.as_str()) {
            "open"
        } else {
            "closed"
        };
        let want = if state == current { 1.0 } else { 0.0 };
        if s.value != want {
            return Err(format!("{name} {state} = {}, expected {want}", s.value));
        }
    }
    Ok(())
}

/// Checks every circuit-breaker panel. `open_breakers` are OPEN with failure rate 50 % and had
/// failed calls since the first scrape (positive failed-call rate and average duration); the
/// others are CLOSED below their minimum number of calls (failure rate -1). No other call was made
/// since the first scrape: every other call rate is 0 and every other average NaN.
async fn check_panels(
    prometheus: &Prometheus,
    panels: &Panels,
    target: &str,
    open_breakers: &[&str],
) {
    let open = open_breakers.len() as f64;
    let closed = BREAKERS.len() as f64 - open;
    // Gauges: the newest scrape must show the phase (earlier samples stay visible until then).
    prometheus
        .wait_for(&panels.states, |s| check_states(s, target, open_breakers))
        .await;
    single(&prometheus.query(&panels.closed).await, closed)
        .unwrap_or_else(|e| panic!("{}: {e}", panels.closed));
    single(&prometheus.query(&panels.open).await, open)
        .unwrap_or_else(|e| panic!("{}: {e}", panels.open));
    single(&prometheus.query(&panels.half_open).await, 0.0)
        .unwrap_or_else(|e| panic!("{}: {e}", panels.half_open));

    let samples = prometheus.query(&panels.failure_rate).await;
    let rates = by_series(&samples, &expected_labels(&["name"], true), target, None)
        .unwrap_or_else(|e| panic!("{}: {e}\n{samples:#?}", panels.failure_rate));
    for ((name, _), s) in rates {
        let want = if open_breakers.contains(&name.as_str()) {
            50.0
        } else {
            -1.0
        };
        assert_eq!(s.value, want, "{}: {name}", panels.failure_rate);
    }

    let samples = prometheus.query(&panels.buffered).await;
    let buffered = by_series(
        &samples,
        &expected_labels(&["kind", "name"], true),
        target,
        Some(("kind", &BUFFERED_KINDS)),
    )
    .unwrap_or_else(|e| panic!("{}: {e}\n{samples:#?}", panels.buffered));
    for ((name, kind), s) in buffered {
        assert!(
            s.value >= 0.0 && s.value.fract() == 0.0,
            "{}: {name} {kind} = {}",
            panels.buffered,
            s.value
        );
    }
    // A 1.x meter the dashboard still draws; Resilience4j 2.x (and fusebox) no longer emit it.
    let samples = prometheus.query(&panels.max_buffered).await;
    assert!(samples.is_empty(), "{}: {samples:#?}", panels.max_buffered);

    // Rates need two samples in the window: wait for the second scrape.
    let call_labels = expected_labels(&["kind", "name"], false);
    prometheus
        .wait_for(&panels.call_rate, |samples| {
            let rates = by_series(samples, &call_labels, target, Some(("kind", &CALL_KINDS)))?;
            for ((name, kind), s) in rates {
                let failing = kind == "failed" && open_breakers.contains(&name.as_str());
                let ok = if failing {
                    s.value > 0.0 && s.value.is_finite()
                } else {
                    s.value == 0.0
                };
                if !ok {
                    return Err(format!("call rate {name} {kind} = {}", s.value));
                }
            }
            Ok(())
        })
        .await;

    // increase(sum) / increase(count): NaN (no point drawn) where no call was made, the mean
    // duration where calls were.
    let samples = prometheus.query(&panels.average_duration).await;
    let averages = by_series(&samples, &call_labels, target, Some(("kind", &CALL_KINDS)))
        .unwrap_or_else(|e| panic!("{}: {e}\n{samples:#?}", panels.average_duration));
    for ((name, kind), s) in averages {
        if kind == "failed" && open_breakers.contains(&name.as_str()) {
            assert!(
                s.value > 0.0 && s.value < 10.0,
                "{}: {name} {kind} = {}s",
                panels.average_duration,
                s.value
            );
        } else {
            assert!(
                s.value.is_nan(),
                "{}: {name} {kind} = {}, expected NaN (no calls in the window)",
                panels.average_duration,
                s.value
            );
        }
    }
    let samples = prometheus.query(&panels.average_duration_total).await;
    match samples.as_slice() {
        [s] if s.labels.is_empty() => {
            if open_breakers.is_empty() {
                assert!(
                    s.value.is_nan(),
                    "{}: {}",
                    panels.average_duration_total,
                    s.value
                );
            } else {
                assert!(
                    s.value > 0.0 && s.value < 10.0,
                    "{}: {}s",
                    panels.average_duration_total,
                    s.value
                );
            }
        }
        _ => panic!("{}: {samples:#?}", panels.average_duration_total),
    }
}

// ---------------------------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_dashboard_queries_against_a_real_prometheus() {
    if install().await.is_none() {
        return;
    }
    tokio::time::timeout(TEST_TIMEOUT, scenario())
        .await
        .expect("the Prometheus scrape scenario took longer than its bound");
}

async fn scenario() {
    let began = Instant::now();
    let target = Target::new().await;
    let (addr, server) = serve(actuator_router(&target)).await;
    let prometheus = Prometheus::start(addr).await;
    let instance = addr.to_string();
    println!(
        "prometheus_scrape: Prometheus at {} ready after {:.1}s",
        prometheus.url,
        began.elapsed().as_secs_f64()
    );

    // 1. The first scrape succeeds and keeps every sample the endpoint served.
    prometheus.wait_for_first_scrape(&instance).await;
    println!(
        "prometheus_scrape: first successful scrape after {:.1}s",
        began.elapsed().as_secs_f64()
    );
    let served = reqwest::get(format!("http://{addr}/actuator/prometheus"))
        .await
        .expect("GET /actuator/prometheus")
        .text()
        .await
        .expect("the exposition");
    let served_samples = served
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    let scraped = prometheus
        .query(&format!(r#"scrape_samples_scraped{{job="{JOB}"}}"#))
        .await;
    assert!(
        matches!(scraped.as_slice(), [s] if s.value == served_samples as f64),
        "Prometheus kept {scraped:?} samples of the {served_samples} served"
    );

    // 2. The dashboard's variables, as Grafana resolves them.
    let instances = prometheus
        .label_values("resilience4j_circuitbreaker_state", "instance")
        .await;
    assert_eq!(instances, std::slice::from_ref(&instance), "$instance");
    let names = prometheus
        .label_values("resilience4j_circuitbreaker_state", "name")
        .await;
    assert_eq!(names, BREAKERS, "$circuitbreaker_name");
    let panels = Panels::new(&grafana_regex(&instances), &grafana_regex(&names));
    check_panels(&prometheus, &panels, &instance, &[]).await;
    println!(
        "prometheus_scrape: CLOSED panels checked after {:.1}s",
        began.elapsed().as_secs_f64()
    );

    // 3. `orders` trips.
    target.trip_orders().await;
    check_panels(&prometheus, &panels, &instance, &["orders"]).await;
    println!(
        "prometheus_scrape: OPEN panels checked after {:.1}s",
        began.elapsed().as_secs_f64()
    );

    drop(prometheus);
    server.abort();
}
