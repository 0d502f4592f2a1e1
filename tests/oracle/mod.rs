//! What the Resilience4j parity tests share (`tests/parity.rs`, `tests/retry_parity.rs`,
//! `tests/bulkhead_parity.rs`, `runtime/tests/rate_limiter_parity.rs`): whether they can run,
//! running one of the Java harnesses through `scripts/r4j-oracle.sh`, and numbers from the
//! environment. Each test keeps its own scenarios, generator and comparison.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root (every parity test lives one or two levels below it).
pub(crate) fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    if here.join("scripts/r4j-oracle.sh").exists() {
        here.to_path_buf()
    } else {
        here.join("..")
    }
}

/// Why the parity tests cannot run here (`FUSEBOX_PARITY=skip`, or no `java` or `mvn` on the
/// PATH), or `None` when they can. The caller prints it as `SKIPPED: ...` and passes.
pub(crate) fn skip_reason() -> Option<&'static str> {
    if std::env::var("FUSEBOX_PARITY").is_ok_and(|v| v == "skip") {
        return Some("parity tests disabled by FUSEBOX_PARITY=skip");
    }
    let available = |tool: &str, arg: &str| {
        Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !available("java", "-version") || !available("mvn", "-v") {
        return Some(
            "parity tests need Java 17 and Maven (java and mvn on PATH); see tests/r4j/README.md",
        );
    }
    None
}

/// Runs the harness class `main` (`Harness`, `RetryHarness`, `BulkheadHarness`,
/// `RateLimiterHarness`) on the scenario `files` in one JVM, building it first if needed; its
/// stdout lines (one JSON observation each). Panics with the script's stderr if it fails.
pub(crate) fn run_harness(main: &str, files: &[&Path]) -> Vec<String> {
    let script = repo_root().join("scripts/r4j-oracle.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--main", main])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} --main {main} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("harness output is UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The number in the environment variable `name`, or `default` when it is not set; a value that
/// is not a number stops the test with a message naming the variable.
pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}
