//! Generic functions, lifetimes, `impl Trait` arguments and returns, where clauses.
use fusebox::{BreakerError, Failure, circuit_breaker, traced};
use std::fmt::Display;

#[traced(fields(n = %value))]
#[circuit_breaker(name = "generics", fallback = "fb")]
async fn generic<'a, T: Display + Send + Sync>(prefix: &'a str, value: T, extra: impl AsRef<str> + Send) -> Result<String, BreakerError>
where
    T: Clone,
{
    Ok(format!("{prefix}{value}{}", extra.as_ref()))
}

fn fb<T: Display>(_prefix: &str, _value: T, _extra: impl AsRef<str>, _cause: Failure<BreakerError>) -> Result<String, BreakerError> {
    Ok(String::new())
}

#[circuit_breaker(name = "borrowed")]
async fn borrowed<'a>(items: &'a [u32]) -> Result<&'a u32, BreakerError> {
    items.first().ok_or_else(|| unreachable!())
}

#[circuit_breaker(name = "impl-return")]
async fn impl_return() -> Result<impl Iterator<Item = u32>, BreakerError> {
    Ok(vec![1, 2].into_iter())
}

#[circuit_breaker(name = "question-mark", record_result = |v: &u32| *v == 503)]
async fn question_mark(s: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Err("zero".into());
    }
    Ok(n)
}

fn assert_send<F: std::future::Future + Send>(_: F) {}

fn main() {
    assert_send(generic("a", 1, "b"));
    assert_send(borrowed(&[1]));
    assert_send(question_mark("1"));
}
