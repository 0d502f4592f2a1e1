//! Attribute macros of fusebox: `#[circuit_breaker]` and `#[traced]`. Use them through the
//! `fusebox` crate.

mod args;
mod expand;
mod item;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Guards an `async fn` with a named circuit breaker.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::circuit_breaker(args.into(), item.into()).into()
}

/// Opens a span around an `async fn`.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::traced(args.into(), item.into()).into()
}
