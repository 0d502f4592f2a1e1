//! The arguments of `#[rate_limiter(...)]` (parsed as [`NamedArgs`]).

use super::named::Kind;
#[cfg(test)]
use super::named::NamedArgs;

/// The keys of `#[rate_limiter]`, in the order of the documentation.
pub(crate) const RATE_LIMITER_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "permits",
    "registry",
    "order",
    "crate",
];

/// `#[rate_limiter]`.
pub(crate) static RATE_LIMITER: Kind = Kind {
    attr: "rate_limiter",
    noun: "rate limiter",
    keys: RATE_LIMITER_KEYS,
    aliases: &[("fallbackmethod", "fallback")],
    config_keys: &[
        "limit_for_period",
        "limit_refresh_period",
        "timeout_duration",
        "drain_permissions_on_result",
        "register_health_indicator",
        "allow_health_indicator_to_fail",
        "event_consumer_buffer_size",
        "subscribe_for_events",
        "writable_stack_trace_enabled",
    ],
    section: "rate_limiter",
    config: ("RateLimiterConfig", "rate_limiter_with_config"),
};

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<NamedArgs> {
        NamedArgs::parse_at(&RATE_LIMITER, tokens, None)
    }

    #[test]
    fn permits_from_one_to_i32_max() {
        assert_eq!(parse(quote!(name = "a")).unwrap().permits, None);
        assert_eq!(
            parse(quote!(name = "a", permits = 3)).unwrap().permits,
            Some(3)
        );
        let zero = parse(quote!(name = "a", permits = 0)).err().unwrap();
        assert!(zero.to_string().contains("at least 1 permit"), "{zero}");
        let big = parse(quote!(name = "a", permits = 2147483648))
            .err()
            .unwrap();
        assert!(big.to_string().contains("from 1 to 2147483647"), "{big}");
        let text = parse(quote!(name = "a", permits = "2")).err().unwrap();
        assert!(text.to_string().contains("expected a positive integer"));
    }

    #[test]
    fn config_properties_and_misspellings() {
        let err = parse(quote!(name = "a", limit_for_period = 5))
            .err()
            .unwrap();
        assert!(err.to_string().contains(
            "`limit_for_period` is a property of the rate limiter's config, not an option of `#[rate_limiter]`: set it in `[rate_limiter.instances.<name>]`"
        ));
        let err = parse(quote!(name = "a", permit = 5)).err().unwrap();
        assert!(err.to_string().contains("did you mean `permits`"), "{err}");
        let err = parse(quote!(fallback = "f")).err().unwrap();
        assert!(err.to_string().contains("every rate limiter is named"));
    }
}
