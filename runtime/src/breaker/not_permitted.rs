//! [`CallNotPermitted`]: the error of a call the breaker rejected, with Resilience4j's message.

use crate::state::State;
use std::fmt;

/// A call was rejected because the breaker is OPEN, FORCED_OPEN, or HALF_OPEN without permits.
///
/// Its message is Resilience4j's:
///
/// ```
/// use fusebox_runtime::{Registry, State};
/// let breaker = Registry::new().circuit_breaker("orders");
/// breaker.transition_to_open_state().unwrap();
/// let rejected = breaker.acquire_permission().unwrap_err();
/// assert_eq!(rejected.state(), State::Open);
/// assert_eq!(
///     rejected.to_string(),
///     "CircuitBreaker 'orders' is OPEN and does not permit further calls"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallNotPermitted {
    /// Interned (`interned.rs`): a rejection copies it instead of sharing a reference count.
    pub(crate) name: &'static str,
    pub(crate) state: State,
}

impl CallNotPermitted {
    /// The name of the breaker that rejected the call.
    pub fn breaker_name(&self) -> &str {
        self.name
    }
    /// The breaker's state when it rejected the call.
    pub fn state(&self) -> State {
        self.state
    }
}

impl fmt::Display for CallNotPermitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CircuitBreaker '{}' is {} and does not permit further calls",
            self.name, self.state
        )
    }
}

impl std::error::Error for CallNotPermitted {}
