//! The arguments of `#[circuit_breaker(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::ParseStream;
use syn::{Attribute, Expr, ExprPath, Ident, LitStr, Path};

use super::{
    Order, Seen, crate_value, expr_value, fallback_args_value, fallback_of, fallback_value,
    keep_first, known_key, non_empty_str_value, order_value, parse_args,
};
use crate::errors::Errors;

/// The keys of `#[circuit_breaker]`, in the order of the documentation.
pub(crate) const BREAKER_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "record",
    "ignore",
    "record_result",
    "registry",
    "order",
    "crate",
];

/// Resilience4j's names for `#[circuit_breaker]` keys, suggested when written here (normalized:
/// lower case, without `_` or `-`; see `suggest.rs`).
pub(crate) const BREAKER_ALIASES: &[(&str, &str)] = &[("fallbackmethod", "fallback")];

/// `fallback_args = "all" | "cause"`: which arguments the fallback takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FallbackArgs {
    /// The function's own arguments (the receiver first, for methods), then the cause.
    All,
    /// Only the cause (after the receiver, for methods).
    Cause,
}

/// `fallback = "path"`.
pub(crate) struct Fallback {
    /// The literal as written; errors about the fallback are spanned on it.
    pub(crate) lit: LitStr,
    pub(crate) path: ExprPath,
    pub(crate) args: FallbackArgs,
}

/// The arguments of `#[circuit_breaker(...)]`.
pub(crate) struct BreakerArgs {
    pub(crate) name: LitStr,
    pub(crate) fallback: Option<Fallback>,
    pub(crate) record: Option<Expr>,
    pub(crate) ignore: Option<Expr>,
    pub(crate) record_result: Option<Expr>,
    pub(crate) registry: Option<Expr>,
    pub(crate) order: Option<Order>,
    pub(crate) krate: Option<Path>,
}

impl BreakerArgs {
    /// Parses and validates `#[circuit_breaker(...)]`'s arguments.
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
            let key_name = known_key(&key, BREAKER_KEYS, BREAKER_ALIASES, "`#[circuit_breaker]`")?;
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
    record: Option<Expr>,
    ignore: Option<Expr>,
    record_result: Option<Expr>,
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
                let message = "the breaker name must not be empty, as in `name = \"orders\"`";
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
            "record" => keep_first(
                &mut self.record,
                expr_value(input, key, "is_transient")?,
                fresh,
            ),
            "ignore" => keep_first(
                &mut self.ignore,
                expr_value(input, key, "is_not_found")?,
                fresh,
            ),
            "record_result" => {
                let value = expr_value(input, key, "is_server_error")?;
                keep_first(&mut self.record_result, value, fresh);
            }
            "registry" => keep_first(
                &mut self.registry,
                expr_value(input, key, "MY_REGISTRY")?,
                fresh,
            ),
            "order" => keep_first(&mut self.order, order_value(input, key)?, fresh),
            _ => {
                // "crate", the last of `BREAKER_KEYS`.
                keep_first(&mut self.krate, crate_value(input, key)?, fresh);
            }
        }
        Ok(())
    }

    /// The checks across options, then the arguments.
    fn finish(self, mut errors: Errors, attr: Option<&Attribute>) -> syn::Result<BreakerArgs> {
        let missing_name = || {
            let message = "missing `name`: every circuit breaker is named, as in `#[circuit_breaker(name = \"orders\")]`";
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
        // A `name` that was written but not read is an error reported above.
        let name = self.name.ok_or_else(missing_name)?;
        Ok(BreakerArgs {
            name,
            fallback,
            record: self.record,
            ignore: self.ignore,
            record_result: self.record_result,
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
        let err = BreakerArgs::parse(quote!(nmae = "x", fallback = 3, fallback = "a"))
            .err()
            .unwrap();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("did you mean `name`"));
        assert!(messages[1].contains("expected a string literal for `fallback`"));
        assert!(messages[2].contains("`fallback` is set more than once"));
        assert!(messages[3].contains("missing `name`"));
    }
}
