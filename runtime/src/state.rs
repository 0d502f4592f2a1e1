//! The six breaker states and the legality of transitions between them.

use std::fmt;
use std::sync::Arc;

/// The state of a circuit breaker, as in Resilience4j.
///
/// ```
/// use fusebox_runtime::State;
/// assert_eq!(State::HalfOpen.to_string(), "HALF_OPEN");
/// assert!(State::Closed.allows_transition_to(State::Open));
/// assert!(!State::Closed.allows_transition_to(State::HalfOpen));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    /// Calls flow; outcomes are recorded and may trip the breaker.
    Closed = 0,
    /// Calls are rejected until the wait in the open state has passed.
    Open = 1,
    /// A limited number of probe calls decide whether to close or re-open.
    HalfOpen = 2,
    /// Every call is permitted, nothing is recorded, events are not published.
    Disabled = 3,
    /// Every call is rejected until a manual transition.
    ForcedOpen = 4,
    /// Calls flow and are recorded, but the breaker never trips.
    MetricsOnly = 5,
}

impl State {
    /// All states, in Resilience4j's order.
    pub const ALL: [State; 6] = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::Disabled,
        State::ForcedOpen,
        State::MetricsOnly,
    ];

    /// Resilience4j's name of the state (`CLOSED`, `HALF_OPEN`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
            State::Disabled => "DISABLED",
            State::ForcedOpen => "FORCED_OPEN",
            State::MetricsOnly => "METRICS_ONLY",
        }
    }

    /// The lower-case name used in metric tags and span fields (`closed`, `half_open`, ...).
    pub const fn as_tag(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::Disabled => "disabled",
            State::ForcedOpen => "forced_open",
            State::MetricsOnly => "metrics_only",
        }
    }

    /// Whether events other than state transitions and resets are published in this state
    /// (not in `DISABLED` and `FORCED_OPEN`, as in Resilience4j).
    pub const fn allows_publish(self) -> bool {
        !matches!(self, State::Disabled | State::ForcedOpen)
    }

    /// Whether a transition from `self` to `to` is legal (Resilience4j's transition table):
    /// CLOSED cannot go to HALF_OPEN; METRICS_ONLY cannot go to OPEN or HALF_OPEN; every other
    /// pair is legal, self-transitions included.
    pub const fn allows_transition_to(self, to: State) -> bool {
        match self {
            State::Closed => !matches!(to, State::HalfOpen),
            State::MetricsOnly => !matches!(to, State::Open | State::HalfOpen),
            State::Open | State::HalfOpen | State::ForcedOpen | State::Disabled => true,
        }
    }

    pub(crate) const fn from_u8(v: u8) -> State {
        // A table rather than a `match`: one load on the hot path. Values 6 and 7 never occur.
        const BY_VALUE: [State; 8] = {
            let mut table = [State::MetricsOnly; 8];
            let mut i = 0;
            while i < State::ALL.len() {
                table[State::ALL[i] as usize] = State::ALL[i];
                i += 1;
            }
            table
        };
        BY_VALUE[(v & 7) as usize]
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A manual transition that the transition table forbids; the state is unchanged.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, Registry, State};
/// let registry = Registry::new();
/// let breaker = registry.circuit_breaker("orders");
/// let err = breaker.transition_to_half_open_state().unwrap_err();
/// assert_eq!(err.from(), State::Closed);
/// assert_eq!(
///     err.to_string(),
///     "CircuitBreaker 'orders' tried an illegal state transition from CLOSED to HALF_OPEN"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IllegalStateTransition {
    pub(crate) name: Arc<str>,
    pub(crate) from: State,
    pub(crate) to: State,
}

impl IllegalStateTransition {
    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The state the breaker was (and still is) in.
    pub fn from(&self) -> State {
        self.from
    }
    /// The state that was asked for.
    pub fn to(&self) -> State {
        self.to
    }
}

impl fmt::Display for IllegalStateTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CircuitBreaker '{}' tried an illegal state transition from {} to {}",
            self.name, self.from, self.to
        )
    }
}

impl std::error::Error for IllegalStateTransition {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table_matches_resilience4j() {
        for from in State::ALL {
            for to in State::ALL {
                let expected = !matches!(
                    (from, to),
                    (State::Closed, State::HalfOpen)
                        | (State::MetricsOnly, State::Open | State::HalfOpen)
                );
                assert_eq!(from.allows_transition_to(to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn round_trips_through_u8() {
        for s in State::ALL {
            assert_eq!(State::from_u8(s as u8), s);
        }
    }
}
