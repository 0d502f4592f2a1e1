use fusebox::{circuit_breaker, traced};

#[circuit_breaker(name = "orders")]
fn sync_fn() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[traced]
fn sync_traced() {}

#[circuit_breaker(name = "orders")]
struct NotAFunction;

fn main() {}
