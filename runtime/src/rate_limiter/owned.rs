//! An acquire owned by a `'static` future ([`OwnedWait`]), for the tower layer: the same rules,
//! events and waiting count as [`acquire_permission`](RateLimiter::acquire_permission), whose
//! future borrows its limiter.

use super::RateLimiter;
use super::acquire::Begin;
use super::error::RequestNotPermitted;
use super::events::RateLimiterEventKind;
use crate::retry::Sleep;
use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// How an acquire started: decided at once, or a wait in progress.
pub(crate) enum Started {
    /// The permits are the caller's (SUCCESSFUL_ACQUIRE published).
    Acquired,
    /// Refused without a wait (FAILED_ACQUIRE published).
    Refused(RequestNotPermitted),
    /// Reserved (or to be refused) after a wait.
    Waiting(OwnedWait),
}

impl RateLimiter {
    /// [`acquire_permission`](Self::acquire_permission)'s state update, done now; a wait it
    /// needs is returned as an [`OwnedWait`] (counted as waiting from now on, its sleep started
    /// now).
    #[inline]
    pub(crate) fn start_acquire(&self, permits: u32) -> Started {
        match self.begin_acquire(permits) {
            Begin::Acquired => Started::Acquired,
            Begin::Refused(permits) => match self.refuse::<Infallible>(permits) {
                Err(refused) => Started::Refused(refused),
                Ok(never) => match never {},
            },
            Begin::Wait {
                permits,
                sleep,
                granted,
            } => Started::Waiting(OwnedWait::start(self, permits, sleep, granted)),
        }
    }

    /// Whether the config's `drain_permissions_on_result` predicate matches `result` (a
    /// `&Result<T, E>`; `false` without a predicate or for another result type).
    #[inline]
    pub(crate) fn config_drains(&self, result: &dyn Any) -> bool {
        let drain = self.inner.config.drain();
        drain.is_set() && drain.drains(result)
    }
}

/// A caller waiting for its reservation (or for its refusal, once the timeout is waited out),
/// owning its limiter. Counted as waiting until it ends; dropped before that (the caller's
/// future was cancelled) it publishes FAILED_ACQUIRE and keeps the reservation, as
/// [`acquire_permission`](RateLimiter::acquire_permission)'s cancelled caller does.
pub(crate) struct OwnedWait {
    limiter: RateLimiter,
    sleep: Sleep,
    permits: i32,
    granted: bool,
    finished: bool,
}

impl fmt::Debug for OwnedWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWait")
            .field("rate_limiter", &self.limiter.name())
            .field("permits", &self.permits)
            .field("granted", &self.granted)
            .finish()
    }
}

impl OwnedWait {
    #[cold]
    fn start(limiter: &RateLimiter, permits: i32, sleep: i64, granted: bool) -> Self {
        limiter.inner.waiting.fetch_add(1, Ordering::Relaxed);
        Self {
            limiter: limiter.clone(),
            sleep: limiter
                .inner
                .config
                .sleeper()
                .sleep(Duration::from_nanos(sleep as u64)),
            permits,
            granted,
            finished: false,
        }
    }

    /// Waits; then the permits (SUCCESSFUL_ACQUIRE) or the refusal (FAILED_ACQUIRE). Not to be
    /// polled again once it gave its answer.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RequestNotPermitted>> {
        ready!(self.sleep.as_mut().poll(cx));
        self.finished = true;
        let limiter = &self.limiter;
        limiter.inner.waiting.fetch_sub(1, Ordering::Relaxed);
        Poll::Ready(if self.granted {
            limiter.publish(RateLimiterEventKind::SuccessfulAcquire {
                permits: self.permits,
            });
            Ok(())
        } else {
            limiter.refuse(self.permits)
        })
    }
}

impl Drop for OwnedWait {
    fn drop(&mut self) {
        if !self.finished {
            let limiter = &self.limiter;
            limiter.inner.waiting.fetch_sub(1, Ordering::Relaxed);
            limiter.publish(RateLimiterEventKind::FailedAcquire {
                permits: self.permits,
            });
        }
    }
}
