use fusebox::circuit_breaker;

#[derive(Debug)]
struct ClientError;

#[circuit_breaker(name = "orders")]
async fn get_orders() -> Result<Vec<String>, ClientError> {
    Err(ClientError)
}

fn main() {}
