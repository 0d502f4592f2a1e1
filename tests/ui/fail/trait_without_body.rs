use fusebox::{BreakerError, circuit_breaker};

trait Orders {
    #[circuit_breaker(name = "orders")]
    async fn get(&self) -> Result<u32, BreakerError>;
}

fn main() {}
