//! The tower layers' overhead (feature `tower`), against tower-resilience's circuit breaker,
//! rate limiter, time limiter and bulkhead layers in the same run: a trivial `service_fn` behind
//! each layer, `ready().await` then `call(x).await` per iteration on a current-thread runtime.
//! The rate limiters are set so that every call gets a permit at once (the permitted path); the
//! time limiters' limit is never hit; the bulkheads (25 slots, no wait) always have a free slot.
//!
//! ```text
//! cargo bench --features tower --bench tower_layers
//! cargo bench --features tower --bench tower_layers -- --test   # smoke: every row once
//! ```

#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use fusebox::Registry;
use fusebox::bulkhead::BulkheadConfig;
use fusebox::rate_limiter::RateLimiterConfig;
use fusebox::retry::RetryConfig;
use fusebox::time_limiter::TimeLimiterConfig;
use fusebox::tower::{
    BulkheadLayer, CircuitBreakerLayer, RateLimiterLayer, RetryLayer, TimeLimiterLayer,
};
use tower::Layer;

use common::*;
// One `block_on` per sample (`common::timed_async_loop`).
use common::timed_async_loop as async_loop;

fn main() {
    let mut c = short_criterion(Duration::from_secs(1));
    let rt = runtime();
    let registry = Registry::new();

    let mut g = c.benchmark_group("tower");
    let mut bare = tower::service_fn(op_async);
    g.bench_function("bare_service_fn", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut bare, i).await))
    });
    let mut fusebox =
        CircuitBreakerLayer::with_registry(&registry, "closed").layer(tower::service_fn(op_async));
    g.bench_function("fusebox_circuit_breaker_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut fusebox, i).await))
    });
    let (mut resilience, _handle) = tower_closed();
    g.bench_function("tower_resilience_circuit_breaker_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut resilience, i).await))
    });
    let mut retry =
        RetryLayer::from_retry(registry.retry_with_config("retry", RetryConfig::default()))
            .layer(tower::service_fn(op_async));
    g.bench_function("fusebox_retry_layer_first_attempt", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut retry, i).await))
    });

    // OPEN: a rejection without calling the inner service.
    let open = registry.circuit_breaker("open");
    open.transition_to_forced_open_state().expect("forced open");
    let mut fusebox_open =
        CircuitBreakerLayer::from_breaker(open).layer(tower::service_fn(op_async));
    g.bench_function("fusebox_circuit_breaker_layer_open", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut fusebox_open, i).await))
    });
    let mut resilience_open = tower_open(&rt);
    g.bench_function("tower_resilience_circuit_breaker_layer_open", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut resilience_open, i).await))
    });

    // Rate limiters with far more permits per cycle than a sample makes calls: every call is
    // permitted at once.
    let permits = RateLimiterConfig::builder()
        .limit_for_period(1_000_000_000)
        .limit_refresh_period(Duration::from_secs(1))
        .timeout_duration(Duration::ZERO)
        .build()
        .expect("rate limiter config");
    let mut fusebox_rl =
        RateLimiterLayer::from_rate_limiter(registry.rate_limiter_with_config("rl", permits))
            .layer(tower::service_fn(op_async));
    g.bench_function("fusebox_rate_limiter_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut fusebox_rl, i).await))
    });
    let mut resilience_rl = tower_resilience::ratelimiter::RateLimiterLayer::builder()
        .limit_for_period(1_000_000_000)
        .refresh_period(Duration::from_secs(1))
        .timeout_duration(Duration::ZERO)
        .build()
        .expect("tower-resilience rate limiter config")
        .layer(tower::service_fn(op_async));
    g.bench_function("tower_resilience_rate_limiter_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut resilience_rl, i).await))
    });

    let limit = TimeLimiterConfig::builder()
        .timeout_duration(Duration::from_secs(1))
        .build()
        .expect("time limiter config");
    let mut fusebox_tl =
        TimeLimiterLayer::from_time_limiter(registry.time_limiter_with_config("tl", limit))
            .layer(tower::service_fn(op_async));
    g.bench_function("fusebox_time_limiter_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut fusebox_tl, i).await))
    });
    let mut resilience_tl = tower_resilience::timelimiter::TimeLimiterLayer::builder()
        .timeout_duration(Duration::from_secs(1))
        .build()
        .layer(tower::service_fn(op_async));
    g.bench_function("tower_resilience_time_limiter_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut resilience_tl, i).await))
    });

    // Bulkheads with a free slot for every call (each call ends before the next starts).
    let slots = BulkheadConfig::builder()
        .max_concurrent_calls(25)
        .max_wait_duration(Duration::ZERO)
        .build()
        .expect("bulkhead config");
    let mut fusebox_bh = BulkheadLayer::from_bulkhead(registry.bulkhead_with_config("bh", slots))
        .layer(tower::service_fn(op_async));
    g.bench_function("fusebox_bulkhead_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut fusebox_bh, i).await))
    });
    let mut resilience_bh = tower_resilience::bulkhead::BulkheadLayer::builder()
        .max_concurrent_calls(25)
        .reject_when_full()
        .build()
        .expect("tower-resilience bulkhead config")
        .layer(tower::service_fn(op_async));
    g.bench_function("tower_resilience_bulkhead_layer", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut resilience_bh, i).await))
    });
    g.finish();
    c.final_summary();
}
