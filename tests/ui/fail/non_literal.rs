use fusebox::{circuit_breaker, traced};

const ORDERS: &str = "orders";

#[circuit_breaker(name = ORDERS)]
async fn const_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[circuit_breaker(name = "orders", fallback = empty)]
async fn bare_fallback() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[traced(kind = client, err = true)]
async fn bare_kind() -> Result<(), fusebox::BreakerError> { Ok(()) }

fn main() {}
