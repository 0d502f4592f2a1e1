//! Retry sections in config files: TOML `[retry.*]`, Spring's `resilience4j.retry` (the real
//! files in `tests/data/spring-yaml`), Resilience4j's retry resolution rules and quirks, errors.

use fusebox_runtime::Registry;
use fusebox_runtime::config::file::{Format, load_str};
#[cfg(feature = "yaml")]
use fusebox_runtime::config::file::{LoadedConfig, load_file};
use fusebox_runtime::retry::RetryInterval;
#[cfg(feature = "yaml")]
use std::path::Path;
use std::time::Duration;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[cfg(feature = "yaml")]
fn spring(name: &str) -> LoadedConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/spring-yaml")
        .join(name);
    load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[cfg(feature = "yaml")]
fn yaml(text: &str) -> LoadedConfig {
    load_str(text, Format::SpringYaml, None).unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(feature = "yaml")] // Spring YAML
#[test]
fn real_spring_files_resolve_as_resilience4j() {
    // baeldung: default 3 attempts, bare 100 = 100 ms; the instance names it.
    let b = spring("baeldung-resilience4j.yml").resolved.retry;
    let ext = &b.instances["externalService"];
    assert_eq!(ext.max_attempts(), 3);
    assert_eq!(ext.interval(), &RetryInterval::Fixed(ms(100)));

    // eazybytes: the removed `maxRetryAttempts` is ignored (warned), backoff from the default.
    let e = spring("eazybytes-accounts.yml");
    let d = &e.resolved.retry.default;
    assert_eq!(d.max_attempts(), 3);
    assert_eq!(
        d.interval(),
        &RetryInterval::Exponential {
            initial: ms(500),
            multiplier: 2.0,
            max: None
        }
    );
    assert!(
        e.warnings
            .iter()
            .any(|w| w.key.ends_with("maxRetryAttempts")),
        "{:?}",
        e.warnings
    );
    assert!(
        e.warnings
            .iter()
            .any(|w| w.key.ends_with("retryExceptions"))
    );

    // packt: an instance without configs.
    let p = spring("packt-product-composite.yml").resolved.retry;
    assert_eq!(
        p.instances["product"].interval(),
        &RetryInterval::Fixed(ms(1000))
    );
    assert_eq!(p.instances["product"].max_attempts(), 3);

    // The Boot 3 demo: both instances from default.
    let demo = spring("r4j-boot3-demo.yml").resolved.retry;
    for name in ["backendA", "backendB"] {
        assert_eq!(
            demo.instances[name].interval(),
            &RetryInterval::Fixed(ms(100))
        );
    }

    // resilience4j's own test file: backendB sets the backoff flags without waitDuration, so
    // they do not apply and it keeps default's fixed PT10S (Spring's quirk).
    let c = spring("r4j-commons-resilience.yaml");
    let r = &c.resolved.retry;
    assert_eq!(
        r.instances["backendA"].interval(),
        &RetryInterval::Fixed(Duration::from_secs(10))
    );
    let b = &r.instances["backendB"];
    assert_eq!(b.interval(), &RetryInterval::Fixed(Duration::from_secs(10)));
    assert_eq!(b.max_attempts(), 5);
    assert!(b.fail_after_max_attempts());
    assert_eq!(b.event_consumer_buffer_size(), 10);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.key.ends_with("backendB.enableExponentialBackoff")
                && w.message.contains("waitDuration")),
        "{:?}",
        c.warnings
    );
}

#[cfg(feature = "yaml")] // Spring YAML
#[test]
fn merged_backoff_keys_shape_the_wait_where_it_is_set() {
    let r = yaml(
        "resilience4j.retry:\n  configs:\n    default:\n      waitDuration: 100ms\n      \
         enable-exponential-backoff: true\n      exponentialBackoffMultiplier: 3\n    \
         other:\n      maxAttempts: 7\n  instances:\n    a:\n      waitDuration: 200ms\n    \
         b:\n      maxAttempts: 2\n    c:\n      baseConfig: other\n      waitDuration: 50\n",
    )
    .resolved
    .retry;
    let exp = |initial| RetryInterval::Exponential {
        initial,
        multiplier: 3.0,
        max: None,
    };
    // `a` sets the wait: the merged flags shape it.
    assert_eq!(r.instances["a"].interval(), &exp(ms(200)));
    // `b` does not: default's function is inherited.
    assert_eq!(r.instances["b"].interval(), &exp(ms(100)));
    assert_eq!(r.instances["b"].max_attempts(), 2);
    // A named config inherits `default` implicitly (unlike breaker configs).
    assert_eq!(r.configs["other"].interval(), &exp(ms(100)));
    assert_eq!(r.instances["c"].max_attempts(), 7);
    assert_eq!(r.instances["c"].interval(), &exp(ms(50)));
}

#[test]
fn toml_layout_and_registry() {
    let text = r#"
        [retry.configs.default]
        max_attempts = 4
        wait_duration = "10ms"

        [retry.configs.slow]
        wait_duration = "1s"
        enable_randomized_wait = true
        randomized_wait_factor = 0.25

        [retry.instances.orders]
        base_config = "slow"
        fail_after_max_attempts = true

        [instances.orders]
        sliding_window_size = 4
    "#;
    let loaded = load_str(text, Format::Toml, None).expect("loads");
    let registry = Registry::from_resolved(loaded.resolved);
    let orders = registry.retry("orders");
    assert_eq!(orders.config().max_attempts(), 4, "slow inherits default");
    assert_eq!(
        orders.config().interval(),
        &RetryInterval::Randomized {
            interval: ms(1000),
            factor: 0.25
        }
    );
    assert!(orders.config().fail_after_max_attempts());
    assert!(registry.retry("orders").ptr_eq(&orders));
    // On demand: the config of its name, else the default.
    assert_eq!(
        registry.retry("slow").config().interval(),
        orders.config().interval()
    );
    assert_eq!(
        registry.retry("users").config().interval(),
        &RetryInterval::Fixed(ms(10))
    );
    let own = fusebox_runtime::retry::RetryConfig::builder()
        .max_attempts(9)
        .build()
        .unwrap();
    assert_eq!(
        registry.retry_with_config("x", own).config().max_attempts(),
        9
    );
    assert_eq!(
        registry
            .circuit_breaker("orders")
            .config()
            .sliding_window_size(),
        4
    );
}

#[cfg(feature = "yaml")] // Spring YAML
#[test]
fn bad_retry_keys_and_values_are_located() {
    let err = |text: &str, format| load_str(text, format, None).unwrap_err().to_string();
    assert_eq!(
        err("[retry.instances.a]\nmax_atempts = 3\n", Format::Toml),
        "<config>:2:1: unknown key `retry.instances.a.max_atempts`; did you mean `max_attempts`?"
    );
    assert_eq!(
        err("[retry.instances.a]\nmax_attempts = 0\n", Format::Toml),
        "<config>:2:16: retry.instances.a.max_attempts = 0: must be at least 1"
    );
    assert_eq!(
        err(
            "[retry.instances.a]\nbase_config = \"nope\"\n",
            Format::Toml
        ),
        "<config>:2:15: retry.instances.a.base_config: base config `nope` does not exist \
         (define it under `retry.configs.nope`)"
    );
    assert!(err("[retry.config.a]\n", Format::Toml).contains("did you mean `configs`"));
    let spring = err(
        "resilience4j.retry.instances.a:\n  wait-durations: 1s\n",
        Format::SpringYaml,
    );
    assert_eq!(
        spring,
        "<config>:2:3: unknown key `resilience4j.retry.instances.a.wait-durations`; \
         did you mean `wait-duration`?"
    );
    let factor = err(
        "resilience4j.retry.instances.a:\n  randomizedWaitFactor: 1\n",
        Format::SpringYaml,
    );
    assert!(factor.contains("must be in [0, 1)"), "{factor}");
    let zero = err(
        "resilience4j.retry.instances.a:\n  waitDuration: 0\n  enableExponentialBackoff: true\n",
        Format::SpringYaml,
    );
    assert_eq!(
        zero,
        "<config>:2:17: resilience4j.retry.instances.a.waitDuration = 0: must be at least 1ms"
    );
}
