use fusebox::{circuit_breaker, traced};

#[circuit_breaker(name = "orders", name = "users")]
async fn twice() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[traced(err, kind = "client", err)]
async fn flags_twice() -> Result<(), fusebox::BreakerError> { Ok(()) }

fn main() {}
