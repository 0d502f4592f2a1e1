//! Config files: fusebox's TOML layout, Spring's `application.yml` layout (the five real files in
//! `tests/data/spring-yaml`, copied unchanged from `shared/compat/spring-yaml`), resolution rules,
//! durations, warnings, and one test per error class.

use fusebox_runtime::config::file::{
    BreakerSettings, Format, LoadedConfig, RegistryConfig, load_file, load_str,
};
#[cfg(feature = "yaml")]
use fusebox_runtime::time_limiter::TimeLimiterConfig;
use fusebox_runtime::{
    CircuitBreakerConfig, ConfigErrorKind, SlidingWindowType, State, WaitInterval,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn load(name: &str) -> LoadedConfig {
    let path = data(name);
    load_file(&path).unwrap_or_else(|e| panic!("{name} should load: {e}"))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn constant(d: Duration) -> WaitInterval {
    WaitInterval::Constant(d)
}

/// The keys of the warnings, relative to their module prefix, in file order.
/// The warnings' keys, retry and rate limiter sections' aside (`retry_files.rs` and
/// `rate_limiter_files.rs` check those).
#[cfg(feature = "yaml")] // used by the Spring YAML tests only
fn warning_keys(loaded: &LoadedConfig) -> Vec<String> {
    loaded
        .warnings
        .iter()
        .map(|w| w.key.clone())
        .filter(|k| {
            !k.starts_with("resilience4j.retry.") && !k.starts_with("resilience4j.ratelimiter.")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The five real Spring files.

#[cfg(feature = "yaml")]
mod spring_files {
    use super::*;

    #[test]
    fn copies_match_the_shared_originals() {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compat/spring-yaml");
        if !shared.is_dir() {
            return; // outside the project workspace: the copies are the test data
        }
        for name in [
            "baeldung-resilience4j.yml",
            "eazybytes-accounts.yml",
            "packt-product-composite.yml",
            "r4j-boot3-demo.yml",
            "r4j-commons-resilience.yaml",
        ] {
            let original = std::fs::read(shared.join(name)).expect("original");
            let copy = std::fs::read(data("spring-yaml").join(name)).expect("copy");
            assert!(original == copy, "{name} differs from the shared original");
        }
    }

    #[test]
    fn baeldung_instance_inherits_default_and_time_limiter_default() {
        let loaded = load("spring-yaml/baeldung-resilience4j.yml");
        let r = &loaded.resolved;
        let expected = CircuitBreakerConfig::builder()
            .sliding_window_size(10)
            .minimum_number_of_calls(5)
            .permitted_number_of_calls_in_half_open_state(3)
            .automatic_transition_from_open_to_half_open_enabled(true)
            .wait_duration_in_open_state(secs(5))
            .failure_rate_threshold(50.0)
            .register_health_indicator(true)
            .event_consumer_buffer_size(50)
            .timeout(secs(2)) // resilience4j.timelimiter.configs.default.timeoutDuration
            .build()
            .unwrap();
        assert_eq!(r.default, expected);
        assert_eq!(r.configs["default"], expected);
        assert_eq!(r.instances["externalService"], expected);
        assert_eq!(r.instances.len(), 1);
        assert!(r.tags.is_empty());
        // `cancelRunningFuture` configures the registry's time limiters now: no warning.
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let limiter = TimeLimiterConfig::builder()
            .timeout_duration(secs(2))
            .cancel_running_future(true)
            .build()
            .unwrap();
        assert_eq!(r.time_limiter.default, limiter);
        assert_eq!(r.time_limiter.configs["default"], limiter);
        assert_eq!(r.time_limiter.instances["externalService"], limiter);
    }

    #[test]
    fn eazybytes_default_config_with_millisecond_wait() {
        let loaded = load("spring-yaml/eazybytes-accounts.yml");
        let r = &loaded.resolved;
        let expected = CircuitBreakerConfig::builder()
            .sliding_window_size(10)
            .permitted_number_of_calls_in_half_open_state(2)
            .failure_rate_threshold(50.0)
            .wait_duration_in_open_state(ms(10_000))
            .build()
            .unwrap();
        assert_eq!(r.default, expected);
        assert_eq!(r.default.minimum_number_of_calls(), 100);
        assert_eq!(r.default.effective_minimum_number_of_calls(), 10);
        assert_eq!(r.default.timeout(), None, "no time limiter configured");
        assert!(r.instances.is_empty());
        // `management.metrics.tags` (placeholders are not expanded).
        assert_eq!(
            r.tags,
            [(
                "application".to_owned(),
                "${spring.application.name}".to_owned()
            )]
            .into()
        );
        // The retry section's enableExponentialBackoff/ignoreExceptions are not the breaker's.
        assert!(warning_keys(&loaded).is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn packt_instance_without_configs_uses_library_defaults() {
        let loaded = load("spring-yaml/packt-product-composite.yml");
        let r = &loaded.resolved;
        let expected = CircuitBreakerConfig::builder()
            .sliding_window_type(SlidingWindowType::CountBased)
            .sliding_window_size(5)
            .failure_rate_threshold(50.0)
            .wait_duration_in_open_state(ms(10_000))
            .permitted_number_of_calls_in_half_open_state(3)
            .automatic_transition_from_open_to_half_open_enabled(true)
            .register_health_indicator(true)
            .allow_health_indicator_to_fail(false)
            .timeout(secs(2)) // resilience4j.timelimiter.instances.product
            .build()
            .unwrap();
        assert_eq!(r.instances["product"], expected);
        assert_eq!(r.instances.len(), 1);
        assert_eq!(r.default, CircuitBreakerConfig::default());
        assert!(r.configs.is_empty());
        assert_eq!(
            warning_keys(&loaded),
            ["resilience4j.circuitbreaker.instances.product.ignoreExceptions"]
        );
        assert!(
            loaded
                .warnings
                .last()
                .unwrap()
                .message
                .contains("`ignore = ...` predicate")
        );
    }

    #[test]
    fn boot3_demo_default_fallback_and_unshared_named_config() {
        let loaded = load("spring-yaml/r4j-boot3-demo.yml");
        let r = &loaded.resolved;
        let default = CircuitBreakerConfig::builder()
            .sliding_window_size(10)
            .minimum_number_of_calls(5)
            .permitted_number_of_calls_in_half_open_state(3)
            .automatic_transition_from_open_to_half_open_enabled(true)
            .wait_duration_in_open_state(secs(5))
            .failure_rate_threshold(50.0)
            .register_health_indicator(true)
            .event_consumer_buffer_size(10)
            .timeout(secs(2))
            .build()
            .unwrap();
        assert_eq!(r.default, default);
        assert_eq!(
            r.tags,
            [(
                "application".to_owned(),
                "${spring.application.name}".to_owned()
            )]
            .into()
        );
        // `shared` has no baseConfig: it does NOT inherit `default` (automatic transition stays
        // off, minimum calls stays 100), and no time limiter config is named `shared`.
        let shared = CircuitBreakerConfig::builder()
            .sliding_window_size(100)
            .permitted_number_of_calls_in_half_open_state(30)
            .wait_duration_in_open_state(secs(1))
            .failure_rate_threshold(50.0)
            .event_consumer_buffer_size(10)
            .build()
            .unwrap();
        assert_eq!(r.configs["shared"], shared);
        // backendA names `default` explicitly.
        assert_eq!(r.instances["backendA"], default);
        // backendB has no baseConfig and no config of its name: `configs.default` is its base,
        // so it keeps the default's automatic transition and overrides the minimum.
        let backend_b = default
            .to_builder()
            .minimum_number_of_calls(10)
            .build()
            .unwrap();
        assert_eq!(r.instances["backendB"], backend_b);
        assert!(r.instances["backendB"].automatic_transition_from_open_to_half_open_enabled());
        let keys = warning_keys(&loaded);
        let p = "resilience4j.circuitbreaker";
        assert_eq!(
            keys,
            [
                format!("{p}.configs.default.recordExceptions"),
                format!("{p}.configs.default.ignoreExceptions"),
                format!("{p}.configs.shared.ignoreExceptions"),
                format!("{p}.instances.backendB.recordFailurePredicate"),
                // Read and reported, not provided (runtime/tests/bulkhead_files.rs).
                "resilience4j.thread-pool-bulkhead".to_owned(),
            ]
        );
        // The time limiter block configures the registry's time limiters too.
        let tl = &r.time_limiter;
        assert!(!tl.default.cancel_running_future());
        assert_eq!(tl.default.timeout_duration(), secs(2));
        assert_eq!(tl.instances["backendA"], tl.default);
        let record = &loaded.warnings[0];
        assert_eq!(record.location.line, Some(39));
        assert!(
            record.message.contains("`record = ...` predicate"),
            "{record}"
        );
    }

    #[test]
    fn commons_chains_iso_durations_and_initial_state() {
        let loaded = load("spring-yaml/r4j-commons-resilience.yaml");
        let r = &loaded.resolved;
        let default = CircuitBreakerConfig::builder()
            .sliding_window_size(100)
            .permitted_number_of_calls_in_half_open_state(10)
            .wait_duration_in_open_state(secs(60)) // PT1M
            .failure_rate_threshold(50.0)
            .slow_call_rate_threshold(50.0)
            .slow_call_duration_threshold(secs(2)) // PT2S
            .automatic_transition_from_open_to_half_open_enabled(true)
            .max_wait_duration_in_half_open_state(secs(10)) // PT10S
            .transition_to_state_after_wait_duration(State::Open)
            .sliding_window_type(SlidingWindowType::TimeBased)
            .initial_state(State::Closed)
            .minimum_number_of_calls(5)
            .event_consumer_buffer_size(10)
            .register_health_indicator(true)
            .timeout(secs(10)) // timelimiter.configs.default: PT10S
            .build()
            .unwrap();
        assert_eq!(r.default, default);
        // backendA: baseConfig default, own wait PT5S; time limiter backendA: PT5S.
        let backend_a = default
            .to_builder()
            .wait_duration_in_open_state(secs(5))
            .timeout(secs(5))
            .build()
            .unwrap();
        assert_eq!(r.instances["backendA"], backend_a);
        // backendB: baseConfig shared (which does not inherit default), lower-case PT5s,
        // METRICS_ONLY; time limiter backendB: PT15S.
        let backend_b = CircuitBreakerConfig::builder()
            .sliding_window_type(SlidingWindowType::CountBased)
            .sliding_window_size(10)
            .minimum_number_of_calls(10)
            .permitted_number_of_calls_in_half_open_state(3)
            .initial_state(State::MetricsOnly)
            .wait_duration_in_open_state(secs(5))
            .failure_rate_threshold(60.0)
            .register_health_indicator(true)
            .event_consumer_buffer_size(20)
            .timeout(secs(15))
            .build()
            .unwrap();
        assert_eq!(r.instances["backendB"], backend_b);
        assert_eq!(r.instances["backendB"].slow_call_rate_threshold(), 100.0);
        assert_eq!(r.configs["shared"].wait_interval(), &constant(secs(10))); // PT10s
        assert_eq!(r.configs["shared"].timeout(), None);
        let keys = warning_keys(&loaded);
        // The breaker keys, and the bulkhead's `writableStackTraceEnabled`.
        assert_eq!(keys.len(), 8, "{keys:#?}");
        for java_only in [
            "configs.default.writableStackTraceEnabled",
            "configs.default.recordFailurePredicate",
            "configs.default.ignoreExceptionPredicate",
            "instances.backendB.recordFailurePredicate",
        ] {
            let key = format!("resilience4j.circuitbreaker.{java_only}");
            assert_eq!(keys.iter().filter(|k| **k == key).count(), 1, "{key}");
        }
        // `eventConsumerBufferSize` and `cancelRunningFuture` (quoted strings, as Spring binds
        // them) configure the registry's time limiters.
        assert!(
            keys.iter()
                .all(|k| !k.starts_with("resilience4j.timelimiter"))
        );
        let tl = &r.time_limiter;
        assert_eq!(tl.configs["default"].timeout_duration(), secs(10));
        assert!(tl.configs["default"].cancel_running_future());
        assert_eq!(tl.instances["backendA"].timeout_duration(), secs(5));
        assert_eq!(tl.instances["backendA"].event_consumer_buffer_size(), 100);
        let b = &tl.instances["backendB"];
        assert_eq!(b.timeout_duration(), secs(15));
        assert_eq!(b.event_consumer_buffer_size(), 10);
        assert!(!b.cancel_running_future());
    }
}

// ---------------------------------------------------------------------------------------------
// Spring layout features.

#[cfg(feature = "yaml")]
mod spring_layout {
    use super::*;

    #[test]
    fn timeout_off_switches_off_an_inherited_limit() {
        // Unquoted `off` is a string in YAML 1.2 (what Spring Boot's SnakeYAML would make a
        // boolean is no concern here: the key is fusebox's own).
        let text = "resilience4j.circuitbreaker:\n  configs:\n    base:\n      timeout: 2s\n  instances:\n    orders:\n      baseConfig: base\n      timeout: off\n    payments:\n      baseConfig: base\n";
        let loaded = load_str(text, Format::SpringYaml, Some(Path::new("a.yml"))).unwrap();
        let r = loaded.resolved;
        assert_eq!(r.instances["orders"].timeout(), None);
        assert_eq!(r.instances["payments"].timeout(), Some(secs(2)));
    }

    #[test]
    fn profile_documents_apply_as_spring_applies_them() {
        let r = load("profiles.yml").resolved;
        let orders = &r.instances["orders"];
        assert_eq!(
            orders.failure_rate_threshold(),
            25.0,
            "prod document overrides"
        );
        assert_eq!(orders.sliding_window_size(), 10, "dev document skipped");
        assert_eq!(
            orders.minimum_number_of_calls(),
            100,
            "!prod and `prod & eu` skipped"
        );
        assert_eq!(
            orders.wait_interval(),
            &constant(secs(3)),
            "`prod | staging` applies"
        );
        assert_eq!(orders.sliding_window_type(), SlidingWindowType::TimeBased);
    }

    #[test]
    fn default_profile_is_active_when_none_is_set() {
        let r = load("no_profile.yml").resolved;
        assert_eq!(r.default.sliding_window_size(), 20);
    }

    #[test]
    fn java_only_keys_warn_once_each_with_the_rust_way() {
        let loaded = load("warnings.yml");
        let keys = warning_keys(&loaded);
        let cb = "resilience4j.circuitbreaker";
        assert_eq!(
            keys,
            [
                format!("{cb}.circuitBreakerAspectOrder"),
                format!("{cb}.configs.default.recordExceptions"),
                format!("{cb}.configs.default.ignore-exceptions"),
                format!("{cb}.configs.default.recordResultPredicate"),
                format!("{cb}.configs.default.slidingWindowSynchronizationStrategy"),
                format!("{cb}.configs.default.exponentialBackoffMultiplier"),
            ]
        );
        assert!(!loaded.resolved.time_limiter.instances["orders"].cancel_running_future());
        // `resilience4j.circuitbreaker.tags` are read, and the health and buffer keys applied.
        assert_eq!(
            loaded.resolved.tags,
            [
                ("team".to_owned(), "payments".to_owned()),
                ("tier".to_owned(), "gold".to_owned())
            ]
            .into()
        );
        assert!(loaded.resolved.default.register_health_indicator());
        assert_eq!(loaded.resolved.default.event_consumer_buffer_size(), 10);
        let backoff = &loaded.warnings[5];
        assert!(
            backoff.message.contains("`waitDurationInOpenState`"),
            "{backoff}"
        );
        // A time limiter instance without a breaker instance adds one with the default config.
        let orders = &loaded.resolved.instances["orders"];
        assert_eq!(orders.timeout(), Some(ms(500)));
        assert_eq!(
            orders.to_builder().no_timeout().build().unwrap(),
            loaded.resolved.default
        );
    }

    #[test]
    fn relaxed_binding_and_quoted_scalars() {
        let yaml = r#"
resilience4j.circuitbreaker.instances:
  a:
    sliding-window-size: '7'
    failure_rate_threshold: "12.5"
    automaticTransitionFromOpenToHalfOpenEnabled: 'on'
    slidingWindowType: count-based
    initialState: half_open
"#;
        let r = load_str(yaml, Format::SpringYaml, None).unwrap().resolved;
        let a = &r.instances["a"];
        assert_eq!(a.sliding_window_size(), 7);
        assert_eq!(a.failure_rate_threshold(), 12.5);
        assert!(a.automatic_transition_from_open_to_half_open_enabled());
        assert_eq!(a.initial_state(), State::HalfOpen);
    }

    #[test]
    fn spring_backoff_keys_build_wait_intervals() {
        let yaml = "
resilience4j.circuitbreaker.instances:
  exp:
    waitDurationInOpenState: 2s
    enableExponentialBackoff: true
    exponentialBackoffMultiplier: 2
    exponentialMaxWaitDurationInOpenState: 10s
  rand:
    waitDurationInOpenState: 1s
    enableRandomizedWait: true
";
        let r = load_str(yaml, Format::SpringYaml, None).unwrap().resolved;
        assert_eq!(
            r.instances["exp"].wait_interval(),
            &WaitInterval::ExponentialBackoff {
                initial: secs(2),
                multiplier: 2.0,
                max: Some(secs(10))
            }
        );
        assert_eq!(
            r.instances["rand"].wait_interval(),
            &WaitInterval::Randomized {
                interval: secs(1),
                factor: 0.5
            }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// TOML layout, resolution rules, durations, samples.

#[test]
fn toml_inheritance_chains() {
    let r = load("chains.toml").resolved;
    let default = CircuitBreakerConfig::builder()
        .sliding_window_size(10)
        .minimum_number_of_calls(5)
        .wait_duration_in_open_state(secs(5))
        .build()
        .unwrap();
    assert_eq!(r.default, default);
    // orders -> top -> middle -> base: three levels, nearest wins; no implicit `default`.
    let orders = &r.instances["orders"];
    assert_eq!(orders.failure_rate_threshold(), 20.0, "top overrides base");
    assert_eq!(orders.slow_call_duration_threshold(), secs(2), "from base");
    assert_eq!(
        orders.sliding_window_type(),
        SlidingWindowType::TimeBased,
        "from middle"
    );
    assert_eq!(orders.timeout(), Some(secs(3)), "from middle");
    assert_eq!(orders.sliding_window_size(), 20, "own");
    assert_eq!(
        orders.minimum_number_of_calls(),
        100,
        "configs do not inherit default"
    );
    assert_eq!(orders.wait_interval(), &constant(secs(60)));
    // `timeout = "off"` switches off the limit `middle` sets, and only that.
    let untimed = &r.instances["untimed"];
    assert_eq!(untimed.timeout(), None, "switched off");
    assert_eq!(untimed.sliding_window_type(), SlidingWindowType::TimeBased);
    // An instance named like a config starts from that config, not from default.
    let payments = &r.instances["payments"];
    assert_eq!(payments.permitted_number_of_calls_in_half_open_state(), 2);
    assert_eq!(payments.sliding_window_size(), 100);
    assert!(payments.automatic_transition_from_open_to_half_open_enabled());
    // Otherwise configs.default is the base.
    let inventory = &r.instances["inventory"];
    assert_eq!(inventory.initial_state(), State::ForcedOpen);
    assert_eq!(inventory.sliding_window_size(), 10);
    // Backoff.
    assert_eq!(
        r.instances["backoff"].wait_interval(),
        &WaitInterval::ExponentialBackoff {
            initial: secs(2),
            multiplier: 2.0,
            max: Some(secs(30))
        }
    );
    assert_eq!(
        r.instances["jitter"].wait_interval(),
        &WaitInterval::Randomized {
            interval: secs(1),
            factor: 0.25
        }
    );
    assert_eq!(r.configs.len(), 5);
}

#[test]
fn toml_durations_in_every_form() {
    let r = load("durations.toml").resolved;
    let simple = &r.instances["simple"];
    assert_eq!(simple.wait_interval(), &constant(secs(10)));
    assert_eq!(simple.slow_call_duration_threshold(), ms(500));
    assert_eq!(simple.max_wait_duration_in_half_open_state(), secs(90));
    assert_eq!(simple.timeout(), Some(secs(10)));
    let iso = &r.instances["iso_lower"];
    assert_eq!(iso.wait_interval(), &constant(secs(5)));
    assert_eq!(iso.slow_call_duration_threshold(), ms(1500));
    assert_eq!(iso.max_wait_duration_in_half_open_state(), ms(2500));
    assert_eq!(iso.timeout(), Some(secs(3600)));
}

#[test]
fn registry_config_is_plain_serde() {
    let text = std::fs::read_to_string(data("chains.toml")).unwrap();
    let direct: RegistryConfig = toml::from_str(&text).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    let via_value: RegistryConfig = value.try_into().unwrap();
    assert_eq!(direct, via_value);
    assert_eq!(direct.resolve().unwrap(), load("chains.toml").resolved);
    assert_eq!(
        direct.instances["backoff"],
        BreakerSettings {
            wait_duration_in_open_state: Some(secs(2)),
            enable_exponential_backoff: Some(true),
            exponential_backoff_multiplier: Some(2.0),
            exponential_max_wait_duration_in_open_state: Some(secs(30)),
            ..BreakerSettings::default()
        }
    );
    // And back: serialized settings read the same.
    let again: RegistryConfig = toml::from_str(&toml::to_string(&direct).unwrap()).unwrap();
    assert_eq!(again, direct);
    // `"off"` survives the round trip; a zero limit is refused with the way out.
    assert_eq!(direct.instances["untimed"].timeout, Some(Duration::ZERO));
    assert!(
        toml::to_string(&direct)
            .unwrap()
            .contains("timeout = \"off\"")
    );
    let err = toml::from_str::<RegistryConfig>("[instances.a]\ntimeout = \"0s\"\n").unwrap_err();
    assert!(err.to_string().contains("\"off\""), "{err}");
    // Unknown keys are rejected by serde too.
    let err =
        toml::from_str::<RegistryConfig>("[instances.a]\nfailure_rate_treshold = 4\n").unwrap_err();
    assert!(err.to_string().contains("failure_rate_treshold"), "{err}");
}

#[cfg(feature = "yaml")]
#[test]
fn samples_resolve_to_equal_configs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config");
    let toml = load_file(&root.join("fusebox.toml")).unwrap();
    let yaml = load_file(&root.join("application.yml")).unwrap();
    assert!(toml.warnings.is_empty() && yaml.warnings.is_empty());
    assert_eq!(toml.resolved, yaml.resolved);
    let orders = &toml.resolved.instances["orders"];
    let course = CircuitBreakerConfig::builder()
        .failure_rate_threshold(4.0)
        .wait_duration_in_open_state(secs(1))
        .sliding_window_type(SlidingWindowType::CountBased)
        .sliding_window_size(2)
        .timeout(secs(4))
        .register_health_indicator(true)
        .build()
        .unwrap();
    assert_eq!(orders, &course);
}

#[test]
fn toml_ineffective_backoff_keys_warn() {
    let text = "[instances.a]\nenable_randomized_wait = true\n\n[instances.b]\nwait_duration_in_open_state = \"1s\"\nrandomized_wait_factor = 0.2\n";
    let loaded = load_str(text, Format::Toml, Some(Path::new("x.toml"))).unwrap();
    let shown: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "x.toml:2:26: instances.a.enable_randomized_wait: has no effect without \
             `wait_duration_in_open_state` in the same section (Resilience4j applies backoff \
             only where the wait is set)",
            "x.toml:6:26: instances.b.randomized_wait_factor: has no effect unless \
             `enable_randomized_wait` is true",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// One test per error class: the whole message is checked.

fn error_of(name: &str) -> (String, fusebox_runtime::ConfigError) {
    let path = data(&format!("errors/{name}"));
    let err = load_file(&path).expect_err(name);
    (path.display().to_string(), err)
}

#[test]
fn error_invalid_value_toml() {
    let (file, err) = error_of("invalid_value.toml");
    assert_eq!(
        err.to_string(),
        format!("{file}:2:26: instances.orders.failure_rate_threshold = 150: must be in (0, 100]")
    );
    assert_eq!(err.key(), "instances.orders.failure_rate_threshold");
}

#[test]
fn error_wrong_type_toml() {
    let (file, err) = error_of("wrong_type.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:2:26: instances.orders.failure_rate_threshold = \"fifty\": expected a number"
        )
    );
}

#[cfg(feature = "yaml")]
#[test]
fn error_invalid_value_yaml() {
    let (file, err) = error_of("invalid_value.yml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:4:29: resilience4j.circuitbreaker.instances.orders.failureRateThreshold = 150: \
             must be in (0, 100]"
        )
    );
}

#[cfg(feature = "yaml")]
#[test]
fn error_invalid_enum_yaml() {
    let (file, err) = error_of("bad_window_type.yml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:4:26: resilience4j.circuitbreaker.configs.default.slidingWindowType = \
             \"SLIDING\": expected COUNT_BASED or TIME_BASED"
        )
    );
}

#[test]
fn error_unknown_key_toml() {
    let (file, err) = error_of("unknown_key.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:3:1: unknown key `instances.orders.failure_rate_treshold`; did you mean \
             `failure_rate_threshold`?"
        )
    );
    assert_eq!(
        err.kind(),
        &ConfigErrorKind::UnknownKey {
            suggestion: Some("failure_rate_threshold".into())
        }
    );
    let (file, err) = error_of("unknown_section.toml");
    assert_eq!(
        err.to_string(),
        format!("{file}:1:2: unknown key `instance`; did you mean `instances`?")
    );
}

#[cfg(feature = "yaml")]
#[test]
fn error_unknown_key_yaml() {
    let (file, err) = error_of("unknown_key.yml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:6:9: unknown key `resilience4j.circuitbreaker.instances.orders.failureRateTreshold`; \
             did you mean `failureRateThreshold`?"
        )
    );
    let (file, err) = error_of("unknown_key_kebab.yml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:2:3: unknown key `resilience4j.circuitbreaker.instances.orders.sliding-window-sise`; \
             did you mean `sliding-window-size`?"
        )
    );
}

#[test]
fn error_missing_base_config_toml() {
    let (file, err) = error_of("missing_base.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:5:15: instances.orders.base_config: base config `shraed` does not exist \
             (define it under `configs.shraed`)"
        )
    );
}

#[cfg(feature = "yaml")]
#[test]
fn error_missing_base_config_yaml() {
    let (file, err) = error_of("missing_base.yml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:7:19: resilience4j.circuitbreaker.instances.orders.baseConfig: base config \
             `shraed` does not exist (define it under `configs.shraed`)"
        )
    );
}

#[test]
fn error_base_config_cycle() {
    let (file, err) = error_of("cycle.toml");
    assert_eq!(
        err.to_string(),
        format!("{file}:8:15: configs.c.base_config: base_config cycle: a -> b -> c -> a")
    );
    let (file, err) = error_of("self_cycle.toml");
    assert_eq!(
        err.to_string(),
        format!("{file}:2:15: configs.a.base_config: base_config cycle: a -> a")
    );
}

#[test]
fn error_instance_naming_its_own_config_as_base() {
    let (file, err) = error_of("instance_self_base.toml");
    assert!(matches!(err.kind(), ConfigErrorKind::Conflict { .. }));
    assert!(
        err.to_string().starts_with(&format!(
            "{file}:5:15: instances.orders.base_config: an instance cannot name the config of its \
             own name `orders` as its base"
        )),
        "{err}"
    );
}

#[cfg(feature = "yaml")]
#[test]
fn error_conflicting_backoff() {
    let (file, err) = error_of("conflict.yml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:6:29: resilience4j.circuitbreaker.instances.orders.enableRandomizedWait: \
             `enableExponentialBackoff` and `enableRandomizedWait` cannot both be true \
             (Resilience4j throws IllegalStateException); enable only one of them"
        )
    );
}

#[test]
fn error_unparsable_duration() {
    let (file, err) = error_of("bad_duration.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:2:31: instances.orders.wait_duration_in_open_state = \"ten seconds\": expected \
             a duration such as \"10s\", \"500ms\", \"1m 30s\", ISO-8601 \"PT10S\", or a whole \
             number of milliseconds"
        )
    );
    let (file, err) = error_of("negative_duration.toml");
    assert_eq!(
        err.to_string(),
        format!("{file}:2:11: instances.orders.timeout = \"-4s\": must not be negative")
    );
    let (file, err) = error_of("zero_timeout.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:2:11: instances.orders.timeout = \"0s\": must be at least 1ms, or \"off\" \
             to switch off a time limit inherited from `base_config`"
        )
    );
}

#[cfg(feature = "yaml")]
#[test]
fn error_unparsable_duration_yaml_time_limiter() {
    let (file, err) = error_of("bad_duration.yml");
    assert!(
        err.to_string().starts_with(&format!(
            "{file}:4:24: resilience4j.timelimiter.instances.orders.timeoutDuration = \
             \"4 parsecs\": expected a duration"
        )),
        "{err}"
    );
}

#[test]
fn error_syntax_toml() {
    let (file, err) = error_of("syntax.toml");
    assert!(
        matches!(err.kind(), ConfigErrorKind::Syntax { .. }),
        "{err}"
    );
    assert_eq!(err.location().line, Some(3), "{err}");
    assert!(err.to_string().starts_with(&format!("{file}:3:")), "{err}");
    assert!(err.to_string().contains("invalid TOML"), "{err}");
}

#[cfg(feature = "yaml")]
#[test]
fn error_syntax_yaml() {
    let (file, err) = error_of("syntax.yml");
    assert!(
        matches!(err.kind(), ConfigErrorKind::Syntax { .. }),
        "{err}"
    );
    assert!(err.location().line.is_some(), "{err}");
    assert!(err.to_string().starts_with(&format!("{file}:")), "{err}");
    assert!(err.to_string().contains("invalid YAML"), "{err}");
}

#[test]
fn error_unreadable_file() {
    let path = data("errors/does-not-exist.toml");
    let err = load_file(&path).unwrap_err();
    assert!(matches!(err.kind(), ConfigErrorKind::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read config: ", path.display())),
        "{err}"
    );
}

#[test]
fn error_unsupported_format() {
    let (file, err) = error_of("unsupported.json");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}: unsupported config file extension `.json`: use `.toml` (fusebox layout) or \
             `.yml`/`.yaml` (Spring layout)"
        )
    );
}

#[test]
fn error_without_a_file_names_the_key() {
    let config = RegistryConfig {
        instances: [(
            "orders".to_owned(),
            BreakerSettings {
                sliding_window_size: Some(0),
                ..BreakerSettings::default()
            },
        )]
        .into(),
        ..RegistryConfig::default()
    };
    let err = config.resolve().unwrap_err();
    assert_eq!(
        err.to_string(),
        "instances.orders.sliding_window_size = 0: must be at least 1"
    );
}

#[cfg(not(feature = "yaml"))]
#[test]
fn error_yaml_without_the_feature() {
    let err = load_str(
        "a: 1\n",
        Format::SpringYaml,
        Some(Path::new("application.yml")),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "application.yml: YAML config files need the `yaml` feature of fusebox (or fusebox-runtime)"
    );
}

#[cfg(feature = "yaml")]
#[test]
fn yaml_anchors_and_merge_keys() {
    let yaml = "
shared: &shared
  slidingWindowSize: 4
  failureRateThreshold: 10
resilience4j.circuitbreaker.instances:
  a:
    <<: *shared
    failureRateThreshold: 20
  b: *shared
";
    let r = load_str(yaml, Format::SpringYaml, None).unwrap().resolved;
    assert_eq!(r.instances["a"].sliding_window_size(), 4);
    assert_eq!(r.instances["a"].failure_rate_threshold(), 20.0);
    assert_eq!(r.instances["b"].failure_rate_threshold(), 10.0);
}

#[test]
fn empty_files_give_library_defaults() {
    let empty = load_str("# nothing\n", Format::Toml, None).unwrap();
    assert_eq!(empty.resolved.default, CircuitBreakerConfig::default());
    assert!(empty.resolved.instances.is_empty());
    #[cfg(feature = "yaml")]
    {
        let empty = load_str("# nothing\n---\n", Format::SpringYaml, None).unwrap();
        assert_eq!(empty.resolved, Default::default());
    }
}

#[test]
fn toml_numbers_with_underscores_and_prefixes_are_read_exactly() {
    let loaded = load_str(
        "[instances.a]\nsliding_window_size = 1_000\nminimum_number_of_calls = 0x10\nfailure_rate_threshold = 1_2.5\n",
        Format::Toml,
        None,
    )
    .unwrap();
    let a = &loaded.resolved.instances["a"];
    assert_eq!(a.sliding_window_size(), 1000);
    assert_eq!(a.minimum_number_of_calls(), 16);
    assert_eq!(a.failure_rate_threshold(), 12.5);
    // TOML's special floats and exponents reach validation as numbers (no silent NaN).
    for (text, ok) in [
        ("+1.5e1", true),
        ("inf", false),
        ("-inf", false),
        ("nan", false),
    ] {
        let loaded = load_str(
            &format!("[instances.a]\nfailure_rate_threshold = {text}\n"),
            Format::Toml,
            None,
        );
        assert_eq!(loaded.is_ok(), ok, "{text}: {:?}", loaded.err());
    }
    // Out of i64's range: TOML's own error, with its position.
    let err = load_str(
        "[instances.a]\nsliding_window_size = 99999999999999999999\n",
        Format::Toml,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains(":2:"), "{err}");
}
