//! `#[retry]` alone and composed: methods (`&self`, `&mut self`), `#[async_trait]` impls and
//! default methods, `#[traced]` in any position, generics, `registry`, `crate`, `order`, aliases,
//! `?` and `return` in the body, and `Send` futures.
use fusebox::{BreakerError, Failure, Registry, circuit_breaker, retry, traced};
use std::fmt::Display;
use std::sync::LazyLock;

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

type Res<T> = Result<T, BreakerError>;

struct Client {
    sent: u32,
}

impl Client {
    #[traced(kind = "client")]
    #[retry(name = "pass.retry.get", fallback = "empty")]
    #[circuit_breaker(name = "pass.cb.get", fallback = "empty")]
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError> {
        if user.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![user.to_owned()])
    }

    async fn empty(&self, _user: &str, _cause: Failure<BreakerError>) -> Result<Vec<String>, BreakerError> {
        Ok(Vec::new())
    }

    #[circuit_breaker(name = "pass.cb.send", order = 1, registry = REGISTRY)]
    #[retry(name = "pass.retry.send", registry = REGISTRY, fallback = "Self::unsent", fallback_args = "cause")]
    #[traced]
    async fn send(&mut self, n: u32) -> Res<u32> {
        self.sent += n;
        Ok(self.sent)
    }

    fn unsent(&mut self, _cause: Failure<BreakerError>) -> Res<u32> {
        Ok(0)
    }
}

#[async_trait::async_trait]
pub trait Orders: Send + Sync {
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError>;

    #[retry(name = "pass.retry.default")]
    async fn count(&self, user: &str) -> Result<usize, BreakerError> {
        Ok(self.get(user).await?.len())
    }
}

#[async_trait::async_trait]
impl Orders for Client {
    #[retry(name = "pass.retry.trait", fallback = "empty")]
    #[traced(fields(user = user))]
    #[circuit_breaker(name = "pass.cb.trait")]
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError> {
        Ok(vec![user.to_owned()])
    }
}

#[retry(name = "pass.generic", crate = "::fusebox")]
async fn generic<T: Display + Send + Sync>(value: T, extra: impl AsRef<str> + Send + Sync) -> Result<String, BreakerError> {
    let n: u32 = "7".parse().map_err(|_| unreachable!())?;
    Ok(format!("{value}{}{n}", extra.as_ref()))
}

#[fusebox::retry(name = "pass.copy")]
async fn by_value_copy(n: u32, flag: bool) -> Res<u32> {
    // By-value `Copy` arguments can be used as values in every attempt.
    Ok(if flag { n } else { n + 1 })
}

fn assert_send<F: std::future::Future + Send>(_: F) {}

fn main() {
    let client = Client { sent: 0 };
    assert_send(client.get("u"));
    assert_send(generic(1, "x"));
    assert_send(by_value_copy(1, true));
    let _ = Client::send;
}
