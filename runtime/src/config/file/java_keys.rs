//! Spring properties that only make sense in Java, and the Rust way to get their effect.

const RECORD: &str = "not applied: Java exception classes mean nothing to fusebox; decide which errors \
     count as failures with a `record = ...` predicate on `#[circuit_breaker]` (or \
     `Classifier::record` in code)";
const IGNORE: &str = "not applied: Java exception classes mean nothing to fusebox; decide which errors \
     are ignored with an `ignore = ...` predicate on `#[circuit_breaker]` (or \
     `Classifier::ignore` in code)";
const RESULT: &str = "not applied: record some `Ok` values as failures with a `record_result = ...` \
     predicate on `#[circuit_breaker]` (or `Classifier::result` in code)";
const CLASS_BINDING: &str =
    "not applicable: Rust error types are checked at compile time, there are no classes to bind";
const STACK_TRACE: &str =
    "not applicable: fusebox's `CallNotPermitted` error carries no stack trace";
const SYNC_STRATEGY: &str =
    "not applicable: fusebox's sliding windows have a single synchronization strategy";
const PRECEDENCE: &str =
    "not needed: ignore predicates always take precedence over record predicates in fusebox";
const ASPECT_ORDER: &str = "not applicable: decorators apply in the order the attributes are written \
     on the function";
const TAGS: &str = "not applied: this module's series carry the registry-wide tags \
     (`management.metrics.tags`, `resilience4j.circuitbreaker.tags`)";
const METRICS: &str = "not applicable: fusebox publishes metrics through the `metrics` feature";

/// The message for a Java-only property of a circuit breaker section, by canonical name
/// (lower case, no `-`/`_`).
pub(crate) fn breaker_property(canonical: &str) -> Option<&'static str> {
    Some(match canonical {
        "recordexceptions" | "recordfailurepredicate" => RECORD,
        "ignoreexceptions" | "ignoreexceptionpredicate" => IGNORE,
        "recordresultpredicate" => RESULT,
        "ignoreclassbindingexceptions" | "ignoreunknownexceptions" => CLASS_BINDING,
        "writablestacktraceenabled" => STACK_TRACE,
        "slidingwindowsynchronizationstrategy" => SYNC_STRATEGY,
        "ignoreexceptionsprecedenceenabled" => PRECEDENCE,
        _ => return None,
    })
}

/// The message for a Java-only key directly under `resilience4j.circuitbreaker` or
/// `resilience4j.timelimiter` (the circuit breaker's `tags` are read, not warned about).
pub(crate) fn section_key(canonical: &str) -> Option<&'static str> {
    Some(match canonical {
        "circuitbreakeraspectorder"
        | "timelimiteraspectorder"
        | "retryaspectorder"
        | "ratelimiteraspectorder"
        | "bulkheadaspectorder" => ASPECT_ORDER,
        "tags" => TAGS,
        "metrics" => METRICS,
        _ => return None,
    })
}

const RETRY_ON: &str = "not applied: Java exception classes mean nothing to fusebox; choose the \
     retried errors with `RetryConfigBuilder::retry_on_error` in code";
const RETRY_IGNORE: &str = "not applied: Java exception classes mean nothing to fusebox; choose the \
     errors that are never retried with `RetryConfigBuilder::ignore_error` in code";
const RETRY_RESULT: &str =
    "not applied: retry some `Ok` values with `RetryConfigBuilder::retry_on_result` in code";
const RETRY_CONSUME: &str =
    "not applied: inspect a rejected result in the `retry_on_result` predicate instead";
const RETRY_INTERVAL: &str = "not applied: give your own interval function with \
     `RetryConfigBuilder::interval_function(RetryInterval::custom(...))` in code";
const RETRY_RENAMED: &str = "not applied: `maxRetryAttempts` was removed in Resilience4j 2 (which \
     ignores it silently); use `maxAttempts`";

/// The message for a Java-only (or removed) property of a retry section.
pub(crate) fn retry_property(canonical: &str) -> Option<&'static str> {
    Some(match canonical {
        "retryexceptions" | "retryexceptionpredicate" => RETRY_ON,
        "ignoreexceptions" => RETRY_IGNORE,
        "resultpredicate" => RETRY_RESULT,
        "consumeresultbeforeretryattempt" => RETRY_CONSUME,
        "intervalbifunction" => RETRY_INTERVAL,
        "maxretryattempts" => RETRY_RENAMED,
        "writablestacktraceenabled" => STACK_TRACE,
        _ => return None,
    })
}

const BULKHEAD_FAIR: &str = "not a Spring property (Resilience4j's Spring binding ignores it): set \
     it with `BulkheadConfigBuilder::fair_call_handling` in code";
const BULKHEAD_STACK_TRACE: &str =
    "not applicable: fusebox's `BulkheadFull` error carries no stack trace";

/// The message for a Java-only property of a bulkhead section.
pub(crate) fn bulkhead_property(canonical: &str) -> Option<&'static str> {
    Some(match canonical {
        "writablestacktraceenabled" => BULKHEAD_STACK_TRACE,
        "faircallhandlingstrategyenabled" | "faircallhandlingenabled" => BULKHEAD_FAIR,
        _ => return None,
    })
}

const RATE_LIMITER_STACK_TRACE: &str = "not applied: Rust errors carry no stack trace to trim; \
     `RequestNotPermitted` is a small value either way";

/// The message for a Java-only property of a rate limiter section.
pub(crate) fn rate_limiter_property(canonical: &str) -> Option<&'static str> {
    (canonical == "writablestacktraceenabled").then_some(RATE_LIMITER_STACK_TRACE)
}

/// Java-only breaker property names (camelCase), for "did you mean" suggestions.
pub(crate) const BREAKER_NAMES: &[&str] = &[
    "recordExceptions",
    "recordFailurePredicate",
    "ignoreExceptions",
    "ignoreExceptionPredicate",
    "recordResultPredicate",
    "ignoreClassBindingExceptions",
    "ignoreUnknownExceptions",
    "writableStackTraceEnabled",
    "slidingWindowSynchronizationStrategy",
    "ignoreExceptionsPrecedenceEnabled",
];

/// Java-only section keys (camelCase).
pub(crate) const SECTION_NAMES: &[&str] = &[
    "circuitBreakerAspectOrder",
    "timeLimiterAspectOrder",
    "retryAspectOrder",
    "bulkheadAspectOrder",
    "tags",
    "metrics",
];
