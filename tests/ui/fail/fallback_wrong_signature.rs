use fusebox::{BreakerError, Failure, circuit_breaker};

// The fallback forgets the cause.
#[circuit_breaker(name = "orders", fallback = "no_cause")]
async fn a(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

fn no_cause(_user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(Vec::new())
}

// The fallback returns another type.
#[circuit_breaker(name = "orders", fallback = "wrong_return")]
async fn b(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

async fn wrong_return(_user: &str, _cause: Failure<BreakerError>) -> Option<Vec<String>> {
    None
}

fn main() {}
