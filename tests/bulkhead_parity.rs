//! The bulkhead against the real Resilience4j 2.4.0 semaphore bulkhead: the same scenarios
//! (curated in `tests/r4j/scenarios/bulkhead.jsonl`, plus generated ones) run through
//! `tests/r4j/harness/src/main/java/BulkheadHarness.java` and through fusebox, and every step's
//! observation (result, the two gauges, the events it published) must be identical.
//!
//! ```text
//! cargo test --test bulkhead_parity -- --nocapture
//! FUSEBOX_PARITY_CASES=20000 cargo test --test bulkhead_parity
//! ```
//!
//! Needs `java` and `mvn` (as `tests/parity.rs`); without them it prints SKIPPED and passes.
//! The wait is always 0 (a full bulkhead rejects at once), which keeps every step deterministic;
//! waiting, fairness and cancellation are tested in `runtime/tests/bulkhead_calls.rs`.
//! Scenarios only finish or release slots they hold (Resilience4j's `onComplete` without one
//! adds a slot; fusebox's permits cannot) and only shrink by the free slots (Resilience4j's
//! `changeConfig` would block the harness's one thread).

use fusebox::bulkhead::{Bulkhead, BulkheadConfig, BulkheadPermit};
use std::fmt::Write as _;
use std::path::PathBuf;

mod oracle;

struct Scenario {
    name: String,
    max: Option<u32>,
    steps: Vec<String>,
}

impl Scenario {
    fn to_json_line(&self) -> String {
        let config = self
            .max
            .map_or_else(String::new, |m| format!("\"maxConcurrentCalls\":{m}"));
        let steps: Vec<String> = self.steps.iter().map(|s| format!("\"{s}\"")).collect();
        format!(
            "{{\"name\":\"{}\",\"config\":{{{config}}},\"steps\":[{}]}}",
            self.name,
            steps.join(",")
        )
    }
}

/// The curated file's scenarios (a parser for exactly the generator's JSON shape).
fn curated(text: &str) -> Vec<Scenario> {
    let field = |line: &str, key: &str| -> Option<String> {
        let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
        let rest = &line[at..];
        let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_owned())
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|line| {
            let steps_at = line.find("\"steps\":[").expect("steps") + 9;
            let steps_end = steps_at + line[steps_at..].find(']').expect("steps end");
            Scenario {
                name: field(line, "name").expect("name"),
                max: field(line, "maxConcurrentCalls").map(|m| m.parse().expect("a number")),
                steps: line[steps_at..steps_end]
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
            }
        })
        .collect()
}

/// A scenario whose steps keep to the rules above.
fn generate(seed: &mut u64, index: usize) -> Scenario {
    let mut next = |bound: u64| {
        // splitmix64
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    };
    let first = next(5) as u32;
    let (mut max, mut held, mut steps) = (first, 0u32, Vec::new());
    for _ in 0..next(24) + 1 {
        let step = match next(10) {
            5 | 6 if held > 0 => "finish".to_owned(),
            7 if held > 0 => "release".to_owned(),
            4 => "acquire!".to_owned(),
            8 => {
                // At least the held slots: a shrink only takes free ones.
                max = held + next(4) as u32;
                format!("change {max}")
            }
            _ => "acquire".to_owned(),
        };
        match step.as_str() {
            "acquire" | "acquire!" if held < max => held += 1,
            "finish" | "release" => held -= 1,
            _ => {}
        }
        steps.push(step);
    }
    Scenario {
        name: format!("generated/{index}"),
        max: Some(first),
        steps,
    }
}

/// fusebox's observations of `s`, in the harness's JSON form.
fn run_fusebox(s: &Scenario, rt: &tokio::runtime::Runtime) -> Vec<String> {
    let mut config = BulkheadConfig::builder();
    if let Some(max) = s.max {
        config = config.max_concurrent_calls(max);
    }
    let bulkhead = Bulkhead::new("parity", config.build().expect("a valid config"));
    let mut events = bulkhead.subscribe(1024);
    let mut held: Vec<BulkheadPermit<'_>> = Vec::new();
    let mut out = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        let result = match step.as_str() {
            "acquire" => match bulkhead.try_acquire_permission() {
                Ok(p) => {
                    held.push(p);
                    "permitted".to_owned()
                }
                Err(_) => "rejected".to_owned(),
            },
            "acquire!" => match rt.block_on(bulkhead.acquire_permission()) {
                Ok(p) => {
                    held.push(p);
                    "permitted".to_owned()
                }
                Err(e) => format!("full: {e}"),
            },
            "finish" => {
                drop(held.pop().expect("a held slot"));
                "ok".to_owned()
            }
            "release" => {
                held.pop().expect("a held slot").release_unused();
                "ok".to_owned()
            }
            change => {
                let calls: u32 = change
                    .strip_prefix("change ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{}: unknown step {change}", s.name));
                let new = bulkhead
                    .config()
                    .to_builder()
                    .max_concurrent_calls(calls)
                    .build()
                    .expect("a valid config");
                rt.block_on(bulkhead.change_config(new));
                "ok".to_owned()
            }
        };
        let m = bulkhead.metrics();
        let kinds: Vec<String> = events
            .drain()
            .iter()
            .map(|e| format!("\"{}\"", e.kind.as_str()))
            .collect();
        let mut line = String::new();
        write!(
            line,
            "{{\"scenario\":\"{}\",\"step\":{i},\"op\":\"{step}\",\"result\":\"{result}\",\
             \"available\":{},\"max\":{},\"events\":[{}]}}",
            s.name,
            m.available_concurrent_calls,
            m.max_allowed_concurrent_calls,
            kinds.join(",")
        )
        .unwrap();
        out.push(line);
    }
    out
}

#[test]
fn resilience4j_bulkhead_parity() {
    if let Some(reason) = oracle::skip_reason() {
        println!("SKIPPED: {reason}");
        return;
    }
    let cases = oracle::env_u64("FUSEBOX_PARITY_CASES", 2000) as usize;
    let curated_text =
        std::fs::read_to_string(oracle::repo_root().join("tests/r4j/scenarios/bulkhead.jsonl"))
            .expect("curated scenarios");
    let mut scenarios = curated(&curated_text);
    let curated_count = scenarios.len();
    let mut seed = 0x00B0_1C0D;
    scenarios.extend((0..cases).map(|i| generate(&mut seed, i)));
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bulkhead-parity.jsonl");
    let text: String = scenarios.iter().map(|s| s.to_json_line() + "\n").collect();
    std::fs::write(&file, text).expect("writes the scenarios");

    let java = oracle::run_harness("BulkheadHarness", &[&file]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let rust: Vec<String> = scenarios.iter().flat_map(|s| run_fusebox(s, &rt)).collect();
    let steps = rust.len();
    assert_eq!(java.len(), steps, "one observation per step on both sides");
    let differences: Vec<(&String, &String)> =
        java.iter().zip(&rust).filter(|(j, r)| j != r).collect();
    println!(
        "bulkhead parity: {} scenarios ({curated_count} curated), {steps} steps, {} differences",
        scenarios.len(),
        differences.len()
    );
    if let Some((j, r)) = differences.first() {
        panic!(
            "{} of {steps} steps differ; the first:\n  resilience4j: {j}\n  fusebox:      {r}",
            differences.len()
        );
    }
}
