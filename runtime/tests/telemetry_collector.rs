//! The Zipkin exporter against fake collectors on 127.0.0.1: one answering 202 (wire format),
//! one answering 500, one hanging, and none at all. Calls are never slowed, failures and drops
//! are counted, and shutdown stays bounded.
#![cfg(feature = "telemetry")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use fusebox_runtime::telemetry::{self, BatchSettings, Telemetry};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Accept,
    Fail,
    Hang,
}

/// Requests seen by a collector: `(request head, body)`.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A tiny HTTP collector on 127.0.0.1:0 recording `(request head, body)`.
struct Collector {
    url: String,
    requests: Seen,
}

impl Collector {
    fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/api/v2/spans",
            listener.local_addr().unwrap().port()
        );
        let requests: Seen = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if mode == Mode::Hang {
                    held.push(stream); // never answer, never close
                    continue;
                }
                if let Some(request) = read_request(&mut stream) {
                    seen.lock().unwrap().push(request);
                }
                let answer: &[u8] = match mode {
                    Mode::Accept => b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
                    _ => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nnope",
                };
                let _ = stream.write_all(answer);
            }
        });
        Self { url, requests }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some((head, buf[end + 4..].to_vec()));
        }
    }
}

fn pipeline(url: &str, export_timeout: Duration, queue: usize) -> Telemetry {
    telemetry::builder("user-service")
        .ignore_env()
        .endpoint(url)
        .export_timeout(export_timeout)
        .shutdown_timeout(Duration::from_secs(1))
        .batch_config(
            BatchSettings::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(queue.min(64))
                .with_scheduled_delay(Duration::from_millis(50)),
        )
        .build()
        .expect("build")
}

/// Runs `n` traced calls and returns how long they took.
fn calls(telemetry: &Telemetry, n: usize) -> Duration {
    let began = Instant::now();
    tracing::subscriber::with_default(telemetry.subscriber(), || {
        for i in 0..n {
            let span = tracing::info_span!(
                "get_orders",
                otel.kind = "client",
                peer.service = "order-service",
                i
            );
            span.in_scope(|| tracing::info!("calling"));
        }
    });
    began.elapsed()
}

#[test]
fn posts_zipkin_v2_json_to_the_collector() {
    let collector = Collector::start(Mode::Accept);
    let telemetry = pipeline(&collector.url, Duration::from_secs(5), 2048);
    let counters = telemetry.counters().clone();
    calls(&telemetry, 3);
    telemetry
        .into_guard()
        .shutdown_blocking()
        .expect("shutdown");

    let requests = collector.requests.lock().unwrap();
    assert!(!requests.is_empty());
    let (head, _) = &requests[0];
    assert!(head.starts_with("POST /api/v2/spans HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    assert!(
        head.contains("b3: 0"),
        "self-trace suppression header: {head}"
    );
    let spans: Vec<serde_json::Value> = requests
        .iter()
        .flat_map(|(_, body)| serde_json::from_slice::<Vec<serde_json::Value>>(body).unwrap())
        .collect();
    assert_eq!(spans.len(), 3);
    for span in &spans {
        assert_eq!(span["localEndpoint"]["serviceName"], "user-service");
        assert_eq!(span["remoteEndpoint"]["serviceName"], "order-service");
        assert_eq!(span["kind"], "CLIENT");
        assert_eq!(span["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(span["id"].as_str().unwrap().len(), 16);
        assert!(span["duration"].as_u64().unwrap() >= 1);
    }
    let stats = counters.snapshot();
    assert_eq!((stats.exported, stats.failed, stats.dropped), (3, 0, 0));
}

#[test]
fn collector_errors_are_counted_and_do_not_reach_callers() {
    let collector = Collector::start(Mode::Fail);
    let telemetry = pipeline(&collector.url, Duration::from_secs(5), 2048);
    let counters = telemetry.counters().clone();
    let took = calls(&telemetry, 20);
    telemetry
        .into_guard()
        .shutdown_blocking()
        .expect("shutdown");
    let stats = counters.snapshot();
    assert_eq!(stats.exported, 0);
    assert_eq!(stats.failed, 20, "{stats:?}");
    assert!(stats.failed_exports >= 1);
    assert!(took < Duration::from_secs(1), "calls took {took:?}");
    assert!(
        telemetry::export_stats().failed >= 20,
        "global totals include this pipeline"
    );
}

#[test]
fn collector_down_is_counted() {
    // Bind and drop: the port refuses connections.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/api/v2/spans");
    let telemetry = pipeline(&url, Duration::from_secs(2), 2048);
    let counters = telemetry.counters().clone();
    calls(&telemetry, 5);
    telemetry
        .into_guard()
        .shutdown_blocking()
        .expect("shutdown");
    assert_eq!(counters.snapshot().failed, 5);
}

#[test]
fn hung_collector_neither_slows_calls_nor_blocks_shutdown() {
    let collector = Collector::start(Mode::Hang);
    // The export timeout is far longer than the test: only the abort on shutdown ends it.
    let telemetry = pipeline(&collector.url, Duration::from_secs(60), 64);
    let counters = telemetry.counters().clone();
    let took = calls(&telemetry, 1_000);
    assert!(took < Duration::from_secs(2), "1000 calls took {took:?}");
    let began = Instant::now();
    let result = telemetry.into_guard().shutdown_blocking();
    let shutdown = began.elapsed();
    assert!(result.is_err(), "a hung collector makes shutdown time out");
    assert!(
        shutdown < Duration::from_secs(3),
        "shutdown took {shutdown:?}"
    );
    let stats = counters.snapshot();
    assert!(stats.dropped > 0, "the bounded queue overflowed: {stats:?}");
    assert_eq!(stats.exported, 0);
}

#[test]
fn guard_drop_is_bounded_with_a_hung_collector() {
    let collector = Collector::start(Mode::Hang);
    let telemetry = pipeline(&collector.url, Duration::from_secs(60), 2048);
    calls(&telemetry, 10);
    let guard = telemetry.into_guard();
    let began = Instant::now();
    drop(guard);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn async_shutdown_inside_tokio_does_not_panic() {
    let collector = Collector::start(Mode::Accept);
    // Built inside a runtime: the upstream exporter panics here, this one must not.
    let telemetry = pipeline(&collector.url, Duration::from_secs(5), 2048);
    let counters = telemetry.counters().clone();
    calls(&telemetry, 2);
    telemetry.into_guard().shutdown().await.expect("shutdown");
    assert_eq!(counters.snapshot().exported, 2);
}

/// A pipeline to a hung collector with the batch settings of `env` (`OTEL_BSP_*`) and `batch`.
fn hung_pipeline_with(url: &str, env: &'static [(&str, &str)], batch: BatchSettings) -> Telemetry {
    telemetry::builder("user-service")
        .env_lookup(move |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .endpoint(url)
        .export_timeout(Duration::from_secs(60))
        .shutdown_timeout(Duration::from_millis(200))
        .batch_config(batch)
        .build()
        .expect("build")
}

/// The queue bound is the one the batch processor was given: with a hung collector, at most
/// one batch is taken and one queue waits; every other span is dropped, and counted.
fn assert_bounded(telemetry: Telemetry, queue: u64, batch: u64) {
    let counters = telemetry.counters().clone();
    calls(&telemetry, 100);
    let stats = counters.snapshot();
    let pending = counters.pending() as u64;
    // Shutdown times out on the hung collector (checked above); here only the counts matter.
    let _ = telemetry.into_guard().shutdown_blocking();
    assert!(pending <= queue, "pending {pending} over the queue {queue}");
    assert!(
        (100 - queue - batch..=100 - queue).contains(&stats.dropped),
        "queue {queue}, batch {batch}: {stats:?}"
    );
    assert_eq!(stats.exported, 0);
}

#[test]
fn the_queue_bound_comes_from_otel_bsp_variables() {
    let collector = Collector::start(Mode::Hang);
    let env: &[(&str, &str)] = &[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "5"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5"),
        ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
    ];
    let telemetry = hung_pipeline_with(&collector.url, env, BatchSettings::default());
    assert_bounded(telemetry, 5, 5);
}

#[test]
fn batch_settings_override_otel_bsp_variables() {
    let collector = Collector::start(Mode::Hang);
    let env: &[(&str, &str)] = &[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "5"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5"),
        ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
    ];
    let batch = BatchSettings::default().with_max_queue_size(20);
    let telemetry = hung_pipeline_with(&collector.url, env, batch);
    assert_bounded(telemetry, 20, 5);
}
