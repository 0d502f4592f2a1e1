//! `#[bulkhead]` under `#[traced]` (issue 14, item 5): `bulkhead.name` and `bulkhead.outcome` on
//! the function's span (or on each retry attempt's), the error status of a refused call, the
//! fallback span, checked on the spans that reach OpenTelemetry (in-memory exporter, as
//! `macros_spans.rs`).

use fusebox::bulkhead::BulkheadConfig;
use fusebox::retry::RetryConfig;
use fusebox::{BreakerError, Failure, Registry, bulkhead, retry, traced};
use opentelemetry::trace::{Status, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, PartialEq)]
enum ClientError {
    Resilience(String),
}

impl From<BreakerError> for ClientError {
    fn from(e: BreakerError) -> Self {
        ClientError::Resilience(e.to_string())
    }
}

fn register(name: &str) -> fusebox::bulkhead::Bulkhead {
    let config = BulkheadConfig::builder()
        .max_concurrent_calls(1)
        .max_wait_duration(Duration::ZERO)
        .build()
        .unwrap();
    Registry::global().bulkhead_with_config(name, config)
}

/// Runs `f` with a subscriber exporting to memory; returns the finished spans.
async fn capture<F: Future>(f: impl FnOnce() -> F) -> (F::Output, Vec<SpanData>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("limiters")));
    let guard = tracing::subscriber::set_default(subscriber);
    let output = {
        let root = tracing::info_span!("root");
        tracing::Instrument::instrument(f(), root).await
    };
    drop(guard);
    let _ = provider.force_flush();
    (output, exporter.get_finished_spans().expect("spans"))
}

fn all<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    all(spans, name).first().copied().unwrap_or_else(|| {
        panic!(
            "no span {name} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[traced]
#[bulkhead(name = "spans.bh", fallback = "busy")]
async fn stock(sku: &str) -> Result<String, ClientError> {
    Ok(format!("stock of {sku}"))
}

fn busy(sku: &str, cause: Failure<ClientError>) -> Result<String, ClientError> {
    assert!(cause.is_bulkhead_full(), "{cause:?}");
    Ok(format!("busy for {sku}"))
}

#[tokio::test]
async fn permitted_and_refused_calls_record_the_bulkhead_on_the_span() {
    let bulkhead = register("spans.bh");
    let ((first, second), spans) = capture(|| async {
        let first = stock("a").await;
        let _held = bulkhead.try_acquire_permission().unwrap();
        (first, stock("b").await)
    })
    .await;
    assert_eq!(first.unwrap(), "stock of a");
    assert_eq!(second.unwrap(), "busy for b");
    let calls = all(&spans, "stock");
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(attr(call, "bulkhead.name").as_deref(), Some("spans.bh"));
    }
    assert_eq!(
        attr(calls[0], "bulkhead.outcome").as_deref(),
        Some("permitted")
    );
    assert_eq!(calls[0].status, Status::Unset);
    assert_eq!(
        attr(calls[1], "bulkhead.outcome").as_deref(),
        Some("not_permitted")
    );
    assert_eq!(
        calls[1].status,
        Status::error("Bulkhead 'spans.bh' is full and does not permit further calls")
    );
    // The fallback runs in a child span of the refused call's span.
    let fallback = find(&spans, "fallback");
    assert_eq!(attr(fallback, "bulkhead.name").as_deref(), Some("spans.bh"));
    assert_eq!(fallback.parent_span_id, calls[1].span_context.span_id());
}

#[traced]
#[bulkhead(name = "spans.bh-retry")]
#[retry(name = "spans.bh-retry")]
async fn retried() -> Result<u32, ClientError> {
    Ok(7)
}

#[tokio::test]
async fn inside_a_retry_each_attempt_carries_the_bulkhead() {
    register("spans.bh-retry");
    let retry = RetryConfig::builder().max_attempts(2).build().unwrap();
    Registry::global().retry_with_config("spans.bh-retry", retry);
    let (result, spans) = capture(retried).await;
    assert_eq!(result, Ok(7));
    let attempt = find(&spans, "retry attempt");
    assert_eq!(
        attr(attempt, "bulkhead.name").as_deref(),
        Some("spans.bh-retry")
    );
    assert_eq!(
        attr(attempt, "bulkhead.outcome").as_deref(),
        Some("permitted")
    );
    // The function's span carries the retry's fields, not the bulkhead's.
    let call = find(&spans, "retried");
    assert_eq!(attr(call, "bulkhead.name"), None);
    assert_eq!(attr(call, "retry.attempts").as_deref(), Some("1"));
}
