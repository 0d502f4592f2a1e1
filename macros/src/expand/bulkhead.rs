//! `#[bulkhead]`'s layer: take a slot, run what the layer wraps while holding it, give it back,
//! written out as it would be by hand.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::guarded::{Inner, Place, check_ret, error_tag, handle, private, result, span_guard};
use crate::model::{BulkheadOptions, GuardedFn};

/// The bulkheaded block: take a slot (waiting up to the bulkhead's `max_wait_duration`), run
/// `inner` holding the permit, give the slot back. The permit is a local of the block, so the
/// slot is given back however the call ends: when it completes, when the caller drops the future
/// (cancellation), or while a panic unwinds. Refused, the call does not run and the layer's
/// result is `Failure::BulkheadFull`. Then the fallback, or the conversion (outermost), or the
/// result passed on.
pub(super) fn layer(
    f: &GuardedFn,
    index: usize,
    bulkhead: &BulkheadOptions,
    inner: Inner,
    place: &Place,
) -> TokenStream {
    let layer = &f.layers[index];
    let private = private(f);
    let check_ret = check_ret(f, place, &private);
    let name = &bulkhead.name;
    let site = format_ident!("__FUSEBOX_BULKHEAD_SITE");
    let handle = handle(&site, bulkhead.registry.as_ref(), &private);
    let (done, bulkheaded) = inner.awaited(f, quote!(bulkheaded), quote!(bulkheaded_layered));
    let (guard, settled) = span_guard(f, &private);
    let (enter, finished, rejected) = if f.span.is_some() {
        let tag = error_tag(&format_ident!("__fusebox_bulkheaded"), &private);
        (
            quote!(#private::bulkhead_enter_traced(__fusebox_bulkhead, &__fusebox_span_handle)),
            quote! {
                let __fusebox_describe = #tag;
                #private::bulkheaded_traced(__fusebox_bulkheaded, __fusebox_describe, &__fusebox_span_handle)
            },
            quote!(#private::bulkhead_rejected_traced(__fusebox_rejected, &__fusebox_span_handle)),
        )
    } else {
        (
            quote!(#private::bulkhead_enter(__fusebox_bulkhead)),
            quote!(__fusebox_bulkheaded),
            quote!(#private::bulkhead_rejected(__fusebox_rejected)),
        )
    };
    let result = result(f, layer, place, &private);
    quote! {
        {
            #check_ret
            static #site: #private::BulkheadSite = #private::BulkheadSite::new(#name);
            let __fusebox_bulkhead = #handle;
            // Take a slot (maybe waiting for one), run holding it, give it back.
            let __fusebox_result = match #enter.await {
                ::core::result::Result::Ok(__fusebox_permit) => {
                    #guard
                    // A non-`move` block: arguments are borrowed, not cloned, and remain
                    // available to the fallback. The permit lives across its await.
                    let __fusebox_done = #done;
                    #settled
                    let __fusebox_bulkheaded = #private::#bulkheaded(__fusebox_permit, __fusebox_done);
                    #finished
                }
                ::core::result::Result::Err(__fusebox_rejected) => #rejected,
            };
            #result
        }
    }
}
