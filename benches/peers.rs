//! fusebox against every peer, in one criterion run. Method and results: BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench peers                       # default: a few minutes on 2 cores
//! FUSEBOX_BENCH_LONG=1 cargo bench --bench peers  # longer warm-up/measurement, more samples
//! cargo bench --bench peers -- '^closed/'         # one group (criterion filter, a regex)
//! cargo bench --bench peers -- --test             # smoke: every bench runs once
//! ```
//!
//! Groups: `spans/` (runs first, so that the no-subscriber rows never saw a dispatcher),
//! `closed/`, `open/`, `threads/`, `export/`, `scale/`.

#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use fusebox::{CircuitBreaker, Registry};

use common::*;
// One `block_on` per sample (`common::timed_async_loop`).
use common::timed_async_loop as async_loop;

// ---------------------------------------------------------------- settings

fn long_mode() -> bool {
    std::env::var_os("FUSEBOX_BENCH_LONG").is_some_and(|v| !v.is_empty() && v != "0")
}

fn criterion() -> Criterion {
    let c = Criterion::default().without_plots();
    let c = if long_mode() {
        c.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(50)
    } else {
        c.warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(900))
            .sample_size(20)
    };
    c.configure_from_args()
}

// ---------------------------------------------------------------- drivers

/// Times `iters` calls of `f` on this thread.
fn sync_loop(iters: u64, mut f: impl FnMut(u64) -> u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        black_box(f(black_box(i)));
    }
    start.elapsed()
}

/// `threads` threads released together at a barrier, each making `iters` calls; returns the
/// wall time divided by `threads`, so criterion reports the inverse of aggregate throughput
/// (ns per call over all threads).
fn threaded(
    threads: usize,
    iters: u64,
    make: impl Fn() -> Box<dyn FnMut(u64) + Send> + Sync,
) -> Duration {
    let barrier = Barrier::new(threads + 1);
    let start = std::thread::scope(|s| {
        for _ in 0..threads {
            let mut f = make();
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for i in 0..iters {
                    f(black_box(i));
                }
            });
        }
        barrier.wait();
        Instant::now()
    });
    start.elapsed() / threads as u32
}

// ---------------------------------------------------------------- 1, 2. closed / open

fn closed(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut g = c.benchmark_group("closed");
    // floors
    g.bench_function("floor_bare_op", |b| {
        b.iter_custom(|n| sync_loop(n, |i| op(i).unwrap_or(0)))
    });
    g.bench_function("floor_bare_op_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| op_async(i).await.unwrap_or(0)))
    });
    let atomic = AtomicU64::new(0);
    g.bench_function("floor_atomic_rmw_pair", |b| {
        b.iter_custom(|n| {
            sync_loop(n, |i| {
                atomic.fetch_add(1, Ordering::AcqRel);
                let v = op(i).unwrap_or(0);
                atomic.fetch_sub(1, Ordering::AcqRel);
                v
            })
        })
    });
    let pl = parking_lot::Mutex::new(0u64);
    g.bench_function("floor_parking_lot_mutex", |b| {
        b.iter_custom(|n| {
            sync_loop(n, |i| {
                let mut g = pl.lock();
                *g = g.wrapping_add(i);
                *g
            })
        })
    });
    let sm = std::sync::Mutex::new(0u64);
    g.bench_function("floor_std_mutex", |b| {
        b.iter_custom(|n| {
            sync_loop(n, |i| {
                let mut g = sm.lock().unwrap();
                *g = g.wrapping_add(i);
                *g
            })
        })
    });
    g.bench_function("floor_instant_now", |b| {
        b.iter_custom(|n| {
            sync_loop(n, |_| {
                black_box(Instant::now()).elapsed().subsec_nanos() as u64
            })
        })
    });
    g.bench_function("floor_instant_now_single", |b| {
        b.iter_custom(|n| {
            sync_loop(n, |_| {
                let t = Instant::now();
                // one read only: use the value without a second clock read
                black_box(&t);
                0
            })
        })
    });

    // fusebox
    let fb = fusebox_closed("closed");
    g.bench_function("fusebox_guard", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call(&fb, i)))
    });
    g.bench_function("fusebox_lowlevel", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_lowlevel_call(&fb, i)))
    });
    // Off the clean path: the window holds failures, or counts every success.
    let f1 = fusebox_closed("closed.1pct");
    g.bench_function("fusebox_guard_1pct_failing", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call_1pct_failing(&f1, i)))
    });
    let ft = fusebox_closed_time_window("closed.time");
    g.bench_function("fusebox_guard_time_window", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call(&ft, i)))
    });
    let ft1 = fusebox_closed_time_window("closed.time.1pct");
    g.bench_function("fusebox_guard_time_window_1pct_failing", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call_1pct_failing(&ft1, i)))
    });
    let fo = fusebox_closed_stats_off("closed.stats_off");
    g.bench_function("fusebox_guard_stats_off", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call(&fo, i)))
    });
    let ff = fusebox_closed("closed.fast");
    g.bench_function("fusebox_call_fast", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_call_fast(&ff, i)))
    });
    let fs = fusebox_closed("closed.1pct_slow");
    g.bench_function("fusebox_call_1pct_slow", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_call_1pct_slow(&fs, i)))
    });
    let fst = fusebox_storm("closed.storm");
    g.bench_function("fusebox_guard_storm", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call_storm(&fst, i)))
    });
    g.bench_function("fusebox_guard_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| fusebox_guard_async(&fb, i).await))
    });
    g.bench_function("fusebox_call_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| fusebox_call_async(&fb, i).await))
    });
    macro_bench::closed(&mut g, rt);

    // recloser
    let r = recloser_closed();
    g.bench_function("recloser_sync", |b| {
        b.iter_custom(|n| sync_loop(n, |i| recloser_call(&r, i)))
    });
    let ra: recloser::AsyncRecloser = recloser_closed().into();
    g.bench_function("recloser_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| recloser_call_async(&ra, i).await))
    });

    // failsafe
    let fd = failsafe_default();
    g.bench_function("failsafe_default_sync", |b| {
        b.iter_custom(|n| sync_loop(n, |i| failsafe_call(&fd, i)))
    });
    let fc = failsafe_consecutive();
    g.bench_function("failsafe_consecutive_sync", |b| {
        b.iter_custom(|n| sync_loop(n, |i| failsafe_call(&fc, i)))
    });
    g.bench_function("failsafe_default_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| failsafe_call_async(&fd, i).await))
    });
    g.bench_function("failsafe_consecutive_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| failsafe_call_async(&fc, i).await))
    });

    // tower-resilience (async only)
    let (mut svc, _handle) = tower_closed();
    g.bench_function("tower_resilience_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut svc, i).await))
    });
    g.finish();
}

fn open(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut g = c.benchmark_group("open");
    let fb = fusebox_open("open");
    g.bench_function("fusebox_guard", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call(&fb, i)))
    });
    g.bench_function("fusebox_lowlevel", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_lowlevel_call(&fb, i)))
    });
    g.bench_function("fusebox_guard_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| fusebox_guard_async(&fb, i).await))
    });
    g.bench_function("fusebox_call_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| fusebox_call_async(&fb, i).await))
    });
    let ff = fusebox_forced_open("forced");
    g.bench_function("fusebox_forced_open_guard", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_guard_call(&ff, i)))
    });
    g.bench_function("fusebox_forced_open_lowlevel", |b| {
        b.iter_custom(|n| sync_loop(n, |i| fusebox_lowlevel_call(&ff, i)))
    });
    macro_bench::open(&mut g, rt);

    let r = recloser_open();
    g.bench_function("recloser_sync", |b| {
        b.iter_custom(|n| sync_loop(n, |i| recloser_call(&r, i)))
    });
    let ra: recloser::AsyncRecloser = recloser_open().into();
    g.bench_function("recloser_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| recloser_call_async(&ra, i).await))
    });
    let f = failsafe_open();
    g.bench_function("failsafe_sync", |b| {
        b.iter_custom(|n| sync_loop(n, |i| failsafe_call(&f, i)))
    });
    g.bench_function("failsafe_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| failsafe_call_async(&f, i).await))
    });
    let mut svc = tower_open(rt);
    g.bench_function("tower_resilience_async", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| tower_call(&mut svc, i).await))
    });
    g.finish();
}

// ---------------------------------------------------------------- 3. two threads

/// Benches `name` with 1 and with 2 threads through the same harness.
fn both(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: impl Fn() -> Box<dyn FnMut(u64) + Send> + Sync,
) {
    for threads in [1, 2] {
        g.bench_function(format!("{name}/{threads}t"), |b| {
            b.iter_custom(|n| threaded(threads, n, &make))
        });
    }
}

/// Like [`threaded`], for async calls: each thread builds its runtime before the barrier and
/// runs all its calls in one `block_on`.
fn threaded_async<S, F>(
    threads: usize,
    iters: u64,
    make: impl Fn() -> S + Sync,
    call: F,
) -> Duration
where
    S: Send,
    F: Fn(&mut S, u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send + '_>>
        + Sync,
{
    let barrier = Barrier::new(threads + 1);
    let start = std::thread::scope(|s| {
        for _ in 0..threads {
            let mut state = make();
            let barrier = &barrier;
            let call = &call;
            s.spawn(move || {
                let rt = runtime();
                barrier.wait();
                rt.block_on(async {
                    for i in 0..iters {
                        black_box(call(&mut state, black_box(i)).await);
                    }
                });
            });
        }
        barrier.wait();
        Instant::now()
    });
    start.elapsed() / threads as u32
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("threads");
    let atomic = Arc::new(AtomicU64::new(0));
    both(&mut g, "floor_atomic_fetch_add", || {
        let a = atomic.clone();
        Box::new(move |_| {
            a.fetch_add(1, Ordering::AcqRel);
        })
    });
    let pl = Arc::new(parking_lot::Mutex::new(0u64));
    both(&mut g, "floor_parking_lot_mutex", || {
        let m = pl.clone();
        Box::new(move |i| *m.lock() += i)
    });
    let sm = Arc::new(std::sync::Mutex::new(0u64));
    both(&mut g, "floor_std_mutex", || {
        let m = sm.clone();
        Box::new(move |i| *m.lock().unwrap() += i)
    });
    let fb = fusebox_closed("threads");
    both(&mut g, "fusebox_guard", || {
        let b = fb.clone();
        Box::new(move |i| {
            black_box(fusebox_guard_call(&b, i));
        })
    });
    both(&mut g, "fusebox_lowlevel", || {
        let b = fb.clone();
        Box::new(move |i| {
            black_box(fusebox_lowlevel_call(&b, i));
        })
    });
    let f1 = fusebox_closed("threads.1pct");
    both(&mut g, "fusebox_guard_1pct_failing", || {
        let b = f1.clone();
        Box::new(move |i| {
            black_box(fusebox_guard_call_1pct_failing(&b, i));
        })
    });
    type Call = fn(&CircuitBreaker, u64) -> u64;
    let shared_rows: [(&str, CircuitBreaker, Call); 6] = [
        (
            "fusebox_guard_stats_off",
            fusebox_closed_stats_off("threads.stats_off"),
            fusebox_guard_call,
        ),
        (
            "fusebox_guard_time_window",
            fusebox_closed_time_window("threads.time"),
            fusebox_guard_call,
        ),
        (
            "fusebox_guard_time_window_1pct_failing",
            fusebox_closed_time_window("threads.time.1pct"),
            fusebox_guard_call_1pct_failing,
        ),
        (
            "fusebox_call_fast",
            fusebox_closed("threads.fast"),
            fusebox_call_fast,
        ),
        (
            "fusebox_call_1pct_slow",
            fusebox_closed("threads.1pct_slow"),
            fusebox_call_1pct_slow,
        ),
        (
            "fusebox_guard_storm",
            fusebox_storm("threads.storm"),
            fusebox_guard_call_storm,
        ),
    ];
    for (name, breaker, call) in &shared_rows {
        both(&mut g, name, || {
            let b = breaker.clone();
            let call = *call;
            Box::new(move |i| {
                black_box(call(&b, i));
            })
        });
    }
    let r = Arc::new(recloser_closed());
    both(&mut g, "recloser_sync", || {
        let r = r.clone();
        Box::new(move |i| {
            black_box(recloser_call(&r, i));
        })
    });
    let fd = failsafe_default();
    both(&mut g, "failsafe_default_sync", || {
        let f = fd.clone();
        Box::new(move |i| {
            black_box(failsafe_call(&f, i));
        })
    });
    let fc = failsafe_consecutive();
    both(&mut g, "failsafe_consecutive_sync", || {
        let f = fc.clone();
        Box::new(move |i| {
            black_box(failsafe_call(&f, i));
        })
    });
    for threads in [1usize, 2] {
        g.bench_function(format!("fusebox_call_async/{threads}t"), |b| {
            b.iter_custom(|n| {
                threaded_async(
                    threads,
                    n,
                    || fb.clone(),
                    |b, i| Box::pin(fusebox_call_async(b, i)),
                )
            })
        });
    }
    macro_bench::threads(&mut g);
    let (svc, _handle) = tower_closed();
    for threads in [1usize, 2] {
        g.bench_function(format!("tower_resilience_async/{threads}t"), |b| {
            b.iter_custom(|n| {
                threaded_async(
                    threads,
                    n,
                    || svc.clone(),
                    |s, i| Box::pin(tower_call(s, i)),
                )
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------- 4. spans

mod spans {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;

    #[inline(never)]
    pub(crate) async fn plain(x: u64) -> u64 {
        black_box(x) + 1
    }

    #[tracing::instrument(skip_all)]
    pub(crate) async fn instrumented(x: u64) -> u64 {
        black_box(x) + 1
    }

    #[fastrace::trace]
    pub(crate) async fn fastraced(x: u64) -> u64 {
        black_box(x) + 1
    }

    /// An exporter that drops every batch (and counts spans, to prove they flowed).
    #[derive(Debug, Default)]
    pub(crate) struct Discard(pub(crate) Arc<AtomicU64>);

    impl SpanExporter for Discard {
        fn export(
            &self,
            batch: Vec<SpanData>,
        ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
            self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
            std::future::ready(Ok(()))
        }
    }

    /// registry + tracing-opentelemetry + SdkTracerProvider (AlwaysOn, simple processor) +
    /// a discarding exporter.
    pub(crate) fn otel_pipeline(count: Arc<AtomicU64>) -> (tracing::Dispatch, SdkTracerProvider) {
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOn)
            .with_simple_exporter(Discard(count))
            .build();
        let tracer = provider.tracer("bench");
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        (tracing::Dispatch::new(subscriber), provider)
    }

    struct FastraceDiscard(Arc<AtomicU64>);
    impl fastrace::collector::Reporter for FastraceDiscard {
        fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
            self.0.fetch_add(spans.len() as u64, Ordering::Relaxed);
        }
    }

    /// A fresh subscriber for one row (`none`: no dispatcher at all), so that no row inherits
    /// the state (span slab, SDK) left by the row before it: with one shared pipeline, whichever
    /// row ran second was 40-50 % slower.
    fn dispatch_for(
        sub: &str,
        count: &Arc<AtomicU64>,
    ) -> (Option<tracing::Dispatch>, Option<SdkTracerProvider>) {
        match sub {
            "none" => (None, None),
            "registry" => (
                Some(tracing::Dispatch::new(tracing_subscriber::registry())),
                None,
            ),
            "otel" => {
                let (d, p) = otel_pipeline(count.clone());
                (Some(d), Some(p))
            }
            other => unreachable!("{other}"),
        }
    }

    macro_rules! span_row {
        ($g:expr, $rt:expr, $count:expr, $sub:expr, $name:expr, |$i:ident| $call:expr) => {{
            let (dispatch, provider) = dispatch_for($sub, $count);
            let guard = dispatch.as_ref().map(tracing::dispatcher::set_default);
            $g.bench_function(format!("{}/{}", $sub, $name), |b| {
                b.iter_custom(|n| async_loop!($rt, n, |$i| $call))
            });
            drop(guard);
            if let Some(p) = provider {
                let _ = p.shutdown();
            }
        }};
    }

    pub(crate) fn run(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
        use crate::macro_bench::{traced, traced_guarded};
        let mut g = c.benchmark_group("spans");
        let count = Arc::new(AtomicU64::new(0));
        // No subscriber first: no dispatcher has been created yet in this process.
        span_row!(g, rt, &count, "none", "baseline_plain_async_fn", |i| plain(
            i
        )
        .await);
        for sub in ["none", "registry", "otel"] {
            span_row!(g, rt, &count, sub, "tracing_instrument", |i| instrumented(
                i
            )
            .await);
            span_row!(g, rt, &count, sub, "fusebox_traced", |i| traced(i).await);
            span_row!(
                g,
                rt,
                &count,
                sub,
                "fusebox_traced_and_circuit_breaker",
                |i| traced_guarded(i).await.unwrap_or(0)
            );
            if sub == "none" {
                span_row!(g, rt, &count, sub, "fastrace_trace", |i| fastraced(i).await);
                span_row!(g, rt, &count, sub, "fastrace_root_and_child", |i| {
                    use fastrace::future::FutureExt as _;
                    let root =
                        fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                    fastraced(i).in_span(root).await
                });
            }
        }
        span_row!(g, rt, &count, "otel", "tracing_root_and_child", |i| {
            instrumented(i)
                .instrument(tracing::info_span!("root"))
                .await
        });
        let exported = count.load(Ordering::Relaxed);

        // 4. fastrace with a discarding reporter (its collector thread shares the 2 cores).
        let fcount = Arc::new(AtomicU64::new(0));
        fastrace::set_reporter(
            FastraceDiscard(fcount.clone()),
            fastrace::collector::Config::default().report_interval(Duration::from_millis(10)),
        );
        g.bench_function("fastrace_reporter/fastrace_trace", |b| {
            b.iter_custom(|n| async_loop!(rt, n, |i| fastraced(i).await))
        });
        g.bench_function("fastrace_reporter/fastrace_root_and_child", |b| {
            b.iter_custom(|n| {
                async_loop!(rt, n, |i| {
                    use fastrace::future::FutureExt as _;
                    let root =
                        fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                    fastraced(i).in_span(root).await
                })
            })
        });
        fastrace::flush();
        g.finish();
        eprintln!(
            "spans: the OTel discarding exporter received {exported} spans; fastrace's reporter {}",
            fcount.load(Ordering::Relaxed)
        );
    }
}

// ---------------------------------------------------------------- 5. export

mod export {
    use super::*;
    use fusebox::telemetry::{self, BatchSettings, Telemetry};

    /// A loopback Zipkin collector that reads each request and answers 202 (or, hung, accepts
    /// connections and never reads or answers).
    pub(crate) struct Collector {
        pub(crate) port: u16,
        pub(crate) requests: Arc<AtomicUsize>,
        pub(crate) bytes: Arc<AtomicUsize>,
    }

    impl Collector {
        pub(crate) fn start(hung: bool) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind collector");
            let port = listener.local_addr().expect("addr").port();
            let requests = Arc::new(AtomicUsize::new(0));
            let bytes = Arc::new(AtomicUsize::new(0));
            let (r, by) = (requests.clone(), bytes.clone());
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    r.fetch_add(1, Ordering::Relaxed);
                    if hung {
                        held.push(stream);
                        continue;
                    }
                    if let Ok(n) = answer(stream) {
                        by.fetch_add(n, Ordering::Relaxed);
                    }
                }
            });
            Self {
                port,
                requests,
                bytes,
            }
        }

        pub(crate) fn url(&self) -> String {
            format!("http://127.0.0.1:{}/api/v2/spans", self.port)
        }
    }

    /// Reads one request (head, then `Content-Length` bytes), answers 202, closes.
    fn answer(mut s: TcpStream) -> std::io::Result<usize> {
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut chunk = [0u8; 16 * 1024];
        let (head_end, len) = loop {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Ok(0);
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (p + 4, len);
            }
        };
        while buf.len() < head_end + len {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        Ok(buf.len())
    }

    pub(crate) fn telemetry(url: &str, queue: usize) -> Telemetry {
        telemetry::builder("bench-service")
            .ignore_env()
            .endpoint(url)
            .export_timeout(Duration::from_secs(10))
            .batch_config(BatchSettings::default().with_max_queue_size(queue))
            .shutdown_timeout(Duration::from_millis(200))
            .build()
            .expect("telemetry")
    }

    /// One root span, as a traced handler would open (a name and two fields).
    #[inline]
    pub(crate) fn one_span(i: u64) {
        let span = tracing::info_span!("GET /orders", otel.kind = "server", request = i);
        let _e = span.enter();
        black_box(i);
    }

    const QUEUE: usize = 16 * 1024;

    pub(crate) fn run(c: &mut Criterion) {
        let mut g = c.benchmark_group("export");

        // Spans per second from creation to the collector's 202: produce in chunks no larger
        // than the queue, flush after each, so nothing is dropped (checked below).
        let collector = Collector::start(false);
        let t = telemetry(&collector.url(), QUEUE);
        let counters = t.counters().clone();
        {
            let _d = tracing::subscriber::set_default(t.subscriber());
            g.throughput(Throughput::Elements(1));
            g.bench_function("zipkin_throughput", |b| {
                b.iter_custom(|n| {
                    let start = Instant::now();
                    let mut done = 0;
                    while done < n {
                        let chunk = (n - done).min(QUEUE as u64 / 2);
                        for i in 0..chunk {
                            one_span(done + i);
                        }
                        t.provider().force_flush().expect("flush");
                        done += chunk;
                    }
                    start.elapsed()
                })
            });
        }
        let stats = counters.snapshot();
        eprintln!(
            "export: collector got {} requests, {} bytes; exported {} spans, failed {}, dropped {}",
            collector.requests.load(Ordering::Relaxed),
            collector.bytes.load(Ordering::Relaxed),
            stats.exported,
            stats.failed,
            stats.dropped
        );
        assert_eq!(stats.dropped, 0, "throughput run must not drop spans");
        assert_eq!(stats.failed, 0, "throughput run must not fail exports");
        drop(t.into_guard());

        // Caller-side cost of a span with the default queue (2048): collector answering,
        // collector hung, and the same layer with no exporter at all.
        g.throughput(Throughput::Elements(1));
        let cases: [(&str, Option<bool>); 3] = [
            ("caller/collector_ok", Some(false)),
            ("caller/collector_hung", Some(true)),
            ("caller/no_exporter", None),
        ];
        for (name, hung) in cases {
            let collector = hung.map(Collector::start);
            let t = match &collector {
                Some(c) => telemetry(&c.url(), 2048),
                None => telemetry::builder("bench-service")
                    .ignore_env()
                    .exporter(telemetry::ExporterKind::None)
                    .build()
                    .expect("telemetry"),
            };
            {
                let _d = tracing::subscriber::set_default(t.subscriber());
                g.bench_function(name, |b| {
                    b.iter_custom(|n| {
                        sync_loop(n, |i| {
                            one_span(i);
                            i
                        })
                    })
                });
            }
            let s = t.counters().snapshot();
            eprintln!(
                "export {name}: exported {}, failed {}, dropped {}",
                s.exported, s.failed, s.dropped
            );
            let started = Instant::now();
            drop(t.into_guard());
            eprintln!("export {name}: shutdown took {:?}", started.elapsed());
        }
        g.finish();
    }

    /// Caller-side latency distribution (not criterion): per-span latency of 200k spans,
    /// p50/p99/p99.9/max, collector answering vs hung. Shows that a stall never blocks a caller.
    pub(crate) fn tails() {
        const N: usize = 200_000;
        for (name, hung) in [("collector_ok", false), ("collector_hung", true)] {
            let collector = Collector::start(hung);
            let t = telemetry(&collector.url(), 2048);
            let mut lat = Vec::with_capacity(N);
            {
                let _d = tracing::subscriber::set_default(t.subscriber());
                for i in 0..N as u64 {
                    let s = Instant::now();
                    one_span(i);
                    lat.push(s.elapsed().as_nanos() as u64);
                }
            }
            lat.sort_unstable();
            let q = |p: f64| lat[((N as f64 * p) as usize).min(N - 1)];
            let s = t.counters().snapshot();
            println!(
                "export/tail/{name}: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns (exported {}, failed {}, dropped {})",
                q(0.5),
                q(0.99),
                q(0.999),
                lat[N - 1],
                s.exported,
                s.failed,
                s.dropped
            );
            drop(t.into_guard());
        }
    }
}

// ---------------------------------------------------------------- 6. scale

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("scale");
    let registry = Registry::new();
    let names: Vec<String> = (0..10_000).map(|i| format!("backend-{i}")).collect();
    for n in &names {
        registry.circuit_breaker(n);
    }
    g.bench_function("registry_get_existing_of_10k", |b| {
        b.iter_custom(|n| {
            sync_loop(n, |i| {
                let b = registry.circuit_breaker(&names[(i % 10_000) as usize]);
                b.name().len() as u64
            })
        })
    });
    g.bench_function("registry_create", |b| {
        b.iter_custom(|n| {
            let names: Vec<String> = (0..n).map(|i| format!("new-{i}")).collect();
            let registry = Registry::new();
            let start = Instant::now();
            for name in &names {
                black_box(registry.circuit_breaker(name));
            }
            let elapsed = start.elapsed();
            drop(registry);
            elapsed
        })
    });
    g.bench_function("first_call_on_new_breaker", |b| {
        b.iter_custom(|n| {
            let registry = Registry::new();
            let breakers: Vec<CircuitBreaker> = (0..n)
                .map(|i| registry.circuit_breaker(&format!("fresh-{i}")))
                .collect();
            let start = Instant::now();
            for (i, b) in breakers.iter().enumerate() {
                black_box(fusebox_guard_call(b, i as u64));
            }
            start.elapsed()
        })
    });
    g.bench_function("second_call_on_new_breaker", |b| {
        b.iter_custom(|n| {
            let registry = Registry::new();
            let breakers: Vec<CircuitBreaker> = (0..n)
                .map(|i| registry.circuit_breaker(&format!("fresh-{i}")))
                .collect();
            for (i, b) in breakers.iter().enumerate() {
                black_box(fusebox_guard_call(b, i as u64));
            }
            let start = Instant::now();
            for (i, b) in breakers.iter().enumerate() {
                black_box(fusebox_guard_call(b, i as u64));
            }
            start.elapsed()
        })
    });
    g.finish();
}

// ---------------------------------------------------------------- macros

/// `#[fusebox::circuit_breaker]` and `#[fusebox::traced]` rows. The breakers come from the
/// global registry with the default config, as an application's would.
mod macro_bench {
    use super::*;

    #[fusebox::circuit_breaker(name = "bench.closed")]
    pub(crate) async fn guarded(x: u64) -> Result<u64, MyErr> {
        op_async(x).await
    }

    #[fusebox::circuit_breaker(name = "bench.open")]
    pub(crate) async fn guarded_open(x: u64) -> Result<u64, MyErr> {
        op_async(x).await
    }

    #[fusebox::circuit_breaker(name = "bench.threads")]
    pub(crate) async fn guarded_threads(x: u64) -> Result<u64, MyErr> {
        op_async(x).await
    }

    #[fusebox::traced]
    pub(crate) async fn traced(x: u64) -> u64 {
        black_box(x) + 1
    }

    #[fusebox::traced(kind = "client", remote_service = "order-service")]
    #[fusebox::circuit_breaker(name = "bench.traced")]
    pub(crate) async fn traced_guarded(x: u64) -> Result<u64, MyErr> {
        op_async(x).await
    }

    pub(crate) fn closed(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
        g.bench_function("fusebox_macro_async", |b| {
            b.iter_custom(|n| async_loop!(rt, n, |i| guarded(i).await.unwrap_or(0)))
        });
    }

    pub(crate) fn open(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
        Registry::global()
            .circuit_breaker("bench.open")
            .transition_to_open_state_for(HOUR)
            .expect("to OPEN");
        assert!(
            rt.block_on(guarded_open(1)).is_err(),
            "macro breaker must reject"
        );
        g.bench_function("fusebox_macro_async", |b| {
            b.iter_custom(|n| async_loop!(rt, n, |i| guarded_open(i).await.unwrap_or(0)))
        });
    }

    pub(crate) fn threads(g: &mut BenchmarkGroup<'_, WallTime>) {
        for threads in [1usize, 2] {
            g.bench_function(format!("fusebox_macro_async/{threads}t"), |b| {
                b.iter_custom(|n| {
                    threaded_async(
                        threads,
                        n,
                        || (),
                        |_, i| Box::pin(async move { guarded_threads(i).await.unwrap_or(0) }),
                    )
                })
            });
        }
    }
}

fn main() {
    let rt = runtime();
    let mut c = criterion();
    spans::run(&mut c, &rt);
    closed(&mut c, &rt);
    open(&mut c, &rt);
    threads(&mut c);
    export::run(&mut c);
    scale(&mut c);
    c.final_summary();
    let args: Vec<String> = std::env::args().collect();
    let benching =
        args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list");
    let filtered_out = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .any(|f| !"export/tail".contains(f.as_str()) && !f.starts_with("export"));
    if benching && !filtered_out {
        export::tails();
    }
}
