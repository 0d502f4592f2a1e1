//! `#[rate_limiter]` and `#[time_limiter]` under `#[traced]` (issue 14, item 5): their fields on
//! the function's span (or on each retry attempt's), error statuses, fallback spans, panics and
//! cancellation, checked on the spans that reach OpenTelemetry (in-memory exporter, as
//! `macros_spans.rs`).

use fusebox::rate_limiter::RateLimiterConfig;
use fusebox::retry::RetryConfig;
use fusebox::time_limiter::TimeLimiterConfig;
use fusebox::{BreakerError, Failure, ManualClock, Registry, rate_limiter, time_limiter, traced};
use opentelemetry::trace::{Status, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, PartialEq)]
enum ClientError {
    Down,
    Resilience(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Down => f.write_str("order-service is down"),
            ClientError::Resilience(m) => f.write_str(m),
        }
    }
}

impl From<BreakerError> for ClientError {
    fn from(e: BreakerError) -> Self {
        ClientError::Resilience(e.to_string())
    }
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

fn register_rate_limiter(name: &str, limit: u32) {
    let config = RateLimiterConfig::builder()
        .limit_for_period(limit)
        .limit_refresh_period(Duration::from_secs(3600))
        .timeout_duration(Duration::ZERO)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    Registry::global().rate_limiter_with_config(name, config);
}

fn register_time_limiter(name: &str, timeout: Duration) {
    let config = TimeLimiterConfig::builder()
        .timeout_duration(timeout)
        .build()
        .unwrap();
    Registry::global().time_limiter_with_config(name, config);
}

#[traced]
#[rate_limiter(name = "spans.rl", fallback = "busy")]
async fn limited() -> Result<u32, ClientError> {
    Ok(1)
}

fn busy(_cause: Failure<ClientError>) -> Result<u32, ClientError> {
    Ok(0)
}

#[tokio::test]
async fn rate_limiter_fields_rejection_status_and_fallback_span() {
    register_rate_limiter("spans.rl", 1);
    let (results, spans) = capture(|| async { (limited().await, limited().await) }).await;
    assert_eq!(results, (Ok(1), Ok(0)));
    let calls = all(&spans, "limited");
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(attr(call, "rate_limiter.name").as_deref(), Some("spans.rl"));
    }
    assert_eq!(
        attr(calls[0], "rate_limiter.outcome").as_deref(),
        Some("permitted")
    );
    assert_eq!(calls[0].status, Status::Unset);
    assert_eq!(
        attr(calls[1], "rate_limiter.outcome").as_deref(),
        Some("not_permitted")
    );
    assert_eq!(
        calls[1].status,
        Status::error("RateLimiter 'spans.rl' does not permit further calls")
    );
    let fallback = find(&spans, "fallback");
    assert_eq!(fallback.parent_span_id, calls[1].span_context.span_id());
    assert_eq!(
        attr(fallback, "rate_limiter.name").as_deref(),
        Some("spans.rl")
    );
}

#[traced]
#[time_limiter(name = "spans.tl")]
async fn timed(delay_ms: u64) -> Result<u64, ClientError> {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    if delay_ms == 1 {
        Err(ClientError::Down)
    } else {
        Ok(delay_ms)
    }
}

#[tokio::test(start_paused = true)]
async fn time_limiter_fields_and_statuses() {
    register_time_limiter("spans.tl", Duration::from_millis(100));
    let (results, spans) =
        capture(|| async { (timed(5).await, timed(1).await, timed(500).await) }).await;
    assert_eq!(results.0, Ok(5));
    assert_eq!(results.1, Err(ClientError::Down));
    assert_eq!(
        results.2,
        Err(ClientError::Resilience(
            "TimeLimiter 'spans.tl' recorded a timeout exception.".into()
        ))
    );
    let calls = all(&spans, "timed");
    let outcomes: Vec<_> = calls
        .iter()
        .map(|c| attr(c, "time_limiter.outcome").unwrap())
        .collect();
    assert_eq!(outcomes, ["success", "failure", "timeout"]);
    assert_eq!(calls[0].status, Status::Unset);
    assert_eq!(calls[1].status, Status::error("order-service is down"));
    assert_eq!(
        calls[2].status,
        Status::error("TimeLimiter 'spans.tl' recorded a timeout exception.")
    );
}

#[traced]
#[time_limiter(name = "spans.tl.panic")]
#[rate_limiter(name = "spans.rl.panic")]
async fn panics() -> Result<u32, ClientError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_marks_the_span() {
    register_time_limiter("spans.tl.panic", Duration::from_secs(1));
    register_rate_limiter("spans.rl.panic", 5);
    let (joined, spans) =
        capture(|| async { tokio::spawn(tracing::Instrument::in_current_span(panics())).await })
            .await;
    assert!(joined.unwrap_err().is_panic());
    let call = find(&spans, "panics");
    assert_eq!(
        attr(call, "rate_limiter.outcome").as_deref(),
        Some("permitted")
    );
    assert_eq!(call.status, Status::error("the call panicked"));
    let failed = Registry::global()
        .time_limiter("spans.tl.panic")
        .metrics()
        .failed;
    assert_eq!(failed, 1);
}

#[traced]
#[time_limiter(name = "spans.tl.cancel")]
async fn never() -> Result<u32, ClientError> {
    std::future::pending().await
}

#[tokio::test]
async fn a_cancelled_call_marks_the_span_and_counts_nothing() {
    register_time_limiter("spans.tl.cancel", Duration::from_secs(1));
    let (cancelled, spans) = capture(|| async {
        tokio::select! {
            biased;
            _ = never() => false,
            () = std::future::ready(()) => true,
        }
    })
    .await;
    assert!(cancelled);
    assert_eq!(
        find(&spans, "never").status,
        Status::error("the call was cancelled")
    );
    let metrics = Registry::global().time_limiter("spans.tl.cancel").metrics();
    assert_eq!(
        (metrics.successful, metrics.failed, metrics.timeout),
        (0, 0, 0)
    );
}

#[traced]
#[rate_limiter(name = "spans.retry.rl")]
#[fusebox::retry(name = "spans.retry")]
async fn retried() -> Result<u32, ClientError> {
    Ok(7)
}

#[tokio::test]
async fn inside_a_retry_the_limiters_record_on_each_attempt() {
    let retry = RetryConfig::builder()
        .max_attempts(3)
        .wait_duration(Duration::from_millis(1))
        .retry_on_error(|_: &fusebox::rate_limiter::RequestNotPermitted| true)
        .build()
        .unwrap();
    Registry::global().retry_with_config("spans.retry", retry);
    register_rate_limiter("spans.retry.rl", 1);
    let (results, spans) = capture(|| async { (retried().await, retried().await) }).await;
    assert_eq!(results.0, Ok(7));
    assert!(matches!(results.1, Err(ClientError::Resilience(_))));
    let attempts = all(&spans, "retry attempt");
    assert_eq!(attempts.len(), 4);
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| attr(a, "rate_limiter.outcome").unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "permitted",
            "not_permitted",
            "not_permitted",
            "not_permitted"
        ]
    );
    // The function's span declares the retry's fields, not the rate limiter's.
    let call = find(&spans, "retried");
    assert_eq!(attr(call, "rate_limiter.name"), None);
    assert_eq!(attr(call, "retry.name").as_deref(), Some("spans.retry"));
}
