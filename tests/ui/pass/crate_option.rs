//! `crate = "..."`: fusebox reached through a re-export, and the `registry = ...` option.
mod reexport {
    pub use fusebox as fb;
}

use reexport::fb::{BreakerError, Registry};
use std::sync::LazyLock;

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

#[reexport::fb::traced(crate = "crate::reexport::fb")]
#[reexport::fb::circuit_breaker(name = "crate-option", crate = "crate::reexport::fb", registry = REGISTRY)]
async fn via_reexport() -> Result<(), BreakerError> {
    Ok(())
}

fn main() {
    let _ = via_reexport();
}
