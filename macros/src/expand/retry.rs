//! `#[retry]`'s layer: the retry loop written out in the body, each attempt running what the
//! layer wraps anew.
//!
//! The loop is in the function's own body rather than a closure passed to `Retry::call`: each
//! attempt's future is a non-`move` block created in its loop iteration, so it borrows the
//! arguments (`&mut` ones and `&mut self` included) for that attempt only, and the fallback gets
//! them after the loop.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::guarded::{Inner, Place, check_ret, handle, private, result};
use super::level_tokens;
use crate::model::{GuardedFn, LayerKind, RetryOptions};

/// The retried block: the attempts, each settled by the retry (wait and go again, or stop), then
/// the fallback or the conversion (outermost) or the result passed on.
pub(super) fn layer(
    f: &GuardedFn,
    index: usize,
    retry: &RetryOptions,
    inner: Inner,
    place: &Place,
) -> TokenStream {
    let layer = &f.layers[index];
    let private = private(f);
    let check_ret = check_ret(f, place, &private);
    let name = &retry.name;
    let site = format_ident!("__FUSEBOX_RETRY_SITE");
    let handle = handle(&site, retry.registry.as_ref(), &private);
    let attempt = attempt(f, index, &inner, &private);
    let tag = quote! {
        {
            #[allow(unused_imports)]
            use #private::{DisplayErrorTag as _, OpaqueErrorTag as _};
            (&__fusebox_done).__fusebox_error_tag()
        }
    };
    let (settle, retried) = if f.span.is_some() {
        (
            quote! {
                #private::retry_settle_traced(
                    &mut __fusebox_attempts, __fusebox_done, __fusebox_describe, &__fusebox_attempt_span,
                )
            },
            quote! {
                #private::retried_traced(
                    __fusebox_retried, __fusebox_attempts.made(), __fusebox_describe, &__fusebox_span_handle,
                )
            },
        )
    } else {
        (
            quote!(#private::retry_settle(&mut __fusebox_attempts, __fusebox_done, __fusebox_describe)),
            quote!(#private::retried(__fusebox_retried)),
        )
    };
    // After the loop, the span around the retry is described by the final failure.
    let last_describe = if f.span.is_some() {
        quote! {
            let __fusebox_describe = {
                #[allow(unused_imports)]
                use #private::{DisplayErrorTag as _, OpaqueErrorTag as _};
                (&__fusebox_retried).__fusebox_error_tag()
            };
        }
    } else {
        TokenStream::new()
    };
    // Under `#[traced]`, the span around the retry is marked if the call panics or is cancelled
    // (between attempts too).
    let (guard, settled) = if f.span.is_some() {
        (
            quote!(let __fusebox_retry_guard = #private::SpanGuard::new(&__fusebox_span_handle);),
            quote!(__fusebox_retry_guard.settled();),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let result = result(f, layer, place, &private);
    quote! {
        {
            #check_ret
            static #site: #private::RetrySite = #private::RetrySite::new(#name);
            let __fusebox_retry = #handle;
            let mut __fusebox_attempts = #private::attempts(__fusebox_retry);
            #guard
            // One attempt per iteration: a fresh, non-`move` block that borrows the arguments
            // for this attempt only; the retry says whether to wait and go again.
            let __fusebox_retried = loop {
                #attempt
                let __fusebox_describe = #tag;
                match #settle {
                    #private::Next::Done(__fusebox_retried) => break __fusebox_retried,
                    #private::Next::Wait(__fusebox_wait) => {
                        #private::wait(&mut __fusebox_attempts, __fusebox_wait).await
                    }
                }
            };
            #settled
            #last_describe
            let __fusebox_result = #retried;
            #result
        }
    }
}

/// One attempt, binding its result (`Result<T, Failure<E>>`) to `__fusebox_done`. Under
/// `#[traced]` it runs in a span of its own, a child of the span around the retry, named
/// `retry attempt` with `retry.name` and `retry.attempt` (and a breaker inside it records its
/// fields there).
fn attempt(f: &GuardedFn, index: usize, inner: &Inner, private: &TokenStream) -> TokenStream {
    let Some(around) = &f.span else {
        return match inner {
            Inner::Body(_) => {
                let future = inner.future(f);
                quote!(let __fusebox_done = #private::lift(#future.await);)
            }
            Inner::Layer(block) => quote!(let __fusebox_done = #block;),
        };
    };
    let tracing = quote!(#private::tracing);
    let level = level_tokens(around.level.as_ref(), &tracing);
    let target = around.target.as_ref().map(|t| quote!(target: #t,));
    let name = f.layers[index].name();
    let empty = quote!(#tracing::field::Empty);
    let mut fields = vec![
        quote!(retry.name = #name),
        quote!(retry.attempt = __fusebox_attempts.attempt()),
    ];
    // The layers inside the retry record on the attempt's span.
    for inside in &f.layers[index + 1..] {
        let name = inside.name();
        match inside.kind {
            LayerKind::CircuitBreaker(_) => {
                fields.push(quote!(circuit_breaker.name = #name));
                fields.push(quote!(circuit_breaker.state = #empty));
                fields.push(quote!(circuit_breaker.outcome = #empty));
            }
            LayerKind::RateLimiter(_) => {
                fields.push(quote!(rate_limiter.name = #name));
                fields.push(quote!(rate_limiter.outcome = #empty));
            }
            LayerKind::TimeLimiter(_) => {
                fields.push(quote!(time_limiter.name = #name));
                fields.push(quote!(time_limiter.outcome = #empty));
            }
            LayerKind::Bulkhead(_) => {
                fields.push(quote!(bulkhead.name = #name));
                fields.push(quote!(bulkhead.outcome = #empty));
            }
            // One `#[retry]` per function.
            LayerKind::Retry(_) => {}
        }
    }
    fields.push(quote!(otel.status_code = #empty));
    fields.push(quote!(otel.status_description = #empty));
    let future = inner.future(f);
    let done = match inner {
        Inner::Body(_) => quote!(#private::lift(__fusebox_attempt.await)),
        Inner::Layer(_) => quote!(__fusebox_attempt.await),
    };
    quote! {
        let __fusebox_attempt_span = #private::attempt_span(&__fusebox_span_handle, || {
            #tracing::span!(#target parent: &__fusebox_span_handle, #level, "retry attempt", #(#fields),*)
        });
        let __fusebox_done = {
            let __fusebox_span_handle = ::core::clone::Clone::clone(&__fusebox_attempt_span);
            // Marks the attempt's span if it panics or is cancelled.
            let __fusebox_attempt_guard = #private::SpanGuard::new(&__fusebox_attempt_span);
            let __fusebox_attempt = #tracing::Instrument::instrument(
                #future,
                ::core::clone::Clone::clone(&__fusebox_attempt_span),
            );
            let __fusebox_done = #done;
            __fusebox_attempt_guard.settled();
            __fusebox_done
        };
    }
}
