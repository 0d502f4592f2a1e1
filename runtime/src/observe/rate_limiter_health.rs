//! The rate limiter's health indicator (resilience4j-spring-boot3's
//! `RateLimitersHealthIndicator`): one limiter's status and details, as the `rateLimiters`
//! component of [`Monitor::health`](super::Monitor::health) shows them (the limiters whose
//! config sets `register_health_indicator`).
//!
//! | condition | status |
//! |---|---|
//! | permissions left, or nobody waiting | `UP` |
//! | one more permit would wait longer than the timeout | `RATE_LIMITED`, or `DOWN` with `allow_health_indicator_to_fail` |
//! | otherwise (callers wait, but within the timeout) | `UNKNOWN` |

use super::health::HealthStatus;
use crate::rate_limiter::RateLimiter;
use serde::Serialize;

/// One limiter's entry of the `rateLimiters` health component: `{"status", "details":
/// {"availablePermissions", "numberOfWaitingThreads"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimiterHealth {
    /// The status.
    pub status: HealthStatus,
    /// The details.
    pub details: RateLimiterHealthDetails,
}

/// The details of a [`RateLimiterHealth`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimiterHealthDetails {
    /// Permissions left in the cycle (negative while reservations wait).
    pub available_permissions: i32,
    /// Callers waiting for a reserved permit.
    pub number_of_waiting_threads: i32,
}

impl RateLimiterHealth {
    /// The health of `limiter` now, as `RateLimitersHealthIndicator.mapRateLimiterHealth`
    /// computes it (from one metrics snapshot; `allow_health_indicator_to_fail` from its config).
    pub fn of(limiter: &RateLimiter) -> Self {
        let m = limiter.metrics();
        let config = limiter.config();
        let timeout = i64::try_from(config.timeout_duration().as_nanos()).unwrap_or(i64::MAX);
        let status = if m.available_permissions > 0 || m.number_of_waiting_threads == 0 {
            HealthStatus::Up
        } else if m.nanos_to_wait > timeout {
            if config.allow_health_indicator_to_fail() {
                HealthStatus::Down
            } else {
                HealthStatus::RateLimited
            }
        } else {
            HealthStatus::Unknown
        };
        Self {
            status,
            details: RateLimiterHealthDetails {
                available_permissions: m.available_permissions,
                number_of_waiting_threads: m.number_of_waiting_threads,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use crate::rate_limiter::RateLimiterConfig;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn statuses_follow_resilience4j_s_mapping() {
        let clock = ManualClock::new();
        let limiter = |allow_fail: bool| {
            RateLimiter::new(
                "backend",
                RateLimiterConfig::builder()
                    .limit_for_period(1)
                    .limit_refresh_period(Duration::from_secs(1))
                    .timeout_duration(Duration::from_millis(1500))
                    .allow_health_indicator_to_fail(allow_fail)
                    .clock(clock.clone())
                    .build()
                    .unwrap(),
            )
        };
        for allow_fail in [false, true] {
            let l = limiter(allow_fail);
            let health = RateLimiterHealth::of(&l);
            assert_eq!(health.status, HealthStatus::Up);
            assert_eq!(health.details.available_permissions, 1);
            l.acquire_permission(1).await.unwrap();
            // Nothing left, nobody waiting: still UP.
            assert_eq!(RateLimiterHealth::of(&l).status, HealthStatus::Up);
            // One waiter (reserved the next cycle, 1 s away): the next permit is 2 s away.
            let waiter = {
                let l = l.clone();
                tokio::spawn(async move { l.acquire_permission(1).await })
            };
            tokio::task::yield_now().await;
            let health = RateLimiterHealth::of(&l);
            assert_eq!(
                health.details,
                RateLimiterHealthDetails {
                    available_permissions: -1,
                    number_of_waiting_threads: 1
                }
            );
            let expected = if allow_fail {
                HealthStatus::Down
            } else {
                HealthStatus::RateLimited
            };
            assert_eq!(health.status, expected);
            // 600 ms later the next permit is 1.4 s away: within the timeout, UNKNOWN.
            clock.advance(Duration::from_millis(600));
            assert_eq!(RateLimiterHealth::of(&l).status, HealthStatus::Unknown);
            waiter.abort();
            clock.advance(Duration::from_secs(10));
        }
        let json = serde_json::to_string(&RateLimiterHealth::of(&limiter(false))).unwrap();
        assert_eq!(
            json,
            r#"{"status":"UP","details":{"availablePermissions":1,"numberOfWaitingThreads":0}}"#
        );
    }
}
