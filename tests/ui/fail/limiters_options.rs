use fusebox::{rate_limiter, time_limiter};

// A typo: the nearest option is suggested.
#[rate_limiter(name = "orders", permit = 2)]
async fn typo() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Resilience4j's annotation attribute.
#[time_limiter(name = "orders", fallbackMethod = "late")]
async fn spring_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Properties of the limiters' configs, not of the attributes.
#[rate_limiter(name = "orders", limit_for_period = 10)]
async fn rate_config() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[time_limiter(name = "orders", timeout_duration = "2s")]
async fn time_config() -> Result<(), fusebox::BreakerError> { Ok(()) }

// `permits` is at least 1; the time limiter has none.
#[rate_limiter(name = "orders", permits = 0)]
async fn no_permits() -> Result<(), fusebox::BreakerError> { Ok(()) }

#[time_limiter(name = "orders", permits = 1)]
async fn time_permits() -> Result<(), fusebox::BreakerError> { Ok(()) }

// No name; a key set twice.
#[rate_limiter(fallback = "busy", fallback = "busy")]
async fn no_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

fn main() {}
