//! `TimeLimiter`: Resilience4j's outcomes, events and counters, `cancel_running_future`, the
//! registry entry and its config file sections.

use fusebox_runtime::Registry;
use fusebox_runtime::config::file::{Format, RegistryConfig, TimeLimiterSettings, load_str};
use fusebox_runtime::time_limiter::{
    TimeLimiter, TimeLimiterConfig, TimeLimiterError, TimeLimiterEventKind, TimeLimiterMetrics,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn limiter(millis: u64, cancel: bool) -> TimeLimiter {
    TimeLimiter::new(
        "orders",
        TimeLimiterConfig::builder()
            .timeout_duration(Duration::from_millis(millis))
            .cancel_running_future(cancel)
            .build()
            .unwrap(),
    )
}

async fn sleep_then<T>(millis: u64, value: T) -> T {
    tokio::time::sleep(Duration::from_millis(millis)).await;
    value
}

#[tokio::test(start_paused = true)]
async fn success_error_and_timeout_publish_and_count_as_resilience4j() {
    let limiter = limiter(100, true);
    let mut events = limiter.subscribe(16);
    let ok: Result<u32, TimeLimiterError<String>> = limiter.call(sleep_then(50, Ok(1))).await;
    assert_eq!(ok, Ok(1));
    let err: Result<u32, TimeLimiterError<String>> =
        limiter.call(sleep_then(50, Err("boom".to_owned()))).await;
    assert_eq!(err, Err(TimeLimiterError::Failed("boom".to_owned())));
    let slow: Result<u32, TimeLimiterError<String>> = limiter.call(sleep_then(150, Ok(3))).await;
    let Err(TimeLimiterError::Timeout(timeout)) = slow else {
        panic!("expected a timeout, got {slow:?}");
    };
    assert!(timeout.is_from_time_limiter());
    assert_eq!(timeout.name(), "orders");
    assert_eq!(timeout.after(), Duration::from_millis(100));
    // Resilience4j's `TimeoutException` message.
    assert_eq!(
        timeout.to_string(),
        "TimeLimiter 'orders' recorded a timeout exception."
    );
    assert_eq!(
        limiter.metrics(),
        TimeLimiterMetrics {
            successful: 1,
            failed: 1,
            timeout: 1
        }
    );
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            TimeLimiterEventKind::Success,
            TimeLimiterEventKind::Error {
                error: "boom".into()
            },
            TimeLimiterEventKind::Timeout,
        ]
    );
    // The cause converts into the breaker's `Failure`, for composed attributes.
    let failure: fusebox_runtime::Failure<String> =
        TimeLimiterError::<String>::Timeout(timeout).into();
    assert!(failure.is_timeout());
}

#[tokio::test(start_paused = true)]
async fn a_ready_future_succeeds_even_with_a_zero_limit() {
    // As Java's `future.get(0, ...)` on a completed future: the call is polled first.
    let limiter = limiter(0, true);
    let ok: Result<u32, TimeLimiterError<String>> = limiter.call(async { Ok(7) }).await;
    assert_eq!(ok, Ok(7));
    let slow: Result<u32, TimeLimiterError<String>> = limiter.call(sleep_then(1, Ok(1))).await;
    assert!(slow.unwrap_err().is_timeout());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_call_counts_nothing() {
    let limiter = limiter(100, true);
    let call = limiter.call::<u32, String, _>(sleep_then(50, Ok(1)));
    // Dropped by its caller before it ends.
    assert!(
        tokio::time::timeout(Duration::from_millis(10), call)
            .await
            .is_err()
    );
    assert_eq!(limiter.metrics(), TimeLimiterMetrics::default());
}

#[test]
fn a_panicking_call_is_an_error_and_the_panic_goes_on() {
    let limiter = limiter(100, true);
    let mut events = limiter.subscribe(4);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(limiter.call::<u32, String, _>(async { panic!("inside") }))
    }));
    assert!(caught.is_err());
    assert_eq!(limiter.metrics().failed, 1);
    assert_eq!(events.drain()[0].kind.as_str(), "ERROR");
}

#[tokio::test(start_paused = true)]
async fn spawned_calls_are_aborted_on_timeout_when_cancel_running_future() {
    let finished = Arc::new(AtomicBool::new(false));
    let done = finished.clone();
    let limiter = limiter(100, true);
    let slow: Result<u32, TimeLimiterError<String>> = limiter
        .call_spawned(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            done.store(true, Ordering::SeqCst);
            Ok(1)
        })
        .await;
    assert!(slow.unwrap_err().is_timeout());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!finished.load(Ordering::SeqCst), "the task was aborted");
    assert_eq!(limiter.metrics().timeout, 1);
}

#[tokio::test(start_paused = true)]
async fn spawned_calls_run_on_after_a_timeout_without_cancel_running_future() {
    let finished = Arc::new(AtomicBool::new(false));
    let done = finished.clone();
    let limiter = limiter(100, false);
    let mut events = limiter.subscribe(4);
    let slow: Result<u32, TimeLimiterError<String>> = limiter
        .call_spawned(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            done.store(true, Ordering::SeqCst);
            Ok(1)
        })
        .await;
    assert!(slow.unwrap_err().is_timeout());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        finished.load(Ordering::SeqCst),
        "the task ran to completion"
    );
    // Nothing more is counted or published when it completes, as in Resilience4j.
    assert_eq!(
        limiter.metrics(),
        TimeLimiterMetrics {
            successful: 0,
            failed: 0,
            timeout: 1
        }
    );
    assert_eq!(events.drain().len(), 1);
    // In time, a spawned call is like any other.
    let ok: Result<u32, TimeLimiterError<String>> =
        limiter.call_spawned(async { Ok::<u32, String>(2) }).await;
    assert_eq!(ok, Ok(2));
}

#[test]
fn registry_entries_get_or_create_with_shared_configs() {
    let registry = Registry::new();
    let a = registry.time_limiter("a");
    assert_eq!(a.config(), &TimeLimiterConfig::default());
    assert_eq!(a.config().timeout_duration(), Duration::from_secs(1));
    assert!(registry.time_limiter("a").ptr_eq(&a));
    let custom = TimeLimiterConfig::builder()
        .timeout_duration(Duration::from_millis(5))
        .build()
        .unwrap();
    let b = registry.time_limiter_with_config("b", custom.clone());
    assert_eq!(b.config(), &custom);
    // An existing entry keeps its config.
    assert_eq!(
        registry
            .time_limiter_with_config("b", TimeLimiterConfig::default())
            .config(),
        &custom
    );
    let names: Vec<_> = registry
        .all_time_limiters()
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let err = TimeLimiterConfig::builder()
        .event_consumer_buffer_size(0)
        .build()
        .unwrap_err();
    assert_eq!(err.key(), "event_consumer_buffer_size");
}

#[test]
fn toml_sections_resolve_with_base_configs() {
    let text = r#"
[time_limiter.configs.default]
timeout_duration = "3s"
cancel_running_future = false

[time_limiter.configs.slow]
timeout_duration = "10s"

[time_limiter.instances.orders]
base_config = "slow"
event_consumer_buffer_size = 5

[time_limiter.instances.users]
"#;
    let loaded = load_str(text, Format::Toml, None).unwrap();
    let tl = &loaded.resolved.time_limiter;
    assert_eq!(tl.default.timeout_duration(), Duration::from_secs(3));
    assert!(!tl.default.cancel_running_future());
    let orders = &tl.instances["orders"];
    // A named config does not inherit `default` implicitly (Resilience4j's rule).
    assert_eq!(orders.timeout_duration(), Duration::from_secs(10));
    assert!(orders.cancel_running_future());
    assert_eq!(orders.event_consumer_buffer_size(), 5);
    assert_eq!(tl.instances["users"], tl.default);
    // TOML time limiters do not touch breakers.
    assert!(loaded.resolved.instances.is_empty());

    let registry = Registry::from_config(&Default::default()).unwrap();
    assert!(registry.all_time_limiters().is_empty());

    // The same sections through the plain serde type (figment, config-rs, ...), and back.
    let config: RegistryConfig = toml::from_str(text).unwrap();
    assert_eq!(
        config.time_limiter.instances["orders"].event_consumer_buffer_size,
        Some(5)
    );
    let registry = Registry::from_config(&config).unwrap();
    assert_eq!(registry.time_limiter("orders").config(), orders);
    assert_eq!(registry.time_limiter("users").config(), &tl.default);
    let again: RegistryConfig = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
    assert_eq!(again, config);
    let err = toml::from_str::<RegistryConfig>("[time_limiter.instances.a]\ntimeout = \"1s\"\n")
        .unwrap_err();
    assert!(err.to_string().contains("timeout_duration"), "{err}");
    let mut zero = RegistryConfig::default();
    zero.time_limiter.instances.insert(
        "a".into(),
        TimeLimiterSettings {
            event_consumer_buffer_size: Some(0),
            ..Default::default()
        },
    );
    let err = zero.resolve().unwrap_err();
    assert_eq!(
        err.key(),
        "time_limiter.instances.a.event_consumer_buffer_size"
    );
}

#[test]
fn toml_errors_name_the_key() {
    let err = load_str(
        "[time_limiter.instances.a]\ntimeout_duraton = \"1s\"\n",
        Format::Toml,
        None,
    )
    .unwrap_err();
    assert_eq!(err.key(), "time_limiter.instances.a.timeout_duraton");
    assert!(err.to_string().contains("timeout_duration"), "{err}");
    let err = load_str(
        "[time_limiter.instances.a]\nevent_consumer_buffer_size = 0\n",
        Format::Toml,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
    let err = load_str(
        "[time_limiter.instances.a]\nbase_config = \"missing\"\n",
        Format::Toml,
        None,
    )
    .unwrap_err();
    assert_eq!(err.key(), "time_limiter.instances.a.base_config");
    let err = load_str("[time_limiter.instance.a]\n", Format::Toml, None).unwrap_err();
    assert!(err.to_string().contains("instances"), "{err}");
}

#[test]
fn files_create_registry_time_limiters() {
    let dir = tempfile_dir();
    let path = dir.join("fusebox.toml");
    std::fs::write(
        &path,
        "[time_limiter.instances.orders]\ntimeout_duration = \"250ms\"\n",
    )
    .unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let orders = registry.time_limiter("orders");
    assert_eq!(
        orders.config().timeout_duration(),
        Duration::from_millis(250)
    );
    std::fs::write(
        &path,
        "[time_limiter.configs.default]\ntimeout_duration = \"2s\"\n\
         [time_limiter.instances.orders]\ntimeout_duration = \"1s\"\n\
         [time_limiter.instances.users]\n",
    )
    .unwrap();
    let changed = registry.reload_from_file(&path).unwrap();
    assert_eq!(changed, ["users"]);
    // Existing entries keep their config, as retries do; new ones take the file's.
    assert_eq!(
        registry.time_limiter("orders").config().timeout_duration(),
        Duration::from_millis(250)
    );
    assert_eq!(
        registry.time_limiter("users").config().timeout_duration(),
        Duration::from_secs(2)
    );
    assert_eq!(
        registry.time_limiter("other").config().timeout_duration(),
        Duration::from_secs(2)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(feature = "yaml")]
#[test]
fn the_spring_block_configures_time_limiters_and_breaker_timeouts_alike() {
    let text = "resilience4j.timelimiter:\n  configs:\n    default:\n      timeoutDuration: 3s\n  \
                instances:\n    orders:\n      timeout-duration: 500ms\n      \
                cancelRunningFuture: false\n      eventConsumerBufferSize: 7\n";
    let loaded = load_str(text, Format::SpringYaml, None).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let r = &loaded.resolved;
    let orders = &r.time_limiter.instances["orders"];
    assert_eq!(orders.timeout_duration(), Duration::from_millis(500));
    assert!(!orders.cancel_running_future());
    assert_eq!(orders.event_consumer_buffer_size(), 7);
    // The breaker mapping is unchanged: the breaker `orders` gets the same timeout.
    assert_eq!(
        r.instances["orders"].timeout(),
        Some(Duration::from_millis(500))
    );
    let err = load_str(
        "resilience4j.timelimiter.instances.a.cancelRunningFutur: true\n",
        Format::SpringYaml,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("cancelRunningFuture"), "{err}");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fusebox-time-limiter-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
