//! How a retry waits: the [`Sleeper`] trait, tokio's timer by default, a [`ManualClock`] in
//! tests.

use crate::clock::ManualClock;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A wait in progress, as a [`Sleeper`] returns it.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Waits between attempts. Dropping the returned future cancels the wait (and the retry with it).
///
/// The default is [`TokioSleeper`]. A [`ManualClock`] is a sleeper too: its wait advances the
/// clock by the interval and completes at once, so a test sees every wait on the clock without
/// waiting.
///
/// ```
/// use fusebox_runtime::ManualClock;
/// use fusebox_runtime::retry::{Retry, RetryConfig};
/// use std::time::Duration;
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let clock = ManualClock::new();
/// let retry = Retry::new("orders", RetryConfig::builder().sleeper(clock.clone()).build()?);
/// let result: Result<(), _> = retry.call(|| async { Err::<(), _>("down") }).await;
/// assert!(result.is_err());
/// assert_eq!(clock.elapsed(), Duration::from_millis(1000)); // two waits of 500 ms
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// # })?;
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
pub trait Sleeper: Send + Sync + fmt::Debug + 'static {
    /// A future that completes after `wait`.
    fn sleep(&self, wait: Duration) -> Sleep;
}

/// Waits on tokio's timer (`tokio::time::sleep`): needs a tokio runtime with the time driver,
/// and follows tokio's paused test time.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, wait: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(wait))
    }
}

/// Advances the clock by the wait and completes on the next poll (it yields once, so a wait is
/// still a point where the caller can be cancelled).
impl Sleeper for ManualClock {
    fn sleep(&self, wait: Duration) -> Sleep {
        self.advance(wait);
        let mut yielded = false;
        Box::pin(std::future::poll_fn(move |cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        }))
    }
}

/// The sleeper a retry config holds.
#[derive(Clone, Debug, Default)]
pub(crate) enum SleeperSource {
    #[default]
    Tokio,
    Custom(Arc<dyn Sleeper>),
}

impl SleeperSource {
    pub(crate) fn sleep(&self, wait: Duration) -> Sleep {
        match self {
            SleeperSource::Tokio => TokioSleeper.sleep(wait),
            SleeperSource::Custom(s) => s.sleep(wait),
        }
    }
}

/// Sleepers compare by kind: tokio's timer or another one.
impl PartialEq for SleeperSource {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (SleeperSource::Tokio, SleeperSource::Tokio)
                | (SleeperSource::Custom(_), SleeperSource::Custom(_))
        )
    }
}
