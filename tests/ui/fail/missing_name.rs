use fusebox::circuit_breaker;

#[circuit_breaker]
async fn no_args() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[circuit_breaker(fallback = "f")]
async fn no_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

fn main() {}
