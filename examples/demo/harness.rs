//! Runs the course's two services as processes and drives the demo's scenario against them.
//!
//! Shared by the demo (`cargo run --example demo`) and its test (`tests/demo_e2e.rs`, which
//! includes this file with `#[path]`), so the test checks exactly what the demo shows.

// Each of the two users needs only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// The repository root (the `fusebox` package).
pub(crate) const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// How long a service may take to print its `LISTENING` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a service may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The directory holding the example binaries: the running example's own directory, or
/// `<profile>/examples` when running from a test binary in `<profile>/deps`.
pub(crate) fn examples_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let dir = exe.parent().ok_or("the executable has no directory")?;
    Ok(match dir.file_name().and_then(|n| n.to_str()) {
        Some("deps") => dir.with_file_name("examples"),
        _ => dir.to_path_buf(),
    })
}

/// Builds `user-service` and `order-service` with the running binary's profile and target
/// directory (a no-op when they are fresh); returns the directory holding them.
pub(crate) async fn build_services() -> Result<PathBuf, String> {
    let examples = examples_dir()?;
    let profile_dir = examples.parent().ok_or("no profile directory")?;
    let target_dir = profile_dir.parent().ok_or("no target directory")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(REPO)
        .args([
            "build",
            "--quiet",
            "--example",
            "user-service",
            "--example",
            "order-service",
        ])
        .args(["--profile", profile])
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| format!("running cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of the services failed ({status})"));
    }
    Ok(examples)
}

/// One service running as a child process, its output collected line by line.
#[derive(Debug)]
pub(crate) struct ServiceProcess {
    /// `user-service` or `order-service`.
    pub(crate) name: &'static str,
    /// `http://127.0.0.1:<port>`, from its `LISTENING` line.
    pub(crate) url: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl ServiceProcess {
    /// Starts `<bin_dir>/<name>` on a free loopback port with `env`, copying its output to
    /// `log_file`, and waits for its `LISTENING` line.
    pub(crate) async fn start(
        name: &'static str,
        bin_dir: &Path,
        env: &[(&str, String)],
        log_file: &Path,
    ) -> Result<Self, String> {
        let exe = bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut child = Command::new(&exe)
            .current_dir(REPO)
            // Each service names itself; a name inherited from the caller would override both.
            .env_remove("OTEL_SERVICE_NAME")
            .env("PORT", "0")
            .env("NO_COLOR", "1")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", exe.display()))?;

        let file = std::fs::File::create(log_file)
            .map_err(|e| format!("creating {}: {e}", log_file.display()))?;
        let file = Arc::new(Mutex::new(file));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (url_tx, url_rx) = tokio::sync::oneshot::channel();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect(out, lines.clone(), file.clone(), Some(url_tx)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, lines.clone(), file, None));
        }

        let url = match tokio::time::timeout(START_TIMEOUT, url_rx).await {
            Ok(Ok(url)) => url,
            _ => {
                let _ = child.kill().await;
                let tail = tail(&lines, 15);
                return Err(format!(
                    "{name} did not start (log {}):\n{tail}",
                    log_file.display()
                ));
            }
        };
        Ok(Self {
            name,
            url,
            child,
            lines,
            readers,
        })
    }

    /// Every line the service printed so far (stdout and stderr).
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops the service gracefully (SIGTERM, so it flushes its spans), killing it after
    /// [`STOP_TIMEOUT`]; then collects the rest of its output.
    pub(crate) async fn stop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
    }
}

/// Copies `stream` line by line into `lines` and `file`; the first `LISTENING <url>` line goes
/// to `url`.
fn collect(
    stream: impl AsyncRead + Unpin + Send + 'static,
    lines: Arc<Mutex<Vec<String>>>,
    file: Arc<Mutex<std::fs::File>>,
    mut url: Option<tokio::sync::oneshot::Sender<String>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if let Some(found) = line.strip_prefix("LISTENING ")
                && let Some(tx) = url.take()
            {
                let _ = tx.send(found.trim().to_owned());
            }
            {
                use std::io::Write;
                let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                let _ = writeln!(file, "{line}");
            }
            lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    })
}

fn tail(lines: &Mutex<Vec<String>>, n: usize) -> String {
    let lines = lines.lock().unwrap_or_else(|e| e.into_inner());
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// What order-service does with order requests (its `POST /admin/fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer normally.
    Ok,
    /// Answer 500.
    Fail,
    /// Answer after this long.
    Delay(Duration),
}

/// One answer of `GET /users/{id}`.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// HTTP status.
    pub(crate) status: u16,
    /// Body size in bytes.
    pub(crate) bytes: usize,
    /// Length of the `orders` array, if the body has one.
    pub(crate) orders: Option<usize>,
    /// From the `traceresponse` header.
    pub(crate) trace_id: Option<String>,
    /// Round trip as the driver saw it.
    pub(crate) elapsed: Duration,
}

/// Talks to the two services: the public endpoint and their admin endpoints.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// Base URL of user-service.
    pub(crate) user_service: String,
    /// Base URL of order-service.
    pub(crate) order_service: String,
}

impl Client {
    /// A client for the two services at these base URLs.
    pub(crate) fn new(user_service: &str, order_service: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("an HTTP client without TLS always builds");
        Self {
            http,
            user_service: user_service.to_owned(),
            order_service: order_service.to_owned(),
        }
    }

    /// `GET /users/{id}` on user-service.
    pub(crate) async fn get_user(&self, id: &str) -> Result<Reply, String> {
        let started = Instant::now();
        let url = format!("{}/users/{id}", self.user_service);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let trace_id = response
            .headers()
            .get("traceresponse")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split('-').nth(1))
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let orders = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("orders").and_then(Value::as_array).map(Vec::len));
        Ok(Reply {
            status,
            bytes: body.len(),
            orders,
            trace_id,
            elapsed: started.elapsed(),
        })
    }

    /// Changes order-service's fault mode.
    pub(crate) async fn set_fault(&self, fault: Fault) -> Result<(), String> {
        let body = match fault {
            Fault::Ok => serde_json::json!({ "mode": "ok" }),
            Fault::Fail => serde_json::json!({ "mode": "fail" }),
            Fault::Delay(d) => {
                serde_json::json!({ "mode": "delay", "delay_ms": d.as_millis() as u64 })
            }
        };
        let url = format!("{}/admin/fault", self.order_service);
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("POST {url}: {}", response.status()));
        }
        Ok(())
    }

    /// How many order requests order-service has received.
    pub(crate) async fn orders_requests(&self) -> Result<u64, String> {
        let stats = self
            .json(&format!("{}/admin/stats", self.order_service))
            .await?;
        stats["orders_requests"]
            .as_u64()
            .ok_or_else(|| format!("bad stats: {stats}"))
    }

    /// The state of user-service's breaker `orders` and its transitions so far.
    pub(crate) async fn breaker(&self) -> Result<(String, Vec<(String, String)>), String> {
        let list = self
            .json(&format!("{}/admin/breakers", self.user_service))
            .await?;
        let orders = list
            .as_array()
            .and_then(|l| l.iter().find(|b| b["name"] == "orders"))
            .ok_or_else(|| format!("no breaker `orders` in {list}"))?;
        let state = orders["state"].as_str().unwrap_or("?").to_owned();
        let transitions = orders["transitions"]
            .as_array()
            .map(|t| {
                t.iter()
                    .map(|t| {
                        let s = |k: &str| t[k].as_str().unwrap_or("?").to_owned();
                        (s("from"), s("to"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((state, transitions))
    }

    /// `GET {user-service}{path}` for an actuator JSON body, as `curl` would fetch it.
    pub(crate) async fn actuator(&self, path: &str) -> Result<Value, String> {
        self.json(&format!("{}{path}", self.user_service)).await
    }

    /// `GET {user-service}/actuator/prometheus`: the Prometheus text exposition.
    pub(crate) async fn prometheus(&self) -> Result<String, String> {
        let url = format!("{}/actuator/prometheus", self.user_service);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()));
        }
        response.text().await.map_err(|e| format!("GET {url}: {e}"))
    }

    /// What an operator sees of the breaker `orders` now: its `/actuator/circuitbreakers` entry
    /// and its `not_permitted` series in `/actuator/prometheus`. The series is fed by the
    /// breaker's events, a moment behind the entry: this polls (at most 2 s) until the two
    /// counts agree.
    pub(crate) async fn operator_view(&self) -> Result<OperatorView, String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let all = self.actuator("/actuator/circuitbreakers").await?;
            let entry = all["circuitBreakers"]["orders"].clone();
            let entry_count = entry["notPermittedCalls"]
                .as_u64()
                .ok_or_else(|| format!("no `orders` with notPermittedCalls in {all}"))?;
            let text = self.prometheus().await?;
            let line = text
                .lines()
                .find(|l| {
                    l.starts_with("resilience4j_circuitbreaker_not_permitted_calls_total{")
                        && l.contains("name=\"orders\"")
                })
                .ok_or("no not_permitted series of `orders` in /actuator/prometheus")?
                .to_owned();
            let count: f64 = line
                .rsplit(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("no value in {line}"))?;
            if count == entry_count as f64 || Instant::now() > deadline {
                return Ok(OperatorView {
                    entry,
                    not_permitted_series: line,
                    not_permitted: count,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn json(&self, url: &str) -> Result<Value, String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        response.json().await.map_err(|e| format!("GET {url}: {e}"))
    }
}

/// The breaker settings the scenario is timed by, read from the same config file as
/// user-service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Failure rate (percent) at which the breaker opens.
    pub(crate) failure_rate: f32,
    /// Size of the sliding window.
    pub(crate) window: u32,
    /// How long the breaker stays OPEN.
    pub(crate) wait: Duration,
    /// The time limit of one call.
    pub(crate) timeout: Duration,
    /// How many trial calls HALF_OPEN lets through before deciding.
    pub(crate) half_open_calls: u32,
}

impl Settings {
    /// Reads the breaker `orders` from a fusebox TOML or Spring YAML file.
    pub(crate) fn from_config(path: &Path) -> Result<Self, String> {
        let registry =
            fusebox::Registry::from_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let config = registry.circuit_breaker("orders").config().clone();
        Ok(Self {
            failure_rate: config.failure_rate_threshold(),
            window: config.sliding_window_size(),
            wait: config.wait_interval().wait(1),
            timeout: config
                .timeout()
                .ok_or("the breaker `orders` has no timeout")?,
            half_open_calls: config.permitted_number_of_calls_in_half_open_state(),
        })
    }
}

/// The actuator endpoints of user-service at `user_url`, as the demo prints them: one line each,
/// the URL first.
pub(crate) fn endpoint_lines(user_url: &str) -> Vec<String> {
    [
        (
            "/actuator/circuitbreakers",
            "every breaker's state and figures (JSON)",
        ),
        (
            "/actuator/circuitbreakerevents",
            "the last 100 events per breaker",
        ),
        (
            "/actuator/retries",
            "the retries' names (events: /actuator/retryevents)",
        ),
        (
            "/actuator/timelimiters",
            "the time limiters' names (events: /actuator/timelimiterevents)",
        ),
        (
            "/actuator/ratelimiters",
            "the rate limiters' names (events: /actuator/ratelimiterevents)",
        ),
        (
            "/actuator/bulkheads",
            "the bulkheads' names (events: /actuator/bulkheadevents)",
        ),
        ("/actuator/health", "the circuitBreakers health component"),
        (
            "/actuator/prometheus",
            "Resilience4j's metrics (scripts/demo-prometheus.sh scrapes them)",
        ),
    ]
    .iter()
    .map(|(path, what)| format!("{user_url}{path}  {what}"))
    .collect()
}

/// The demo's summary, one line each: the breaker's path, the answers, what order-service
/// received while the breaker was open, and what an operator saw over HTTP meanwhile.
pub(crate) fn summary(outcome: &Outcome) -> Vec<String> {
    let mut path = vec![
        outcome
            .transitions
            .first()
            .map_or("CLOSED", |(from, _)| from.as_str()),
    ];
    path.extend(outcome.transitions.iter().map(|(_, to)| to.as_str()));
    let (before, after) = outcome.received_while_open;
    let answered = outcome
        .requests
        .iter()
        .filter(|r| r.reply.status == 200)
        .count();
    let mut lines = vec![
        format!("breaker `orders`: {}", path.join(" → ")),
        format!(
            "{answered} of {} requests answered 200 (with `orders: []` whenever the fallback \
             answered)",
            outcome.requests.len()
        ),
        format!(
            "order-service received {} requests while the breaker was open",
            after - before
        ),
    ];
    if let Some(view) = &outcome.while_open {
        lines.push("while open, `curl <user-service>/actuator/circuitbreakers` answered:".into());
        lines.push(format!("  \"orders\": {}", view.entry));
        lines.push(
            "and `curl <user-service>/actuator/prometheus` counted the calls not permitted:".into(),
        );
        lines.push(format!("  {}", view.not_permitted_series));
    }
    lines
}

/// The phases of the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// order-service answers; the breaker is CLOSED.
    Healthy,
    /// order-service answers 500: the fallback answers and the breaker opens.
    Failing,
    /// The breaker is OPEN: calls are short-circuited, none reaches order-service.
    Open,
    /// After the wait, HALF_OPEN lets trial calls through; order-service hangs, they time out.
    Hanging,
    /// order-service is back: the trial calls succeed and the breaker closes.
    Recovered,
}

impl Phase {
    /// A one-line headline.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Phase::Healthy => "healthy: order-service answers",
            Phase::Failing => "failing: order-service answers 500",
            Phase::Open => "open: the breaker short-circuits calls",
            Phase::Hanging => "half-open: trial calls, but order-service hangs",
            Phase::Recovered => "recovered: order-service answers again",
        }
    }
}

/// One request of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The phase it belongs to.
    pub(crate) phase: Phase,
    /// The user asked for.
    pub(crate) user: String,
    /// The answer.
    pub(crate) reply: Reply,
    /// When it completed, since the scenario began.
    pub(crate) at: Duration,
    /// The breaker's state once it completed.
    pub(crate) state: String,
    /// How many order requests order-service had received once it completed.
    pub(crate) received: u64,
}

/// What the scenario reports as it goes.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// A phase begins; the text says what the driver changed.
    Phase(Phase, String),
    /// A request completed.
    Request(&'a Request),
    /// The breaker changed state (seen after the request just reported).
    Transition(&'a str, &'a str),
    /// Anything else worth a line.
    Note(String),
}

/// The breaker `orders` as an operator sees it over HTTP (see [`Client::operator_view`]).
#[derive(Debug, Clone)]
pub(crate) struct OperatorView {
    /// Its entry in `GET /actuator/circuitbreakers` (`circuitBreakers.orders`).
    pub(crate) entry: Value,
    /// Its `resilience4j_circuitbreaker_not_permitted_calls_total` line.
    pub(crate) not_permitted_series: String,
    /// That line's value.
    pub(crate) not_permitted: f64,
}

/// Everything the scenario saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// Every request, in completion order.
    pub(crate) requests: Vec<Request>,
    /// The breaker's transitions `(from, to)`, in order.
    pub(crate) transitions: Vec<(String, String)>,
    /// order-service's request count before and after the OPEN phase.
    pub(crate) received_while_open: (u64, u64),
    /// The breaker `orders` over user-service's actuator endpoints at the end of the OPEN phase.
    pub(crate) while_open: Option<OperatorView>,
}

impl Outcome {
    /// The requests of one phase.
    pub(crate) fn phase(&self, phase: Phase) -> impl Iterator<Item = &Request> {
        self.requests.iter().filter(move |r| r.phase == phase)
    }
}

/// Drives healthy → failing → open → half-open (hanging) → recovered, calling `report` as it
/// goes. Takes about `2 × wait + timeout` plus a few hundred milliseconds.
pub(crate) async fn run_scenario(
    client: &Client,
    settings: &Settings,
    mut report: impl FnMut(Event<'_>),
) -> Result<Outcome, String> {
    let mut run = Run {
        client,
        began: Instant::now(),
        outcome: Outcome::default(),
    };
    let probes = settings.half_open_calls.max(1) as usize;
    let wait = settings.wait + Duration::from_millis(150);

    client.set_fault(Fault::Ok).await?;
    report(Event::Phase(
        Phase::Healthy,
        "3 users, order-service healthy".into(),
    ));
    for user in ["u1", "u2", "u3"] {
        run.get(Phase::Healthy, user, &mut report).await?;
    }

    client.set_fault(Fault::Fail).await?;
    report(Event::Phase(
        Phase::Failing,
        "POST order-service /admin/fault {\"mode\":\"fail\"}".into(),
    ));
    run.get(Phase::Failing, "u4", &mut report).await?;

    let before = client.orders_requests().await?;
    report(Event::Phase(
        Phase::Open,
        format!("order-service has received {before} order requests so far"),
    ));
    for user in ["u5", "u6", "u7"] {
        run.get(Phase::Open, user, &mut report).await?;
    }
    let after = client.orders_requests().await?;
    run.outcome.received_while_open = (before, after);
    report(Event::Note(format!(
        "order-service received {} requests while the breaker was open",
        after - before
    )));
    let view = client.operator_view().await?;
    report(Event::Note(format!(
        "GET /actuator/circuitbreakers: `orders` {}, notPermittedCalls {}",
        view.entry["state"].as_str().unwrap_or("?"),
        view.entry["notPermittedCalls"]
    )));
    run.outcome.while_open = Some(view);

    let hang = settings.timeout + Duration::from_secs(1);
    client.set_fault(Fault::Delay(hang)).await?;
    report(Event::Phase(
        Phase::Hanging,
        format!(
            "order-service now answers after {} ms; waiting {} ms (the breaker's open wait), \
             then {probes} users at once (HALF_OPEN lets {probes} trial calls through)",
            hang.as_millis(),
            wait.as_millis()
        ),
    ));
    tokio::time::sleep(wait).await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..probes {
        let client = client.clone();
        let user = format!("h{}", i + 1);
        calls.spawn(async move { (client.get_user(&user).await, user) });
    }
    while let Some(done) = calls.join_next().await {
        let (reply, user) = done.map_err(|e| format!("a request task failed: {e}"))?;
        run.record(Phase::Hanging, user, reply?, &mut report)
            .await?;
    }

    client.set_fault(Fault::Ok).await?;
    report(Event::Phase(
        Phase::Recovered,
        format!(
            "order-service healthy again; waiting {} ms, then {probes} trial calls and one more",
            wait.as_millis()
        ),
    ));
    tokio::time::sleep(wait).await;
    for i in 0..=probes {
        run.get(Phase::Recovered, &format!("r{}", i + 1), &mut report)
            .await?;
    }
    Ok(run.outcome)
}

/// The state of a scenario run.
struct Run<'c> {
    client: &'c Client,
    began: Instant,
    outcome: Outcome,
}

impl Run<'_> {
    async fn get(
        &mut self,
        phase: Phase,
        user: &str,
        report: &mut impl FnMut(Event<'_>),
    ) -> Result<(), String> {
        let reply = self.client.get_user(user).await?;
        self.record(phase, user.to_owned(), reply, report).await
    }

    async fn record(
        &mut self,
        phase: Phase,
        user: String,
        reply: Reply,
        report: &mut impl FnMut(Event<'_>),
    ) -> Result<(), String> {
        let (state, transitions) = self.client.breaker().await?;
        let received = self.client.orders_requests().await?;
        let request = Request {
            phase,
            user,
            reply,
            at: self.began.elapsed(),
            state,
            received,
        };
        report(Event::Request(&request));
        for (from, to) in transitions.iter().skip(self.outcome.transitions.len()) {
            report(Event::Transition(from, to));
        }
        self.outcome.transitions = transitions;
        self.outcome.requests.push(request);
        Ok(())
    }
}
