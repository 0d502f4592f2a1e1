// The body runs once per attempt: it cannot consume a by-value argument. The compiler names the
// argument ("value moved here, in previous iteration of loop"); borrow it, or clone it in the
// body.
use fusebox::{BreakerError, retry};

#[retry(name = "orders")]
async fn get_orders(user: String) -> Result<Vec<String>, BreakerError> {
    Ok(vec![user])
}

fn main() {}
