//! The OTLP exporter (feature `otlp`): built inside a tokio runtime without panicking, and its
//! spans reach an OTLP/HTTP collector (a fake one on 127.0.0.1).
#![cfg(feature = "otlp")]

use fusebox_runtime::telemetry::{self, ExporterKind};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// Accepts connections, answers 200 to every request, and reports each request line.
fn fake_collector() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = reader.into_inner();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            let _ = tx.send(format!("{} ({} bytes)", request_line.trim(), body.len()));
        }
    });
    (format!("http://{addr}"), rx)
}

#[test]
fn otlp_exporter_sends_spans_to_an_otlp_http_collector() {
    let (endpoint, requests) = fake_collector();
    // SAFETY: the only test of this binary; set before any thread reads the environment.
    unsafe { std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Built inside the runtime, as `telemetry::init` is under `#[tokio::main]`.
        let pipeline = telemetry::builder("user-service")
            .ignore_env()
            .exporter(ExporterKind::Otlp)
            .build()
            .expect("an OTLP pipeline");
        tracing::subscriber::with_default(pipeline.subscriber(), || {
            tracing::info_span!("get_orders", otel.kind = "client").in_scope(|| {});
        });
        let guard = pipeline.into_guard();
        guard.shutdown().await.expect("flushed");
    });
    let request = requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the collector received a request");
    assert!(request.starts_with("POST /v1/traces"), "{request}");
    assert!(!request.ends_with("(0 bytes)"), "{request}");
}
