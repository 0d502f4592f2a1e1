//! Any text as a fusebox TOML config: an error or a config, never a panic.
#![no_main]
use fusebox_runtime::config::file::{Format, load_str};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = load_str(text, Format::Toml, None);
    }
});
