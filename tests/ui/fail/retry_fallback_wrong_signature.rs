use fusebox::{BreakerError, Failure, retry};

// The fallback forgets the cause: reported at the `fallback = "..."` literal.
#[retry(name = "orders", fallback = "no_cause")]
async fn a(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

fn no_cause(_user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(Vec::new())
}

// The fallback returns another type.
#[retry(name = "orders", fallback = "wrong_return")]
async fn b(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

async fn wrong_return(_user: &str, _cause: Failure<BreakerError>) -> Option<Vec<String>> {
    None
}

// The fallback takes the cause of another error type.
#[retry(name = "orders", fallback = "other_cause", fallback_args = "cause")]
async fn c(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

fn other_cause(_cause: Failure<std::io::Error>) -> Result<Vec<String>, BreakerError> {
    Ok(Vec::new())
}

// There is no such fallback.
#[retry(name = "orders", fallback = "missing")]
async fn d(user: &str) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user.to_owned()])
}

fn main() {}
