//! `#[time_limiter]`'s layer: what the layer wraps, awaited within the time limiter's
//! `timeout_duration`, written out as it would be by hand.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::guarded::{Inner, Place, check_ret, error_tag, handle, private, result, span_guard};
use crate::model::{GuardedFn, TimeLimiterOptions};

/// The time-limited block: `inner`'s future awaited for at most the limiter's timeout (dropped
/// when it expires), the outcome counted and published (SUCCESS, ERROR, TIMEOUT), a timeout
/// becoming `Failure::Timeout`. Then the fallback, or the conversion (outermost), or the result
/// passed on.
pub(super) fn layer(
    f: &GuardedFn,
    index: usize,
    limiter: &TimeLimiterOptions,
    inner: Inner,
    place: &Place,
) -> TokenStream {
    let layer = &f.layers[index];
    let private = private(f);
    let check_ret = check_ret(f, place, &private);
    let name = &limiter.name;
    let site = format_ident!("__FUSEBOX_TIME_LIMITER_SITE");
    let handle = handle(&site, limiter.registry.as_ref(), &private);
    let settle = if inner.is_layer() {
        quote!(time_limit_settle_layered)
    } else {
        quote!(time_limit_settle)
    };
    let future = inner.future(f);
    let (guard, settled) = span_guard(f, &private);
    let tag = error_tag(&format_ident!("__fusebox_done"), &private);
    let traced = if f.span.is_some() {
        quote! {
            let __fusebox_result = #private::time_limited_traced(
                __fusebox_result, __fusebox_describe, &__fusebox_span_handle,
            );
        }
    } else {
        TokenStream::new()
    };
    let result = result(f, layer, place, &private);
    quote! {
        {
            #check_ret
            static #site: #private::TimeLimiterSite = #private::TimeLimiterSite::new(#name);
            let __fusebox_time_limiter = #handle;
            #guard
            // A non-`move` block: arguments are borrowed, not cloned, and remain available to
            // the fallback. On timeout it is dropped.
            let __fusebox_done = #private::time_limited(__fusebox_time_limiter, #future).await;
            #settled
            let __fusebox_describe = #tag;
            let __fusebox_result = #private::#settle(
                __fusebox_time_limiter, __fusebox_done, __fusebox_describe,
            );
            #traced
            #result
        }
    }
}
