use fusebox::bulkhead;

// Resilience4j's thread-pool bulkhead is not provided: an async call holds no thread.
#[bulkhead(name = "inventory", type = "THREADPOOL")]
async fn thread_pool() -> Result<(), fusebox::BreakerError> { Ok(()) }

// An unknown type: the nearest is suggested.
#[bulkhead(name = "inventory", type = "SEMAFORE")]
async fn typo_type() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Resilience4j's annotation attribute.
#[bulkhead(name = "inventory", fallbackMethod = "full")]
async fn spring_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

// A property of the bulkhead's config, not of the attribute.
#[bulkhead(name = "inventory", max_concurrent_calls = 10)]
async fn config_property() -> Result<(), fusebox::BreakerError> { Ok(()) }

// No name.
#[bulkhead(fallback = "full")]
async fn no_name() -> Result<(), fusebox::BreakerError> { Ok(()) }

fn main() {}
