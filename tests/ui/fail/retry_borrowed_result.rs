// The retry's predicates are typed by the result and error types, so they must be `'static`: a
// result that borrows an argument cannot be retried by `#[retry]`.
use fusebox::{BreakerError, retry};

#[retry(name = "orders")]
async fn first<'a>(items: &'a [String]) -> Result<&'a String, BreakerError> {
    items.first().ok_or_else(|| unreachable!())
}

fn main() {}
