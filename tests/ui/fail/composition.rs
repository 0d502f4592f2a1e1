use fusebox::{BreakerError, circuit_breaker, retry};

// The same attribute twice.
#[retry(name = "a")]
#[retry(name = "b")]
async fn two_retries() -> Result<(), BreakerError> { Ok(()) }

#[circuit_breaker(name = "a")]
#[retry(name = "r")]
#[circuit_breaker(name = "b")]
async fn two_breakers() -> Result<(), BreakerError> { Ok(()) }

// Two layers at the same place: the nesting would be ambiguous.
#[retry(name = "r", order = 1)]
#[circuit_breaker(name = "b", order = 1)]
async fn same_order() -> Result<(), BreakerError> { Ok(()) }

// An error in another attribute of the stack is reported once, by the first one.
#[retry(name = "r")]
#[circuit_breaker(nmae = "b")]
async fn error_below() -> Result<(), BreakerError> { Ok(()) }

// The function's own shape is checked once for the whole stack.
#[circuit_breaker(name = "b")]
#[retry(name = "r")]
fn not_async_stack() -> Result<(), BreakerError> { Ok(()) }

fn main() {}
