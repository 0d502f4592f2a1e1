//! `#[circuit_breaker]`'s layer: the guard around what it wraps, written out as it would be by
//! hand.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;

use super::guarded::{Inner, Place, check_ret, handle, private, result};
use crate::model::{BreakerOptions, GuardedFn};

/// The guarded block: acquire a permit, await `inner` (within the breaker's time limit, if it
/// has one), record the outcome, and fall back or convert the failure (outermost) or pass it on.
pub(super) fn layer(
    f: &GuardedFn,
    index: usize,
    breaker: &BreakerOptions,
    inner: Inner,
    place: &Place,
) -> TokenStream {
    let layer = &f.layers[index];
    let private = private(f);
    let body = inner.future(f);
    let check_ret = check_ret(f, place, &private);
    let name = &breaker.name;
    let site = format_ident!("__FUSEBOX_SITE");
    let handle = handle(&site, breaker.registry.as_ref(), &private);
    let Steps {
        acquire,
        describe,
        settle,
        rejected,
    } = steps(f, inner.is_layer(), &private);
    let result = result(f, layer, place, &private);
    let classifier = classifier(breaker, &private);
    quote! {
        {
            #check_ret
            static #site: #private::BreakerSite = #private::BreakerSite::new(#name);
            let __fusebox_breaker = #handle;
            // The guard, as it would be written by hand: acquire a permit, await the body
            // (within the breaker's time limit, if it has one), record the outcome.
            let __fusebox_result = match #private::#acquire {
                ::core::result::Result::Ok(__fusebox_permit) => {
                    // A non-`move` block: arguments are borrowed, not cloned, and remain
                    // available to the fallback.
                    let __fusebox_body = #body;
                    // The outcome predicates, written once for the two arms below.
                    let __fusebox_classifier = || #classifier;
                    // The time limit is read on every call (a config reload may set or remove
                    // it). Each arm awaits and records on its own, so a breaker without a time
                    // limit runs none of the timer's code, not even a branch on its result.
                    match #private::time_limit(__fusebox_breaker) {
                        ::core::option::Option::None => {
                            let __fusebox_done =
                                ::core::result::Result::<_, #private::TimeoutError>::Ok(__fusebox_body.await);
                            #describe
                            #settle
                        }
                        ::core::option::Option::Some(__fusebox_limit) => {
                            let __fusebox_done =
                                #private::within(__fusebox_breaker, __fusebox_limit, __fusebox_body).await;
                            #describe
                            #settle
                        }
                    }
                }
                ::core::result::Result::Err(__fusebox_rejected) => #private::#rejected,
            };
            #result
        }
    }
}

/// The classifier with the outcome predicates (`record`, `ignore`, `record_result`).
fn classifier(breaker: &BreakerOptions, private: &TokenStream) -> TokenStream {
    let mut classifier = quote!(#private::Classifier::new());
    for (method, predicate) in [
        ("record", &breaker.record),
        ("ignore", &breaker.ignore),
        ("result", &breaker.record_result),
    ] {
        if let Some(predicate) = predicate {
            let method = Ident::new(method, Span::call_site());
            classifier = quote!(#classifier.#method(#predicate));
        }
    }
    classifier
}

/// The runtime's steps of a guarded call.
struct Steps {
    /// Takes the permit (`__fusebox_permit`) or the rejection (`__fusebox_rejected`).
    acquire: TokenStream,
    /// Under `#[traced]`, how a failure of `__fusebox_done` is described (`__fusebox_describe`).
    describe: TokenStream,
    /// Records the outcome of `__fusebox_done`.
    settle: TokenStream,
    /// The result of a rejected call.
    rejected: TokenStream,
}

/// Under `#[traced]` the steps record on the span handed over as `__fusebox_span_handle` (the
/// one `#[traced]` opened, see `expand/traced.rs`, or a retry attempt's), never on whatever span
/// is current; a failed call's span is described by the body's error (its `Display`, when it
/// has one). Around another layer (`layered`), the outcome is settled on a result that carries
/// a `Failure` already.
fn steps(f: &GuardedFn, layered: bool, private: &TokenStream) -> Steps {
    if f.span.is_some() {
        let settle = if layered {
            quote!(settle_layered_traced)
        } else {
            quote!(settle_traced)
        };
        Steps {
            acquire: quote!(acquire_traced(__fusebox_breaker, &__fusebox_span_handle)),
            // How a failure is described: by the error's `Display` when its type has one,
            // chosen by autoref specialization on the finished call (see
            // `__private::DisplayErrorTag`). The traits are imported in a block of their own, out
            // of the user's code's scope.
            describe: quote! {
                let __fusebox_describe = {
                    #[allow(unused_imports)]
                    use #private::{DisplayErrorTag as _, OpaqueErrorTag as _};
                    (&__fusebox_done).__fusebox_error_tag()
                };
            },
            settle: quote! {
                #private::#settle(__fusebox_permit, __fusebox_done, &__fusebox_classifier(), __fusebox_describe)
            },
            rejected: quote!(rejected_traced(__fusebox_rejected, &__fusebox_span_handle)),
        }
    } else {
        let settle = if layered {
            quote!(settle_layered)
        } else {
            quote!(settle)
        };
        Steps {
            acquire: quote!(acquire(__fusebox_breaker)),
            describe: TokenStream::new(),
            settle: quote!(#private::#settle(__fusebox_permit, __fusebox_done, &__fusebox_classifier())),
            rejected: quote!(rejected(__fusebox_rejected)),
        }
    }
}
