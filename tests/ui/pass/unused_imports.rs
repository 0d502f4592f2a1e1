//! An attribute that only ever sits below another resilience attribute is expanded by that one,
//! never by rustc: its plain import still counts as used (the expansion refers to each taken
//! attribute's path as written), so `deny(unused_imports)` passes. Paths written in full and
//! imports in an inner module resolve the same way.
#![deny(unused_imports)]

use fusebox::{BreakerError, bulkhead, circuit_breaker, rate_limiter, retry, time_limiter};

// `circuit_breaker`, `rate_limiter`, `time_limiter` and `bulkhead` are never expanded by rustc.
#[retry(name = "unused.retry")]
#[circuit_breaker(name = "unused.cb")]
#[rate_limiter(name = "unused.rl")]
#[time_limiter(name = "unused.tl")]
#[bulkhead(name = "unused.bh")]
async fn all_five() -> Result<u32, BreakerError> {
    Ok(1)
}

// A full path below a plain one.
#[bulkhead(name = "unused.bh2")]
#[fusebox::retry(name = "unused.retry2")]
async fn full_path_below() -> Result<u32, BreakerError> {
    Ok(2)
}

mod inner {
    use fusebox::{BreakerError, circuit_breaker, retry};

    pub struct Client;

    impl Client {
        // `retry` is expanded by `circuit_breaker`, inside an impl in a module.
        #[circuit_breaker(name = "unused.inner.cb")]
        #[retry(name = "unused.inner.retry")]
        pub async fn get(&self) -> Result<u32, BreakerError> {
            Ok(3)
        }
    }
}

fn main() {
    let _ = (all_five(), full_path_below(), inner::Client.get());
}
