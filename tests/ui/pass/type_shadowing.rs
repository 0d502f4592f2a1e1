//! Reproducer for #3: the generated code uses absolute paths only, so user types named like
//! prelude items do not break it (as tracing-attributes' `type_shadowing` test).
#![allow(dead_code)]

use fusebox::{BreakerError, Failure, circuit_breaker, traced};

struct Box;
struct Option;
struct Some;
struct Ok;
struct Err;
struct Future;
struct Span;
mod core {}
mod std {}
mod tracing {}

type Result<T> = ::core::result::Result<T, BreakerError>;

#[traced(kind = "client")]
#[circuit_breaker(name = "shadowing", fallback = "fb")]
async fn shadowed(n: u32) -> Result<u32> {
    ::core::result::Result::Ok(n)
}

fn fb(_n: u32, _cause: Failure<BreakerError>) -> Result<u32> {
    ::core::result::Result::Ok(0)
}

#[circuit_breaker(name = "shadowing.plain")]
async fn plain() -> Result<()> {
    ::core::result::Result::Ok(())
}

fn main() {}
