//! The course's story in one command:
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! Starts Zipkin (`scripts/zipkin.sh start`, when Java 17+ and Maven are there; or uses the one
//! named by `OTEL_EXPORTER_ZIPKIN_ENDPOINT` / `ZIPKIN_URL`), builds and starts `order-service` and
//! `user-service` as two processes on free loopback ports, and drives traffic through the
//! phases healthy → failing (order-service answers 500: fallback, breaker opens) → open (calls
//! short-circuited, none reaches order-service) → half-open with order-service hanging (trial
//! calls time out at 4 s, the breaker re-opens) → recovered (trial calls succeed, the breaker
//! closes). It prints every request, every breaker transition and the trace ids, then one trace
//! per phase as a waterfall, Zipkin links to an ok and a failed trace, and the log lines of the
//! failed trace from both services. It stops everything it started, also on Ctrl-C or errors.
//!
//! Without Zipkin, the services write their spans to JSON files in Zipkin's format
//! (`target/fusebox-demo/`), loadable in Zipkin's UI (`/zipkin/traceViewer`, "Upload JSON").
//!
//! Options: `--no-zipkin` (files even when Java is there), `--keep-zipkin` (leave the Zipkin
//! it started running), `--all-traces` (a waterfall for every request). `FUSEBOX_CONFIG` picks
//! the breaker config (default `examples/config/fusebox.toml`; `application.yml` works too).

mod harness;
mod waterfall;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use harness::{Client, Event, Outcome, Phase, Request, ServiceProcess, Settings};
use serde_json::Value;

/// Command-line options.
#[derive(Debug, Default)]
struct Options {
    no_zipkin: bool,
    keep_zipkin: bool,
    all_traces: bool,
}

impl Options {
    fn parse() -> Result<Self, String> {
        let mut options = Options::default();
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "--no-zipkin" => options.no_zipkin = true,
                "--keep-zipkin" => options.keep_zipkin = true,
                "--all-traces" => options.all_traces = true,
                "-h" | "--help" => {
                    println!(
                        "usage: cargo run --example demo [-- --no-zipkin | --keep-zipkin | --all-traces]"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown option {other} (try --help)")),
            }
        }
        Ok(options)
    }
}

/// Where the spans go.
enum Sink {
    /// A Zipkin server; `started` when this demo started it.
    Zipkin { base: String, started: bool },
    /// One JSON file per service in this directory.
    Files(PathBuf),
}

/// Stops the Zipkin that `scripts/zipkin.sh start` runs from `state_dir`, if any, when dropped:
/// on success, on errors and on Ctrl-C, also when Ctrl-C comes while Zipkin is starting.
struct ZipkinGuard {
    state_dir: PathBuf,
}

impl Drop for ZipkinGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(Path::new(harness::REPO).join("scripts/zipkin.sh"))
            .arg("stop")
            .env("ZIPKIN_STATE_DIR", &self.state_dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Options::parse() {
        Ok(options) => run(options).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let began = Instant::now();
    let examples = harness::examples_dir()?;
    let out_dir = examples
        .parent()
        .and_then(Path::parent)
        .ok_or("no target directory")?
        .join("fusebox-demo");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let config = std::env::var("FUSEBOX_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(harness::REPO).join("examples/config/fusebox.toml"));
    // The services run from the repository root: hand them an absolute path.
    let config =
        std::fs::canonicalize(&config).map_err(|e| format!("{}: {e}", config.display()))?;
    let settings = Settings::from_config(&config)?;

    println!("fusebox demo: user-service → order-service through the circuit breaker `orders`\n");
    println!(
        "  config    {}: open after ≥ {}% failures of the last {} calls, stay open {} ms, \
         time limit {} ms, {} trial calls when half-open",
        show(&config),
        settings.failure_rate,
        settings.window,
        settings.wait.as_millis(),
        settings.timeout.as_millis(),
        settings.half_open_calls
    );

    let zipkin = ZipkinGuard {
        state_dir: out_dir.join("zipkin"),
    };
    let result = tokio::select! {
        result = async {
            // Zipkin starts (10-20 s) while the services build.
            let (sink, built) = tokio::join!(choose_sink(&options, &zipkin.state_dir, &out_dir), build());
            story(&options, &settings, &config, &sink, &out_dir, &built?).await?;
            Ok(sink)
        } => result,
        _ = tokio::signal::ctrl_c() => Err("interrupted; stopping everything".to_owned()),
    };

    if let Ok(Sink::Zipkin {
        base,
        started: true,
    }) = &result
    {
        if options.keep_zipkin {
            println!(
                "\nZipkin keeps running at {base}/zipkin/ ; stop it with:\n  \
                 ZIPKIN_STATE_DIR={} scripts/zipkin.sh stop",
                show(&zipkin.state_dir)
            );
            std::mem::forget(zipkin);
        } else {
            if std::io::stdin().is_terminal() {
                println!(
                    "\nZipkin keeps running for the links above: press Enter (or Ctrl-C) to stop it."
                );
                let enter = tokio::task::spawn_blocking(|| {
                    let mut line = String::new();
                    let _ = std::io::stdin().read_line(&mut line);
                });
                tokio::select! {
                    _ = enter => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            println!("stopping Zipkin");
            drop(zipkin);
        }
    } else {
        drop(zipkin);
    }
    result.map(|_| println!("done in {:.1} s", began.elapsed().as_secs_f64()))
}

/// Builds the services, timing it.
async fn build() -> Result<PathBuf, String> {
    let began = Instant::now();
    let bin_dir = harness::build_services().await?;
    println!(
        "  built     cargo build --example user-service --example order-service ({:.1} s)",
        began.elapsed().as_secs_f64()
    );
    Ok(bin_dir)
}

/// Picks Zipkin (given, or started now from `state_dir`) or files.
async fn choose_sink(options: &Options, state_dir: &Path, out_dir: &Path) -> Sink {
    if options.no_zipkin {
        println!("  traces    JSON files in {} (--no-zipkin)", show(out_dir));
        return Sink::Files(out_dir.to_path_buf());
    }
    let given = std::env::var("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
        .ok()
        .map(|e| e.trim().trim_end_matches("/api/v2/spans").to_owned())
        .or_else(|| std::env::var("ZIPKIN_URL").ok())
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty());
    if let Some(base) = given {
        println!("  traces    Zipkin {base} (from the environment)");
        return Sink::Zipkin {
            base,
            started: false,
        };
    }
    println!(
        "  traces    starting Zipkin with scripts/zipkin.sh (10-20 s; the first run fetches it with Maven)…"
    );
    let output = tokio::process::Command::new("bash")
        .arg(Path::new(harness::REPO).join("scripts/zipkin.sh"))
        .arg("start")
        .env("ZIPKIN_STATE_DIR", state_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await;
    let files = |why: String| {
        println!("  traces    no Zipkin ({why}):");
        println!(
            "            spans go to JSON files in {} instead",
            show(out_dir)
        );
        Sink::Files(out_dir.to_path_buf())
    };
    match output {
        Ok(out) if out.status.success() => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            match stdout.lines().find_map(|l| l.strip_prefix("ZIPKIN_URL=")) {
                Some(base) => {
                    println!("  traces    Zipkin {base} (started by scripts/zipkin.sh)");
                    Sink::Zipkin {
                        base: base.trim().to_owned(),
                        started: true,
                    }
                }
                None => files("scripts/zipkin.sh printed no ZIPKIN_URL".into()),
            }
        }
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = stderr
                .lines()
                .last()
                .unwrap_or("scripts/zipkin.sh failed")
                .split(" (tests that need Zipkin")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            files(why)
        }
        Err(e) => files(format!("cannot run bash: {e}")),
    }
}

/// Builds and starts the services, drives the scenario, stops the services, shows the traces.
async fn story(
    options: &Options,
    settings: &Settings,
    config: &Path,
    sink: &Sink,
    out_dir: &Path,
    bin_dir: &Path,
) -> Result<(), String> {
    let mut env: Vec<(&str, String)> = vec![
        ("RUST_LOG", "info".into()),
        ("FUSEBOX_CONFIG", config.display().to_string()),
        // Export spans every 200 ms instead of every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "200".into()),
    ];
    let files = |service: &str| out_dir.join(format!("{service}.spans.json"));
    match sink {
        Sink::Zipkin { base, .. } => {
            env.push(("OTEL_TRACES_EXPORTER", "zipkin".into()));
            env.push((
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                format!("{base}/api/v2/spans"),
            ));
        }
        Sink::Files(_) => env.push(("OTEL_TRACES_EXPORTER", "file".into())),
    }
    let with = |service: &str| {
        let mut env = env.clone();
        env.push(("FUSEBOX_TRACES_FILE", files(service).display().to_string()));
        env
    };
    let log = |service: &str| out_dir.join(format!("{service}.log"));

    let mut order = ServiceProcess::start(
        "order-service",
        bin_dir,
        &with("order-service"),
        &log("order-service"),
    )
    .await?;
    let mut user_env = with("user-service");
    user_env.push(("ORDER_SERVICE_URL", order.url.clone()));
    let mut user =
        match ServiceProcess::start("user-service", bin_dir, &user_env, &log("user-service")).await
        {
            Ok(user) => user,
            Err(e) => {
                order.stop().await;
                return Err(e);
            }
        };
    println!(
        "  services  order-service {}   user-service {}",
        order.url, user.url
    );
    println!(
        "  logs      {}  {}",
        show(&log("user-service")),
        show(&log("order-service"))
    );
    for (i, line) in harness::endpoint_lines(&user.url).iter().enumerate() {
        let label = if i == 0 { "actuator" } else { "" };
        println!("  {label:<9} {line}");
    }

    let client = Client::new(&user.url, &order.url);
    let outcome = harness::run_scenario(&client, settings, print_event).await;
    println!("\nstopping the services (SIGTERM: they flush their spans and exit)");
    user.stop().await;
    order.stop().await;
    let outcome = outcome?;

    summary(&outcome);
    show_traces(options, sink, &outcome, out_dir).await?;
    show_logs(&outcome, &[&user, &order]);
    Ok(())
}

/// Prints one scenario event as a timeline line.
fn print_event(event: Event<'_>) {
    match event {
        Event::Phase(phase, what) => {
            let n = [
                Phase::Healthy,
                Phase::Failing,
                Phase::Open,
                Phase::Hanging,
                Phase::Recovered,
            ]
            .iter()
            .position(|p| *p == phase)
            .map_or(0, |i| i + 1);
            println!("\n[{n}] {}\n    {what}", phase.title());
            if phase == Phase::Healthy {
                println!(
                    "    {:>6}  {:<16} {:>6} {:>7} {:>6} {:>8}  {:<9} {:>9}  trace id",
                    "time", "request", "status", "body", "orders", "took", "breaker", "received"
                );
                println!(
                    "    (breaker: its state after the request; received: order requests order-service got so far)"
                );
            }
        }
        Event::Request(r) => print_request(r),
        Event::Transition(from, to) => println!("    ⚡ breaker `orders`: {from} → {to}"),
        Event::Note(note) => println!("    {note}"),
    }
}

fn print_request(r: &Request) {
    let reply = &r.reply;
    println!(
        "    {:>5.2}s  {:<16} {:>6} {:>5} B {:>6} {:>5} ms  {:<9} {:>9}  {}",
        r.at.as_secs_f64(),
        format!("GET /users/{}", r.user),
        reply.status,
        reply.bytes,
        reply.orders.map_or("-".to_owned(), |n| n.to_string()),
        reply.elapsed.as_millis(),
        r.state,
        r.received,
        reply.trace_id.as_deref().unwrap_or("-"),
    );
}

fn summary(outcome: &Outcome) {
    println!("\nsummary");
    for line in harness::summary(outcome) {
        println!("  {line}");
    }
}

/// Prints one waterfall per phase (or per request) and the links / files to open.
async fn show_traces(
    options: &Options,
    sink: &Sink,
    outcome: &Outcome,
    out_dir: &Path,
) -> Result<(), String> {
    let mut picked: Vec<&Request> = Vec::new();
    for r in &outcome.requests {
        if options.all_traces || !picked.iter().any(|p| p.phase == r.phase) {
            picked.push(r);
        }
    }
    let ok = outcome.requests.iter().find(|r| r.phase == Phase::Healthy);
    let failed = outcome.requests.iter().find(|r| r.phase == Phase::Failing);

    let all_spans = match sink {
        Sink::Files(dir) => {
            let mut spans = Vec::new();
            for service in ["user-service", "order-service"] {
                let path = dir.join(format!("{service}.spans.json"));
                spans.extend(
                    fusebox::telemetry::file::read_spans(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                );
            }
            Some(spans)
        }
        Sink::Zipkin { .. } => None,
    };

    println!(
        "\ntraces ({}; every request is one trace)",
        if options.all_traces {
            "all"
        } else {
            "the first of each phase"
        }
    );
    for r in picked {
        let Some(id) = r.reply.trace_id.as_deref() else {
            continue;
        };
        let spans = match (&all_spans, sink) {
            (Some(all), _) => of_trace(all, id),
            (None, Sink::Zipkin { base, .. }) => zipkin_trace(base, id).await,
            (None, Sink::Files(_)) => Vec::new(),
        };
        println!(
            "\n  {} — GET /users/{} → {}, {} orders — trace {id}",
            r.phase.title(),
            r.user,
            r.reply.status,
            r.reply.orders.unwrap_or(0)
        );
        if spans.is_empty() {
            println!("    (no spans found for this trace)");
        } else {
            print!("{}", waterfall::render(&spans, "    "));
        }
    }

    match sink {
        Sink::Zipkin { base, .. } => {
            println!("\nZipkin UI");
            if let Some(r) = ok.and_then(|r| r.reply.trace_id.as_deref()) {
                println!("  ok trace       {base}/zipkin/traces/{r}");
            }
            if let Some(r) = failed.and_then(|r| r.reply.trace_id.as_deref()) {
                println!("  failed trace   {base}/zipkin/traces/{r}");
            }
            println!("  dependencies   {base}/zipkin/dependency");
        }
        Sink::Files(_) => {
            let all = all_spans.unwrap_or_default();
            let write = |name: &str, spans: &[Value]| -> Result<PathBuf, String> {
                let path = out_dir.join(name);
                let json = serde_json::to_vec_pretty(spans).map_err(|e| e.to_string())?;
                std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(path)
            };
            println!(
                "\nspans in Zipkin's JSON format (Zipkin UI → \"Upload JSON\", /zipkin/traceViewer):"
            );
            println!("  all traces     {}", show(&write("traces.json", &all)?));
            for (label, r) in [("ok trace", ok), ("failed trace", failed)] {
                if let Some(id) = r.and_then(|r| r.reply.trace_id.as_deref()) {
                    let file = format!("trace-{}.json", label.split(' ').next().unwrap_or("x"));
                    println!(
                        "  {label:<14} {}",
                        show(&write(&file, &of_trace(&all, id))?)
                    );
                }
            }
        }
    }
    Ok(())
}

fn of_trace(spans: &[Value], trace_id: &str) -> Vec<Value> {
    spans
        .iter()
        .filter(|s| s["traceId"] == trace_id)
        .cloned()
        .collect()
}

/// The spans of one trace from Zipkin's API, polling until they are stored (bounded).
async fn zipkin_trace(base: &str, trace_id: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let url = format!("{base}/api/v2/trace/{trace_id}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = Vec::new();
    while Instant::now() < deadline {
        if let Ok(response) = http.get(&url).timeout(Duration::from_secs(2)).send().await
            && response.status().is_success()
            && let Ok(spans) = response.json::<Vec<Value>>().await
        {
            // The services flushed on exit, but Zipkin stores after answering 202: wait until
            // the count settles.
            if !spans.is_empty() && spans.len() == last.len() {
                return spans;
            }
            last = spans;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    last
}

/// The log lines of the failed trace, from both services: the same trace id in each.
fn show_logs(outcome: &Outcome, services: &[&ServiceProcess]) {
    let Some(id) = outcome
        .requests
        .iter()
        .find(|r| r.phase == Phase::Failing)
        .and_then(|r| r.reply.trace_id.as_deref())
    else {
        return;
    };
    println!(
        "\nlog lines of the failed trace {id} (Sleuth's [service,traceId,spanId]; \
         span fields cut here, see the log files):"
    );
    for service in services {
        for line in service.lines().iter().filter(|l| l.contains(id)) {
            println!("  {}", compact(line));
        }
    }
}

/// `[svc,trace,span] 2026-…Z  WARN span{…}:span{…}: target: message k=v` →
/// `[svc,trace,span]  WARN target: message k=v`.
fn compact(line: &str) -> String {
    let Some((prefix, rest)) = line.split_once("] ") else {
        return line.to_owned();
    };
    let Some(level_at) = ["ERROR", " WARN", " INFO", "DEBUG", "TRACE"]
        .iter()
        .find_map(|level| rest.find(&format!(" {level} ")))
    else {
        return line.to_owned();
    };
    let level = &rest[level_at + 1..level_at + 6];
    let message = rest
        .rsplit_once("}: ")
        .map_or(&rest[level_at + 7..], |(_, m)| m);
    format!("{prefix}] {level} {message}")
}

/// A path relative to the repository when it is inside it.
fn show(path: &Path) -> String {
    path.strip_prefix(harness::REPO)
        .unwrap_or(path)
        .display()
        .to_string()
}
