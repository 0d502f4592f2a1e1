use fusebox::retry;

// A typo: the nearest option is suggested.
#[retry(name = "orders", fallbak = "empty")]
async fn typo() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Resilience4j's annotation attribute.
#[retry(name = "orders", fallbackMethod = "empty")]
async fn spring_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

// A property of the retry's config, not of the attribute.
#[retry(name = "orders", max_attempts = 5)]
async fn config_property() -> Result<(), fusebox::BreakerError> { Ok(()) }

// No name; `order` is an integer.
#[retry(order = "first")]
async fn no_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

fn main() {}
