use fusebox::{BreakerError, Failure, bulkhead};

// No such fallback: reported at the literal.
#[bulkhead(name = "inventory", fallback = "ful")]
async fn missing_fallback(item: &str) -> Result<String, BreakerError> {
    Ok(item.to_owned())
}

fn full(_item: &str, _cause: Failure<BreakerError>) -> Result<String, BreakerError> {
    Ok(String::new())
}

// The fallback forgets the cause.
#[bulkhead(name = "inventory", fallback = "no_cause")]
async fn b(item: &str) -> Result<String, BreakerError> {
    Ok(item.to_owned())
}

fn no_cause(_item: &str) -> Result<String, BreakerError> {
    Ok(String::new())
}

fn main() {
    let _ = full;
}
