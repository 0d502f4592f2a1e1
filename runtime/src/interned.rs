//! Breaker names interned for the life of the process: what a rejection error carries.
//!
//! Every call a breaker rejects returns a [`CallNotPermitted`](crate::CallNotPermitted) that
//! names the breaker. Carrying the name as an `Arc<str>` would make each rejection a clone and a
//! drop of one reference count that every rejecting thread shares: two locked read-modify-writes
//! on one cache line, which under a failure storm is exactly where two threads rejecting calls
//! on one breaker would serialise. An interned `&'static str` is copied instead.
//!
//! A breaker interns its name the first time it rejects a call (never, for a breaker that does
//! not), once; one copy is kept per distinct name, however many breakers share it or are
//! removed and created again. The cost is the memory of the distinct names of breakers that
//! have rejected a call, kept until the process exits.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// Every name interned so far.
static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// `name`, as a string that lives as long as the process (one copy per distinct name).
pub(crate) fn intern(name: &str) -> &'static str {
    // A panic while the set is locked cannot leave it half-updated (an insert of a leaked
    // string either happened or did not), so a poisoned lock is still a correct set.
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(&interned) = names.get(name) {
        return interned;
    }
    let interned: &'static str = Box::leak(Box::<str>::from(name));
    names.insert(interned);
    interned
}

#[cfg(test)]
mod tests {
    use super::intern;

    #[test]
    fn one_copy_per_distinct_name() {
        let a = intern("interned-test-orders");
        let b = intern(&String::from("interned-test-orders"));
        assert_eq!(a, "interned-test-orders");
        assert!(std::ptr::eq(a, b), "the same name is interned once");
        let c = intern("interned-test-users");
        assert_eq!(c, "interned-test-users");
        assert!(!std::ptr::eq(a, c));
    }
}
