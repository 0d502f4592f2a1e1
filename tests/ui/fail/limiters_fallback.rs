use fusebox::{BreakerError, Failure, rate_limiter, time_limiter};

// No such fallback: reported at the literal.
#[rate_limiter(name = "orders", fallback = "bussy")]
async fn a(user: &str) -> Result<String, BreakerError> {
    Ok(user.to_owned())
}

fn busy(_user: &str, _cause: Failure<BreakerError>) -> Result<String, BreakerError> {
    Ok(String::new())
}

// The fallback forgets the cause.
#[time_limiter(name = "orders", fallback = "no_cause")]
async fn b(user: &str) -> Result<String, BreakerError> {
    Ok(user.to_owned())
}

fn no_cause(_user: &str) -> Result<String, BreakerError> {
    Ok(String::new())
}

fn main() {
    let _ = busy;
}
