// Errors in the body land on the user's lines, not on the attribute.
use fusebox::{BreakerError, circuit_breaker, traced};

#[traced]
#[circuit_breaker(name = "orders")]
async fn wrong_value() -> Result<u32, BreakerError> {
    Ok("seven")
}

#[circuit_breaker(name = "orders")]
async fn wrong_question_mark() -> Result<u32, BreakerError> {
    let n: u32 = "7".parse()?;
    Ok(n)
}

fn main() {}
