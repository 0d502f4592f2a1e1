//! The resilience attributes together: the layers around the body, outermost first, each
//! written out as it would be by hand (`circuit_breaker.rs`, `retry.rs`, `rate_limiter.rs`,
//! `time_limiter.rs`, `bulkhead.rs`), and what they share:
//! the fallback call, a layer's result, the `#[traced]` markers.
//!
//! Every layer is a block. The innermost wraps the body's statements (a non-`move` `async`
//! block pinned to the return type, so that arguments are borrowed); an outer layer wraps the
//! block of the layer inside it. Inner layers evaluate to `Result<T, Failure<E>>` (the cause
//! for the next layer out; an inner fallback's result is the call's own value or error again,
//! through `lift`); the outermost evaluates to the function's return type, through its fallback
//! or `no_fallback`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Meta};

use super::{crate_path, level_tokens, pinned_async, stmts, unsupported_async_trait};
use crate::args::{Fallback, FallbackArgs};
use crate::item::{self, Param, Shape};
use crate::model::{GuardedFn, Layer, LayerKind, SpanAround};

/// What a layer wraps.
pub(super) enum Inner {
    /// The function's body (its statements), which produces the return type `R`.
    Body(TokenStream),
    /// The block of the layer inside, which produces `Result<T, Failure<E>>`.
    Layer(TokenStream),
}

impl Inner {
    /// A future of the inner result (the body: pinned to the return type).
    pub(super) fn future(&self, f: &GuardedFn) -> TokenStream {
        match self {
            Inner::Body(body) => {
                let ret_span = f.ret.ty.span();
                let ret = item::erase_impl_trait(&f.ret.ty).into_token_stream();
                pinned_async(TokenStream::new(), &ret, ret_span, body.clone())
            }
            Inner::Layer(block) => quote!(async #block),
        }
    }

    /// The inner result as an expression (the body's future awaited, or the inner layer's block),
    /// with the settling step that takes it: `plain` for the body's, `layered` for a layer's.
    pub(super) fn awaited(
        &self,
        f: &GuardedFn,
        plain: TokenStream,
        layered: TokenStream,
    ) -> (TokenStream, TokenStream) {
        match self {
            Inner::Body(_) => {
                let future = self.future(f);
                (quote!(#future.await), plain)
            }
            Inner::Layer(block) => (block.clone(), layered),
        }
    }

    /// Whether the inner result carries a `Failure` already.
    pub(super) fn is_layer(&self) -> bool {
        matches!(self, Inner::Layer(_))
    }
}

/// Where a layer stands in the stack.
pub(super) struct Place {
    /// The outermost layer gives the function's result; the others a `Result<T, Failure<E>>`.
    pub(super) outermost: bool,
}

/// The function with its body guarded by its layers (and its `#[traced]` told about them).
pub(crate) fn expand(mut f: GuardedFn) -> syn::Result<TokenStream> {
    if f.span.is_some() {
        let markers = traced_markers(&f);
        for attr in &mut f.item.attrs {
            if item::is_attr(attr, "traced") {
                mark_traced(attr, &markers);
            }
        }
    }
    match f.shape {
        Shape::Async => {
            let guarded = with_taken(&f, stack(&f, stmts(&f.item.block)));
            *f.item.block = syn::parse2(guarded)?;
        }
        Shape::AsyncTrait => {
            let body = match item::async_trait_ret_mut(&mut f.item.block) {
                Some(Expr::Block(block)) if block.label.is_none() && block.attrs.is_empty() => {
                    stmts(&block.block)
                }
                Some(other) => other.to_token_stream(),
                None => return Err(unsupported_async_trait()),
            };
            let guarded = with_taken(&f, stack(&f, body));
            let init =
                item::async_trait_ret_mut(&mut f.item.block).ok_or_else(unsupported_async_trait)?;
            *init = syn::parse2(guarded)?;
        }
    }
    Ok(f.item.into_token_stream())
}

/// `guarded` preceded by a `use` of each resilience attribute taken off the function, written
/// with its path as the user wrote it (and its spans): the attribute never reaches rustc, which
/// would otherwise report the user's `use fusebox::retry;` as unused. The `use` resolves through
/// that import (uniform paths), so it also checks that the attribute is in scope.
fn with_taken(f: &GuardedFn, guarded: TokenStream) -> TokenStream {
    if f.taken.is_empty() {
        return guarded;
    }
    let uses = f.taken.iter().map(|path| {
        quote! {
            #[allow(unused_imports)]
            use #path as _;
        }
    });
    quote!({ #(#uses)* #guarded })
}

/// The layers around `body`, innermost first; the outermost starts with the return-type check.
fn stack(f: &GuardedFn, body: TokenStream) -> TokenStream {
    let mut inner = Inner::Body(body);
    for (index, layer) in f.layers.iter().enumerate().rev() {
        let place = Place {
            outermost: index == 0,
        };
        let block = match &layer.kind {
            LayerKind::CircuitBreaker(breaker) => {
                super::circuit_breaker::layer(f, index, breaker, inner, &place)
            }
            LayerKind::Retry(retry) => super::retry::layer(f, index, retry, inner, &place),
            LayerKind::RateLimiter(limiter) => {
                super::rate_limiter::layer(f, index, limiter, inner, &place)
            }
            LayerKind::TimeLimiter(limiter) => {
                super::time_limiter::layer(f, index, limiter, inner, &place)
            }
            LayerKind::Bulkhead(bulkhead) => {
                super::bulkhead::layer(f, index, bulkhead, inner, &place)
            }
        };
        inner = Inner::Layer(block);
    }
    match inner {
        Inner::Layer(block) | Inner::Body(block) => block,
    }
}

/// The hidden arguments for `#[traced]`: the fields its span declares for the layers that
/// record on it. A breaker, a rate limiter or a time limiter records on it unless a retry is
/// outside it (then it records on each attempt's span, see `retry::attempt`); a retry always
/// does.
fn traced_markers(f: &GuardedFn) -> Vec<TokenStream> {
    let retry_at = f
        .layers
        .iter()
        .position(|l| matches!(l.kind, LayerKind::Retry(_)));
    let mut markers = Vec::new();
    for (index, layer) in f.layers.iter().enumerate() {
        let name = layer.name();
        let in_attempt = retry_at.is_some_and(|r| index > r);
        let marker = match &layer.kind {
            LayerKind::Retry(_) => quote!(__retry),
            _ if in_attempt => continue,
            LayerKind::CircuitBreaker(_) => quote!(__breaker),
            LayerKind::RateLimiter(_) => quote!(__rate_limiter),
            LayerKind::TimeLimiter(_) => quote!(__time_limiter),
            LayerKind::Bulkhead(_) => quote!(__bulkhead),
        };
        markers.push(quote!(#marker = #name));
    }
    markers
}

/// Adds the hidden `__breaker = "<name>"` / `__retry = "<name>"` (and the limiters') arguments
/// to a `#[traced]` attribute, so that its span declares the layers' fields.
fn mark_traced(attr: &mut Attribute, markers: &[TokenStream]) {
    if markers.is_empty() {
        return;
    }
    let marker = quote!(#(#markers),*);
    match &mut attr.meta {
        Meta::Path(path) => {
            let path = path.clone();
            attr.meta = syn::parse_quote!(#path(#marker));
        }
        Meta::List(list) => {
            let tokens = std::mem::take(&mut list.tokens);
            let trailing_comma = tokens
                .clone()
                .into_iter()
                .last()
                .is_some_and(|tt| tt.to_string() == ",");
            list.tokens = if tokens.is_empty() || trailing_comma {
                quote!(#tokens #marker)
            } else {
                quote!(#tokens, #marker)
            };
        }
        // `#[traced = ...]` is an error that `#[traced]` itself reports.
        Meta::NameValue(_) => {}
    }
}

/// `<crate>::__private`.
pub(super) fn private(f: &GuardedFn) -> TokenStream {
    let krate = crate_path(f.krate.as_ref());
    quote!(#krate::__private)
}

/// A path type not named `Result` may still be an alias of one: the compiler decides, with
/// fusebox's message on the return type. Emitted by the outermost layer.
pub(super) fn check_ret(f: &GuardedFn, place: &Place, private: &TokenStream) -> TokenStream {
    if place.outermost && f.ret.maybe_alias {
        let ret = &f.ret.ty;
        let check = match f.layers[0].kind {
            LayerKind::CircuitBreaker(_) => "returns_result",
            LayerKind::Retry(_) => "retry_returns_result",
            LayerKind::RateLimiter(_) => "rate_limiter_returns_result",
            LayerKind::TimeLimiter(_) => "time_limiter_returns_result",
            LayerKind::Bulkhead(_) => "bulkhead_returns_result",
        };
        let check = Ident::new(check, ret.span());
        quote_spanned!(ret.span()=> #private::#check::<#ret>();)
    } else {
        TokenStream::new()
    }
}

/// The layer's result from `__fusebox_result` (a `Result<T, Failure<E>>`): through the
/// fallback, or converted (outermost), or passed on (inner).
pub(super) fn result(
    f: &GuardedFn,
    layer: &Layer,
    place: &Place,
    private: &TokenStream,
) -> TokenStream {
    let Some(fallback) = &layer.fallback else {
        if !place.outermost {
            return quote!(__fusebox_result);
        }
        let convert = match layer.kind {
            LayerKind::CircuitBreaker(_) => "no_fallback",
            LayerKind::Retry(_) => "no_retry_fallback",
            LayerKind::RateLimiter(_) => "no_rate_limiter_fallback",
            LayerKind::TimeLimiter(_) => "no_time_limiter_fallback",
            LayerKind::Bulkhead(_) => "no_bulkhead_fallback",
        };
        let convert = Ident::new(convert, f.ret.ty.span());
        return quote_spanned! {f.ret.ty.span()=>
            #private::#convert(__fusebox_result)
        };
    };
    let run = run_fallback(f, layer, fallback, private);
    let run = if place.outermost {
        run
    } else {
        quote!(#private::lift({ #run }))
    };
    quote! {
        match __fusebox_result {
            ::core::result::Result::Ok(__fusebox_value) => ::core::result::Result::Ok(__fusebox_value),
            ::core::result::Result::Err(__fusebox_cause) => {
                // The fallback may be an `async fn` or not: autoref specialization picks
                // `resolve` of the matching trait, and only one of the two is used.
                #[allow(unused_imports)]
                use #private::{AsyncFallback as _, SyncFallback as _};
                #run
            }
        }
    }
}

/// Calls the fallback with `__fusebox_cause` and awaits it, in a `fallback` span under
/// `#[traced]`.
fn run_fallback(
    f: &GuardedFn,
    layer: &Layer,
    fallback: &Fallback,
    private: &TokenStream,
) -> TokenStream {
    let span = fallback.lit.span();
    let call = fallback_call(f, fallback);
    match &f.span {
        Some(around) => {
            let SpanAround { level, target } = around;
            let tracing = quote!(#private::tracing);
            let level = level_tokens(level.as_ref(), &tracing);
            let target = target.as_ref().map(|t| quote!(target: #t,));
            let name = layer.name();
            let field = match layer.kind {
                LayerKind::CircuitBreaker(_) => quote!(circuit_breaker.name),
                LayerKind::Retry(_) => quote!(retry.name),
                LayerKind::RateLimiter(_) => quote!(rate_limiter.name),
                LayerKind::TimeLimiter(_) => quote!(time_limiter.name),
                LayerKind::Bulkhead(_) => quote!(bulkhead.name),
            };
            quote_spanned! {span=>
                let __fusebox_fallback_span = #tracing::span!(#target #level, "fallback", #field = #name);
                let __fusebox_fallback = __fusebox_fallback_span.in_scope(|| #call);
                #tracing::Instrument::instrument(
                    (&__fusebox_fallback).__fusebox_kind().resolve(__fusebox_fallback),
                    __fusebox_fallback_span,
                )
                .await
            }
        }
        None => quote_spanned! {span=>
            let __fusebox_fallback = #call;
            (&__fusebox_fallback).__fusebox_kind().resolve(__fusebox_fallback).await
        },
    }
}

/// `fallback(<receiver>, <arguments>, __fusebox_cause)`, spanned on the `fallback = "..."`
/// literal so that a missing or ill-fitting fallback is reported there.
fn fallback_call(f: &GuardedFn, fallback: &Fallback) -> TokenStream {
    let span = fallback.lit.span();
    let path = &fallback.path;
    let path = match path.path.get_ident() {
        // `fallback = "empty_orders"` on a method: look it up on `Self`, as Resilience4j
        // looks up `fallbackMethod` on the target class.
        Some(ident) if f.has_receiver() && path.qself.is_none() => {
            quote_spanned!(span=> Self::#ident)
        }
        _ => path.to_token_stream(),
    };
    let receiver = match f.shape {
        Shape::Async => quote!(self),
        // `#[async_trait]` renamed `self` to `__self` inside the future.
        Shape::AsyncTrait => quote!(__self),
    };
    let mut args: Vec<TokenStream> = Vec::new();
    for param in &f.params {
        match param {
            Param::Receiver => args.push(respan(receiver.clone(), span)),
            Param::Named(ident) if fallback.args == FallbackArgs::All => {
                args.push(Ident::new(&ident.to_string(), span).into_token_stream());
            }
            _ => {}
        }
    }
    args.push(quote_spanned!(span=> __fusebox_cause));
    quote_spanned!(span=> #path(#(#args),*))
}

/// Gives every token of `tokens` the span `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            tt.set_span(span);
            tt
        })
        .collect()
}

/// Under `#[traced]`, a guard that marks the span the layer records on if the call panics or is
/// cancelled inside the layer, and its disarming; nothing otherwise.
pub(super) fn span_guard(f: &GuardedFn, private: &TokenStream) -> (TokenStream, TokenStream) {
    if f.span.is_some() {
        (
            quote!(let __fusebox_layer_guard = #private::SpanGuard::new(&__fusebox_span_handle);),
            quote!(__fusebox_layer_guard.settled();),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    }
}

/// How a layer's result `value` (a local) describes a failure: by the error's `Display` when its
/// type has one (autoref specialization, see `__private::DisplayErrorTag`; the traits are
/// imported in a block of their own, out of the user's code's scope).
pub(super) fn error_tag(value: &Ident, private: &TokenStream) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use #private::{DisplayErrorTag as _, OpaqueErrorTag as _};
            (&#value).__fusebox_error_tag()
        }
    }
}

/// The registry lookup of a layer's call-site cache `site` (a `static`), in the global registry
/// or in `registry = <expr>`.
pub(super) fn handle(site: &Ident, registry: Option<&Expr>, private: &TokenStream) -> TokenStream {
    match registry {
        None => quote!(#site.get()),
        Some(registry) => quote! {
            #site.get_in(|| -> &#private::Registry { &#registry })
        },
    }
}
