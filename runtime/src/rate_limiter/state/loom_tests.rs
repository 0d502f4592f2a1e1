//! Model checks of the rate limiter's state with loom (written next).
