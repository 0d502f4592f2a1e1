//! `#[circuit_breaker]`: the guard around the body, written out as it would be by hand.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitStr, Meta};

use super::{crate_path, level_tokens, pinned_async, stmts, unsupported_async_trait};
use crate::args::{Fallback, FallbackArgs};
use crate::item::{self, Param, Shape};
use crate::model::{GuardedFn, SpanAround};

/// The function with its body guarded (and its `#[traced]` told about the breaker).
pub(crate) fn expand(mut f: GuardedFn) -> syn::Result<TokenStream> {
    if f.span.is_some() {
        for attr in &mut f.item.attrs {
            if item::is_attr(attr, "traced") {
                mark_traced(attr, &f.breaker.name);
            }
        }
    }
    match f.shape {
        Shape::Async => {
            let guarded = guard(&f, stmts(&f.item.block));
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
            let guarded = guard(&f, body);
            let init =
                item::async_trait_ret_mut(&mut f.item.block).ok_or_else(unsupported_async_trait)?;
            *init = syn::parse2(guarded)?;
        }
    }
    Ok(f.item.into_token_stream())
}

/// Adds the hidden `__breaker = "<name>"` argument to a `#[traced]` attribute, so that its span
/// declares the breaker's fields.
fn mark_traced(attr: &mut Attribute, name: &LitStr) {
    let marker = quote!(__breaker = #name);
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

/// The guarded body: a block that acquires a permit, awaits `body` (within the breaker's time
/// limit, if it has one), records the outcome, and falls back or converts the failure.
fn guard(f: &GuardedFn, body: TokenStream) -> TokenStream {
    let private = private(f);
    let ret_span = f.ret.ty.span();
    let ret = item::erase_impl_trait(&f.ret.ty).into_token_stream();
    let body = pinned_async(TokenStream::new(), &ret, ret_span, body);
    let check_ret = check_ret(f, &private);
    let name = &f.breaker.name;
    let breaker = breaker_handle(f, &private);
    let Steps {
        acquire,
        describe,
        settle,
        rejected,
    } = steps(f, &private);
    let result = result(f, &private);
    quote! {
        {
            #check_ret
            static __FUSEBOX_SITE: #private::BreakerSite = #private::BreakerSite::new(#name);
            let __fusebox_breaker = #breaker;
            // The guard, as it would be written by hand: acquire a permit, await the body
            // (within the breaker's time limit, if it has one), record the outcome.
            let __fusebox_result = match #private::#acquire {
                ::core::result::Result::Ok(__fusebox_permit) => {
                    // A non-`move` block: arguments are borrowed, not cloned, and remain
                    // available to the fallback.
                    let __fusebox_body = #body;
                    let __fusebox_done = match #private::time_limit(__fusebox_breaker) {
                        ::core::option::Option::None => ::core::result::Result::Ok(__fusebox_body.await),
                        ::core::option::Option::Some(__fusebox_limit) => {
                            #private::within(__fusebox_breaker, __fusebox_limit, __fusebox_body).await
                        }
                    };
                    #describe
                    #settle
                }
                ::core::result::Result::Err(__fusebox_rejected) => #private::#rejected,
            };
            #result
        }
    }
}

/// `<crate>::__private`.
fn private(f: &GuardedFn) -> TokenStream {
    let krate = crate_path(f.krate.as_ref());
    quote!(#krate::__private)
}

/// A path type not named `Result` may still be an alias of one: the compiler decides, with
/// fusebox's message on the return type.
fn check_ret(f: &GuardedFn, private: &TokenStream) -> TokenStream {
    if f.ret.maybe_alias {
        let ret = &f.ret.ty;
        quote_spanned!(ret.span()=> #private::returns_result::<#ret>();)
    } else {
        TokenStream::new()
    }
}

/// The breaker, from the call site's cache.
fn breaker_handle(f: &GuardedFn, private: &TokenStream) -> TokenStream {
    match &f.breaker.registry {
        None => quote!(__FUSEBOX_SITE.get()),
        Some(registry) => quote! {
            __FUSEBOX_SITE.get_in(|| -> &#private::Registry { &#registry })
        },
    }
}

/// The classifier with the outcome predicates (`record`, `ignore`, `record_result`).
fn classifier(f: &GuardedFn, private: &TokenStream) -> TokenStream {
    let mut classifier = quote!(#private::Classifier::new());
    for (method, predicate) in [
        ("record", &f.breaker.record),
        ("ignore", &f.breaker.ignore),
        ("result", &f.breaker.record_result),
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

/// Under `#[traced]` the steps record on the span it opened, handed over as
/// `__fusebox_span_handle` (see `expand/traced.rs`), never on whatever span is current; a failed
/// call's span is described by the body's error (its `Display`, when it has one).
fn steps(f: &GuardedFn, private: &TokenStream) -> Steps {
    let classifier = classifier(f, private);
    if f.span.is_some() {
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
                #private::settle_traced(__fusebox_permit, __fusebox_done, &#classifier, __fusebox_describe)
            },
            rejected: quote!(rejected_traced(__fusebox_rejected, &__fusebox_span_handle)),
        }
    } else {
        Steps {
            acquire: quote!(acquire(__fusebox_breaker)),
            describe: TokenStream::new(),
            settle: quote!(#private::settle(__fusebox_permit, __fusebox_done, &#classifier)),
            rejected: quote!(rejected(__fusebox_rejected)),
        }
    }
}

/// The function's result from `__fusebox_result`: through the fallback, or converted.
fn result(f: &GuardedFn, private: &TokenStream) -> TokenStream {
    let Some(fallback) = &f.fallback else {
        return quote_spanned! {f.ret.ty.span()=>
            #private::no_fallback(__fusebox_result)
        };
    };
    let run = run_fallback(f, fallback, private);
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
fn run_fallback(f: &GuardedFn, fallback: &Fallback, private: &TokenStream) -> TokenStream {
    let span = fallback.lit.span();
    let call = fallback_call(f, fallback);
    match &f.span {
        Some(around) => {
            let SpanAround { level, target } = around;
            let tracing = quote!(#private::tracing);
            let level = level_tokens(level.as_ref(), &tracing);
            let target = target.as_ref().map(|t| quote!(target: #t,));
            let name = &f.breaker.name;
            quote_spanned! {span=>
                let __fusebox_fallback_span = #tracing::span!(#target #level, "fallback", circuit_breaker.name = #name);
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
