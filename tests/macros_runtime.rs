//! `#[circuit_breaker]` at run time (issue #3): every path of a guarded call — success, failure,
//! ignored, not permitted, timeout, panic, cancellation — and the fallback forms, methods,
//! generics, traits and the `registry = ...` option.
//!
//! Each test registers its own breaker (unique name) with a `ManualClock` before the first call,
//! because the generated call site resolves its breaker from the registry once.

use fusebox::{
    BreakerError, CircuitBreaker, CircuitBreakerConfig, Failure, ManualClock, Registry, State,
    circuit_breaker,
};
use std::future::Future;
use std::pin::pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;

#[derive(Debug, PartialEq)]
enum ClientError {
    Down,
    NotFound,
    Breaker(BreakerError),
}

impl From<BreakerError> for ClientError {
    fn from(e: BreakerError) -> Self {
        ClientError::Breaker(e)
    }
}

/// Registers `name` in the global registry: count-based window of 10, threshold 50 %, minimum
/// 10 calls, so that a few calls never trip it unless a test wants it to.
fn register(name: &str) -> CircuitBreaker {
    register_with(name, |b| b)
}

fn register_with(
    name: &str,
    tune: impl FnOnce(fusebox::CircuitBreakerConfigBuilder) -> fusebox::CircuitBreakerConfigBuilder,
) -> CircuitBreaker {
    let config = tune(
        CircuitBreakerConfig::builder()
            .clock(ManualClock::new())
            .sliding_window_size(10)
            .minimum_number_of_calls(10)
            .failure_rate_threshold(50.0),
    )
    .build()
    .expect("valid config");
    Registry::global().circuit_breaker_with_config(name, config)
}

fn outcome(ok: bool) -> Result<u32, ClientError> {
    if ok { Ok(7) } else { Err(ClientError::Down) }
}

// --- no fallback: the function's own error, `From<BreakerError>` for the breaker's reasons ---

#[circuit_breaker(name = "mr.plain")]
async fn plain(ok: bool) -> Result<u32, ClientError> {
    outcome(ok)
}

#[tokio::test]
async fn success_and_failure_are_recorded() {
    let breaker = register("mr.plain");
    assert_eq!(plain(true).await, Ok(7));
    assert_eq!(plain(false).await, Err(ClientError::Down));
    let m = breaker.metrics();
    assert_eq!(
        (m.number_of_successful_calls(), m.number_of_failed_calls()),
        (1, 1)
    );
}

#[tokio::test]
async fn not_permitted_without_fallback_converts_with_from() {
    let breaker = register("mr.plain.open");
    #[circuit_breaker(name = "mr.plain.open")]
    async fn guarded(calls: &AtomicU32) -> Result<u32, ClientError> {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(1)
    }
    breaker.transition_to_forced_open_state().unwrap();
    let calls = AtomicU32::new(0);
    match guarded(&calls).await {
        Err(ClientError::Breaker(BreakerError::NotPermitted(rejected))) => {
            assert_eq!(rejected.breaker_name(), "mr.plain.open");
            assert_eq!(rejected.state(), State::ForcedOpen);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the body must not run");
    assert_eq!(breaker.metrics().number_of_not_permitted_calls(), 1);
}

// --- predicates ---

fn is_down(e: &ClientError) -> bool {
    matches!(e, ClientError::Down)
}

#[circuit_breaker(
    name = "mr.predicates",
    ignore = |e: &ClientError| matches!(e, ClientError::NotFound),
    record = is_down,
    record_result = |v: &u32| *v == 503,
)]
async fn classified(r: Result<u32, ClientError>) -> Result<u32, ClientError> {
    r
}

#[tokio::test]
async fn ignore_record_and_result_predicates() {
    let breaker = register("mr.predicates");
    // Ignored: nothing recorded, the error still returned.
    assert_eq!(
        classified(Err(ClientError::NotFound)).await,
        Err(ClientError::NotFound)
    );
    assert_eq!(breaker.metrics().number_of_buffered_calls(), 0);
    // `record` matches: a failure.
    assert_eq!(
        classified(Err(ClientError::Down)).await,
        Err(ClientError::Down)
    );
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
    // A result recorded as a failure is still returned as `Ok`.
    assert_eq!(classified(Ok(503)).await, Ok(503));
    assert_eq!(breaker.metrics().number_of_failed_calls(), 2);
    assert_eq!(classified(Ok(200)).await, Ok(200));
    assert_eq!(breaker.metrics().number_of_successful_calls(), 1);
}

// --- timeout (tokio's paused clock: the breaker's time limit runs on tokio::time) ---

#[circuit_breaker(name = "mr.timeout")]
async fn slow(delay: Duration) -> Result<u32, ClientError> {
    tokio::time::sleep(delay).await;
    Ok(1)
}

#[circuit_breaker(name = "mr.timeout.fallback", fallback = "slow_fallback")]
async fn slow_with_fallback(delay: Duration) -> Result<u32, ClientError> {
    tokio::time::sleep(delay).await;
    Ok(1)
}

fn slow_fallback(delay: Duration, cause: Failure<ClientError>) -> Result<u32, ClientError> {
    assert!(cause.is_timeout(), "{cause:?}");
    Ok(delay.as_secs() as u32)
}

#[tokio::test(start_paused = true)]
async fn timeout_is_a_failure_and_reaches_the_fallback() {
    let b1 = register_with("mr.timeout", |b| b.timeout(Duration::from_secs(4)));
    let b2 = register_with("mr.timeout.fallback", |b| b.timeout(Duration::from_secs(4)));
    assert_eq!(slow(Duration::from_secs(1)).await, Ok(1));
    match slow(Duration::from_secs(10)).await {
        Err(ClientError::Breaker(BreakerError::Timeout(t))) => {
            assert_eq!(t.after(), Duration::from_secs(4))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b1.metrics().number_of_failed_calls(), 1);
    assert_eq!(slow_with_fallback(Duration::from_secs(10)).await, Ok(10));
    assert_eq!(b2.metrics().number_of_failed_calls(), 1);
}

#[circuit_breaker(name = "mr.timeout.reload")]
async fn slow_counting_drops(delay: Duration, dropped: &AtomicU32) -> Result<u32, ClientError> {
    let _body = CountsDrop(dropped);
    tokio::time::sleep(delay).await;
    Ok(1)
}

/// Counts its drops: the guarded body's locals are dropped however the call ends.
struct CountsDrop<'a>(&'a AtomicU32);

impl Drop for CountsDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The generated code reads the time limit on every call (a reload sets or removes it), and a
/// timed call cancelled while it waits drops its body and gives its permit back.
#[tokio::test(start_paused = true)]
async fn time_limit_follows_reloads_and_a_cancelled_timed_call_drops_its_body() {
    let config = |timeout: Option<Duration>| {
        let b = CircuitBreakerConfig::builder()
            .sliding_window_size(10)
            .minimum_number_of_calls(10)
            .failure_rate_threshold(50.0);
        match timeout {
            Some(t) => b.timeout(t),
            None => b,
        }
        .build()
        .expect("valid config")
    };
    let breaker = register("mr.timeout.reload");
    let dropped = AtomicU32::new(0);
    // No time limit: a slow call ends on its own.
    assert_eq!(
        slow_counting_drops(Duration::from_secs(10), &dropped).await,
        Ok(1)
    );
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    assert_eq!(breaker.metrics().number_of_successful_calls(), 1);
    // A reload (which starts a new window) sets one: the same call site now stops the body after 4 s.
    breaker.reconfigure(config(Some(Duration::from_secs(4))));
    match slow_counting_drops(Duration::from_secs(10), &dropped).await {
        Err(ClientError::Breaker(BreakerError::Timeout(t))) => {
            assert_eq!(t.after(), Duration::from_secs(4))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 2);
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
    // A timed call dropped while it waits: its body is dropped in place, nothing is recorded.
    {
        let mut call = pin!(slow_counting_drops(Duration::from_secs(10), &dropped));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
    assert_eq!(breaker.metrics().number_of_successful_calls(), 0);
    assert_eq!(breaker.metrics().number_of_buffered_calls(), 1);
    // A reload removes it: slow calls end on their own again.
    breaker.reconfigure(config(None));
    assert_eq!(
        slow_counting_drops(Duration::from_secs(10), &dropped).await,
        Ok(1)
    );
    assert_eq!(dropped.load(Ordering::SeqCst), 4);
    assert_eq!(breaker.metrics().number_of_successful_calls(), 1);
    assert_eq!(breaker.metrics().number_of_failed_calls(), 0);
}

// --- panic and cancellation ---

#[circuit_breaker(name = "mr.panic")]
async fn panics() -> Result<u32, ClientError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_is_recorded_as_a_failure_and_resumes() {
    let breaker = register("mr.panic");
    let joined = tokio::spawn(panics()).await;
    assert!(
        joined.unwrap_err().is_panic(),
        "the panic must reach the caller"
    );
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
}

#[circuit_breaker(name = "mr.cancel")]
async fn waits(rx: tokio::sync::oneshot::Receiver<()>) -> Result<u32, ClientError> {
    let _ = rx.await;
    Ok(1)
}

#[tokio::test]
async fn a_cancelled_call_releases_its_half_open_permit() {
    let breaker = register_with("mr.cancel", |b| {
        b.permitted_number_of_calls_in_half_open_state(1)
    });
    breaker.transition_to_open_state().unwrap();
    breaker.transition_to_half_open_state().unwrap();
    let (_tx, rx) = tokio::sync::oneshot::channel();
    {
        // Poll once: the call holds the only HALF_OPEN permit and waits; then drop it.
        let mut call = pin!(waits(rx));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert!(
            !breaker.try_acquire_permission(),
            "the single permit is taken"
        );
    }
    // A leaked permit would reject this call.
    let (tx, rx) = tokio::sync::oneshot::channel();
    tx.send(()).unwrap();
    assert_eq!(waits(rx).await, Ok(1));
    assert_eq!(breaker.state(), State::Closed);
}

// --- fallback forms ---

struct Orders {
    down: bool,
    fallbacks: AtomicU32,
}

/// Not `Clone`: arguments are borrowed by the body and handed to the fallback, never cloned.
#[derive(Debug)]
struct UserId(String);

impl Orders {
    /// Sync method fallback.
    #[circuit_breaker(name = "mr.fb.sync", fallback = "empty")]
    async fn sync_fb(&self, user: UserId) -> Result<Vec<String>, ClientError> {
        if self.down {
            Err(ClientError::Down)
        } else {
            Ok(vec![user.0.clone()])
        }
    }

    fn empty(&self, user: UserId, cause: Failure<ClientError>) -> Result<Vec<String>, ClientError> {
        self.fallbacks.fetch_add(1, Ordering::SeqCst);
        assert!(matches!(
            cause,
            Failure::Failed(ClientError::Down) | Failure::NotPermitted(_)
        ));
        Ok(vec![format!("fallback for {}", user.0)])
    }

    /// Async method fallback, by explicit `Self::` path.
    #[circuit_breaker(name = "mr.fb.async", fallback = "Self::empty_async")]
    async fn async_fb(&self, user: &str) -> Result<Vec<String>, ClientError> {
        if self.down {
            Err(ClientError::Down)
        } else {
            Ok(vec![user.to_owned()])
        }
    }

    async fn empty_async(
        &self,
        user: &str,
        cause: Failure<ClientError>,
    ) -> Result<Vec<String>, ClientError> {
        tokio::task::yield_now().await;
        self.fallbacks.fetch_add(1, Ordering::SeqCst);
        Ok(vec![format!("{user}: {}", cause.outcome())])
    }

    /// Cause-only fallback: receiver and cause.
    #[circuit_breaker(name = "mr.fb.cause", fallback = "on_cause", fallback_args = "cause")]
    async fn cause_only(&self, _user: &str, _page: u32) -> Result<Vec<String>, ClientError> {
        Err(ClientError::Down)
    }

    fn on_cause(&self, cause: Failure<ClientError>) -> Result<Vec<String>, ClientError> {
        Ok(vec![cause.outcome().to_string()])
    }

    /// `&mut self`.
    #[circuit_breaker(name = "mr.fb.mut", fallback = "reset")]
    async fn bump(&mut self, by: u32) -> Result<u32, ClientError> {
        self.fallbacks.fetch_add(by, Ordering::SeqCst);
        Err(ClientError::Down)
    }

    fn reset(&mut self, by: u32, _cause: Failure<ClientError>) -> Result<u32, ClientError> {
        *self.fallbacks.get_mut() -= by;
        Ok(0)
    }

    /// `self` by value.
    #[circuit_breaker(name = "mr.fb.owned", fallback = "into_default")]
    async fn consume(self) -> Result<u32, ClientError> {
        if self.down {
            Err(ClientError::Down)
        } else {
            Ok(1)
        }
    }

    async fn into_default(self, _cause: Failure<ClientError>) -> Result<u32, ClientError> {
        Ok(self.fallbacks.into_inner() + 100)
    }
}

#[tokio::test]
async fn method_fallbacks_sync_async_cause_only_mut_and_owned() {
    for name in [
        "mr.fb.sync",
        "mr.fb.async",
        "mr.fb.cause",
        "mr.fb.mut",
        "mr.fb.owned",
    ] {
        register(name);
    }
    let up = Orders {
        down: false,
        fallbacks: AtomicU32::new(0),
    };
    assert_eq!(
        up.sync_fb(UserId("u1".into())).await,
        Ok(vec!["u1".to_owned()])
    );
    assert_eq!(up.async_fb("u1").await, Ok(vec!["u1".to_owned()]));
    assert_eq!(
        up.fallbacks.load(Ordering::SeqCst),
        0,
        "no fallback on success"
    );

    let mut down = Orders {
        down: true,
        fallbacks: AtomicU32::new(0),
    };
    assert_eq!(
        down.sync_fb(UserId("u2".into())).await,
        Ok(vec!["fallback for u2".to_owned()])
    );
    assert_eq!(
        down.async_fb("u2").await,
        Ok(vec!["u2: failure".to_owned()])
    );
    assert_eq!(
        down.cause_only("u2", 1).await,
        Ok(vec!["failure".to_owned()])
    );
    assert_eq!(down.fallbacks.load(Ordering::SeqCst), 2);
    assert_eq!(down.bump(5).await, Ok(0));
    assert_eq!(down.fallbacks.load(Ordering::SeqCst), 2);
    assert_eq!(down.consume().await, Ok(102));

    // Not permitted reaches the fallback too.
    Registry::global()
        .circuit_breaker("mr.fb.async")
        .transition_to_forced_open_state()
        .unwrap();
    let up = Orders {
        down: false,
        fallbacks: AtomicU32::new(0),
    };
    assert_eq!(
        up.async_fb("u3").await,
        Ok(vec!["u3: not_permitted".to_owned()])
    );
}

/// Free functions: a sync fallback and an async one.
#[circuit_breaker(name = "mr.free", fallback = "free_sync")]
async fn free(user: String, ok: bool) -> Result<String, ClientError> {
    if ok {
        Ok(user.clone())
    } else {
        Err(ClientError::NotFound)
    }
}

fn free_sync(user: String, _ok: bool, cause: Failure<ClientError>) -> Result<String, ClientError> {
    Ok(format!("{user}/{}", cause.outcome()))
}

#[circuit_breaker(name = "mr.free.async", fallback = "free_async", ignore = |e: &ClientError| *e == ClientError::NotFound)]
async fn free_ignored(user: String) -> Result<String, ClientError> {
    let _ = &user;
    Err(ClientError::NotFound)
}

async fn free_async(user: String, cause: Failure<ClientError>) -> Result<String, ClientError> {
    Ok(format!("{user}/{:?}", cause.into_error()))
}

#[tokio::test]
async fn free_function_fallbacks_run_for_any_failure_including_ignored() {
    let b = register("mr.free");
    let ignored = register("mr.free.async");
    assert_eq!(free("a".into(), true).await, Ok("a".into()));
    assert_eq!(free("a".into(), false).await, Ok("a/failure".into()));
    assert_eq!(b.metrics().number_of_failed_calls(), 1);
    // Resilience4j: an ignored error still goes to the fallback, and records nothing.
    assert_eq!(
        free_ignored("b".into()).await,
        Ok("b/Some(NotFound)".into())
    );
    assert_eq!(ignored.metrics().number_of_buffered_calls(), 0);
}

// --- generics, impl Trait, lifetimes ---

#[circuit_breaker(name = "mr.generic", fallback = "generic_fallback")]
async fn generic<'a, T>(
    prefix: &'a str,
    value: T,
    extra: impl AsRef<str>,
) -> Result<String, ClientError>
where
    T: std::fmt::Display + Send + Clone,
{
    if prefix.is_empty() {
        return Err(ClientError::Down);
    }
    Ok(format!("{prefix}{value}{}", extra.as_ref()))
}

fn generic_fallback<T: std::fmt::Display>(
    _prefix: &str,
    value: T,
    extra: impl AsRef<str>,
    _cause: Failure<ClientError>,
) -> Result<String, ClientError> {
    Ok(format!("fb{value}{}", extra.as_ref()))
}

#[tokio::test]
async fn generic_functions() {
    register("mr.generic");
    assert_eq!(generic("x", 1, "!").await, Ok("x1!".into()));
    assert_eq!(generic("", 2u8, String::from("?")).await, Ok("fb2?".into()));
}

// --- traits: native async fn in traits, default methods, #[async_trait] ---

trait OrderClient {
    async fn orders(&self, user: &str) -> Result<Vec<String>, ClientError>;

    #[circuit_breaker(name = "mr.trait.default")]
    async fn count(&self, user: &str) -> Result<usize, ClientError> {
        self.orders(user).await.map(|o| o.len())
    }
}

struct Native;

impl OrderClient for Native {
    #[circuit_breaker(name = "mr.trait.native", fallback = "none")]
    async fn orders(&self, user: &str) -> Result<Vec<String>, ClientError> {
        if user == "down" {
            Err(ClientError::Down)
        } else {
            Ok(vec![user.to_owned()])
        }
    }
}

impl Native {
    fn none(&self, _user: &str, _cause: Failure<ClientError>) -> Result<Vec<String>, ClientError> {
        Ok(Vec::new())
    }
}

#[async_trait::async_trait]
trait DynClient: Send + Sync {
    async fn orders(&self, user: &str) -> Result<Vec<String>, ClientError>;
}

struct ViaAsyncTrait;

#[async_trait::async_trait]
impl DynClient for ViaAsyncTrait {
    #[circuit_breaker(name = "mr.trait.async_trait", fallback = "cached")]
    async fn orders(&self, user: &str) -> Result<Vec<String>, ClientError> {
        if user == "down" {
            Err(ClientError::Down)
        } else {
            Ok(vec![user.to_owned()])
        }
    }
}

impl ViaAsyncTrait {
    async fn cached(
        &self,
        user: &str,
        _cause: Failure<ClientError>,
    ) -> Result<Vec<String>, ClientError> {
        Ok(vec![format!("cached {user}")])
    }
}

#[tokio::test]
async fn trait_methods_native_default_and_async_trait() {
    let native = register("mr.trait.native");
    register("mr.trait.default");
    let dyn_breaker = register("mr.trait.async_trait");
    assert_eq!(Native.orders("a").await, Ok(vec!["a".to_owned()]));
    assert_eq!(Native.orders("down").await, Ok(vec![]));
    assert_eq!(native.metrics().number_of_failed_calls(), 1);
    assert_eq!(Native.count("a").await, Ok(1));

    let client: Box<dyn DynClient> = Box::new(ViaAsyncTrait);
    assert_eq!(client.orders("a").await, Ok(vec!["a".to_owned()]));
    assert_eq!(
        client.orders("down").await,
        Ok(vec!["cached down".to_owned()])
    );
    let m = dyn_breaker.metrics();
    assert_eq!(
        (m.number_of_successful_calls(), m.number_of_failed_calls()),
        (1, 1)
    );
}

// --- `registry = ...` ---

static OTHER: LazyLock<Registry> = LazyLock::new(Registry::new);

#[circuit_breaker(name = "mr.registry", registry = OTHER)]
async fn in_other_registry() -> Result<u32, ClientError> {
    Ok(1)
}

#[tokio::test]
async fn registry_option_uses_that_registry() {
    assert_eq!(in_other_registry().await, Ok(1));
    assert_eq!(
        OTHER
            .find("mr.registry")
            .expect("created in OTHER")
            .metrics()
            .number_of_successful_calls(),
        1
    );
    assert!(
        Registry::global().find("mr.registry").is_none(),
        "not in the global registry"
    );
}

// --- the site caches its breaker: one registry lookup per call site ---

#[tokio::test]
async fn breaker_trips_through_the_macro() {
    let breaker = register_with("mr.trip", |b| {
        b.sliding_window_size(2).minimum_number_of_calls(2)
    });
    #[circuit_breaker(name = "mr.trip")]
    async fn fails() -> Result<u32, ClientError> {
        Err(ClientError::Down)
    }
    let _ = fails().await;
    let _ = fails().await;
    assert_eq!(breaker.state(), State::Open);
    assert!(matches!(
        fails().await,
        Err(ClientError::Breaker(BreakerError::NotPermitted(_)))
    ));
}

// --- Resilience4j: an `Ok` recorded as a failure does not trigger the fallback ---

#[circuit_breaker(name = "mr.result.fallback", record_result = |v: &u32| *v == 503, fallback = "never")]
async fn status(code: u32) -> Result<u32, ClientError> {
    Ok(code)
}

fn never(_code: u32, cause: Failure<ClientError>) -> Result<u32, ClientError> {
    panic!("the fallback must not run for an Ok value: {cause:?}")
}

#[tokio::test]
async fn ok_recorded_as_failure_is_returned_without_fallback() {
    let breaker = register("mr.result.fallback");
    assert_eq!(status(503).await, Ok(503));
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
}
