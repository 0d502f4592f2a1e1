use fusebox::{BreakerError, bulkhead};

// Twice the same layer.
#[bulkhead(name = "a")]
#[bulkhead(name = "b")]
async fn twice() -> Result<(), BreakerError> { Ok(()) }

// Two layers at the same order.
#[bulkhead(name = "b", order = 7)]
#[fusebox::retry(name = "r", order = 7)]
async fn same_order() -> Result<(), BreakerError> { Ok(()) }

// A bulkhead needs an async fn.
#[bulkhead(name = "b")]
fn not_async() -> Result<(), BreakerError> { Ok(()) }

// Without a fallback the error type must take a rejected call.
#[bulkhead(name = "b")]
async fn no_from() -> Result<(), std::io::Error> { Ok(()) }

fn main() {}
