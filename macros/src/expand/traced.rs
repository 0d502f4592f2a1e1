//! `#[traced]`: a span around the function's future.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;

use super::{crate_path, level_tokens, pinned_async, stmts, unsupported_async_trait};
use crate::item;
use crate::item::Shape;
use crate::model::{BreakerFirst, SpanOptions, Traced, TracedFn};

/// The function with its future instrumented, or re-emitted for a resilience attribute to expand
/// first.
pub(crate) fn expand(traced: Traced) -> syn::Result<TokenStream> {
    match traced {
        Traced::Span(f) => span_around_future(f),
        Traced::BreakerFirst(f) => Ok(breaker_first(f)),
    }
}

/// The function with a resilience attribute (`#[circuit_breaker]`, `#[retry]`) first and
/// `#[traced]` after it: expanded in that order, the span ends up outermost at run time.
fn breaker_first(f: BreakerFirst) -> TokenStream {
    let BreakerFirst {
        item,
        breaker,
        args,
        krate,
    } = f;
    let krate = crate_path(krate.as_ref());
    quote! {
        #breaker
        #[#krate::traced(#args)]
        #item
    }
}

/// The function with its body run in the span.
fn span_around_future(mut f: TracedFn) -> syn::Result<TokenStream> {
    match f.shape {
        Shape::Async => *f.item.block = syn::parse2(async_fn_body(&f))?,
        Shape::AsyncTrait => async_trait_body(&mut f)?,
    }
    Ok(f.item.into_token_stream())
}

/// A native `async fn`'s new body: the span, then the body's future run in it.
fn async_fn_body(f: &TracedFn) -> TokenStream {
    let private = private(f);
    let span = span(&f.span, &private);
    let handle = span_handle(&f.span);
    let future = future(f);
    if f.span.err {
        let instrumented = instrument(&f.span, future, &private);
        return quote! {
            {
                let __fusebox_span = #span;
                #handle
                #instrumented.await
            }
        };
    }
    // As `tracing::instrument` does: no instrumentation wrapper when the span is disabled (no
    // subscriber, or filtered out).
    let in_span = in_span(&f.span, &private);
    quote! {
        {
            let __fusebox_span = #span;
            #handle
            let __fusebox_future = #future;
            if __fusebox_span.is_disabled() {
                __fusebox_future.await
            } else {
                #in_span
            }
        }
    }
}

/// `#[async_trait]`'s body, `Box::pin(async move { ... })`: the span is created before it and
/// instruments the future it pins.
fn async_trait_body(f: &mut TracedFn) -> syn::Result<()> {
    let private = private(f);
    let span = span(&f.span, &private);
    let handle = span_handle(&f.span);
    let future =
        item::async_trait_future_mut(&mut f.item.block).ok_or_else(unsupported_async_trait)?;
    let instrumented = instrument(&f.span, future.to_token_stream(), &private);
    *future = syn::parse2(instrumented)?;
    let stmts = &mut f.item.block.stmts;
    let last = stmts.len() - 1;
    stmts.insert(last, syn::parse2(quote!(let __fusebox_span = #span;))?);
    if f.span.has_layers() {
        stmts.insert(last + 1, syn::parse2(handle)?);
    }
    Ok(())
}

/// `<crate>::__private`.
fn private(f: &TracedFn) -> TokenStream {
    let krate = crate_path(f.krate.as_ref());
    quote!(#krate::__private)
}

/// `span!(...)` with the span's name, level, target and fields: those of the options, then the
/// ones recorded later (declared empty: the breaker's, the error status), then the user's
/// `fields(...)`.
fn span(options: &SpanOptions, private: &TokenStream) -> TokenStream {
    let tracing = quote!(#private::tracing);
    let level = level_tokens(options.level.as_ref(), &tracing);
    let name = &options.name;
    let target = options.target.as_ref().map(|t| quote!(target: #t,));
    let empty = quote!(#tracing::field::Empty);
    let mut fields: Vec<TokenStream> = Vec::new();
    if let Some(kind) = &options.kind {
        fields.push(quote!(otel.kind = #kind));
    }
    if let Some(remote) = &options.remote_service {
        fields.push(quote!(peer.service = #remote));
    }
    if let Some(breaker) = &options.breaker {
        fields.push(quote!(circuit_breaker.name = #breaker));
        fields.push(quote!(circuit_breaker.state = #empty));
        fields.push(quote!(circuit_breaker.outcome = #empty));
    }
    if let Some(retry) = &options.retry {
        fields.push(quote!(retry.name = #retry));
        fields.push(quote!(retry.attempts = #empty));
    }
    if let Some(limiter) = &options.rate_limiter {
        fields.push(quote!(rate_limiter.name = #limiter));
        fields.push(quote!(rate_limiter.outcome = #empty));
    }
    if let Some(limiter) = &options.time_limiter {
        fields.push(quote!(time_limiter.name = #limiter));
        fields.push(quote!(time_limiter.outcome = #empty));
    }
    if let Some(bulkhead) = &options.bulkhead {
        fields.push(quote!(bulkhead.name = #bulkhead));
        fields.push(quote!(bulkhead.outcome = #empty));
    }
    if options.err || options.has_layers() || options.describe_errors {
        fields.push(quote!(otel.status_code = #empty));
        fields.push(quote!(otel.status_description = #empty));
    }
    if options.err {
        fields.push(quote!(exception.message = #empty));
    }
    fields.extend(options.fields.iter().map(|f| f.tokens.clone()));
    quote! {
        #tracing::span!(#target #level, #name, #(#fields),*)
    }
}

/// With a layer inside (breaker, retry), its steps record on this span through a handle moved
/// into the future (a clone: the span itself goes to the instrumentation).
fn span_handle(options: &SpanOptions) -> TokenStream {
    if options.has_layers() {
        quote!(let __fusebox_span_handle = ::core::clone::Clone::clone(&__fusebox_span);)
    } else {
        TokenStream::new()
    }
}

/// The function's future (native `async fn`): its body in an `async move` block.
fn future(f: &TracedFn) -> TokenStream {
    let block = stmts(&f.item.block);
    if f.span.has_layers() {
        // The body is the layers' code, which pins the type itself.
        return quote!(async move { #block });
    }
    let (ret, ret_span) = match &f.ret {
        Some(ret) => (item::erase_impl_trait(ret).into_token_stream(), ret.span()),
        None => (quote!(()), f.item.sig.ident.span()),
    };
    pinned_async(quote!(move), &ret, ret_span, block)
}

/// The statements that await `__fusebox_future` in the enabled `__fusebox_span` (without
/// `err`). When an `Err` may describe the span, the instrumented future is pinned in place, so
/// that its span is at hand after it, and the output chooses by autoref specialization whether
/// its error's `Display` describes the span (see `__private::DescribeDisplayError`; the traits
/// are imported in a block of their own, out of the user's code's scope): no wrapper future,
/// and nothing but a test of the output on success.
fn in_span(options: &SpanOptions, private: &TokenStream) -> TokenStream {
    let tracing = quote!(#private::tracing);
    if !options.describe_errors {
        return quote!(#tracing::Instrument::instrument(__fusebox_future, __fusebox_span).await);
    }
    quote! {
        let mut __fusebox_instrumented = ::core::pin::pin!(
            #tracing::Instrument::instrument(__fusebox_future, __fusebox_span)
        );
        let __fusebox_output = __fusebox_instrumented.as_mut().await;
        {
            #[allow(unused_imports)]
            use #private::{DescribeDisplayError as _, DescribeOpaqueError as _};
            (&__fusebox_output).__fusebox_describe_error(__fusebox_instrumented.span());
        }
        __fusebox_output
    }
}

/// `future` run in `__fusebox_span`, a future itself (`#[async_trait]`'s): marked with an
/// `Err`'s message under `err`; described by an `Err`'s `Display` when it may fail.
fn instrument(options: &SpanOptions, future: TokenStream, private: &TokenStream) -> TokenStream {
    if options.err {
        quote!(#private::instrument_err(#future, __fusebox_span))
    } else if options.describe_errors {
        let in_span = in_span(options, private);
        quote! {
            {
                let __fusebox_future = #future;
                async move {
                    if __fusebox_span.is_disabled() {
                        __fusebox_future.await
                    } else {
                        #in_span
                    }
                }
            }
        }
    } else {
        quote!(#private::instrument(#future, __fusebox_span))
    }
}
