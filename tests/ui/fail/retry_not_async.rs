use fusebox::retry;

// Each attempt re-runs the body's future, and the waits are on tokio's timer.
#[retry(name = "orders")]
fn sync_fn() -> Result<(), fusebox::BreakerError> { Ok(()) }

// Failures are `Err` values.
#[retry(name = "orders")]
async fn not_result() -> Option<u32> { None }

fn main() {}
