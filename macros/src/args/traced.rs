//! The arguments of `#[traced(...)]`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token};

use super::{
    Seen, crate_value, keep_first, known_key, non_empty_str_value, one_of, parse_args, str_value,
};
use crate::errors::Errors;

/// `kind = "..."` values, which tracing-opentelemetry maps to the OpenTelemetry span kind.
pub(crate) const KINDS: &[&str] = &["client", "server", "producer", "consumer", "internal"];

/// `level = "..."` values.
pub(crate) const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];

/// The keys of `#[traced]` (the hidden `__breaker` is not listed: users never write it).
pub(crate) const TRACED_KEYS: &[&str] = &[
    "name",
    "kind",
    "remote_service",
    "fields",
    "skip",
    "skip_all",
    "err",
    "level",
    "target",
    "crate",
];

/// The hidden key `#[circuit_breaker]` adds to a `#[traced]` on the same function.
pub(crate) const BREAKER_MARKER: &str = "__breaker";

/// The hidden key `#[retry]` adds to a `#[traced]` on the same function.
pub(crate) const RETRY_MARKER: &str = "__retry";

/// The hidden key `#[rate_limiter]` adds to a `#[traced]` on the same function.
pub(crate) const RATE_LIMITER_MARKER: &str = "__rate_limiter";

/// The hidden key `#[time_limiter]` adds to a `#[traced]` on the same function.
pub(crate) const TIME_LIMITER_MARKER: &str = "__time_limiter";

/// The hidden key `#[bulkhead]` adds to a `#[traced]` on the same function.
pub(crate) const BULKHEAD_MARKER: &str = "__bulkhead";

/// The hidden keys, which users never write.
const MARKERS: &[&str] = &[
    BREAKER_MARKER,
    RETRY_MARKER,
    RATE_LIMITER_MARKER,
    TIME_LIMITER_MARKER,
    BULKHEAD_MARKER,
];

/// One `fields(...)` entry, passed through to `tracing::span!` as written:
/// `key`, `%key`, `?key`, `key = expr`, `key = %expr`, `key = ?expr`, with dotted or string keys.
pub(crate) struct Field {
    pub(crate) tokens: TokenStream,
}

/// The arguments of `#[traced(...)]`.
#[derive(Default)]
pub(crate) struct TracedArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) kind: Option<LitStr>,
    pub(crate) remote_service: Option<LitStr>,
    pub(crate) fields: Vec<Field>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) err: bool,
    pub(crate) level: Option<LitStr>,
    pub(crate) target: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// Hidden: set by `#[circuit_breaker]` when it finds `#[traced]` on the same function, so that
    /// the span declares the breaker's fields.
    pub(crate) breaker: Option<LitStr>,
    /// Hidden: set by `#[retry]` when it finds `#[traced]` on the same function, so that the span
    /// declares the retry's fields.
    pub(crate) retry: Option<LitStr>,
    /// Hidden: set by `#[rate_limiter]` when it records on the span.
    pub(crate) rate_limiter: Option<LitStr>,
    /// Hidden: set by `#[time_limiter]` when it records on the span.
    pub(crate) time_limiter: Option<LitStr>,
    /// Hidden: set by `#[bulkhead]` when it records on the span.
    pub(crate) bulkhead: Option<LitStr>,
}

impl TracedArgs {
    /// Parses and validates `#[traced(...)]`'s arguments.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut seen = Seen::default();
        let mut args = TracedArgs::default();
        parse_args(tokens, &mut errors, |input, key, errors| {
            let key_name = if let Some(marker) = MARKERS.iter().find(|m| key.unraw() == **m) {
                (*marker).to_owned()
            } else {
                known_key(&key, TRACED_KEYS, &[], "`#[traced]`")?
            };
            let fresh = seen.check(&key, errors);
            args.option(input, &key, &key_name, fresh, errors)
        });
        errors.finish()?;
        Ok(args)
    }

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
                let message = "the span name must not be empty, as in `name = \"get-orders\"`";
                let lit = non_empty_str_value(input, key, "\"get-orders\"", errors, message)?;
                keep_first(&mut self.name, lit, fresh);
            }
            "kind" | "level" => {
                let (valid, example, slot) = if key_name == "kind" {
                    (KINDS, "\"client\"", &mut self.kind)
                } else {
                    (LEVELS, "\"debug\"", &mut self.level)
                };
                let lit = str_value(input, key, example)?;
                one_of(&lit, valid, key_name, errors);
                keep_first(slot, lit, fresh);
            }
            "remote_service" | "target" | BREAKER_MARKER | RETRY_MARKER | RATE_LIMITER_MARKER
            | TIME_LIMITER_MARKER | BULKHEAD_MARKER => {
                let (example, slot) = match key_name {
                    "remote_service" => ("\"order-service\"", &mut self.remote_service),
                    "target" => ("\"my_app::orders\"", &mut self.target),
                    RETRY_MARKER => ("\"orders\"", &mut self.retry),
                    RATE_LIMITER_MARKER => ("\"orders\"", &mut self.rate_limiter),
                    TIME_LIMITER_MARKER => ("\"orders\"", &mut self.time_limiter),
                    BULKHEAD_MARKER => ("\"orders\"", &mut self.bulkhead),
                    _ => ("\"order-service\"", &mut self.breaker),
                };
                let message = format!("`{key_name}` must not be empty");
                let lit = non_empty_str_value(input, key, example, errors, message)?;
                keep_first(slot, lit, fresh);
            }
            "fields" => {
                let fields = list(input, key, "fields(user.id = %user_id)", parse_field)?;
                if fresh {
                    self.fields = fields;
                }
            }
            "skip" => {
                let skip = list(input, key, "skip(password)", Ident::parse_any)?;
                if fresh {
                    self.skip = skip;
                }
            }
            "skip_all" | "err" => {
                if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("`{key_name}` is a flag and takes no value: write `{key_name}`"),
                    ));
                }
                if key_name == "err" {
                    self.err = true;
                } else {
                    self.skip_all = true;
                }
            }
            _ => {
                // "crate", the last of `TRACED_KEYS`.
                keep_first(&mut self.krate, crate_value(input, key)?, fresh);
            }
        }
        Ok(())
    }
}

/// Parses `(item, ...)` after a key.
fn list<T>(
    input: ParseStream<'_>,
    key: &Ident,
    example: &str,
    item: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected a list, as in `{example}`"),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    let items = Punctuated::<T, Token![,]>::parse_terminated_with(&content, item)?;
    Ok(items.into_iter().collect())
}

/// Parses one `fields(...)` entry.
fn parse_field(input: ParseStream<'_>) -> syn::Result<Field> {
    let mut tokens = TokenStream::new();
    let sigil = |input: ParseStream<'_>, tokens: &mut TokenStream| -> syn::Result<bool> {
        if input.peek(Token![%]) {
            input.parse::<Token![%]>()?.to_tokens(tokens);
            Ok(true)
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?.to_tokens(tokens);
            Ok(true)
        } else {
            Ok(false)
        }
    };
    let leading_sigil = sigil(input, &mut tokens)?;
    if input.peek(LitStr) {
        input.parse::<LitStr>()?.to_tokens(&mut tokens);
    } else {
        let first = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a field name, as in `fields(user.id = %user_id)`",
            )
        })?;
        first.to_tokens(&mut tokens);
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?.to_tokens(&mut tokens);
            input.call(Ident::parse_any)?.to_tokens(&mut tokens);
        }
    }
    if input.peek(Token![=]) {
        if leading_sigil {
            return Err(input.error("a field is either `%name` or `name = %value`, not both"));
        }
        input.parse::<Token![=]>()?.to_tokens(&mut tokens);
        sigil(input, &mut tokens)?;
        input.parse::<Expr>()?.to_tokens(&mut tokens);
    }
    Ok(Field { tokens })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn traced_fields_pass_through() {
        let args = TracedArgs::parse(
            quote!(fields(user.id = %user_id, ?order, "http.method" = "GET", count), err),
        )
        .unwrap();
        let fields: Vec<String> = args.fields.iter().map(|f| f.tokens.to_string()).collect();
        assert_eq!(
            fields,
            [
                "user . id = % user_id",
                "? order",
                "\"http.method\" = \"GET\"",
                "count"
            ]
        );
        assert!(args.err);
    }
}
