//! `#[rate_limiter]`'s layer: acquire a permit, run what the layer wraps, drain on its result,
//! written out as it would be by hand.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::guarded::{Inner, Place, check_ret, error_tag, handle, private, result, span_guard};
use crate::model::{GuardedFn, RateLimiterOptions};

/// The rate-limited block: acquire `permits` permits (waiting up to the limiter's timeout), run
/// `inner`, drain if the config's predicate matches its result; refused, the call does not run
/// and the layer's result is `Failure::RequestNotPermitted`. Then the fallback, or the
/// conversion (outermost), or the result passed on.
pub(super) fn layer(
    f: &GuardedFn,
    index: usize,
    limiter: &RateLimiterOptions,
    inner: Inner,
    place: &Place,
) -> TokenStream {
    let layer = &f.layers[index];
    let private = private(f);
    let check_ret = check_ret(f, place, &private);
    let name = &limiter.name;
    let permits = limiter.permits;
    let site = format_ident!("__FUSEBOX_RATE_LIMITER_SITE");
    let handle = handle(&site, limiter.registry.as_ref(), &private);
    let (done, limited) = inner.awaited(f, quote!(rate_limited), quote!(rate_limited_layered));
    let (guard, settled) = span_guard(f, &private);
    let (acquire, permitted, rejected) = if f.span.is_some() {
        let tag = error_tag(&format_ident!("__fusebox_limited"), &private);
        (
            quote!(#private::rate_limit_traced(__fusebox_rate_limiter, #permits, &__fusebox_span_handle)),
            quote! {
                let __fusebox_describe = #tag;
                #private::rate_limited_traced(__fusebox_limited, __fusebox_describe, &__fusebox_span_handle)
            },
            quote!(#private::rate_rejected_traced(__fusebox_rejected, &__fusebox_span_handle)),
        )
    } else {
        (
            quote!(#private::rate_limit(__fusebox_rate_limiter, #permits)),
            quote!(__fusebox_limited),
            quote!(#private::rate_rejected(__fusebox_rejected)),
        )
    };
    let result = result(f, layer, place, &private);
    quote! {
        {
            #check_ret
            static #site: #private::RateLimiterSite = #private::RateLimiterSite::new(#name);
            let __fusebox_rate_limiter = #handle;
            // Acquire (maybe waiting for a permit of a coming cycle), run, drain on the result.
            let __fusebox_result = match #acquire.await {
                ::core::result::Result::Ok(()) => {
                    #guard
                    // A non-`move` block: arguments are borrowed, not cloned, and remain
                    // available to the fallback.
                    let __fusebox_done = #done;
                    #settled
                    let __fusebox_limited = #private::#limited(__fusebox_rate_limiter, __fusebox_done);
                    #permitted
                }
                ::core::result::Result::Err(__fusebox_rejected) => #rejected,
            };
            #result
        }
    }
}
