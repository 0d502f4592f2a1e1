//! The monitor reads each breaker's health and event-buffer settings and the registry-wide tags
//! from the config file, live: a reload that changes them is seen without restarting the
//! breaker; bad tag names are errors naming the key and file.

use fusebox_runtime::observe::{HealthStatus, Monitor};
use fusebox_runtime::{Registry, State};
use std::path::PathBuf;
use std::time::Duration;

/// A config file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fusebox-monitor-config-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, text).expect("writes");
        Self(path)
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.0, text).expect("writes");
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const BEFORE: &str = r#"
[configs.default]
sliding_window_size = 2
minimum_number_of_calls = 2
register_health_indicator = true

[instances.orders]
event_consumer_buffer_size = 5

[tags]
application = "orders-service"
zone = "eu-1"
"#;

const AFTER: &str = r#"
[configs.default]
sliding_window_size = 2
minimum_number_of_calls = 2
register_health_indicator = true
allow_health_indicator_to_fail = true

[instances.orders]
event_consumer_buffer_size = 2

[instances.hidden]
register_health_indicator = false

[tags]
application = "orders-v2"
"#;

#[test]
fn health_buffer_and_tags_follow_the_file_and_a_reload() {
    let file = TempFile::new("live.toml", BEFORE);
    let registry = Registry::from_file(&file.0).expect("loads");
    let monitor = Monitor::builder(&registry)
        .tag("zone", "from-code")
        .build()
        .unwrap();
    let orders = registry.circuit_breaker("orders");
    let hidden = registry.circuit_breaker("hidden");
    for b in [&orders, &hidden] {
        assert!(b.try_acquire_permission());
        b.on_error(Duration::from_millis(1));
        assert!(b.try_acquire_permission());
        b.on_error(Duration::from_millis(1));
        assert_eq!(b.state(), State::Open);
    }

    // Both registered (configs.default); OPEN is CIRCUIT_OPEN, which Spring's aggregator drops.
    let health = monitor.circuit_breakers_health();
    assert_eq!(
        health.details.keys().collect::<Vec<_>>(),
        ["hidden", "orders"]
    );
    assert_eq!(health.details["orders"].status, HealthStatus::CircuitOpen);
    assert_eq!(health.status, HealthStatus::Unknown);
    // 2 errors, the rate exceeded and CLOSED_TO_OPEN: 4 events, within 5.
    let types = |monitor: &Monitor| -> Vec<String> {
        let events = monitor.events_of("orders", None).unwrap();
        events
            .circuit_breaker_events
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    };
    let before = types(&monitor);
    assert_eq!(before.len(), 4, "{before:?}");
    // The registry's tags, the builder's winning for `zone`.
    assert_eq!(
        monitor.tags(),
        [
            ("application".to_owned(), "orders-service".to_owned()),
            ("zone".to_owned(), "from-code".to_owned())
        ]
    );
    let text = monitor.prometheus();
    assert!(
        text.contains(
            "resilience4j_circuitbreaker_state{application=\"orders-service\",name=\"orders\",state=\"open\",zone=\"from-code\"} 1.0"
        ),
        "{text}"
    );

    file.write(AFTER);
    let mut changed = registry.reload_from_file(&file.0).expect("reloads");
    changed.sort();
    assert_eq!(changed, ["hidden", "orders"]);
    // Only health and buffer settings changed: the breakers stay OPEN with their windows.
    for b in [&orders, &hidden] {
        assert_eq!(b.state(), State::Open, "{}", b.name());
        assert_eq!(b.metrics().number_of_failed_calls(), 2, "{}", b.name());
    }
    let health = monitor.circuit_breakers_health();
    assert_eq!(health.details.keys().collect::<Vec<_>>(), ["orders"]);
    assert_eq!(health.details["orders"].status, HealthStatus::Down);
    assert_eq!(monitor.health().status, HealthStatus::Down);
    // The buffer keeps the last 2 now.
    assert_eq!(types(&monitor), before[2..]);
    assert_eq!(
        monitor.tags(),
        [
            ("application".to_owned(), "orders-v2".to_owned()),
            ("zone".to_owned(), "from-code".to_owned())
        ]
    );
    assert!(
        monitor
            .prometheus()
            .contains("resilience4j_circuitbreaker_failure_rate{application=\"orders-v2\",name=\"orders\",zone=\"from-code\"} 100.0")
    );
}

#[test]
fn a_bad_tag_name_in_toml_names_the_key_and_file() {
    let file = TempFile::new(
        "bad-tag.toml",
        "[tags]\napplication = \"a\"\napp-name = \"x\"\n",
    );
    let err = Registry::from_file(&file.0).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:3:12: tags.app-name = \"x\": the tag name `app-name` must match \
             [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name)",
            file.0.display()
        )
    );
    file.write("[tags]\nname = \"x\"\n");
    let err = Registry::from_file(&file.0).unwrap_err().to_string();
    assert!(
        err.contains("tags.name = \"x\": `name` is a label the breaker series set themselves"),
        "{err}"
    );
    file.write("[tags]\nversion = 2\n");
    let err = Registry::from_file(&file.0).unwrap_err().to_string();
    assert!(
        err.ends_with("tags.version = 2: expected a string"),
        "{err}"
    );
}

#[test]
fn a_bad_tag_name_in_a_registry_config_names_the_key() {
    let config = fusebox_runtime::config::file::RegistryConfig {
        tags: [("__meta".to_owned(), "x".to_owned())].into(),
        ..Default::default()
    };
    let err = config.resolve().unwrap_err();
    assert_eq!(err.key(), "tags.__meta");
    assert_eq!(
        err.to_string(),
        "tags.__meta = \"x\": the tag name `__meta` starts with `__`, which Prometheus reserves"
    );
}

#[cfg(feature = "yaml")]
mod spring {
    use super::*;

    #[test]
    fn management_and_resilience4j_tags_merge_resilience4j_winning() {
        let file = TempFile::new(
            "tags.yml",
            "management.metrics.tags:\n  application: orders\n  region: eu\n\
             resilience4j.circuitbreaker:\n  tags:\n    region: eu-west-1\n    team: payments\n  \
             instances.orders:\n    registerHealthIndicator: true\n    \
             allow-health-indicator-to-fail: true\n    eventConsumerBufferSize: 3\n",
        );
        let registry = Registry::from_file(&file.0).expect("loads");
        assert_eq!(
            registry.tags(),
            [
                ("application".to_owned(), "orders".to_owned()),
                ("region".to_owned(), "eu-west-1".to_owned()),
                ("team".to_owned(), "payments".to_owned()),
            ]
            .into()
        );
        let config = registry.circuit_breaker("orders").config();
        assert!(config.register_health_indicator());
        assert!(config.allow_health_indicator_to_fail());
        assert_eq!(config.event_consumer_buffer_size(), 3);
    }

    #[test]
    fn a_bad_tag_name_in_yaml_names_the_key_and_file() {
        let file = TempFile::new(
            "bad-tag.yml",
            "management:\n  metrics:\n    tags:\n      app-name: orders\n",
        );
        let err = Registry::from_file(&file.0).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:4:17: management.metrics.tags.app-name = \"orders\": the tag name `app-name` \
                 must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name)",
                file.0.display()
            )
        );
        file.write("resilience4j.circuitbreaker.tags.kind: x\n");
        let err = Registry::from_file(&file.0).unwrap_err().to_string();
        assert!(
            err.contains(
                "resilience4j.circuitbreaker.tags.kind = \"x\": `kind` is a label the breaker series set themselves"
            ),
            "{err}"
        );
        // A size below 1 is refused like Resilience4j's `eventConsumerBufferSize` setter.
        file.write("resilience4j.circuitbreaker.instances.a.eventConsumerBufferSize: 0\n");
        let err = Registry::from_file(&file.0).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "resilience4j.circuitbreaker.instances.a.eventConsumerBufferSize = 0: must be at least 1"
            ),
            "{err}"
        );
    }
}
