//! The arguments of the resilience attributes that only name a registry entry: `#[retry(...)]`,
//! `#[rate_limiter(...)]`, `#[time_limiter(...)]`, `#[bulkhead(...)]` (each one a [`Kind`] in its
//! own file).

use proc_macro2::{Span, TokenStream};
use syn::parse::ParseStream;
use syn::{Attribute, Expr, ExprPath, Ident, LitStr, Path};

use super::Fallback;
use super::{
    FallbackArgs, Order, Seen, crate_value, eq, expr_value, fallback_args_value, fallback_of,
    fallback_value, keep_first, known_key, non_empty_str_value, order_value, parse_args,
};
use crate::errors::Errors;

/// What tells one of these attributes from the others.
pub(crate) struct Kind {
    /// The attribute's name, `retry`.
    pub(crate) attr: &'static str,
    /// What it names, in messages: `retry`, `rate limiter`.
    pub(crate) noun: &'static str,
    /// Its keys, in the order of the documentation.
    pub(crate) keys: &'static [&'static str],
    /// Resilience4j's names for its keys, suggested when written here (normalized, see
    /// `suggest.rs`).
    pub(crate) aliases: &'static [(&'static str, &'static str)],
    /// Properties of its config: written on the attribute, they get an error that says where
    /// they belong (as with Resilience4j, the annotation names the entry; its config holds these).
    pub(crate) config_keys: &'static [&'static str],
    /// The config file's section, `retry` (`[retry.instances.<name>]`).
    pub(crate) section: &'static str,
    /// The config type and the registry method that registers one, for the same message.
    pub(crate) config: (&'static str, &'static str),
}

/// The arguments of a [`Kind`]'s attribute.
pub(crate) struct NamedArgs {
    pub(crate) name: LitStr,
    pub(crate) fallback: Option<Fallback>,
    pub(crate) registry: Option<Expr>,
    pub(crate) order: Option<Order>,
    pub(crate) krate: Option<Path>,
    /// `permits = N` (`#[rate_limiter]` only): the permits each call takes; 1 by default.
    pub(crate) permits: Option<u32>,
}

impl NamedArgs {
    /// Parses and validates the arguments of `kind`'s attribute, with errors about the attribute
    /// as a whole (a missing `name`) on `attr` when given: the attribute itself when another
    /// resilience attribute expands it.
    pub(crate) fn parse_at(
        kind: &'static Kind,
        tokens: TokenStream,
        attr: Option<&Attribute>,
    ) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut seen = Seen::default();
        let mut read = Read::default();
        parse_args(tokens, &mut errors, |input, key, errors| {
            let name = syn::ext::IdentExt::unraw(&key).to_string();
            if kind.config_keys.contains(&name.as_str()) {
                let (config, register) = kind.config;
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "`{name}` is a property of the {noun}'s config, not an option of \
                         `#[{attr}]`: set it in `[{section}.instances.<name>]` of the config \
                         file, or register a `{config}` with `Registry::{register}` before the \
                         first call",
                        noun = kind.noun,
                        attr = kind.attr,
                        section = kind.section,
                    ),
                ));
            }
            let what = format!("`#[{}]`", kind.attr);
            let key_name = known_key(&key, kind.keys, kind.aliases, &what)?;
            let fresh = seen.check(&key, errors);
            read.option(kind, input, &key, &key_name, fresh, errors)
        });
        read.finish(kind, errors, attr)
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
    permits: Option<u32>,
}

impl Read {
    /// Reads the value of the known key `key_name`.
    fn option(
        &mut self,
        kind: &Kind,
        input: ParseStream<'_>,
        key: &Ident,
        key_name: &str,
        fresh: bool,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        match key_name {
            "name" => {
                self.name_given = true;
                let message = format!(
                    "the {} name must not be empty, as in `name = \"orders\"`",
                    kind.noun
                );
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
            "permits" => keep_first(&mut self.permits, permits_value(input, key)?, fresh),
            // `#[bulkhead]` only: "SEMAPHORE", the one bulkhead there is, changes nothing.
            "type" => {
                super::bulkhead::type_value(input, key)?;
            }
            _ => {
                // "crate", the last of every kind's keys.
                keep_first(&mut self.krate, crate_value(input, key)?, fresh);
            }
        }
        Ok(())
    }

    /// The checks across options, then the arguments.
    fn finish(
        self,
        kind: &Kind,
        mut errors: Errors,
        attr: Option<&Attribute>,
    ) -> syn::Result<NamedArgs> {
        let missing_name = || {
            let message = format!(
                "missing `name`: every {} is named, as in `#[{}(name = \"orders\")]`",
                kind.noun, kind.attr
            );
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
        Ok(NamedArgs {
            name,
            fallback,
            registry: self.registry,
            order: self.order,
            krate: self.krate,
            permits: self.permits,
        })
    }
}

/// Parses `permits = <integer>`: at least 1, at most `i32::MAX` (Java's `int`, as
/// Resilience4j's `permits`).
fn permits_value(input: ParseStream<'_>, key: &Ident) -> syn::Result<u32> {
    eq(input, key, "1")?;
    let lit: syn::LitInt = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected a positive integer for `{key}`, as in `{key} = 2`"),
        )
    })?;
    match lit.base10_parse::<u32>() {
        Ok(0) => Err(syn::Error::new(
            lit.span(),
            format!(
                "`{key} = 0` would let every call through without a permit; each call takes at \
                 least 1 permit (remove `{key}` for 1)"
            ),
        )),
        Ok(n) if i32::try_from(n).is_ok() => Ok(n),
        _ => Err(syn::Error::new(
            lit.span(),
            format!(
                "`{key}` must be from 1 to {} (Java's `int`, as Resilience4j's)",
                i32::MAX
            ),
        )),
    }
}
