//! Code generation for `#[circuit_breaker]`, `#[retry]`, `#[rate_limiter]`, `#[time_limiter]`,
//! `#[bulkhead]` and `#[traced]`, from a validated model.
//!
//! Both macros keep the user's signature and rewrite the body only, so that rustdoc, IDEs and
//! callers see the function as written. Generated plumbing uses call-site spans and absolute paths
//! through `::fusebox::__private` (or `crate = "..."`); the user's tokens keep their spans, so that
//! errors land on the user's code: the body, the return type, and the `fallback = "..."` literal.

mod bulkhead;
mod circuit_breaker;
mod guarded;
mod rate_limiter;
mod retry;
mod time_limiter;
mod traced;

pub(crate) use guarded::expand as guarded;
pub(crate) use traced::expand as traced;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Ident, LitStr, Path};

use crate::args::LEVELS;

/// The path through which generated code reaches the runtime: `::fusebox` unless `crate = "..."`.
fn crate_path(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path),
        None => quote!(::fusebox),
    }
}

/// The body as an async block whose output type is pinned to the function's return type by a
/// "fake return edge" (the technique of tracing-attributes): the unreachable `return` comes first,
/// so `?`, `return` and type errors in the body are checked against the declared type and land on
/// the user's code.
fn pinned_async(
    capture: TokenStream,
    ret: &TokenStream,
    ret_span: Span,
    body: TokenStream,
) -> TokenStream {
    let edge = quote_spanned! {ret_span=>
        // Unreachable; only pins the type (lints this construct trips are allowed here).
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __fusebox_ret: #ret = loop {};
            return __fusebox_ret;
        }
    };
    quote!(async #capture { #edge #body })
}

/// The statements of a block, spliced after the fake return edge. (Keeping the braces would make
/// rustc's `unused_braces` lint fire on bodies like `{ Orders }`.)
fn stmts(block: &syn::Block) -> TokenStream {
    let stmts = &block.stmts;
    quote!(#(#stmts)*)
}

/// `tracing::Level::<LEVEL>` for `level = "..."` (validated to be one of [`LEVELS`]); `INFO` by
/// default.
fn level_tokens(level: Option<&LitStr>, tracing: &TokenStream) -> TokenStream {
    let level = level.map_or_else(|| "info".to_owned(), LitStr::value);
    let level = LEVELS
        .iter()
        .find(|l| **l == level)
        .map_or("INFO".to_owned(), |l| l.to_ascii_uppercase());
    let level = Ident::new(&level, Span::call_site());
    quote!(#tracing::Level::#level)
}

/// The error for a body that `#[async_trait]` did not write in the shape validation recognised.
fn unsupported_async_trait() -> syn::Error {
    syn::Error::new(Span::call_site(), "unsupported #[async_trait] body")
}
