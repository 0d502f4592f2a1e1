//! `#[traced]` and its combination with `#[circuit_breaker]` (issue #3), checked on the spans that
//! reach OpenTelemetry: an in-memory exporter behind the `tracing-opentelemetry` layer, installed
//! per test with `tracing::subscriber::set_default` (tests run on their own current-thread runtime).

use fusebox::{
    BreakerError, CircuitBreakerConfig, Failure, ManualClock, Registry, circuit_breaker, traced,
};
use opentelemetry::trace::{SpanId, SpanKind, Status, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, PartialEq)]
enum ClientError {
    Down,
    Breaker(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Down => f.write_str("order-service is down"),
            ClientError::Breaker(m) => f.write_str(m),
        }
    }
}

impl From<BreakerError> for ClientError {
    fn from(e: BreakerError) -> Self {
        ClientError::Breaker(e.to_string())
    }
}

/// Runs `f` with a subscriber exporting to memory; returns the finished spans.
async fn capture<F: Future>(f: impl FnOnce() -> F) -> (F::Output, Vec<SpanData>) {
    capture_at(LevelFilter::TRACE, f).await
}

/// [`capture`], with spans below `level` filtered out.
async fn capture_at<F: Future>(
    level: LevelFilter,
    f: impl FnOnce() -> F,
) -> (F::Output, Vec<SpanData>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(level)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("macros_spans")));
    let guard = tracing::subscriber::set_default(subscriber);
    let output = {
        let root = tracing::info_span!("root");
        tracing::Instrument::instrument(f(), root).await
    };
    drop(guard);
    let _ = provider.force_flush();
    (output, exporter.get_finished_spans().expect("spans"))
}

fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

/// The span's Zipkin tag `key`, as the fusebox Zipkin exporter writes it.
fn zipkin_tag(span: &SpanData, key: &str) -> Option<String> {
    let json = fusebox::telemetry::zipkin::ZipkinMapper::new("macros_spans").span(span);
    json["tags"][key].as_str().map(str::to_owned)
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn register(name: &str) -> fusebox::CircuitBreaker {
    let config = CircuitBreakerConfig::builder()
        .clock(ManualClock::new())
        .sliding_window_size(10)
        .minimum_number_of_calls(10)
        .build()
        .unwrap();
    Registry::global().circuit_breaker_with_config(name, config)
}

struct UserService {
    order_service_up: bool,
}

impl UserService {
    // The course example, in both attribute orders.
    #[traced(kind = "client", remote_service = "order-service")]
    #[circuit_breaker(name = "spans.orders", fallback = "empty_orders")]
    async fn get_orders(&self, user_id: &str) -> Result<Vec<String>, ClientError> {
        tracing::info_span!("http get").in_scope(|| ());
        if self.order_service_up {
            Ok(vec![format!("order of {user_id}")])
        } else {
            Err(ClientError::Down)
        }
    }

    #[circuit_breaker(name = "spans.orders.reversed", fallback = "empty_orders")]
    #[traced(kind = "client", remote_service = "order-service")]
    async fn get_orders_reversed(&self, user_id: &str) -> Result<Vec<String>, ClientError> {
        tracing::info_span!("http get").in_scope(|| ());
        if self.order_service_up {
            Ok(vec![format!("order of {user_id}")])
        } else {
            Err(ClientError::Down)
        }
    }

    async fn empty_orders(
        &self,
        _user_id: &str,
        cause: Failure<ClientError>,
    ) -> Result<Vec<String>, ClientError> {
        tracing::info_span!("inside fallback").in_scope(|| ());
        let _ = cause;
        Ok(Vec::new())
    }
}

/// What both orders must produce.
fn check_failed_call_with_fallback(spans: &[SpanData], name: &str) {
    let root = find(spans, "root");
    let call = spans
        .iter()
        .find(|s| {
            s.name.starts_with("get_orders")
                && attr(s, "circuit_breaker.name").as_deref() == Some(name)
        })
        .expect("the function's span");
    let fallback = spans
        .iter()
        .find(|s| s.name == "fallback" && s.parent_span_id == call.span_context.span_id())
        .expect("a `fallback` child span of the function's span");
    let http = spans
        .iter()
        .find(|s| s.name == "http get" && s.parent_span_id == call.span_context.span_id())
        .expect("the body runs inside the function's span");
    let inside = find(spans, "inside fallback");

    assert_eq!(
        call.parent_span_id,
        root.span_context.span_id(),
        "child of the current span"
    );
    assert_eq!(call.span_kind, SpanKind::Client);
    assert_eq!(attr(call, "peer.service").as_deref(), Some("order-service"));
    assert_eq!(
        attr(call, "circuit_breaker.state").as_deref(),
        Some("closed")
    );
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("failure")
    );
    // The error's message describes the failure, as in Spring's observations; the outcome stays a
    // tag of its own.
    assert_eq!(call.status, Status::error("order-service is down"));
    assert_eq!(
        zipkin_tag(call, "error").as_deref(),
        Some("order-service is down")
    );
    assert_eq!(
        zipkin_tag(call, "circuit_breaker.outcome").as_deref(),
        Some("failure")
    );
    assert_eq!(attr(call, "exception.message"), None, "no `err` option");
    assert_eq!(
        attr(fallback, "circuit_breaker.name").as_deref(),
        Some(name)
    );
    assert_eq!(
        inside.parent_span_id,
        fallback.span_context.span_id(),
        "the fallback runs in its span"
    );
    assert_ne!(http.span_context.span_id(), SpanId::INVALID);
}

#[tokio::test]
async fn breaker_fields_and_fallback_span_traced_first() {
    register("spans.orders");
    let service = UserService {
        order_service_up: false,
    };
    let (result, spans) = capture(|| service.get_orders("u1")).await;
    assert_eq!(result, Ok(vec![]));
    check_failed_call_with_fallback(&spans, "spans.orders");
}

#[tokio::test]
async fn breaker_fields_and_fallback_span_breaker_first() {
    register("spans.orders.reversed");
    let service = UserService {
        order_service_up: false,
    };
    let (result, spans) = capture(|| service.get_orders_reversed("u1")).await;
    assert_eq!(result, Ok(vec![]));
    check_failed_call_with_fallback(&spans, "spans.orders.reversed");
}

#[tokio::test]
async fn success_has_no_error_and_no_fallback_span() {
    register("spans.orders");
    let service = UserService {
        order_service_up: true,
    };
    let (result, spans) = capture(|| service.get_orders("u2")).await;
    assert_eq!(result.unwrap().len(), 1);
    let call = find(&spans, "get_orders");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("success")
    );
    assert_eq!(call.status, Status::Unset);
    assert!(spans.iter().all(|s| s.name != "fallback"));
}

#[traced(name = "rejected-call", err)]
#[circuit_breaker(name = "spans.rejected")]
async fn rejected() -> Result<u32, ClientError> {
    Ok(1)
}

#[tokio::test]
async fn not_permitted_marks_the_span() {
    register("spans.rejected")
        .transition_to_forced_open_state()
        .unwrap();
    let (result, spans) = capture(rejected).await;
    assert!(matches!(result, Err(ClientError::Breaker(_))));
    let call = find(&spans, "rejected-call");
    assert_eq!(
        attr(call, "circuit_breaker.state").as_deref(),
        Some("forced_open")
    );
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("not_permitted")
    );
    let message =
        "CircuitBreaker 'spans.rejected' is FORCED_OPEN and does not permit further calls";
    assert_eq!(call.status, Status::error(message));
    assert_eq!(attr(call, "exception.message").as_deref(), Some(message));
}

#[traced(err, level = "warn", fields(user.id = %user_id, attempt = attempt))]
async fn fails(user_id: &str, attempt: u32, password: &str) -> Result<(), ClientError> {
    let _ = password;
    Err(ClientError::Down)
}

#[tokio::test]
async fn traced_err_fields_and_safe_defaults() {
    let (result, spans) = capture(|| fails("u3", 2, "hunter2")).await;
    assert_eq!(result, Err(ClientError::Down));
    let span = find(&spans, "fails");
    assert_eq!(span.status, Status::error("order-service is down"));
    assert_eq!(
        attr(span, "exception.message").as_deref(),
        Some("order-service is down")
    );
    assert_eq!(attr(span, "user.id").as_deref(), Some("u3"));
    assert_eq!(attr(span, "attempt").as_deref(), Some("2"));
    // Safe by default: arguments not listed in `fields(...)` are not recorded.
    assert!(
        span.attributes
            .iter()
            .all(|kv| kv.value.to_string() != "hunter2"),
        "{:?}",
        span.attributes
    );
    assert!(attr(span, "password").is_none());
    assert_eq!(span.span_kind, SpanKind::Internal);
}

#[async_trait::async_trait]
trait Lookup: Send + Sync {
    async fn lookup(&self, key: &str) -> Result<String, ClientError>;
}

struct Remote;

#[async_trait::async_trait]
impl Lookup for Remote {
    #[traced(kind = "client", fields(key = key))]
    #[circuit_breaker(name = "spans.async_trait", fallback = "miss")]
    async fn lookup(&self, key: &str) -> Result<String, ClientError> {
        tracing::info_span!("http get").in_scope(|| ());
        Err(ClientError::Down)
    }
}

impl Remote {
    fn miss(&self, key: &str, _cause: Failure<ClientError>) -> Result<String, ClientError> {
        Ok(format!("miss {key}"))
    }
}

#[tokio::test]
async fn async_trait_methods_are_traced_around_the_breaker() {
    register("spans.async_trait");
    let remote: Box<dyn Lookup> = Box::new(Remote);
    let (result, spans) = capture(|| remote.lookup("k")).await;
    assert_eq!(result.unwrap(), "miss k");
    let call = find(&spans, "lookup");
    assert_eq!(attr(call, "key").as_deref(), Some("k"));
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("failure")
    );
    assert_eq!(call.status, Status::error("order-service is down"));
    let fallback = find(&spans, "fallback");
    assert_eq!(fallback.parent_span_id, call.span_context.span_id());
    assert_eq!(
        find(&spans, "http get").parent_span_id,
        call.span_context.span_id()
    );
}

#[traced]
#[circuit_breaker(name = "spans.timeout", fallback = "late")]
async fn too_slow() -> Result<u32, ClientError> {
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    Ok(1)
}

fn late(cause: Failure<ClientError>) -> Result<u32, ClientError> {
    assert!(cause.is_timeout());
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn timeout_outcome_on_the_span() {
    let config = CircuitBreakerConfig::builder()
        .clock(ManualClock::new())
        .timeout(std::time::Duration::from_secs(4))
        .build()
        .unwrap();
    Registry::global().circuit_breaker_with_config("spans.timeout", config);
    let (result, spans) = capture(too_slow).await;
    assert_eq!(result, Ok(0));
    let call = find(&spans, "too_slow");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("timeout")
    );
    assert_eq!(
        call.status,
        Status::error("CircuitBreaker 'spans.timeout' timed out the call after 4s")
    );
    assert_eq!(
        find(&spans, "fallback").parent_span_id,
        call.span_context.span_id()
    );
}

#[traced]
#[circuit_breaker(name = "spans.ignored", ignore = |e: &ClientError| *e == ClientError::Down)]
async fn ignored() -> Result<u32, ClientError> {
    Err(ClientError::Down)
}

#[tokio::test]
async fn an_ignored_error_is_not_an_error_status() {
    register("spans.ignored");
    let (result, spans) = capture(ignored).await;
    assert_eq!(result, Err(ClientError::Down));
    let call = find(&spans, "ignored");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("ignored")
    );
    assert_eq!(call.status, Status::Unset);
}

#[traced]
#[circuit_breaker(name = "spans.panic")]
async fn panics_in_span() -> Result<u32, ClientError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_marks_the_span_as_a_failure() {
    let breaker = register("spans.panic");
    let (joined, spans) = capture(|| async {
        tokio::spawn(tracing::Instrument::in_current_span(panics_in_span())).await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    let call = find(&spans, "panics_in_span");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("failure")
    );
    assert_eq!(call.status, Status::error("the call panicked"));
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
}

#[traced]
#[circuit_breaker(name = "spans.cancel")]
async fn never_answers() -> Result<u32, ClientError> {
    std::future::pending().await
}

#[tokio::test]
async fn a_cancelled_call_marks_the_span_and_counts_nothing() {
    let breaker = register("spans.cancel");
    let (cancelled, spans) = capture(|| async {
        tokio::select! {
            biased;
            _ = never_answers() => false,
            () = std::future::ready(()) => true,
        }
    })
    .await;
    assert!(cancelled);
    let call = find(&spans, "never_answers");
    assert_eq!(
        attr(call, "circuit_breaker.state").as_deref(),
        Some("closed")
    );
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("cancelled")
    );
    assert_eq!(call.status, Status::error("the call was cancelled"));
    assert_eq!(breaker.metrics().number_of_buffered_calls(), 0);
}

#[traced]
#[circuit_breaker(name = "spans.outer")]
async fn outer() -> Result<u32, ClientError> {
    // A failing inner call, handled: the outer call succeeds.
    Ok(inner().await.unwrap_or(7))
}

#[traced(level = "trace")]
#[circuit_breaker(name = "spans.inner")]
async fn inner() -> Result<u32, ClientError> {
    Err(ClientError::Down)
}

#[tokio::test]
async fn a_disabled_inner_span_records_nothing_on_the_outer_one() {
    register("spans.outer");
    register("spans.inner");
    let (result, spans) = capture_at(LevelFilter::DEBUG, outer).await;
    assert_eq!(result, Ok(7));
    assert!(
        spans.iter().all(|s| s.name != "inner"),
        "inner is filtered out"
    );
    let call = find(&spans, "outer");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("success")
    );
    assert_eq!(call.status, Status::Unset, "the inner failure stays off it");
}

#[traced(kind = "client", fields(user.id = %user_id))]
async fn load_user(user_id: &str, token: &str, up: bool) -> Result<String, ClientError> {
    let _ = token;
    if up {
        Ok(format!("user {user_id}"))
    } else {
        Err(ClientError::Down)
    }
}

#[tokio::test]
async fn a_traced_function_that_fails_has_the_error_message_as_its_status() {
    let (result, spans) = capture(|| load_user("u7", "s3cr3t", false)).await;
    assert_eq!(result, Err(ClientError::Down));
    let span = find(&spans, "load_user");
    assert_eq!(span.status, Status::error("order-service is down"));
    assert_eq!(
        zipkin_tag(span, "error").as_deref(),
        Some("order-service is down")
    );
    assert_eq!(attr(span, "exception.message"), None, "no `err` option");
    assert_eq!(attr(span, "user.id").as_deref(), Some("u7"));
    // Arguments stay unrecorded: only `fields(...)` reaches the span.
    assert!(
        span.attributes
            .iter()
            .all(|kv| !kv.value.to_string().contains("s3cr3t")),
        "{:?}",
        span.attributes
    );

    let (result, spans) = capture(|| load_user("u8", "s3cr3t", true)).await;
    assert_eq!(result.as_deref(), Ok("user u8"));
    let span = find(&spans, "load_user");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(zipkin_tag(span, "error"), None);
}

struct Local;

#[async_trait::async_trait]
impl Lookup for Local {
    #[traced]
    async fn lookup(&self, key: &str) -> Result<String, ClientError> {
        if key.is_empty() {
            Err(ClientError::Down)
        } else {
            Ok(key.to_owned())
        }
    }
}

#[tokio::test]
async fn a_traced_async_trait_method_that_fails_has_the_error_message_as_its_status() {
    let local: Box<dyn Lookup> = Box::new(Local);
    let (result, spans) = capture(|| local.lookup("")).await;
    assert_eq!(result, Err(ClientError::Down));
    assert_eq!(
        find(&spans, "lookup").status,
        Status::error("order-service is down")
    );
    let (result, spans) = capture(|| local.lookup("k")).await;
    assert_eq!(result.as_deref(), Ok("k"));
    assert_eq!(find(&spans, "lookup").status, Status::Unset);
}

/// An error type without `Display`.
#[derive(Debug, PartialEq)]
struct Opaque;

impl From<BreakerError> for Opaque {
    fn from(_: BreakerError) -> Self {
        Opaque
    }
}

#[traced]
async fn fails_opaquely() -> Result<u32, Opaque> {
    Err(Opaque)
}

#[traced]
#[circuit_breaker(name = "spans.opaque")]
async fn guarded_fails_opaquely() -> Result<u32, Opaque> {
    Err(Opaque)
}

#[tokio::test]
async fn an_error_without_display_has_no_description() {
    // `#[traced]` alone marks only what it can describe.
    let (result, spans) = capture(fails_opaquely).await;
    assert_eq!(result, Err(Opaque));
    assert_eq!(find(&spans, "fails_opaquely").status, Status::Unset);

    // The breaker's failure is still an error; Zipkin's `error` tag then names the outcome.
    register("spans.opaque");
    let (result, spans) = capture(guarded_fails_opaquely).await;
    assert_eq!(result, Err(Opaque));
    let call = find(&spans, "guarded_fails_opaquely");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("failure")
    );
    assert_eq!(call.status, Status::error(""));
    assert_eq!(
        zipkin_tag(call, "error").as_deref(),
        Some("circuit_breaker.outcome=failure")
    );
}

#[traced]
#[circuit_breaker(name = "spans.no_fallback")]
async fn guarded_fails() -> Result<u32, ClientError> {
    Err(ClientError::Down)
}

#[tokio::test]
async fn a_failure_without_fallback_has_the_error_message_as_its_status() {
    let breaker = register("spans.no_fallback");
    let (result, spans) = capture(guarded_fails).await;
    assert_eq!(result, Err(ClientError::Down));
    let call = find(&spans, "guarded_fails");
    assert_eq!(call.status, Status::error("order-service is down"));
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
}

#[traced]
async fn plain_outer() -> Result<u32, ClientError> {
    Ok(plain_inner().await.unwrap_or(7))
}

#[traced(level = "trace")]
async fn plain_inner() -> Result<u32, ClientError> {
    Err(ClientError::Down)
}

#[tokio::test]
async fn a_disabled_traced_function_marks_nothing() {
    let (result, spans) = capture_at(LevelFilter::DEBUG, plain_outer).await;
    assert_eq!(result, Ok(7));
    assert!(spans.iter().all(|s| s.name != "plain_inner"));
    let outer = find(&spans, "plain_outer");
    assert_eq!(
        outer.status,
        Status::Unset,
        "the inner failure stays off it"
    );
}

// --- #[retry]: each attempt is a child span of the function's span ---

fn register_retry(name: &str) {
    let config = fusebox::retry::RetryConfig::builder()
        .max_attempts(3)
        .sleeper(ManualClock::new())
        .build()
        .unwrap();
    Registry::global().retry_with_config(name, config);
}

#[traced(kind = "client", remote_service = "stock-service")]
#[fusebox::retry(name = "spans.stock.retry", fallback = "no_stock")]
#[circuit_breaker(name = "spans.stock.cb")]
async fn get_stock(
    calls: &std::sync::atomic::AtomicU32,
    item: &str,
    failures: u32,
) -> Result<String, ClientError> {
    let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    tracing::info_span!("http get stock").in_scope(|| ());
    if n <= failures {
        Err(ClientError::Down)
    } else {
        Ok(format!("{item}: 3 left"))
    }
}

fn no_stock(
    _calls: &std::sync::atomic::AtomicU32,
    _item: &str,
    _failures: u32,
    _cause: Failure<ClientError>,
) -> Result<String, ClientError> {
    Ok("unknown".to_owned())
}

fn attempts_of<'a>(spans: &'a [SpanData], call: &SpanData) -> Vec<&'a SpanData> {
    let mut attempts: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "retry attempt" && s.parent_span_id == call.span_context.span_id())
        .collect();
    attempts.sort_by_key(|s| attr(s, "retry.attempt"));
    attempts
}

#[tokio::test]
async fn attempts_are_child_spans_with_their_number_and_the_breaker_fields() {
    register_retry("spans.stock.retry");
    register("spans.stock.cb");
    let calls = std::sync::atomic::AtomicU32::new(0);
    let (result, spans) = capture(|| get_stock(&calls, "apple", 2)).await;
    assert_eq!(result, Ok("apple: 3 left".to_owned()));
    let call = find(&spans, "get_stock");
    assert_eq!(
        call.parent_span_id,
        find(&spans, "root").span_context.span_id()
    );
    assert_eq!(
        attr(call, "retry.name").as_deref(),
        Some("spans.stock.retry")
    );
    assert_eq!(attr(call, "retry.attempts").as_deref(), Some("3"));
    assert_eq!(call.status, Status::Unset, "the call succeeded in the end");
    assert_eq!(
        attr(call, "circuit_breaker.outcome"),
        None,
        "recorded per attempt"
    );

    let attempts = attempts_of(&spans, call);
    assert_eq!(
        attempts.len(),
        3,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for (i, attempt) in attempts.iter().enumerate() {
        assert_eq!(attr(attempt, "retry.attempt"), Some((i + 1).to_string()));
        assert_eq!(
            attr(attempt, "retry.name").as_deref(),
            Some("spans.stock.retry")
        );
        assert_eq!(
            attr(attempt, "circuit_breaker.name").as_deref(),
            Some("spans.stock.cb")
        );
        assert_eq!(
            attr(attempt, "circuit_breaker.state").as_deref(),
            Some("closed")
        );
        let http = spans.iter().find(|s| {
            s.name == "http get stock" && s.parent_span_id == attempt.span_context.span_id()
        });
        assert!(
            http.is_some(),
            "the body of attempt {} runs in its span",
            i + 1
        );
    }
    for failed in &attempts[..2] {
        assert_eq!(
            attr(failed, "circuit_breaker.outcome").as_deref(),
            Some("failure")
        );
        assert_eq!(failed.status, Status::error("order-service is down"));
        assert_eq!(
            zipkin_tag(failed, "error").as_deref(),
            Some("order-service is down")
        );
    }
    assert_eq!(
        attr(attempts[2], "circuit_breaker.outcome").as_deref(),
        Some("success")
    );
    assert_eq!(attempts[2].status, Status::Unset);
}

#[tokio::test]
async fn exhausted_retry_marks_the_call_and_falls_back_in_its_span() {
    register_retry("spans.stock.retry");
    register("spans.stock.cb");
    let calls = std::sync::atomic::AtomicU32::new(0);
    let (result, spans) = capture(|| get_stock(&calls, "pear", 10)).await;
    assert_eq!(result, Ok("unknown".to_owned()));
    let call = find(&spans, "get_stock");
    assert_eq!(attr(call, "retry.attempts").as_deref(), Some("3"));
    assert_eq!(call.status, Status::error("order-service is down"));
    assert_eq!(attempts_of(&spans, call).len(), 3);
    let fallback = spans
        .iter()
        .find(|s| s.name == "fallback" && s.parent_span_id == call.span_context.span_id())
        .expect("the retry's fallback runs in a child span of the function's span");
    assert_eq!(
        attr(fallback, "retry.name").as_deref(),
        Some("spans.stock.retry")
    );
}

#[tokio::test]
async fn attempts_are_not_traced_when_the_function_span_is_filtered_out() {
    register_retry("spans.stock.retry");
    register("spans.stock.cb");
    let calls = std::sync::atomic::AtomicU32::new(0);
    let (result, spans) = capture_at(LevelFilter::WARN, || get_stock(&calls, "fig", 1)).await;
    assert_eq!(result, Ok("fig: 3 left".to_owned()));
    assert!(
        spans.iter().all(|s| s.name != "retry attempt"),
        "no attempt span without the function's span"
    );
}

#[traced]
#[fusebox::retry(name = "spans.retry.panics")]
async fn retried_panics() -> Result<u32, ClientError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panicking_attempt_marks_its_span_and_the_call() {
    register_retry("spans.retry.panics");
    let (joined, spans) = capture(|| async {
        // Caught in place, so that the spans close within the capture.
        futures_catch_unwind(retried_panics()).await
    })
    .await;
    assert!(joined.is_err(), "the panic went through the retry");
    let call = find(&spans, "retried_panics");
    let attempts = attempts_of(&spans, call);
    assert_eq!(attempts.len(), 1, "a panic is not retried");
    for span in [call, attempts[0]] {
        assert_eq!(
            span.status,
            Status::error("the call panicked"),
            "{}",
            span.name
        );
    }
}

#[traced]
#[fusebox::retry(name = "spans.retry.cancelled")]
async fn retried_never_answers() -> Result<u32, ClientError> {
    std::future::pending().await
}

#[tokio::test]
async fn a_cancelled_attempt_marks_its_span_and_the_call() {
    register_retry("spans.retry.cancelled");
    let ((), spans) = capture(|| async {
        let call = std::pin::pin!(retried_never_answers());
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut call = call;
        assert!(call.as_mut().poll(&mut cx).is_pending());
    })
    .await;
    let call = find(&spans, "retried_never_answers");
    let attempts = attempts_of(&spans, call);
    assert_eq!(attempts.len(), 1);
    for span in [call, attempts[0]] {
        assert_eq!(
            span.status,
            Status::error("the call was cancelled"),
            "{}",
            span.name
        );
    }
}

/// Awaits `future`, catching a panic (the spans it opened close while unwinding).
async fn futures_catch_unwind<F: Future>(future: F) -> Result<F::Output, ()> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    })
    .await
}

#[traced]
#[fusebox::retry(name = "spans.inner.retry")]
#[circuit_breaker(name = "spans.outer.cb", order = 1)]
async fn breaker_around_retry(calls: &std::sync::atomic::AtomicU32) -> Result<u32, ClientError> {
    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
        Err(ClientError::Down)
    } else {
        Ok(2)
    }
}

#[tokio::test]
async fn a_breaker_around_the_retry_records_on_the_function_span() {
    register_retry("spans.inner.retry");
    register("spans.outer.cb");
    let calls = std::sync::atomic::AtomicU32::new(0);
    let (result, spans) = capture(|| breaker_around_retry(&calls)).await;
    assert_eq!(result, Ok(2));
    let call = find(&spans, "breaker_around_retry");
    assert_eq!(
        attr(call, "circuit_breaker.outcome").as_deref(),
        Some("success")
    );
    assert_eq!(attr(call, "retry.attempts").as_deref(), Some("2"));
    let attempts = attempts_of(&spans, call);
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts
            .iter()
            .all(|a| attr(a, "circuit_breaker.name").is_none())
    );
    assert_eq!(attempts[0].status, Status::error("order-service is down"));
}
