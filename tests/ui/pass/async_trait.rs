//! `#[async_trait]` impls and default methods, with both attributes in either order.
use fusebox::{BreakerError, Failure, circuit_breaker, traced};

#[async_trait::async_trait]
pub trait Orders: Send + Sync {
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError>;

    #[circuit_breaker(name = "async_trait.default")]
    async fn count(&self, user: &str) -> Result<usize, BreakerError> {
        Ok(self.get(user).await?.len())
    }
}

struct Client;

#[async_trait::async_trait]
impl Orders for Client {
    #[circuit_breaker(name = "async_trait.get", fallback = "empty")]
    #[traced(fields(user = user))]
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError> {
        Ok(vec![user.to_owned()])
    }
}

impl Client {
    async fn empty(&self, _user: &str, _cause: Failure<BreakerError>) -> Result<Vec<String>, BreakerError> {
        Ok(Vec::new())
    }
}

#[async_trait::async_trait(?Send)]
trait Local {
    async fn local(&mut self, n: u32) -> Result<u32, BreakerError>;
}

#[async_trait::async_trait(?Send)]
impl Local for Client {
    #[traced]
    #[circuit_breaker(name = "async_trait.local")]
    async fn local(&mut self, n: u32) -> Result<u32, BreakerError> {
        Ok(n)
    }
}

fn main() {
    let _: Box<dyn Orders> = Box::new(Client);
}
