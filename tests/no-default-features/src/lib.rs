//! A user's crate with `fusebox = { default-features = false }`: the attributes on a client
//! method, resolved against a registry loaded from a TOML file. `tests/lean.rs` runs it and
//! checks the dependency tree.

use fusebox::{BreakerError, Failure, Registry, circuit_breaker, traced};

/// Why a call to the order service failed.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The service answered an error.
    Down,
    /// The breaker did not permit the call or cut it off.
    Breaker(BreakerError),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Down => f.write_str("order-service is down"),
            Self::Breaker(error) => write!(f, "{error}"),
        }
    }
}

impl From<BreakerError> for ClientError {
    fn from(error: BreakerError) -> Self {
        Self::Breaker(error)
    }
}

/// A client of the order service whose breakers live in `registry`.
#[derive(Debug)]
pub struct OrderClient {
    /// Where the `orders` breaker is configured (a file, in the test).
    pub registry: &'static Registry,
    /// Whether the service is up.
    pub healthy: bool,
}

impl OrderClient {
    /// The orders of `user_id`; the fallback answers none when the call fails or is not
    /// permitted.
    ///
    /// # Errors
    /// Never: the fallback answers.
    #[traced(kind = "client", remote_service = "order-service", fields(user.id = %user_id), err)]
    #[circuit_breaker(name = "orders", fallback = "no_orders", registry = self.registry)]
    pub async fn orders(&self, user_id: &str) -> Result<Vec<String>, ClientError> {
        tokio_free_yield().await;
        if self.healthy {
            Ok(vec![format!("{user_id}-1")])
        } else {
            Err(ClientError::Down)
        }
    }

    async fn no_orders(
        &self,
        _user_id: &str,
        _cause: Failure<ClientError>,
    ) -> Result<Vec<String>, ClientError> {
        Ok(Vec::new())
    }

    /// The same call without a fallback: the breaker's reasons become [`ClientError::Breaker`].
    ///
    /// # Errors
    /// [`ClientError::Down`] from the service, or [`ClientError::Breaker`] when not permitted.
    #[circuit_breaker(name = "orders", registry = self.registry)]
    #[traced(level = "debug")]
    pub async fn orders_or_error(&self) -> Result<u32, ClientError> {
        if self.healthy {
            Ok(1)
        } else {
            Err(ClientError::Down)
        }
    }
}

/// Yields once without a runtime dependency in the library: the body is really asynchronous.
async fn tokio_free_yield() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}
