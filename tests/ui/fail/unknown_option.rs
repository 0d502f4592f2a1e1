use fusebox::{circuit_breaker, traced};

#[circuit_breaker(name = "orders", fallbak = "empty")]
async fn typo() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[circuit_breaker(name = "orders", fallbackMethod = "empty")]
async fn spring_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[traced(knd = "client")]
async fn traced_typo() {}

#[traced(skip(pasword))]
async fn skip_unknown(password: &str) { let _ = password; }

fn main() {}
