use fusebox::circuit_breaker;

#[circuit_breaker(name = "orders")]
async fn unit() {}

#[circuit_breaker(name = "orders")]
async fn option() -> Option<u32> { None }

struct Orders;

// A path type the macro cannot judge: the compiler does, with fusebox's message.
#[circuit_breaker(name = "orders")]
async fn custom() -> Orders { Orders }

fn main() {}
