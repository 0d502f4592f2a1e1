use fusebox::{rate_limiter, time_limiter};

// Twice the same layer.
#[rate_limiter(name = "a")]
#[rate_limiter(name = "b")]
async fn twice() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Two layers at the same order.
#[time_limiter(name = "t", order = 5)]
#[fusebox::circuit_breaker(name = "c", order = 5)]
async fn same_order() -> Result<(), fusebox::BreakerError> { Ok(()) }

// A time limiter needs an async fn (Resilience4j's needs a CompletionStage).
#[time_limiter(name = "t")]
fn not_async() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Without a fallback the error type must take a refused call.
#[rate_limiter(name = "r")]
async fn no_from() -> Result<(), std::io::Error> { Ok(()) }

// The drain predicate is typed by the result: it must own its data (`'static` data is fine).
#[rate_limiter(name = "r")]
async fn static_ok(user: &str) -> Result<&'static str, fusebox::BreakerError> {
    Ok(if user.is_empty() { "" } else { "x" })
}

#[rate_limiter(name = "r2")]
async fn borrowed_error<'a>(user: &'a str) -> Result<u32, &'a str> { Err(user) }

fn main() {}
