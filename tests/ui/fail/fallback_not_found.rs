use fusebox::{BreakerError, Failure, circuit_breaker};

#[circuit_breaker(name = "orders", fallback = "empty_ordrs")]
async fn free(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

fn empty_orders(_user: &str, _cause: Failure<BreakerError>) -> Result<Vec<String>, BreakerError> {
    Ok(Vec::new())
}

struct Client;

impl Client {
    #[circuit_breaker(name = "orders", fallback = "empty_list")]
    async fn method(&self, user: &str) -> Result<Vec<String>, BreakerError> {
        Ok(vec![user.to_owned()])
    }
}

fn main() {
    let _ = empty_orders;
}
