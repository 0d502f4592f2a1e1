//! The rate limiter's health indicator (resilience4j-spring-boot3's
//! `RateLimitersHealthIndicator`): one limiter's status and details. Not yet mounted on
//! `/actuator/health` (the `rateLimiters` component): this is the mapping that component uses.
//!
//! | condition | status |
//! |---|---|
//! | permissions left, or nobody waiting | `UP` |
//! | one more permit would wait longer than the timeout | `RATE_LIMITED`, or `DOWN` with `allow_health_indicator_to_fail` |
//! | otherwise (callers wait, but within the timeout) | `UNKNOWN` |

use crate::rate_limiter::RateLimiter;
use serde::Serialize;

/// A rate limiter's health status, with Spring's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateLimiterHealthStatus {
    /// `UP`.
    Up,
    /// `RATE_LIMITED`: callers would wait longer than the timeout.
    RateLimited,
    /// `DOWN` (HTTP 503): `RATE_LIMITED` with `allow_health_indicator_to_fail`.
    Down,
    /// `UNKNOWN`.
    Unknown,
}

impl RateLimiterHealthStatus {
    /// Spring's code, e.g. `RATE_LIMITED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RateLimiterHealthStatus::Up => "UP",
            RateLimiterHealthStatus::RateLimited => "RATE_LIMITED",
            RateLimiterHealthStatus::Down => "DOWN",
            RateLimiterHealthStatus::Unknown => "UNKNOWN",
        }
    }
}

impl Serialize for RateLimiterHealthStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One limiter's entry of the `rateLimiters` health component: `{"status", "details":
/// {"availablePermissions", "numberOfWaitingThreads"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimiterHealth {
    /// The status.
    pub status: RateLimiterHealthStatus,
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
            RateLimiterHealthStatus::Up
        } else if m.nanos_to_wait > timeout {
            if config.allow_health_indicator_to_fail() {
                RateLimiterHealthStatus::Down
            } else {
                RateLimiterHealthStatus::RateLimited
            }
        } else {
            RateLimiterHealthStatus::Unknown
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
            assert_eq!(health.status, RateLimiterHealthStatus::Up);
            assert_eq!(health.details.available_permissions, 1);
            l.acquire_permission(1).await.unwrap();
            // Nothing left, nobody waiting: still UP.
            assert_eq!(
                RateLimiterHealth::of(&l).status,
                RateLimiterHealthStatus::Up
            );
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
                RateLimiterHealthStatus::Down
            } else {
                RateLimiterHealthStatus::RateLimited
            };
            assert_eq!(health.status, expected);
            // 600 ms later the next permit is 1.4 s away: within the timeout, UNKNOWN.
            clock.advance(Duration::from_millis(600));
            assert_eq!(
                RateLimiterHealth::of(&l).status,
                RateLimiterHealthStatus::Unknown
            );
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
