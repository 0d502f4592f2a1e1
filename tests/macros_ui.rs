//! trybuild UI tests for `#[circuit_breaker]` and `#[traced]` (issue #3): every misuse is a
//! compile error spanned on the offending token (`tests/ui/fail/*.stderr`), and the supported
//! shapes compile (`tests/ui/pass`). The `.stderr` wording follows the pinned stable toolchain;
//! regenerate with `TRYBUILD=overwrite cargo test --test macros_ui` after a toolchain bump.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
