//! Rate limiter sections of config files: TOML `[rate_limiter.configs|instances.<name>]`,
//! Spring's `resilience4j.ratelimiter` in the four real files that have one, resolution rules,
//! and errors naming key, file and line.

use fusebox_runtime::Registry;
use fusebox_runtime::config::file::{Format, load_file, load_str};
use fusebox_runtime::rate_limiter::RateLimiterConfig;
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// (limit, period, timeout) of a config.
fn core(c: &RateLimiterConfig) -> (u32, Duration, Duration) {
    (
        c.limit_for_period(),
        c.limit_refresh_period(),
        c.timeout_duration(),
    )
}

/// (subscribe, register health, allow to fail, buffer) of a config.
fn observed(c: &RateLimiterConfig) -> (bool, bool, bool, u32) {
    (
        c.subscribe_for_events(),
        c.register_health_indicator(),
        c.allow_health_indicator_to_fail(),
        c.event_consumer_buffer_size(),
    )
}

const TOML: &str = r#"
[rate_limiter.configs.default]
limit_for_period = 10
limit_refresh_period = "1s"
timeout_duration = 0
register_health_indicator = true

[rate_limiter.configs.strict]
base_config = "default"
limit_for_period = 2

[rate_limiter.configs.alone]
limit_refresh_period = "PT0.5S"

[rate_limiter.instances.orders]
base_config = "strict"
timeout_duration = "250ms"

[rate_limiter.instances.users]
subscribe_for_events = true
"#;

#[test]
fn toml_sections_resolve_with_resilience4j_s_rules() {
    let loaded = load_str(TOML, Format::Toml, None).unwrap();
    let r = &loaded.resolved.rate_limiter;
    assert_eq!(core(&r.default), (10, secs(1), Duration::ZERO));
    assert!(r.default.register_health_indicator());
    assert_eq!(core(&r.configs["strict"]), (2, secs(1), Duration::ZERO));
    // A config without a base starts from `configs.default` (Resilience4j's rate limiter rule).
    assert_eq!(core(&r.configs["alone"]), (10, ms(500), Duration::ZERO));
    assert_eq!(core(&r.instances["orders"]), (2, secs(1), ms(250)));
    assert!(r.instances["orders"].register_health_indicator());
    assert_eq!(
        observed(&r.instances["users"]),
        (true, true, false, 100),
        "health keys reach the instance from the default"
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    // Nanosecond durations (the default period is 500 ns) are written as such.
    let ns = load_str(
        "[rate_limiter.configs.default]\nlimit_refresh_period = \"500ns\"\n",
        Format::Toml,
        None,
    )
    .unwrap();
    assert_eq!(
        ns.resolved.rate_limiter.default.limit_refresh_period(),
        Duration::from_nanos(500)
    );

    let registry = Registry::from_config(
        &toml::from_str::<fusebox_runtime::config::file::RegistryConfig>(TOML).unwrap(),
    )
    .unwrap();
    assert_eq!(
        core(&registry.rate_limiter("orders").config()),
        (2, secs(1), ms(250))
    );
    // Created on demand: the config of its name, else the default.
    assert_eq!(
        registry.rate_limiter("strict").config().limit_for_period(),
        2
    );
    assert_eq!(
        registry.rate_limiter("other").config().limit_for_period(),
        10
    );
    assert_eq!(
        registry
            .all_rate_limiters()
            .iter()
            .map(|l| l.name().to_owned())
            .collect::<Vec<_>>(),
        ["orders", "other", "strict", "users"]
    );
}

#[test]
fn toml_errors_name_key_file_and_line() {
    let dir = std::env::temp_dir().join(format!("fusebox-rl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[rate_limiter.instances.orders]\nlimit_for_period = 0\n",
    )
    .unwrap();
    let e = load_file(&path).unwrap_err();
    assert_eq!(e.key(), "rate_limiter.instances.orders.limit_for_period");
    let text = e.to_string();
    assert!(text.contains("bad.toml:2"), "{text}");
    assert!(text.contains("[1, 2147483647]"), "{text}");

    std::fs::write(
        &path,
        "[rate_limiter.instances.orders]\nlimit_per_period = 3\n",
    )
    .unwrap();
    let e = load_file(&path).unwrap_err();
    assert_eq!(e.key(), "rate_limiter.instances.orders.limit_per_period");
    assert!(e.to_string().contains("limit_for_period"), "{e}");

    std::fs::write(
        &path,
        "[rate_limiter.instances.orders]\nbase_config = \"missing\"\n",
    )
    .unwrap();
    let e = load_file(&path).unwrap_err();
    assert_eq!(e.key(), "rate_limiter.instances.orders.base_config");

    std::fs::write(&path, "[rate_limiter.configz.x]\nlimit_for_period = 3\n").unwrap();
    let e = load_file(&path).unwrap_err();
    assert!(e.to_string().contains("configs"), "{e}");

    std::fs::write(
        &path,
        "[rate_limiter.configs.default]\nlimit_refresh_period = \"0s\"\n",
    )
    .unwrap();
    let e = load_file(&path).unwrap_err();
    assert_eq!(e.key(), "rate_limiter.configs.default.limit_refresh_period");
    assert!(e.to_string().contains("at least 1ns"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(feature = "yaml")]
mod spring {
    use super::*;
    use std::path::{Path, PathBuf};

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    fn load(name: &str) -> fusebox_runtime::config::file::LoadedConfig {
        load_file(&data(name)).unwrap_or_else(|e| panic!("{name} should load: {e}"))
    }

    #[test]
    fn eazybytes_default_in_bare_milliseconds() {
        let loaded = load("spring-yaml/eazybytes-accounts.yml");
        let r = &loaded.resolved.rate_limiter;
        assert_eq!(core(&r.default), (1, ms(5000), ms(1000)));
        assert!(r.instances.is_empty());
    }

    #[test]
    fn commons_iso_durations_implicit_default_base_and_java_only_key() {
        let loaded = load("spring-yaml/r4j-commons-resilience.yaml");
        let r = &loaded.resolved.rate_limiter;
        assert_eq!(core(&r.default), (10, secs(1), secs(10)));
        assert_eq!(observed(&r.default), (false, false, false, 100));
        assert_eq!(r.instances["backendA"], r.default);
        let b = &r.instances["backendB"];
        assert_eq!(core(b), (6, ms(500), secs(3)));
        assert_eq!(observed(b), (true, true, false, 10));
        let warned: Vec<&str> = loaded
            .warnings
            .iter()
            .filter(|w| w.key.starts_with("resilience4j.ratelimiter."))
            .map(|w| w.key.as_str())
            .collect();
        assert_eq!(
            warned,
            ["resilience4j.ratelimiter.instances.backendB.writableStackTraceEnabled"]
        );
    }

    #[test]
    fn baeldung_kebab_case_keys() {
        let loaded = load("spring-yaml/baeldung-resilience4j.yml");
        let r = &loaded.resolved.rate_limiter;
        assert_eq!(core(&r.default), (5, secs(60), Duration::ZERO));
        assert_eq!(observed(&r.default), (true, false, true, 50));
        assert_eq!(r.instances["externalService"], r.default);
    }

    #[test]
    fn boot3_demo_instances_on_the_default() {
        let path = data("spring-yaml/r4j-boot3-demo.yml");
        let loaded = load_file(&path).unwrap();
        let r = &loaded.resolved.rate_limiter;
        assert_eq!(core(&r.default), (10, secs(1), Duration::ZERO));
        assert_eq!(r.instances["backendA"], r.default);
        // backendB has no baseConfig: it starts from configs.default, as in Resilience4j.
        assert_eq!(core(&r.instances["backendB"]), (6, ms(500), secs(3)));
        assert_eq!(r.instances["backendB"].event_consumer_buffer_size(), 100);
        let registry = Registry::from_file(&path).unwrap();
        let names: Vec<String> = registry
            .all_rate_limiters()
            .iter()
            .map(|l| l.name().to_owned())
            .collect();
        assert_eq!(names, ["backendA", "backendB"]);
        assert_eq!(
            core(&registry.rate_limiter("backendB").config()),
            (6, ms(500), secs(3))
        );
    }

    #[test]
    fn spring_errors_name_the_key_as_written() {
        let yaml = "resilience4j.ratelimiter:\n  instances:\n    a:\n      limitForPeriod: 0\n";
        let e = load_str(yaml, Format::SpringYaml, None).unwrap_err();
        assert_eq!(
            e.key(),
            "resilience4j.ratelimiter.instances.a.limitForPeriod"
        );
        assert!(e.to_string().contains(":4"), "{e}");
        let yaml = "resilience4j.ratelimiter:\n  instances:\n    a:\n      limitForPeriods: 3\n";
        let e = load_str(yaml, Format::SpringYaml, None).unwrap_err();
        assert!(e.to_string().contains("limitForPeriod"), "{e}");
        let yaml = "resilience4j.ratelimiter:\n  rateLimiterAspectOrder: 5\n  configs:\n    default:\n      timeout-duration: 2s\n";
        let loaded = load_str(yaml, Format::SpringYaml, None).unwrap();
        assert_eq!(
            loaded.resolved.rate_limiter.default.timeout_duration(),
            secs(2)
        );
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    }
}
