//! What an idle process costs on fusebox's account: one `#[circuit_breaker]` call, then nothing
//! for a while (20 s unless given), and the CPU time and voluntary context switches (wakeups) of
//! that idle period, per thread and in total: over the whole period, and from its third second
//! on (the clock's ticker runs for a one-second lease after the last call).
//!
//! ```text
//! cargo run --release --example idle          # idles 20 s
//! cargo run --release --example idle -- 5     # idles 5 s
//! ```
//!
//! Linux only: the numbers come from `/proc/self/task/*/{status,schedstat}`. BENCHMARKS.md quotes
//! them ("An idle process").

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

#[fusebox::circuit_breaker(name = "idle")]
async fn call() -> Result<u32, fusebox::BreakerError> {
    Ok(1)
}

/// CPU nanoseconds and voluntary context switches of one thread.
#[derive(Clone, Copy, Default)]
struct Usage {
    cpu_nanos: u64,
    voluntary: u64,
}

/// Every thread of this process by "name (tid)".
fn snapshot() -> Result<BTreeMap<String, Usage>, String> {
    let mut out = BTreeMap::new();
    let tasks =
        fs::read_dir("/proc/self/task").map_err(|e| format!("cannot read /proc/self/task: {e}"))?;
    for task in tasks {
        let dir = task.map_err(|e| e.to_string())?.path();
        let read = |file: &str| {
            fs::read_to_string(dir.join(file))
                .map_err(|e| format!("cannot read {}: {e}", dir.join(file).display()))
        };
        let name = read("comm")?.trim().to_owned();
        let tid = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let status = read("status")?;
        let voluntary = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("no voluntary_ctxt_switches in {}/status", dir.display()))?;
        // schedstat: nanoseconds on a CPU, nanoseconds waiting, timeslices.
        let schedstat = read("schedstat")?;
        let cpu_nanos = schedstat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("unexpected {}/schedstat: {schedstat:?}", dir.display()))?;
        out.insert(
            format!("{name} ({tid})"),
            Usage {
                cpu_nanos,
                voluntary,
            },
        );
    }
    Ok(out)
}

fn main() -> Result<(), String> {
    let seconds: u64 = match std::env::args().nth(1) {
        None => 20,
        Some(s) => s
            .parse()
            .map_err(|_| format!("the idle period must be a whole number of seconds, not {s:?}"))?,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(call()).map_err(|e| e.to_string())?;

    // The clock's ticker keeps ticking for a one-second lease after the call, so the period
    // after the first two seconds shows what a process that has been idle for a while pays.
    let settle = Duration::from_secs(2).min(Duration::from_secs(seconds));
    let start = snapshot()?;
    let started = Instant::now();
    std::thread::sleep(settle);
    let settled = snapshot()?;
    std::thread::sleep(Duration::from_secs(seconds).saturating_sub(settle));
    let total = started.elapsed().as_secs_f64();
    let end = snapshot()?;

    println!("one #[circuit_breaker] call, then idle for {total:.1} s");
    report(&format!("0 - {total:.1} s"), &start, &end, total);
    report(
        &format!("{:.1} - {total:.1} s", settle.as_secs_f64()),
        &settled,
        &end,
        total - settle.as_secs_f64(),
    );
    Ok(())
}

/// Prints what each thread used between `from` and `to`, `seconds` apart.
fn report(
    period: &str,
    from: &BTreeMap<String, Usage>,
    to: &BTreeMap<String, Usage>,
    seconds: f64,
) {
    println!("\nidle {period}");
    println!(
        "{:<28} {:>12} {:>14} {:>12}",
        "thread", "CPU s", "wakeups", "wakeups/s"
    );
    let mut total = Usage::default();
    for (thread, end) in to {
        let start = from.get(thread).copied().unwrap_or_default();
        let cpu = end.cpu_nanos - start.cpu_nanos;
        let wakeups = end.voluntary - start.voluntary;
        total.cpu_nanos += cpu;
        total.voluntary += wakeups;
        println!(
            "{thread:<28} {:>12.6} {wakeups:>14} {:>12.1}",
            cpu as f64 / 1e9,
            wakeups as f64 / seconds
        );
    }
    println!(
        "{:<28} {:>12.6} {:>14} {:>12.1}",
        "total",
        total.cpu_nanos as f64 / 1e9,
        total.voluntary,
        total.voluntary as f64 / seconds
    );
}
