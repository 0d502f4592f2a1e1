//! `&self`, `&mut self`, `self`, `pub(crate)`, doc comments and other attributes kept.
#![deny(missing_docs)]
//! Crate docs.

use fusebox::{BreakerError, Failure, circuit_breaker, traced};

/// A client.
pub struct Client {
    calls: u32,
}

impl Client {
    /// Documented and traced: the doc comment survives both attributes.
    #[traced(kind = "client", remote_service = "order-service")]
    #[circuit_breaker(name = "methods.get", fallback = "empty")]
    #[must_use = "orders are the point"]
    pub async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError> {
        Ok(vec![user.to_owned()])
    }

    fn empty(&self, _user: &str, _cause: Failure<BreakerError>) -> Result<Vec<String>, BreakerError> {
        Ok(Vec::new())
    }

    /// `&mut self` with an async fallback, traced (the fallback runs in its own span).
    #[circuit_breaker(name = "methods.bump", fallback = "undo")]
    #[traced(fields(calls = self.calls))]
    pub(crate) async fn bump(&mut self) -> Result<u32, BreakerError> {
        self.calls += 1;
        Ok(self.calls)
    }

    async fn undo(&mut self, _cause: Failure<BreakerError>) -> Result<u32, BreakerError> {
        self.calls -= 1;
        Ok(self.calls)
    }

    /// `self` by value, cause-only fallback.
    #[traced]
    #[circuit_breaker(name = "methods.into", fallback = "into_fallback", fallback_args = "cause")]
    pub async fn into_calls(self, _extra: u32) -> Result<u32, BreakerError> {
        Ok(self.calls)
    }

    fn into_fallback(self, _cause: Failure<BreakerError>) -> Result<u32, BreakerError> {
        Ok(0)
    }

    /// An associated function, fallback by `Self::` path.
    #[circuit_breaker(name = "methods.assoc", fallback = "Self::assoc_fallback")]
    pub async fn assoc(n: u32) -> Result<u32, BreakerError> {
        Ok(n)
    }

    fn assoc_fallback(_n: u32, _cause: Failure<BreakerError>) -> Result<u32, BreakerError> {
        Ok(0)
    }
}

fn main() {
    let _ = Client { calls: 0 };
}
