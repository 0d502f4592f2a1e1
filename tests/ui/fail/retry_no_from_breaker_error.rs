// Without a fallback, an exhausted retry (or a breaker's rejection inside it) becomes the
// function's own error, which must be built from `BreakerError`.
use fusebox::retry;

#[derive(Debug)]
struct MyError;

#[retry(name = "orders")]
async fn get_orders() -> Result<u32, MyError> {
    Err(MyError)
}

fn main() {}
