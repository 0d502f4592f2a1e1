//! The arguments of `#[time_limiter(...)]` (parsed as [`NamedArgs`]).

use super::named::Kind;
#[cfg(test)]
use super::named::NamedArgs;

/// The keys of `#[time_limiter]`, in the order of the documentation.
pub(crate) const TIME_LIMITER_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "registry",
    "order",
    "crate",
];

/// `#[time_limiter]`.
pub(crate) static TIME_LIMITER: Kind = Kind {
    attr: "time_limiter",
    noun: "time limiter",
    keys: TIME_LIMITER_KEYS,
    aliases: &[("fallbackmethod", "fallback")],
    config_keys: &[
        "timeout_duration",
        "timeout",
        "cancel_running_future",
        "event_consumer_buffer_size",
    ],
    section: "time_limiter",
    config: ("TimeLimiterConfig", "time_limiter_with_config"),
};

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn the_timeout_belongs_to_the_config() {
        let err = NamedArgs::parse_at(
            &TIME_LIMITER,
            quote!(name = "a", timeout_duration = "1s"),
            None,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains(
            "`timeout_duration` is a property of the time limiter's config, not an option of `#[time_limiter]`"
        ));
        let err = NamedArgs::parse_at(&TIME_LIMITER, quote!(name = "a", permits = 1), None)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("unknown `#[time_limiter]` option `permits`")
        );
    }
}
