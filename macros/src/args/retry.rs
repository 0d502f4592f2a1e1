//! The arguments of `#[retry(...)]` (parsed as [`NamedArgs`]).

use super::named::Kind;
#[cfg(test)]
use super::named::NamedArgs;

/// The keys of `#[retry]`, in the order of the documentation.
pub(crate) const RETRY_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "registry",
    "order",
    "crate",
];

/// `#[retry]`.
pub(crate) static RETRY: Kind = Kind {
    attr: "retry",
    noun: "retry",
    keys: RETRY_KEYS,
    aliases: &[("fallbackmethod", "fallback")],
    config_keys: &[
        "max_attempts",
        "wait_duration",
        "interval_function",
        "enable_exponential_backoff",
        "exponential_backoff_multiplier",
        "exponential_max_wait_duration",
        "enable_randomized_wait",
        "randomized_wait_factor",
        "fail_after_max_attempts",
        "retry_exceptions",
        "ignore_exceptions",
    ],
    section: "retry",
    config: ("RetryConfig", "retry_with_config"),
};

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<NamedArgs> {
        NamedArgs::parse_at(&RETRY, tokens, None)
    }

    #[test]
    fn all_errors_are_reported_together() {
        let err = parse(quote!(nmae = "x", fallbackMethod = "a", order = "1"))
            .err()
            .unwrap();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("did you mean `name`"), "{messages:#?}");
        assert!(
            messages[1].contains("did you mean `fallback`"),
            "{messages:#?}"
        );
        assert!(
            messages[2].contains("expected an integer for `order`"),
            "{messages:#?}"
        );
        assert!(messages[3].contains("missing `name`"), "{messages:#?}");
    }

    #[test]
    fn config_properties_say_where_they_belong() {
        let err = parse(quote!(name = "a", max_attempts = 5)).err().unwrap();
        assert!(
            err.to_string()
                .contains("`max_attempts` is a property of the retry's config")
        );
    }

    #[test]
    fn order_takes_negative_integers_within_i32() {
        let args = parse(quote!(name = "a", order = -5)).unwrap();
        assert_eq!(args.order.map(|o| o.value), Some(-5));
        let err = parse(quote!(name = "a", order = 2147483648)).err().unwrap();
        assert!(err.to_string().contains("must fit in an `i32`"));
    }

    #[test]
    fn permits_is_not_a_retry_option() {
        let err = parse(quote!(name = "a", permits = 2)).err().unwrap();
        assert!(
            err.to_string()
                .contains("unknown `#[retry]` option `permits`")
        );
    }
}
