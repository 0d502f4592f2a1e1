//! Any string as a duration value ("10s", "PT10S", "500", ...), in both layouts.
#![no_main]
use fusebox_runtime::config::file::{Format, load_str};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Escape as a TOML basic string and as a YAML single-quoted scalar.
    let toml_value: String = text.chars().flat_map(char::escape_default).collect();
    let toml = format!("[instances.a]\nwait_duration_in_open_state = \"{toml_value}\"\n");
    let _ = load_str(&toml, Format::Toml, None);
    if !text.contains(['\n', '\r']) {
        let yaml = format!(
            "resilience4j.circuitbreaker:\n  instances:\n    a:\n      waitDurationInOpenState: '{}'\n",
            text.replace('\'', "''")
        );
        let _ = load_str(&yaml, Format::SpringYaml, None);
    }
});
