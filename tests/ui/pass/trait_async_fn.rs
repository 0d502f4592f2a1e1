//! Native `async fn` in traits and trait impls.
use fusebox::{BreakerError, Failure, circuit_breaker, traced};

pub trait Orders {
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError>;

    #[traced]
    #[circuit_breaker(name = "trait.default", fallback = "Self::none")]
    async fn first(&self, user: &str) -> Result<Option<String>, BreakerError> {
        Ok(self.get(user).await?.into_iter().next())
    }

    fn none(&self, _user: &str, _cause: Failure<BreakerError>) -> Result<Option<String>, BreakerError> {
        Ok(None)
    }
}

struct Client;

impl Orders for Client {
    #[circuit_breaker(name = "trait.get")]
    #[traced(err)]
    async fn get(&self, user: &str) -> Result<Vec<String>, BreakerError> {
        Ok(vec![user.to_owned()])
    }
}

fn main() {
    let _ = Client.first("u");
}
