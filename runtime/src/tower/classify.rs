//! How a layer judges a call's result: [`Classify`] for the circuit breaker (success, failure or
//! ignored), [`ResponsePredicate`] for responses that count as failures (an HTTP 5xx,
//! [`ServerErrors`]), that the retry retries, or that drain the rate limiter (an HTTP 429,
//! [`TooManyRequests`]).

use crate::call::{Classifier, Outcome};
use std::fmt;

/// Decides how the circuit breaker counts a call's result.
///
/// Return [`Outcome::Success`], [`Outcome::Failure`] or [`Outcome::Ignored`] (released, nothing
/// counted, an IGNORED_ERROR event); the other outcomes belong to the breaker and count as a
/// failure if returned. Implemented by [`DefaultClassifier`] (every `Err` a failure),
/// [`ResponseClassifier`] (also responses a predicate matches), [`ClassifyFn`] (any closure over
/// the result), and the attribute's fn-pointer [`Classifier`] (record/ignore predicates on
/// errors, a result predicate).
pub trait Classify<Res, E> {
    /// How `result` counts.
    fn classify(&self, result: &Result<Res, E>) -> Outcome;
}

/// Every `Err` is a failure, every `Ok` a success (Resilience4j's default with no
/// `recordExceptions`/`ignoreExceptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<Res, E> Classify<Res, E> for DefaultClassifier {
    #[inline(always)]
    fn classify(&self, result: &Result<Res, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// The attribute's classifier works for layers too: `record`/`ignore` predicates on the error,
/// a `result` predicate on the response.
impl<Res, E> Classify<Res, E> for Classifier<Res, E> {
    #[inline(always)]
    fn classify(&self, result: &Result<Res, E>) -> Outcome {
        Classifier::classify(self, result)
    }
}

/// A predicate on a response: `true` when the response counts as a failure (circuit breaker) or
/// is retried (retry). Implemented by every `Fn(&Res) -> bool` and by [`ServerErrors`].
pub trait ResponsePredicate<Res> {
    /// Whether `response` matches.
    fn matches(&self, response: &Res) -> bool;
}

impl<Res, F: Fn(&Res) -> bool> ResponsePredicate<Res> for F {
    #[inline(always)]
    fn matches(&self, response: &Res) -> bool {
        self(response)
    }
}

/// Matches HTTP responses with a 5xx status (`http::Response<B>`, for any body type `B`: hyper,
/// axum, reqwest's `http` conversions, tonic's channel).
///
/// ```
/// use fusebox_runtime::tower::{ResponsePredicate, ServerErrors};
///
/// let response = |status: u16| http::Response::builder().status(status).body(()).unwrap();
/// assert!(ServerErrors.matches(&response(503)));
/// assert!(!ServerErrors.matches(&response(404)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerErrors;

impl<B> ResponsePredicate<http::Response<B>> for ServerErrors {
    #[inline]
    fn matches(&self, response: &http::Response<B>) -> bool {
        response.status().is_server_error()
    }
}

/// Matches HTTP responses with status 429 Too Many Requests: the backend's own rate limit, the
/// usual reason to drain a [`RateLimiterLayer`](super::RateLimiterLayer)'s cycle
/// ([`drain_on_response`](super::RateLimiterLayer::drain_on_response)).
///
/// ```
/// use fusebox_runtime::tower::{ResponsePredicate, TooManyRequests};
///
/// let response = |status: u16| http::Response::builder().status(status).body(()).unwrap();
/// assert!(TooManyRequests.matches(&response(429)));
/// assert!(!TooManyRequests.matches(&response(503)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TooManyRequests;

impl<B> ResponsePredicate<http::Response<B>> for TooManyRequests {
    #[inline]
    fn matches(&self, response: &http::Response<B>) -> bool {
        response.status() == http::StatusCode::TOO_MANY_REQUESTS
    }
}

/// Every `Err` is a failure, and so is every `Ok` response that `P` matches (Resilience4j's
/// `recordResult`); the response is still returned as `Ok`. Built by
/// [`CircuitBreakerLayer::classify_response`](super::CircuitBreakerLayer::classify_response).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseClassifier<P>(pub P);

impl<P> fmt::Debug for ResponseClassifier<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseClassifier")
    }
}

impl<Res, E, P: ResponsePredicate<Res>> Classify<Res, E> for ResponseClassifier<P> {
    #[inline]
    fn classify(&self, result: &Result<Res, E>) -> Outcome {
        match result {
            Ok(response) if self.0.matches(response) => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// A closure over the whole result as a classifier (for ignored errors, or errors that count as
/// successes). Built by [`CircuitBreakerLayer::classify_with`](super::CircuitBreakerLayer::classify_with).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassifyFn<F>(pub F);

impl<F> fmt::Debug for ClassifyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClassifyFn")
    }
}

impl<Res, E, F: Fn(&Result<Res, E>) -> Outcome> Classify<Res, E> for ClassifyFn<F> {
    #[inline(always)]
    fn classify(&self, result: &Result<Res, E>) -> Outcome {
        (self.0)(result)
    }
}

/// A [`ResponsePredicate`] that matches nothing: the retry layer's default (only the retry
/// config's own `retry_on_result` predicates apply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoResponses;

impl<Res> ResponsePredicate<Res> for NoResponses {
    #[inline(always)]
    fn matches(&self, _: &Res) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifiers_count_as_documented() {
        let ok: Result<u16, &str> = Ok(503);
        let fine: Result<u16, &str> = Ok(200);
        let err: Result<u16, &str> = Err("down");
        assert_eq!(DefaultClassifier.classify(&ok), Outcome::Success);
        assert_eq!(DefaultClassifier.classify(&err), Outcome::Failure);
        let by_status = ResponseClassifier(|s: &u16| *s >= 500);
        assert_eq!(by_status.classify(&ok), Outcome::Failure);
        assert_eq!(by_status.classify(&fine), Outcome::Success);
        assert_eq!(by_status.classify(&err), Outcome::Failure);
        let ignore_down = ClassifyFn(|r: &Result<u16, &str>| match r {
            Err(e) if *e == "down" => Outcome::Ignored,
            Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        });
        assert_eq!(ignore_down.classify(&err), Outcome::Ignored);
        let attribute: Classifier<u16, &str> = Classifier::new().result(|s| *s == 503);
        assert_eq!(Classify::classify(&attribute, &ok), Outcome::Failure);
        assert!(!NoResponses.matches(&503u16));
    }
}
