//! Acquiring, reserving and draining permits, changing the limit and the timeout at run time
//! (Resilience4j's `acquirePermission`, `reservePermission`, `drainPermissions`,
//! `changeLimitForPeriod`, `changeTimeoutDuration`, `getDetailedMetrics`).

use super::config::rules;
use super::error::RequestNotPermitted;
use super::events::RateLimiterEventKind;
use super::metrics::RateLimiterMetrics;
use super::state::next_state;
use super::{RateLimiter, nanos};
use crate::config::ConfigError;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl RateLimiter {
    /// Acquires `permits` permits, waiting for a reservation if need be (Resilience4j's
    /// `acquirePermission(permits)`; see the [module docs](super) for the rules).
    ///
    /// - Enough permits left: `Ok` at once, nothing allocated.
    /// - Enough by a wait of at most the timeout: the permits are reserved now and the caller
    ///   waits (on the config's sleeper, tokio's timer by default), then `Ok`.
    /// - Otherwise nothing is reserved and the caller gets [`RequestNotPermitted`] after waiting
    ///   out the timeout, as Resilience4j's caller does (at once with a zero timeout).
    ///
    /// SUCCESSFUL_ACQUIRE or FAILED_ACQUIRE is published at the end. Cancellation-safe: dropping
    /// the future while it waits keeps the reservation (as Resilience4j keeps an interrupted
    /// caller's), and publishes FAILED_ACQUIRE. More than `i32::MAX` permits (Java's `int`) are
    /// refused at once.
    pub async fn acquire_permission(&self, permits: u32) -> Result<(), RequestNotPermitted> {
        match self.begin_acquire(permits) {
            Begin::Acquired => Ok(()),
            Begin::Refused(permits) => self.refuse(permits),
            Begin::Wait {
                permits,
                sleep,
                granted,
            } => self.wait_then_finish(permits, sleep, granted).await,
        }
    }

    /// The part of [`acquire_permission`](Self::acquire_permission) before any wait: the state
    /// update, and the event when nothing is left to wait for.
    #[inline]
    pub(super) fn begin_acquire(&self, permits: u32) -> Begin {
        let Ok(permits) = i32::try_from(permits) else {
            return Begin::Refused(i32::MAX);
        };
        let timeout = self.inner.timeout_nanos.load(Ordering::Relaxed);
        let wait = self.reserve(permits, timeout);
        if wait <= 0 {
            self.publish(RateLimiterEventKind::SuccessfulAcquire { permits });
            return Begin::Acquired;
        }
        let granted = timeout >= wait;
        let sleep = if granted { wait } else { timeout };
        if sleep <= 0 {
            return Begin::Refused(permits);
        }
        Begin::Wait {
            permits,
            sleep,
            granted,
        }
    }

    /// The waiting part of [`acquire_permission`](Self::acquire_permission): `sleep`
    /// nanoseconds counted as waiting, then the outcome and its event.
    #[inline(never)]
    async fn wait_then_finish(
        &self,
        permits: i32,
        sleep: i64,
        granted: bool,
    ) -> Result<(), RequestNotPermitted> {
        let mut waiting = Waiting::start(self, permits);
        self.inner
            .config
            .sleeper()
            .sleep(Duration::from_nanos(sleep as u64))
            .await;
        waiting.finished = true;
        drop(waiting);
        if granted {
            self.publish(RateLimiterEventKind::SuccessfulAcquire { permits });
            Ok(())
        } else {
            self.refuse(permits)
        }
    }

    /// Reserves `permits` permits without waiting (Resilience4j's `reservePermission(permits)`):
    /// `Ok(Duration::ZERO)` when they are available now, `Ok(wait)` when they are reserved and
    /// the caller must wait `wait` before using them, [`RequestNotPermitted`] at once (nothing
    /// reserved) when that wait would exceed the timeout. Publishes SUCCESSFUL_ACQUIRE or
    /// FAILED_ACQUIRE.
    pub fn reserve_permission(&self, permits: u32) -> Result<Duration, RequestNotPermitted> {
        let Ok(permits) = i32::try_from(permits) else {
            return self.refuse(i32::MAX).map(|()| Duration::ZERO);
        };
        let timeout = self.inner.timeout_nanos.load(Ordering::Relaxed);
        let wait = self.reserve(permits, timeout);
        if wait <= 0 {
            self.publish(RateLimiterEventKind::SuccessfulAcquire { permits });
            Ok(Duration::ZERO)
        } else if timeout >= wait {
            self.publish(RateLimiterEventKind::SuccessfulAcquire { permits });
            Ok(Duration::from_nanos(wait as u64))
        } else {
            self.refuse(permits).map(|()| Duration::ZERO)
        }
    }

    /// Drains the permissions left (Resilience4j's `drainPermissions`, whose exact effect the
    /// [module docs](super) describe) and publishes DRAINED.
    pub fn drain_permissions(&self) {
        let inner = &*self.inner;
        let (prev, ()) = inner.state.update(|s| {
            let next = next_state(s.permissions, 0, s, inner.period_nanos, self.now());
            (next.state, ())
        });
        self.publish(RateLimiterEventKind::Drained {
            permits: prev.permissions.min(0),
        });
    }

    /// Changes the permissions per cycle (Resilience4j's `changeLimitForPeriod`): the current
    /// cycle keeps its count, the next refresh uses `limit`. Checked as the builder checks it.
    pub fn change_limit_for_period(&self, limit: u32) -> Result<(), ConfigError> {
        if let Some(e) = rules::limit("limit_for_period", limit) {
            return Err(e);
        }
        self.inner.state.set_limit(limit as i32);
        Ok(())
    }

    /// Changes how long callers wait for a permit (Resilience4j's `changeTimeoutDuration`),
    /// from the next caller on. Checked as the builder checks it.
    pub fn change_timeout_duration(&self, timeout: Duration) -> Result<(), ConfigError> {
        if let Some(e) = rules::timeout("timeout_duration", timeout) {
            return Err(e);
        }
        self.inner
            .timeout_nanos
            .store(nanos(timeout), Ordering::Relaxed);
        Ok(())
    }

    /// The state now, as Resilience4j's detailed metrics estimate it for one more permit.
    pub fn metrics(&self) -> RateLimiterMetrics {
        let inner = &*self.inner;
        let estimate = next_state(1, -1, inner.state.load(), inner.period_nanos, self.now());
        RateLimiterMetrics {
            available_permissions: estimate.state.permissions,
            number_of_waiting_threads: inner.waiting.load(Ordering::Relaxed),
            nanos_to_wait: estimate.nanos_to_wait,
            cycle: estimate.state.cycle,
        }
    }

    /// Nanoseconds since the limiter was created (Resilience4j's `currentNanoTime`).
    #[inline]
    fn now(&self) -> i64 {
        let inner = &*self.inner;
        inner.clock.now_nanos().wrapping_sub(inner.start) as i64
    }

    /// Resilience4j's `updateStateWithBackOff`: reserves `permits` if they come within
    /// `timeout`; returns the nanoseconds until they are available (0 or less: at once).
    #[inline]
    fn reserve(&self, permits: i32, timeout: i64) -> i64 {
        let inner = &*self.inner;
        inner
            .state
            .reserve(permits, timeout, inner.period_nanos, || self.now())
    }

    pub(super) fn refuse<T>(&self, permits: i32) -> Result<T, RequestNotPermitted> {
        self.publish(RateLimiterEventKind::FailedAcquire { permits });
        Err(RequestNotPermitted {
            rate_limiter: self.inner.name.clone(),
        })
    }

    #[inline]
    pub(super) fn publish(&self, kind: RateLimiterEventKind) {
        let inner = &*self.inner;
        let success = matches!(kind, RateLimiterEventKind::SuccessfulAcquire { .. });
        if inner.events.wants(success) {
            inner.events.publish_kind(&inner.name, kind);
        }
    }
}

/// Where an acquire stands after its state update.
pub(super) enum Begin {
    /// The permits are the caller's now.
    Acquired,
    /// Refused without a wait (more permits than an `i32`, or a zero timeout).
    Refused(i32),
    /// A wait of `sleep` nanoseconds, then the permits (`granted`) or a refusal.
    Wait {
        permits: i32,
        sleep: i64,
        granted: bool,
    },
}

/// A caller waiting for its reservation: counted while it waits; dropped before the wait ends
/// (the caller's future was cancelled), it publishes FAILED_ACQUIRE as Resilience4j's
/// interrupted caller does.
struct Waiting<'a> {
    limiter: &'a RateLimiter,
    permits: i32,
    finished: bool,
}

impl<'a> Waiting<'a> {
    fn start(limiter: &'a RateLimiter, permits: i32) -> Self {
        limiter.inner.waiting.fetch_add(1, Ordering::Relaxed);
        Self {
            limiter,
            permits,
            finished: false,
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.limiter.inner.waiting.fetch_sub(1, Ordering::Relaxed);
        if !self.finished {
            self.limiter.publish(RateLimiterEventKind::FailedAcquire {
                permits: self.permits,
            });
        }
    }
}
