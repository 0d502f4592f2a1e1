//! Bulkhead sections in config files: TOML `[bulkhead.*]`, Spring's `resilience4j.bulkhead`
//! (the real files in `tests/data/spring-yaml`), Resilience4j's bulkhead resolution rules,
//! `resilience4j.thread-pool-bulkhead` reported as not provided, errors naming key and file.

use fusebox_runtime::Registry;
use fusebox_runtime::bulkhead::BulkheadConfig;
use fusebox_runtime::config::file::{Format, load_str};
use std::time::Duration;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[cfg(feature = "yaml")]
fn spring(name: &str) -> fusebox_runtime::config::file::LoadedConfig {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/spring-yaml")
        .join(name);
    fusebox_runtime::config::file::load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn config(calls: u32, wait: Duration) -> BulkheadConfig {
    BulkheadConfig::builder()
        .max_concurrent_calls(calls)
        .max_wait_duration(wait)
        .build()
        .unwrap()
}

#[cfg(feature = "yaml")]
#[test]
fn real_spring_files_resolve_as_resilience4j() {
    // baeldung: kebab-case keys, a bare `1` is 1 ms; the instance names `default`.
    let b = spring("baeldung-resilience4j.yml").resolved.bulkhead;
    assert_eq!(b.default, config(3, ms(1)));
    assert_eq!(b.instances["externalService"], config(3, ms(1)));

    // The Boot 3 demo: instances without baseConfig start from `configs.default` (100 calls).
    let demo = spring("r4j-boot3-demo.yml");
    let d = &demo.resolved.bulkhead;
    assert_eq!(d.default, config(100, Duration::ZERO));
    assert_eq!(d.instances["backendA"], config(10, Duration::ZERO));
    assert_eq!(d.instances["backendB"], config(20, ms(10)));
    // Its thread-pool block is read and reported, never silently ignored.
    let thread_pool: Vec<_> = demo
        .warnings
        .iter()
        .filter(|w| w.key == "resilience4j.thread-pool-bulkhead")
        .collect();
    assert_eq!(thread_pool.len(), 1, "{:?}", demo.warnings);
    let w = thread_pool[0];
    assert!(
        w.message.starts_with(
            "not provided, so configs.default, instances.backendA, instances.backendB not applied"
        ),
        "{w}"
    );
    assert!(w.message.contains("`resilience4j.bulkhead`"), "{w}");
    assert_eq!(w.location.line, Some(94), "{w}");

    // resilience4j's own test file: nested under `resilience4j:`, ISO durations, the buffer
    // size, and the Java-only `writableStackTraceEnabled` (a warning).
    let c = spring("r4j-commons-resilience.yaml");
    let r = &c.resolved.bulkhead;
    assert_eq!(r.instances["backendA"], config(10, Duration::ZERO));
    let backend_b = &r.instances["backendB"];
    assert_eq!(backend_b.max_concurrent_calls(), 20);
    assert_eq!(backend_b.max_wait_duration(), ms(10));
    assert_eq!(backend_b.event_consumer_buffer_size(), 15);
    let stack = c
        .warnings
        .iter()
        .find(|w| w.key.starts_with("resilience4j.bulkhead."))
        .expect("a bulkhead warning");
    assert_eq!(
        stack.key,
        "resilience4j.bulkhead.instances.backendB.writableStackTraceEnabled"
    );
    assert!(stack.message.contains("no stack trace"), "{stack}");
    assert!(
        stack
            .to_string()
            .contains("r4j-commons-resilience.yaml:94:"),
        "{stack}"
    );

    // The other two files have no bulkhead block.
    for name in ["eazybytes-accounts.yml", "packt-product-composite.yml"] {
        let none = spring(name).resolved.bulkhead;
        assert!(
            none.instances.is_empty() && none.configs.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn toml_layout_registry_and_reload() {
    let text = r#"
        [bulkhead.configs.default]
        max_concurrent_calls = 4

        [bulkhead.configs.slow]
        max_wait_duration = "PT0.25S"

        [bulkhead.instances.inventory]
        base_config = "slow"
        event_consumer_buffer_size = 9
    "#;
    let loaded = load_str(text, Format::Toml, None).expect("loads");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let registry = Registry::from_resolved(loaded.resolved);
    let inventory = registry.bulkhead("inventory");
    let expected = BulkheadConfig::builder()
        .max_concurrent_calls(4) // `slow` inherits `default`
        .max_wait_duration(ms(250))
        .event_consumer_buffer_size(9)
        .build()
        .unwrap();
    assert_eq!(inventory.config(), expected);
    assert!(registry.bulkhead("inventory").ptr_eq(&inventory));
    // On demand: the config of its name, else the default.
    assert_eq!(registry.bulkhead("slow").config(), config(4, ms(250)));
    assert_eq!(
        registry.bulkhead("users").config(),
        config(4, Duration::ZERO)
    );
    assert_eq!(
        registry.bulkhead_configuration("slow"),
        Some(config(4, ms(250)))
    );

    // A reload creates new instances; existing ones keep their config.
    let path = std::env::temp_dir().join(format!(
        "fusebox-bulkhead-{}-reload.toml",
        std::process::id()
    ));
    std::fs::write(
        &path,
        "[bulkhead.instances.inventory]\nmax_concurrent_calls = 1\n\
         [bulkhead.instances.orders]\nmax_concurrent_calls = 2\n",
    )
    .unwrap();
    let changed = registry.reload_from_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(changed.unwrap(), ["orders"]);
    assert_eq!(
        registry.bulkhead("orders").config(),
        config(2, Duration::ZERO)
    );
    assert_eq!(registry.bulkhead("inventory").config(), expected);
}

#[cfg(feature = "yaml")]
#[test]
fn spring_spellings_and_section_keys() {
    let text = "resilience4j:\n  bulkhead:\n    bulkheadAspectOrder: 5\n    configs:\n      \
                shared:\n        max_concurrent_calls: 7\n    instances:\n      a:\n        \
                baseConfig: shared\n        max-wait-duration: 2s\n      b:\n        \
                maxConcurrentCalls: 3\n        fairCallHandlingStrategyEnabled: false\n";
    let loaded = load_str(text, Format::SpringYaml, None).expect("loads");
    let r = &loaded.resolved.bulkhead;
    assert_eq!(r.instances["a"], config(7, Duration::from_secs(2)));
    // No `configs.default`: `b` starts from Resilience4j's defaults; fairness is not a Spring
    // property, so it stays on (and is reported).
    assert_eq!(r.instances["b"], config(3, Duration::ZERO));
    let keys: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "resilience4j.bulkhead.bulkheadAspectOrder",
            "resilience4j.bulkhead.instances.b.fairCallHandlingStrategyEnabled"
        ]
    );
    assert!(loaded.warnings[1].message.contains("fair_call_handling"));
}

#[test]
fn bad_bulkhead_keys_and_values_are_located() {
    let err = |text: &str, format| load_str(text, format, None).unwrap_err().to_string();
    assert_eq!(
        err(
            "[bulkhead.instances.a]\nmax_concurent_calls = 3\n",
            Format::Toml
        ),
        "<config>:2:1: unknown key `bulkhead.instances.a.max_concurent_calls`; \
         did you mean `max_concurrent_calls`?"
    );
    // Files follow Spring's setter: at least 1 (the builder accepts 0, as Resilience4j's).
    let zero = err(
        "[bulkhead.instances.a]\nmax_concurrent_calls = 0\n",
        Format::Toml,
    );
    assert!(
        zero.starts_with(
            "<config>:2:24: bulkhead.instances.a.max_concurrent_calls = 0: must be at least 1"
        ),
        "{zero}"
    );
    assert_eq!(
        err(
            "[bulkhead.instances.a]\nmax_wait_duration = \"-1s\"\n",
            Format::Toml
        )
        .split(": ")
        .next(),
        Some("<config>:2:21")
    );
    assert_eq!(
        err(
            "[bulkhead.instances.a]\nevent_consumer_buffer_size = 0\n",
            Format::Toml
        ),
        "<config>:2:30: bulkhead.instances.a.event_consumer_buffer_size = 0: must be at least 1"
    );
    assert_eq!(
        err(
            "[bulkhead.instances.a]\nbase_config = \"nope\"\n",
            Format::Toml
        ),
        "<config>:2:15: bulkhead.instances.a.base_config: base config `nope` does not exist \
         (define it under `bulkhead.configs.nope`)"
    );
    assert!(err("[bulkhead.instance.a]\n", Format::Toml).contains("did you mean `instances`"));
    assert!(err("[bulkheads.instances.a]\n", Format::Toml).contains("did you mean `bulkhead`"));
    if cfg!(not(feature = "yaml")) {
        return;
    }
    let spring = err(
        "resilience4j.bulkhead.instances.a:\n  max-concurrent-call: 1\n",
        Format::SpringYaml,
    );
    assert_eq!(
        spring,
        "<config>:2:3: unknown key `resilience4j.bulkhead.instances.a.max-concurrent-call`; \
         did you mean `max-concurrent-calls`?"
    );
    let spring_zero = err(
        "resilience4j.bulkhead.configs.default:\n  maxConcurrentCalls: 0\n",
        Format::SpringYaml,
    );
    assert!(
        spring_zero.starts_with(
            "<config>:2:23: resilience4j.bulkhead.configs.default.maxConcurrentCalls = 0: must be at least 1"
        ),
        "{spring_zero}"
    );
}
