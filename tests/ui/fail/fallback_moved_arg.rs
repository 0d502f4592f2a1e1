// The body consumes `user`, which the fallback needs: the borrow checker says so, at the
// fallback literal and at the use in the body.
use fusebox::{BreakerError, Failure, circuit_breaker};

#[circuit_breaker(name = "orders", fallback = "empty_orders")]
async fn get_orders(user: String) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user])
}

fn empty_orders(_user: String, _cause: Failure<BreakerError>) -> Result<Vec<String>, BreakerError> {
    Ok(Vec::new())
}

fn main() {}
