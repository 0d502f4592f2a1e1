//! The arguments of `#[retry(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::ParseStream;
use syn::{Attribute, Expr, ExprPath, Ident, LitStr, Path};

use super::Fallback;
use super::{
    FallbackArgs, Order, Seen, crate_value, expr_value, fallback_args_value, fallback_of,
    fallback_value, keep_first, known_key, non_empty_str_value, order_value, parse_args,
};
use crate::errors::Errors;

/// The keys of `#[retry]`, in the order of the documentation.
pub(crate) const RETRY_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "registry",
    "order",
    "crate",
];

/// Resilience4j's names for `#[retry]` keys, suggested when written here (normalized, see
/// `suggest.rs`).
const RETRY_ALIASES: &[(&str, &str)] = &[("fallbackmethod", "fallback")];

/// Properties of the retry's config: written on the attribute, they get an error that says where
/// they belong (as with Resilience4j, the annotation names the retry; its config holds these).
const CONFIG_KEYS: &[&str] = &[
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
];

/// The arguments of `#[retry(...)]`.
pub(crate) struct RetryArgs {
    pub(crate) name: LitStr,
    pub(crate) fallback: Option<Fallback>,
    pub(crate) registry: Option<Expr>,
    pub(crate) order: Option<Order>,
    pub(crate) krate: Option<Path>,
}

impl RetryArgs {
    /// Parses and validates `#[retry(...)]`'s arguments.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        Self::parse_at(tokens, None)
    }

    /// [`parse`](Self::parse), with errors about the attribute as a whole (a missing `name`) on
    /// `attr`: the attribute itself when another resilience attribute expands it.
    pub(crate) fn parse_at(tokens: TokenStream, attr: Option<&Attribute>) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut seen = Seen::default();
        let mut read = Read::default();
        parse_args(tokens, &mut errors, |input, key, errors| {
            let name = syn::ext::IdentExt::unraw(&key).to_string();
            if CONFIG_KEYS.contains(&name.as_str()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "`{name}` is a property of the retry's config, not an option of `#[retry]`: \
                         set it in `[retry.instances.<name>]` of the config file, or register a \
                         `RetryConfig` with `Registry::retry_with_config` before the first call"
                    ),
                ));
            }
            let key_name = known_key(&key, RETRY_KEYS, RETRY_ALIASES, "`#[retry]`")?;
            let fresh = seen.check(&key, errors);
            read.option(input, &key, &key_name, fresh, errors)
        });
        read.finish(errors, attr)
    }
}

/// The options read so far (the first occurrence of each).
#[derive(Default)]
struct Read {
    /// `name` was written, even if its value was not a literal (then that is the error).
    name_given: bool,
    name: Option<LitStr>,
    fallback: Option<(LitStr, ExprPath)>,
    fallback_args: Option<(LitStr, FallbackArgs)>,
    registry: Option<Expr>,
    order: Option<Order>,
    krate: Option<Path>,
}

impl Read {
    /// Reads the value of the known key `key_name`.
    fn option(
        &mut self,
        input: ParseStream<'_>,
        key: &Ident,
        key_name: &str,
        fresh: bool,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        match key_name {
            "name" => {
                self.name_given = true;
                let message = "the retry name must not be empty, as in `name = \"orders\"`";
                let lit = non_empty_str_value(input, key, "\"orders\"", errors, message)?;
                keep_first(&mut self.name, lit, fresh);
            }
            "fallback" => {
                if let Some(fallback) = fallback_value(input, key, errors)? {
                    keep_first(&mut self.fallback, fallback, fresh);
                }
            }
            "fallback_args" => {
                let value = fallback_args_value(input, key, errors)?;
                keep_first(&mut self.fallback_args, value, fresh);
            }
            "registry" => keep_first(
                &mut self.registry,
                expr_value(input, key, "MY_REGISTRY")?,
                fresh,
            ),
            "order" => keep_first(&mut self.order, order_value(input, key)?, fresh),
            _ => {
                // "crate", the last of `RETRY_KEYS`.
                keep_first(&mut self.krate, crate_value(input, key)?, fresh);
            }
        }
        Ok(())
    }

    /// The checks across options, then the arguments.
    fn finish(self, mut errors: Errors, attr: Option<&Attribute>) -> syn::Result<RetryArgs> {
        let missing_name = || {
            let message =
                "missing `name`: every retry is named, as in `#[retry(name = \"orders\")]`";
            match attr {
                Some(attr) => syn::Error::new_spanned(attr, message),
                None => syn::Error::new(Span::call_site(), message),
            }
        };
        if !self.name_given {
            errors.push(missing_name());
        }
        let fallback = fallback_of(self.fallback, self.fallback_args, &mut errors);
        errors.finish()?;
        let name = self.name.ok_or_else(missing_name)?;
        Ok(RetryArgs {
            name,
            fallback,
            registry: self.registry,
            order: self.order,
            krate: self.krate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn all_errors_are_reported_together() {
        let err = RetryArgs::parse(quote!(nmae = "x", fallbackMethod = "a", order = "1"))
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
        let err = RetryArgs::parse(quote!(name = "a", max_attempts = 5))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("`max_attempts` is a property of the retry's config")
        );
    }

    #[test]
    fn order_takes_negative_integers_within_i32() {
        let args = RetryArgs::parse(quote!(name = "a", order = -5)).unwrap();
        assert_eq!(args.order.map(|o| o.value), Some(-5));
        let err = RetryArgs::parse(quote!(name = "a", order = 2147483648))
            .err()
            .unwrap();
        assert!(err.to_string().contains("must fit in an `i32`"));
    }
}
