//! Memory per breaker at 10k breakers, fusebox and peers, with a counting global allocator.
//!
//! ```text
//! cargo bench --bench memory
//! ```
//!
//! Each case builds 10 000 breakers (kept alive in a `Vec` or a registry), and reports the heap
//! bytes still allocated divided by 10 000, plus the inline size of the handle the caller keeps.
//! Heap bytes are what the allocator was asked for (not counting its own per-block overhead).

#![allow(missing_docs)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;

use fusebox::{CircuitBreaker, CircuitBreakerConfig, Registry, SlidingWindowType};

use common::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 10_000;

fn snapshot() -> (isize, isize) {
    (LIVE.load(Ordering::Relaxed), BLOCKS.load(Ordering::Relaxed))
}

/// Heap bytes and blocks per breaker held by what `build` returns; `handle` is the inline size
/// of one element as the caller holds it.
fn measure<T>(name: &str, build: impl FnOnce() -> T, handle: usize) {
    let (b0, k0) = snapshot();
    let held = build();
    let (b1, k1) = snapshot();
    let bytes = (b1 - b0) as f64 / N as f64;
    let blocks = (k1 - k0) as f64 / N as f64;
    println!(
        "memory/{name:<44} {bytes:>8.1} heap B/breaker  {blocks:>5.2} blocks/breaker  handle {handle:>3} B  total {:>8.1} B",
        bytes + handle as f64
    );
    black_box(&held);
    drop(held);
}

fn names() -> Vec<String> {
    (0..N).map(|i| format!("backend-{i:05}")).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    println!("memory per breaker at {N} breakers (idle: created, never called)");
    let names = names();

    measure(
        "fusebox/registry_default_config",
        || {
            let r = Registry::new();
            for n in &names {
                r.circuit_breaker(n);
            }
            r
        },
        0,
    );
    measure(
        "fusebox/registry_default_config_plus_handles",
        || {
            let r = Registry::new();
            let v: Vec<CircuitBreaker> = names.iter().map(|n| r.circuit_breaker(n)).collect();
            (r, v)
        },
        std::mem::size_of::<CircuitBreaker>(),
    );
    measure(
        "fusebox/registry_window_10",
        || {
            let r = Registry::with_default_config(
                CircuitBreakerConfig::builder()
                    .sliding_window_size(10)
                    .build()
                    .expect("config"),
            );
            for n in &names {
                r.circuit_breaker(n);
            }
            r
        },
        0,
    );
    measure(
        "fusebox/registry_time_window_100s",
        || {
            let r = Registry::with_default_config(
                CircuitBreakerConfig::builder()
                    .sliding_window_type(SlidingWindowType::TimeBased)
                    .build()
                    .expect("config"),
            );
            for n in &names {
                r.circuit_breaker(n);
            }
            r
        },
        0,
    );
    measure(
        "fusebox/called_once_default_config",
        || {
            let r = Registry::new();
            for (i, n) in names.iter().enumerate() {
                black_box(fusebox_guard_call(&r.circuit_breaker(n), i as u64));
            }
            r
        },
        0,
    );

    measure(
        "recloser/default_ring_100",
        || (0..N).map(|_| recloser_closed()).collect::<Vec<_>>(),
        std::mem::size_of::<recloser::Recloser>(),
    );
    measure(
        "failsafe/default_policy",
        || (0..N).map(|_| failsafe_default()).collect::<Vec<_>>(),
        std::mem::size_of_val(&failsafe_default()),
    );
    measure(
        "failsafe/consecutive_failures",
        || (0..N).map(|_| failsafe_consecutive()).collect::<Vec<_>>(),
        std::mem::size_of_val(&failsafe_consecutive()),
    );
    let rt = runtime();
    let (svc, handle) = tower_closed();
    let svc_size = std::mem::size_of_val(&svc);
    drop((svc, handle));
    measure(
        "tower_resilience/default_window_100_named",
        || {
            names
                .iter()
                .map(|n| {
                    let layer = trcb::CircuitBreakerLayer::builder()
                        .name(n.clone())
                        .build()
                        .expect("config");
                    layer.layer_fn(tower::service_fn(op_async))
                })
                .collect::<Vec<_>>()
        },
        svc_size,
    );
    drop(rt);
    let _ = Duration::ZERO;
    println!(
        "sizes: fusebox CircuitBreaker handle {} B, CircuitBreakerConfig {} B",
        std::mem::size_of::<CircuitBreaker>(),
        std::mem::size_of::<CircuitBreakerConfig>()
    );
}
