//! Attribute arguments: tokens -> typed arguments with spans (the parse step).
//!
//! Hand-written `Parse` code over an explicit key table (no darling): every key is known, an
//! unknown key is an error naming the nearest valid key, a duplicate key is an error on its second
//! occurrence, and parsing goes on after an error (up to the next top-level comma) so that the user
//! sees every mistake of one attribute at once. This module holds what the attributes share; the
//! keys of each are in `breaker.rs`, `traced.rs`, and `named.rs` with its kinds `retry.rs`,
//! `rate_limiter.rs`, `time_limiter.rs`, `bulkhead.rs`.

mod breaker;
mod bulkhead;
mod named;
mod rate_limiter;
mod retry;
mod time_limiter;
mod traced;

pub(crate) use breaker::{BreakerArgs, Fallback, FallbackArgs};
pub(crate) use bulkhead::BULKHEAD;
pub(crate) use named::{Kind, NamedArgs};
pub(crate) use rate_limiter::RATE_LIMITER;
pub(crate) use retry::RETRY;
pub(crate) use time_limiter::TIME_LIMITER;
pub(crate) use traced::{Field, LEVELS, TracedArgs};
#[cfg(test)]
pub(crate) use {
    breaker::{BREAKER_ALIASES, BREAKER_KEYS},
    rate_limiter::RATE_LIMITER_KEYS,
    retry::RETRY_KEYS,
    time_limiter::TIME_LIMITER_KEYS,
    traced::KINDS,
};

use proc_macro2::{TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Expr, ExprPath, Ident, LitStr, Path, Token};

use crate::errors::Errors;
use crate::suggest::nearest;

/// Tracks keys already seen, for the duplicate-key error.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    /// Whether `key` is seen for the first time; an error on `key` otherwise.
    fn check(&mut self, key: &Ident, errors: &mut Errors) -> bool {
        let name = key.unraw().to_string();
        if self.0.contains(&name) {
            errors.push_spanned(
                key,
                format!("`{name}` is set more than once; remove one of them"),
            );
            false
        } else {
            self.0.push(name);
            true
        }
    }
}

/// Stores `value` in `slot` if its key was seen for the first time (`fresh`): the first
/// occurrence of a key wins, the later ones are errors already.
fn keep_first<T>(slot: &mut Option<T>, value: T, fresh: bool) {
    if fresh {
        *slot = Some(value);
    }
}

/// Skips the rest of a malformed argument, up to the next top-level comma.
fn skip_to_comma(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// Parses `= "literal"`.
fn str_value(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<LitStr> {
    eq(input, key, example)?;
    if input.peek(LitStr) {
        return input.parse();
    }
    let found: TokenStream = input
        .fork()
        .parse::<TokenTree>()
        .map(Into::into)
        .unwrap_or_default();
    let span = if found.is_empty() {
        key.span()
    } else {
        found.span()
    };
    Err(syn::Error::new(
        span,
        format!("expected a string literal for `{key}`, as in `{key} = {example}`"),
    ))
}

/// Parses `= "literal"` whose value must not be blank (`what` names it in the error).
fn non_empty_str_value(
    input: ParseStream<'_>,
    key: &Ident,
    example: &str,
    errors: &mut Errors,
    message: impl std::fmt::Display,
) -> syn::Result<LitStr> {
    let lit = str_value(input, key, example)?;
    if lit.value().trim().is_empty() {
        errors.push_spanned(&lit, message);
    }
    Ok(lit)
}

/// Parses the `=` after a key.
fn eq(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            key.span(),
            format!("expected `{key} = {example}`"),
        ))
    }
}

/// Parses `= <expression>`.
fn expr_value(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<Expr> {
    eq(input, key, example)?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected an expression, as in `{key} = {example}`"),
        ));
    }
    let expr: Expr = input.parse()?;
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(s),
        ..
    }) = &expr
    {
        // `record = "is_transient"`: accept the string form too, as serde does for paths.
        return s.parse::<ExprPath>().map(Expr::Path);
    }
    Ok(expr)
}

/// Parses `order = <integer>` (an `i32`, as Spring's aspect orders; negative values allowed).
fn order_value(input: ParseStream<'_>, key: &Ident) -> syn::Result<Order> {
    eq(input, key, "1")?;
    let negative = input.parse::<Option<Token![-]>>()?;
    let lit: syn::LitInt = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected an integer for `{key}`, as in `{key} = 1` (a lower order is outer)"),
        )
    })?;
    let digits = lit.base10_digits();
    let text = if negative.is_some() {
        format!("-{digits}")
    } else {
        digits.to_owned()
    };
    let value = text.parse::<i32>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{key}` must fit in an `i32`, as Spring's aspect orders do"),
        )
    })?;
    Ok(Order {
        value,
        span: lit.span(),
    })
}

/// `order = <integer>`: where an attribute's layer goes among the others on the function (a
/// lower value is outer, as Spring's `*AspectOrder` properties).
#[derive(Clone, Copy)]
pub(crate) struct Order {
    pub(crate) value: i32,
    pub(crate) span: proc_macro2::Span,
}

/// Parses `fallback = "path"`; a literal that is no path is an error (reported, `None`).
fn fallback_value(
    input: ParseStream<'_>,
    key: &Ident,
    errors: &mut Errors,
) -> syn::Result<Option<(LitStr, ExprPath)>> {
    let lit = str_value(input, key, "\"empty_orders\"")?;
    match lit.parse::<ExprPath>() {
        Ok(path) => Ok(Some((lit, path))),
        Err(_) => {
            errors.push_spanned(
                &lit,
                "expected the name of a function or method, as in `fallback = \"empty_orders\"`",
            );
            Ok(None)
        }
    }
}

/// Parses `fallback_args = "all" | "cause"`.
fn fallback_args_value(
    input: ParseStream<'_>,
    key: &Ident,
    errors: &mut Errors,
) -> syn::Result<(LitStr, FallbackArgs)> {
    let lit = str_value(input, key, "\"cause\"")?;
    let value = match lit.value().as_str() {
        "all" => FallbackArgs::All,
        "cause" => FallbackArgs::Cause,
        _ => {
            one_of(&lit, &["all", "cause"], "fallback_args", errors);
            FallbackArgs::All
        }
    };
    Ok((lit, value))
}

/// The `fallback` with its `fallback_args`; `fallback_args` alone is an error.
fn fallback_of(
    fallback: Option<(LitStr, ExprPath)>,
    fallback_args: Option<(LitStr, FallbackArgs)>,
    errors: &mut Errors,
) -> Option<Fallback> {
    if let (Some((lit, _)), None) = (&fallback_args, &fallback) {
        errors.push_spanned(
            lit,
            "`fallback_args` needs a `fallback`, as in `fallback = \"empty_orders\"`",
        );
    }
    let args = fallback_args.map_or(FallbackArgs::All, |(_, a)| a);
    fallback.map(|(lit, path)| Fallback { lit, path, args })
}

/// Parses `crate = "..."`.
fn crate_value(input: ParseStream<'_>, key: &Ident) -> syn::Result<Path> {
    let lit = str_value(input, key, "\"::fusebox\"")?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            "expected a path to the fusebox crate, as in `crate = \"::fusebox\"`",
        )
    })
}

/// The key's name if it is one of `valid`; otherwise an error naming the nearest valid key (or
/// the one that a foreign name in `aliases` stands for).
fn known_key(
    key: &Ident,
    valid: &[&str],
    aliases: &[(&str, &str)],
    what: &str,
) -> syn::Result<String> {
    let name = key.unraw().to_string();
    if valid.contains(&name.as_str()) {
        return Ok(name);
    }
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match nearest(&name, valid, aliases) {
        Some(best) => format!(
            "unknown {what} option `{name}`; did you mean `{best}`? (expected one of: {list})"
        ),
        None => format!("unknown {what} option `{name}`; expected one of: {list}"),
    };
    Err(syn::Error::new(key.span(), message))
}

/// Checks that a string literal is one of `valid`, with a suggestion otherwise.
fn one_of(lit: &LitStr, valid: &[&str], key: &str, errors: &mut Errors) {
    let value = lit.value();
    if valid.contains(&value.as_str()) {
        return;
    }
    let list = valid
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match nearest(&value, valid, &[]) {
        Some(best) => format!(
            "invalid `{key}` \"{value}\"; did you mean \"{best}\"? (expected one of: {list})"
        ),
        None => format!("invalid `{key}` \"{value}\"; expected one of: {list}"),
    };
    errors.push_spanned(lit, message);
}

/// Runs `one` for each comma-separated `key ...` argument, collecting errors.
fn parse_list(
    input: ParseStream<'_>,
    errors: &mut Errors,
    mut one: impl FnMut(ParseStream<'_>, Ident, &mut Errors) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key = match input.call(Ident::parse_any) {
            Ok(key) => key,
            Err(_) => {
                let tt: TokenTree = input.parse()?;
                errors.push_spanned(&tt, "expected an option name, as in `name = \"orders\"`");
                skip_to_comma(input)?;
                let _ = input.parse::<Option<Token![,]>>()?;
                continue;
            }
        };
        if let Err(error) = one(input, key, errors) {
            errors.push(error);
            skip_to_comma(input)?;
        } else if !input.is_empty() && !input.peek(Token![,]) {
            let tt: TokenTree = input.fork().parse()?;
            errors.push_spanned(&tt, "expected `,` between options");
            skip_to_comma(input)?;
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// Parses a whole attribute argument list with `one` per key; every error is reported.
fn parse_args(
    tokens: TokenStream,
    errors: &mut Errors,
    mut one: impl FnMut(ParseStream<'_>, Ident, &mut Errors) -> syn::Result<()>,
) {
    use syn::parse::Parser;
    let parser = |input: ParseStream<'_>| parse_list(input, errors, &mut one);
    if let Err(error) = parser.parse2(tokens) {
        errors.push(error);
    }
}
