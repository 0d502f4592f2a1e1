//! The global registry loads the file named by `FUSEBOX_CONFIG` (one process per test file:
//! the global registry is initialised once).

use fusebox_runtime::Registry;

#[test]
fn global_registry_reads_fusebox_config_and_reports_errors() {
    let dir = std::env::temp_dir().join(format!("fusebox-global-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[instances.orders]\nfailure_rate_threshold = 150\n").unwrap();
    // SAFETY: set before any other thread of this test binary reads the environment.
    unsafe { std::env::set_var("FUSEBOX_CONFIG", &path) };
    let err = Registry::try_global().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("bad.toml") && msg.contains("failure_rate_threshold"),
        "{msg}"
    );
    // The registry still works, with defaults.
    assert_eq!(
        Registry::global()
            .circuit_breaker("orders")
            .config()
            .failure_rate_threshold(),
        50.0
    );
    std::fs::remove_dir_all(&dir).ok();
}
