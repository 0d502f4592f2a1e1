use fusebox::{circuit_breaker, traced};

#[circuit_breaker(name = "")]
async fn empty() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[traced(name = "  ")]
async fn blank() {}

fn main() {}
