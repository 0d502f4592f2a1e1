//! Generated code must not trigger lints in the user's crate (issue #3). This file denies rustc's
//! and clippy's default, pedantic and nursery lints and uses every form of both attributes; its
//! own code is lint-clean, so any lint comes from an expansion.
//!
//! `cargo test` only compiles it (rustc lints); `cargo clippy --test macros_clippy` checks the
//! clippy lints.
#![deny(warnings, clippy::all, clippy::pedantic, clippy::nursery)]
#![allow(clippy::future_not_send)] // `impl Display` arguments below are deliberately not `Send`.

use fusebox::{BreakerError, Failure, Registry, circuit_breaker, retry, traced};
use std::fmt::Display;
use std::sync::LazyLock;

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

const fn is_transient(error: &BreakerError) -> bool {
    matches!(error, BreakerError::Timeout(_))
}

/// A client.
#[derive(Debug, Default)]
pub struct Client {
    calls: u32,
}

impl Client {
    /// The course example.
    ///
    /// # Errors
    /// Never: the fallback answers.
    #[traced(kind = "client", remote_service = "order-service", fields(user.id = %user_id), err)]
    #[circuit_breaker(name = "clippy.orders", fallback = "empty_orders")]
    pub async fn get_orders(&self, user_id: &str) -> Result<Vec<String>, BreakerError> {
        tokio::task::yield_now().await;
        Ok(vec![format!("{user_id}/{}", self.calls)])
    }

    async fn empty_orders(
        &self,
        user_id: &str,
        cause: Failure<BreakerError>,
    ) -> Result<Vec<String>, BreakerError> {
        tokio::task::yield_now().await;
        Ok(vec![format!(
            "{user_id}/{}/{}",
            self.calls,
            cause.outcome()
        )])
    }

    /// `&mut self`, sync cause-only fallback, predicates.
    ///
    /// # Errors
    /// Never: the fallback answers.
    #[circuit_breaker(
        name = "clippy.bump",
        fallback = "undo",
        fallback_args = "cause",
        record = is_transient,
        ignore = |e: &BreakerError| matches!(e, BreakerError::NotPermitted(_)),
        record_result = |n: &u32| *n > 1000,
    )]
    #[traced(level = "debug")]
    pub async fn bump(&mut self, by: u32) -> Result<u32, BreakerError> {
        tokio::task::yield_now().await;
        self.calls += by;
        Ok(self.calls)
    }

    fn undo(&mut self, cause: Failure<BreakerError>) -> Result<u32, BreakerError> {
        // The breaker's reasons answer 0; the call's own error is returned as is.
        cause.split().map(|_| {
            self.calls = 0;
            self.calls
        })
    }
}

/// No fallback, another registry, generics.
///
/// # Errors
/// When the breaker rejects the call.
#[circuit_breaker(name = "clippy.generic", registry = REGISTRY)]
pub async fn generic<T: Display + Sync>(value: &T) -> Result<String, BreakerError> {
    tokio::task::yield_now().await;
    Ok(value.to_string())
}

/// Retry around a breaker, traced, with a fallback at each layer.
///
/// # Errors
/// Never: the fallbacks answer.
#[traced(kind = "client")]
#[circuit_breaker(name = "clippy.stack.cb", fallback = "stack_fallback")]
#[retry(name = "clippy.stack.retry", fallback = "stack_fallback", registry = REGISTRY)]
pub async fn stacked(client: &mut Client, by: u32) -> Result<u32, BreakerError> {
    tokio::task::yield_now().await;
    client.calls += by;
    Ok(client.calls)
}

fn stack_fallback(
    client: &mut Client,
    by: u32,
    cause: Failure<BreakerError>,
) -> Result<u32, BreakerError> {
    // The resilience reasons answer the count so far; the call's own error is returned as is.
    cause.split().map(|_| {
        client.calls += by;
        client.calls
    })
}

/// A breaker around a retry, untraced, without fallbacks.
///
/// # Errors
/// When the breaker or the retry gives up.
#[retry(name = "clippy.inner.retry")]
#[circuit_breaker(name = "clippy.outer.cb", order = 1)]
pub async fn breaker_around_retry(value: &str) -> Result<String, BreakerError> {
    tokio::task::yield_now().await;
    Ok(value.to_owned())
}

/// A traced function that may fail: a failure's `Display` describes its span.
///
/// # Errors
/// When `fail` is set.
#[traced(kind = "internal")]
pub async fn may_fail(fail: bool) -> Result<impl Display, std::fmt::Error> {
    tokio::task::yield_now().await;
    if fail { Err(std::fmt::Error) } else { Ok(1) }
}

/// A lookup.
#[async_trait::async_trait]
pub trait Lookup {
    /// Looks `key` up.
    ///
    /// # Errors
    /// When `key` is empty.
    async fn lookup(&self, key: &str) -> Result<String, std::fmt::Error>;
}

#[async_trait::async_trait]
impl Lookup for Client {
    #[traced(kind = "client")]
    async fn lookup(&self, key: &str) -> Result<String, std::fmt::Error> {
        tokio::task::yield_now().await;
        if key.is_empty() {
            Err(std::fmt::Error)
        } else {
            Ok(format!("{key}/{}", self.calls))
        }
    }
}

/// A unit-returning traced function.
#[traced(skip_all)]
pub async fn unit() {
    tokio::task::yield_now().await;
}

#[tokio::test]
async fn compiles_without_lints() {
    let mut client = Client::default();
    assert_eq!(client.get_orders("u").await.unwrap(), ["u/0"]);
    assert_eq!(client.bump(2).await.unwrap(), 2);
    assert_eq!(generic(&1).await.unwrap(), "1");
    unit().await;
    assert_eq!(may_fail(false).await.unwrap().to_string(), "1");
    assert!(may_fail(true).await.is_err());
    assert_eq!(client.lookup("k").await.unwrap(), "k/2");
    assert_eq!(stacked(&mut client, 1).await.unwrap(), 3);
    assert_eq!(breaker_around_retry("v").await.unwrap(), "v");
}
