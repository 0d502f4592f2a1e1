use fusebox::traced;

#[traced(kind = "clinet")]
async fn typo() {}

#[traced(kind = "rpc", level = "loud")]
async fn unknown() {}

fn main() {}
