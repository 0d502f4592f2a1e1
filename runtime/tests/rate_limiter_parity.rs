//! Rate limiter parity: the same scenarios through Resilience4j 2.4.0's `AtomicRateLimiter`
//! (`tests/r4j/harness/src/main/java/RateLimiterHarness.java`, on a controlled nanoTime
//! supplier) and through fusebox's [`RateLimiter`] on a [`ManualClock`], compared step by step:
//! each step's result, then the detailed metrics (available permissions, nanos to wait, cycle,
//! waiting callers), the clock and the events the step published.
//!
//! ```text
//! cargo test -p fusebox-runtime --no-default-features --test rate_limiter_parity -- --nocapture
//! FUSEBOX_PARITY_CASES=5000 FUSEBOX_PARITY_SEED=7 cargo test ... # more generated scenarios
//! ```
//!
//! Needs `java` and `mvn` (the harness is built and run by `scripts/r4j-oracle.sh`); without
//! them, or with `FUSEBOX_PARITY=skip`, the test says SKIPPED and passes.

use fusebox_runtime::ManualClock;
use fusebox_runtime::rate_limiter::{RateLimiter, RateLimiterConfig};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

// Shared with the facade's parity tests (running the harness, skipping without Java).
#[path = "../../tests/oracle/mod.rs"]
mod oracle;
use oracle::{env_u64, repo_root};

/// Resilience4j's observations of every scenario in `file`, by scenario name.
fn run_java(file: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in oracle::run_harness("RateLimiterHarness", &[file]) {
        let v: Value = serde_json::from_str(&line).expect("harness JSON");
        by_name
            .entry(v["scenario"].as_str().unwrap().to_owned())
            .or_default()
            .push(v);
    }
    by_name
}

/// fusebox's observations of one scenario, in the harness's format.
fn run_fusebox(scenario: &Value) -> Vec<Value> {
    let name = scenario["name"].as_str().unwrap();
    let config = &scenario["config"];
    let clock = ManualClock::new();
    let mut b = RateLimiterConfig::builder()
        .clock(clock.clone())
        .sleeper(clock.clone());
    if let Some(v) = config.get("limitForPeriod") {
        b = b.limit_for_period(v.as_u64().unwrap() as u32);
    }
    if let Some(v) = config.get("limitRefreshPeriodNs") {
        b = b.limit_refresh_period(Duration::from_nanos(v.as_u64().unwrap()));
    }
    if let Some(v) = config.get("timeoutNs") {
        b = b.timeout_duration(Duration::from_nanos(v.as_u64().unwrap()));
    }
    let limiter = RateLimiter::new("parity", b.build().unwrap());
    let mut events = limiter.subscribe(1024);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut obs = Vec::new();
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let step = step.as_str().unwrap();
        let (op, arg) = step.split_once(' ').unwrap_or((step, "0"));
        let arg: u64 = arg.parse().unwrap();
        let result = match op {
            "acquire" => rt
                .block_on(limiter.acquire_permission(arg as u32))
                .is_ok()
                .to_string(),
            "reserve" => match limiter.reserve_permission(arg as u32) {
                Ok(wait) => wait.as_nanos().to_string(),
                Err(_) => "-1".to_owned(),
            },
            "drain" => {
                limiter.drain_permissions();
                "-".to_owned()
            }
            "advance" => {
                clock.advance(Duration::from_nanos(arg));
                "-".to_owned()
            }
            "limit" => {
                limiter.change_limit_for_period(arg as u32).unwrap();
                "-".to_owned()
            }
            "timeout" => {
                limiter
                    .change_timeout_duration(Duration::from_nanos(arg))
                    .unwrap();
                "-".to_owned()
            }
            other => panic!("{name}: unknown step {other}"),
        };
        let m = limiter.metrics();
        let published: Vec<String> = events
            .drain()
            .iter()
            .map(|e| format!("{}:{}", e.kind.as_str(), e.kind.permits()))
            .collect();
        obs.push(json!({
            "scenario": name,
            "step": i,
            "result": result,
            "available": m.available_permissions,
            "nanosToWait": m.nanos_to_wait,
            "cycle": m.cycle,
            "waiting": m.number_of_waiting_threads,
            "clock": clock.elapsed().as_nanos() as u64,
            "events": published.join(","),
        }));
    }
    obs
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generate(rng: &mut Rng, index: usize) -> Value {
    let limit = 1 + rng.below(6);
    let period = [1, 7, 100, 1000, 1_000_000][rng.below(5) as usize];
    let timeouts = [0, period / 2, period, 3 * period, 10 * period + 3];
    let timeout = timeouts[rng.below(5) as usize];
    let steps: Vec<String> = (0..(5 + rng.below(25)))
        .map(|_| match rng.below(12) {
            0..=3 => format!("acquire {}", rng.below(2 * limit + 1)),
            4..=6 => format!("reserve {}", rng.below(2 * limit + 1)),
            7 => "drain".to_owned(),
            8..=9 => format!("advance {}", rng.below(3 * period + 1)),
            10 => format!("limit {}", 1 + rng.below(6)),
            _ => format!("timeout {}", timeouts[rng.below(5) as usize]),
        })
        .collect();
    json!({
        "name": format!("gen/{index}"),
        "config": {"limitForPeriod": limit, "limitRefreshPeriodNs": period, "timeoutNs": timeout},
        "steps": steps,
    })
}

#[test]
fn rate_limiter_matches_resilience4j() {
    if let Some(reason) = oracle::skip_reason() {
        println!("SKIPPED: {reason}");
        return;
    }
    let curated_file = repo_root().join("tests/r4j/scenarios/rate_limiter.jsonl");
    let mut scenarios: Vec<Value> = std::fs::read_to_string(&curated_file)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let curated = scenarios.len();
    let mut rng = Rng(env_u64("FUSEBOX_PARITY_SEED", 0x5eed_f00d) | 1);
    let cases = env_u64("FUSEBOX_PARITY_CASES", 1000) as usize;
    scenarios.extend((0..cases).map(|i| generate(&mut rng, i)));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let all = dir.join("rate-limiter-scenarios.jsonl");
    let text: Vec<String> = scenarios.iter().map(Value::to_string).collect();
    std::fs::write(&all, text.join("\n")).unwrap();
    let java = run_java(&all);
    let mut differences = Vec::new();
    let mut steps = 0;
    for s in &scenarios {
        let name = s["name"].as_str().unwrap();
        let rust = run_fusebox(s);
        let java = &java[name];
        steps += rust.len();
        assert_eq!(java.len(), rust.len(), "{name}: step count");
        if let Some((j, r)) = java.iter().zip(&rust).find(|(j, r)| j != r) {
            differences.push(format!("{s}\n  java: {j}\n  rust: {r}"));
        }
    }
    println!(
        "rate limiter parity: {} scenarios ({curated} curated, {cases} generated), {steps} steps, {} differing",
        scenarios.len(),
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} scenarios differ; first:\n{}",
        differences.len(),
        differences[0]
    );
}
