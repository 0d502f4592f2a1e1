use fusebox::{BreakerError, Failure, circuit_breaker};

#[circuit_breaker(name = "orders", fallback = "fb")]
async fn destructured((a, b): (u32, u32), _: bool) -> Result<u32, BreakerError> {
    Ok(a + b)
}

fn fb(_pair: (u32, u32), _flag: bool, _cause: Failure<BreakerError>) -> Result<u32, BreakerError> {
    Ok(0)
}

fn main() {}
