//! [`OwnedBulkheadPermit`]: a slot that owns its bulkhead (a handle, one `Arc` clone) instead of
//! borrowing it, for futures and tasks that must be `'static` (a tower response future, a
//! spawned task). Same events and release rules as [`BulkheadPermit`](super::BulkheadPermit).

use super::events::BulkheadEventKind;
use super::{Bulkhead, BulkheadFull, Shared};
use std::fmt;
use std::future::Future;
#[cfg(feature = "tower")]
use std::pin::Pin;

/// A slot in a [`Bulkhead`], held for one call and owning a handle to its bulkhead, so it can
/// live in a `'static` future or be moved into a spawned task. Dropping it gives the slot back
/// and publishes CALL_FINISHED, exactly as [`BulkheadPermit`](super::BulkheadPermit): whether
/// the call returned, failed, panicked (the permit drops while unwinding) or was cancelled (the
/// future or task holding it was dropped), the slot cannot leak.
#[must_use = "the slot is given back as soon as the permit is dropped"]
pub struct OwnedBulkheadPermit {
    bulkhead: Bulkhead,
    /// Whether dropping publishes CALL_FINISHED.
    finish: bool,
}

impl OwnedBulkheadPermit {
    /// Gives the slot back without publishing CALL_FINISHED, for a permit that was not used
    /// (Resilience4j's `releasePermission`).
    pub fn release_unused(mut self) {
        self.finish = false;
    }

    /// The bulkhead this permit holds a slot of.
    pub fn bulkhead(&self) -> &Bulkhead {
        &self.bulkhead
    }

    /// The name of the bulkhead the slot belongs to.
    pub fn bulkhead_name(&self) -> &str {
        &self.bulkhead.inner.name
    }
}

impl fmt::Debug for OwnedBulkheadPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedBulkheadPermit")
            .field("bulkhead", &self.bulkhead.inner.name)
            .finish()
    }
}

impl Drop for OwnedBulkheadPermit {
    #[inline]
    fn drop(&mut self) {
        self.bulkhead.inner.release(self.finish);
    }
}

/// A wait for an owned slot, owning its bulkhead: what [`Bulkhead::acquire_owned`] returns once
/// a slot was not free at once. Boxed (its inner future is an async block, which cannot be
/// named); only a call that must wait allocates it.
#[cfg(feature = "tower")]
pub(crate) type OwnedAcquire =
    Pin<Box<dyn Future<Output = Result<OwnedBulkheadPermit, BulkheadFull>> + Send>>;

/// How an owned acquire started: decided at once, or a wait in progress.
#[cfg(feature = "tower")]
pub(crate) enum StartedOwned {
    /// A free slot (CALL_PERMITTED published).
    Permitted(OwnedBulkheadPermit),
    /// Full and `max_wait_duration` is 0 (CALL_REJECTED published).
    Rejected(BulkheadFull),
    /// Full: waiting up to `max_wait_duration`, in the queue from the first poll on (nothing
    /// published yet; dropped before it ends, it publishes nothing and takes no slot).
    Waiting(OwnedAcquire),
}

impl Shared {
    /// A slot was taken (the permit gives it back): CALL_PERMITTED is published.
    #[inline]
    fn take(&self) {
        self.publish(BulkheadEventKind::CallPermitted);
    }
}

impl Bulkhead {
    /// An owned permit for `self`'s slot just taken.
    #[inline]
    fn owned_permit(&self) -> OwnedBulkheadPermit {
        OwnedBulkheadPermit {
            bulkhead: self.clone(),
            finish: true,
        }
    }

    /// A free slot now, or `None` (nothing published when there is none).
    #[inline]
    fn try_take_owned(&self) -> Option<OwnedBulkheadPermit> {
        let shared = &*self.inner;
        if !shared.semaphore.try_acquire() {
            return None;
        }
        shared.take();
        Some(self.owned_permit())
    }

    /// [`try_acquire_permission`](Self::try_acquire_permission) with an owned permit: a slot if
    /// one is free now, never waiting: CALL_PERMITTED and the permit, or CALL_REJECTED and
    /// [`BulkheadFull`]. Costs one reference-count increment more than the borrowed permit.
    #[inline]
    pub fn try_acquire_owned(&self) -> Result<OwnedBulkheadPermit, BulkheadFull> {
        self.try_take_owned().ok_or_else(|| self.inner.rejected())
    }

    /// [`acquire_permission`](Self::acquire_permission) with an owned permit: a slot, waiting
    /// for one up to `max_wait_duration` (tokio's timer), in arrival order (overtaken by new
    /// calls only when `fair_call_handling` is false); CALL_PERMITTED and the permit, or
    /// CALL_REJECTED and [`BulkheadFull`]. The future owns a handle to the bulkhead (it is
    /// `'static` and `Send`: it can be spawned); dropping it while it waits leaves the queue,
    /// takes no slot and publishes nothing.
    pub fn acquire_owned(
        &self,
    ) -> impl Future<Output = Result<OwnedBulkheadPermit, BulkheadFull>> + Send + 'static {
        let bulkhead = self.clone();
        async move { bulkhead.wait_owned().await }
    }

    /// The owned acquire's state update, done now; a wait it needs is returned boxed (the
    /// tower layer's response future holds it).
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn start_acquire_owned(&self) -> StartedOwned {
        if let Some(permit) = self.try_take_owned() {
            return StartedOwned::Permitted(permit);
        }
        self.start_wait_owned()
    }

    #[cfg(feature = "tower")]
    #[cold]
    #[inline(never)]
    fn start_wait_owned(&self) -> StartedOwned {
        if self.inner.max_wait().is_zero() {
            StartedOwned::Rejected(self.inner.rejected())
        } else {
            StartedOwned::Waiting(Box::pin(self.acquire_owned()))
        }
    }

    /// [`acquire_permission`](Self::acquire_permission)'s steps, for an owned permit.
    async fn wait_owned(&self) -> Result<OwnedBulkheadPermit, BulkheadFull> {
        if let Some(permit) = self.try_take_owned() {
            return Ok(permit);
        }
        let shared = &*self.inner;
        let wait = shared.max_wait();
        if !wait.is_zero()
            && tokio::time::timeout(wait, shared.semaphore.acquire(1))
                .await
                .is_ok()
        {
            shared.take();
            return Ok(self.owned_permit());
        }
        Err(shared.rejected())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BulkheadConfig, BulkheadEventKind::*};
    use super::*;
    use std::time::Duration;

    fn bulkhead(max: u32, wait: Duration) -> Bulkhead {
        let config = BulkheadConfig::builder()
            .max_concurrent_calls(max)
            .max_wait_duration(wait)
            .build()
            .unwrap();
        Bulkhead::new("owned", config)
    }

    fn available(b: &Bulkhead) -> u32 {
        b.metrics().available_concurrent_calls
    }

    fn kinds(events: &mut super::super::BulkheadEventReceiver) -> Vec<BulkheadEventKind> {
        events.drain().into_iter().map(|e| e.kind).collect()
    }

    fn assert_static_send<T: Send + 'static>(_: &T) {}

    #[tokio::test(start_paused = true)]
    async fn try_acquire_owned_permits_rejects_and_releases_as_the_borrowed_permit() {
        let b = bulkhead(1, Duration::from_secs(5));
        let mut events = b.subscribe(16);
        let held = b.try_acquire_owned().unwrap();
        assert!(held.bulkhead().ptr_eq(&b));
        assert_eq!(available(&b), 0);
        // Never waits, whatever max_wait_duration says; the borrowed form agrees.
        assert_eq!(
            b.try_acquire_owned().unwrap_err(),
            BulkheadFull {
                bulkhead: "owned".into()
            }
        );
        assert!(b.try_acquire_permission().is_err());
        drop(held);
        assert_eq!(available(&b), 1);
        // Given back unused: the slot is free, nothing published.
        b.try_acquire_owned().unwrap().release_unused();
        assert_eq!(available(&b), 1);
        assert_eq!(
            kinds(&mut events),
            [
                CallPermitted,
                CallRejected,
                CallRejected,
                CallFinished,
                CallPermitted
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_owned_waits_up_to_max_wait_duration() {
        let b = bulkhead(1, Duration::from_millis(100));
        let mut events = b.subscribe(16);
        let held = b.try_acquire_owned().unwrap();
        // A 'static future: it can be spawned.
        let waiting = b.acquire_owned();
        assert_static_send(&waiting);
        let waiter = tokio::spawn(waiting);
        tokio::time::sleep(Duration::from_millis(40)).await;
        drop(held);
        let permit = waiter.await.unwrap().unwrap();
        assert_eq!(available(&b), 0);

        let started = tokio::time::Instant::now();
        let refused = b.acquire_owned().await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_millis(100));
        assert_eq!(&*refused.bulkhead, "owned");
        drop(permit);
        assert_eq!(
            kinds(&mut events),
            [
                CallPermitted,
                CallFinished,
                CallPermitted,
                CallRejected,
                CallFinished
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_takes_no_slot_and_publishes_nothing() {
        let b = bulkhead(1, Duration::from_secs(1));
        let held = b.try_acquire_owned().unwrap();
        let mut events = b.subscribe(16);
        let waiter = tokio::spawn(b.acquire_owned());
        tokio::time::sleep(Duration::from_millis(10)).await;
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
        drop(held);
        assert_eq!(available(&b), 1);
        assert_eq!(kinds(&mut events), [CallFinished]);
        // The queue is empty: the next caller gets the slot at once.
        let _next = b.try_acquire_owned().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_or_is_aborted_gives_its_slot_back() {
        let b = bulkhead(1, Duration::ZERO);
        let mut events = b.subscribe(16);
        let permit = b.try_acquire_owned().unwrap();
        let panicked = tokio::spawn(async move {
            let _permit = permit;
            panic!("the call panicked");
        });
        assert!(panicked.await.unwrap_err().is_panic());
        assert_eq!(available(&b), 1);

        let permit = b.acquire_owned().await.unwrap();
        let aborted = tokio::spawn(async move {
            let _permit = permit;
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        assert_eq!(available(&b), 0);
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        assert_eq!(available(&b), 1);
        assert_eq!(
            kinds(&mut events),
            [CallPermitted, CallFinished, CallPermitted, CallFinished]
        );
    }

    #[cfg(feature = "tower")]
    #[tokio::test(start_paused = true)]
    async fn start_acquire_owned_decides_at_once_or_waits() {
        let b = bulkhead(1, Duration::ZERO);
        let StartedOwned::Permitted(held) = b.start_acquire_owned() else {
            panic!("a free slot")
        };
        assert!(matches!(b.start_acquire_owned(), StartedOwned::Rejected(_)));
        drop(held);

        let b = bulkhead(1, Duration::from_millis(50));
        let mut events = b.subscribe(16);
        let held = b.try_acquire_owned().unwrap();
        let StartedOwned::Waiting(wait) = b.start_acquire_owned() else {
            panic!("a wait")
        };
        // Nothing is published until the wait ends.
        assert_eq!(kinds(&mut events), [CallPermitted]);
        assert!(wait.await.is_err());
        assert_eq!(kinds(&mut events), [CallRejected]);
        drop(held);
    }
}
