//! Registries built from config files, and reloading them.

use fusebox_runtime::{EventKind, Registry, State};
use std::path::PathBuf;
use std::time::Duration;

fn examples(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/config")
        .join(file)
}

#[test]
fn the_sample_toml_creates_the_course_breaker() {
    let registry = Registry::from_file(examples("fusebox.toml")).unwrap();
    let orders = registry
        .find("orders")
        .expect("instances are created eagerly");
    let c = orders.config();
    assert_eq!(c.failure_rate_threshold(), 4.0);
    assert_eq!(c.sliding_window_size(), 2);
    assert_eq!(c.timeout(), Some(Duration::from_secs(4)));
    assert!(registry.circuit_breaker("orders").ptr_eq(&orders));
}

#[cfg(feature = "yaml")]
#[test]
fn the_spring_sample_gives_the_same_registry() {
    let toml = Registry::from_file(examples("fusebox.toml")).unwrap();
    let yaml = Registry::from_file(examples("application.yml")).unwrap();
    assert_eq!(
        toml.find("orders").unwrap().config(),
        yaml.find("orders").unwrap().config()
    );
}

#[test]
fn reload_keeps_the_running_config_when_the_new_file_is_invalid() {
    let dir = std::env::temp_dir().join(format!("fusebox-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fusebox.toml");
    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 2\n").unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let orders = registry.circuit_breaker("orders");
    orders.transition_to_open_state().unwrap();

    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 0\n").unwrap();
    let err = registry.reload_from_file(&path).unwrap_err();
    assert!(err.to_string().contains("sliding_window_size"), "{err}");
    let still = registry.circuit_breaker("orders");
    assert!(still.ptr_eq(&orders), "nothing replaced");
    assert_eq!(still.state(), State::Open, "state kept");

    // Unchanged config: the breaker and its state survive a reload.
    std::fs::write(
        &path,
        "[instances.orders]\nsliding_window_size = 2\n[instances.users]\n",
    )
    .unwrap();
    assert_eq!(
        registry.reload_from_file(&path).unwrap(),
        vec!["users".to_owned()]
    );
    assert!(registry.circuit_breaker("orders").ptr_eq(&orders));

    // Changed config: the same breaker, reconfigured in place (handles cached elsewhere, e.g.
    // by `#[circuit_breaker]` call sites, see it), starting over in CLOSED.
    let mut events = orders.subscribe();
    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 5\n").unwrap();
    assert_eq!(
        registry.reload_from_file(&path).unwrap(),
        vec!["orders".to_owned()]
    );
    let same = registry.circuit_breaker("orders");
    assert!(same.ptr_eq(&orders));
    assert_eq!(orders.config().sliding_window_size(), 5);
    assert_eq!(orders.state(), State::Closed);
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::StateTransition {
                from: State::Open,
                to: State::Closed
            },
            EventKind::Reset
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = Registry::from_file("/nonexistent/fusebox.toml").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/fusebox.toml"),
        "{err}"
    );
}
