//! Code generation for `#[circuit_breaker]` and `#[traced]`.
//!
//! Both macros keep the user's signature and rewrite the body only, so that rustdoc, IDEs and
//! callers see the function as written. Generated plumbing uses call-site spans and absolute paths
//! through `::fusebox::__private` (or `crate = "..."`); the user's tokens keep their spans, so that
//! errors land on the user's code: the body, the return type, and the `fallback = "..."` literal.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, ItemFn, LitStr, Meta, Type};

use crate::args::{BreakerArgs, FallbackArgs, LEVELS, TracedArgs, crate_path};
use crate::item::{self, Param, Shape};

/// On error, emit the user's item unchanged plus the errors: the item keeps compiling (IDEs and
/// other errors stay useful) and the user sees every mistake at once.
fn with_errors(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// `#[circuit_breaker(...)]`.
pub(crate) fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_circuit_breaker(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => with_errors(item, error),
    }
}

/// `#[traced(...)]`.
pub(crate) fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_traced(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => with_errors(item, error),
    }
}

/// Parses arguments and item, reporting the errors of both.
fn parse_both<A>(args: syn::Result<A>, item: TokenStream, attr: &str) -> syn::Result<(A, ItemFn)> {
    match (args, item::parse(item, attr)) {
        (Ok(args), Ok(item)) => Ok((args, item)),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            Err(a)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
    }
}

/// Whether `attr` is `#[<last>]`/`#[<last>(...)]` under any path (`traced`, `fusebox::traced`, a
/// re-export...). A renamed import (`use fusebox::traced as span;`) is not recognised.
fn is_attr(attr: &Attribute, last: &str) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == last)
}

fn not_async_error(item: &ItemFn, attr: &str, extra: &str) -> syn::Error {
    syn::Error::new(
        item.sig.fn_token.span,
        format!(
            "`#[{attr}]` applies to an `async fn`; make `{}` async{extra}",
            item.sig.ident
        ),
    )
}

fn try_circuit_breaker(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let (args, mut item) = parse_both(BreakerArgs::parse(args), item, "circuit_breaker")?;
    let shape = item::shape(&item).ok_or_else(|| {
        not_async_error(
            &item,
            "circuit_breaker",
            " (for synchronous code, use `CircuitBreaker::try_acquire`)",
        )
    })?;
    let ret = match item::return_type(&item, shape) {
        Some(ret) => ret,
        None => {
            return Err(syn::Error::new(
                item::return_span(&item),
                format!(
                    "`#[circuit_breaker]` needs a function that returns a `Result<T, E>`, so that failures \
                     can be recorded; `{}` returns `()`",
                    item.sig.ident
                ),
            ));
        }
    };
    if let Some(expected) = item::certainly_not_result(&ret) {
        return Err(syn::Error::new_spanned(
            &ret,
            format!(
                "`#[circuit_breaker]` needs a function that returns {expected}, so that failures can be recorded"
            ),
        ));
    }

    let params = item::params(&item);
    if args
        .fallback
        .as_ref()
        .is_some_and(|f| f.args == FallbackArgs::All)
    {
        let mut errors = crate::args::Errors::default();
        for param in &params {
            if let Param::Pattern(pat) = param {
                errors.push_spanned(
                    pat,
                    "the fallback receives the function's arguments by name: bind this parameter to a \
                     name and destructure it in the body, or use `fallback_args = \"cause\"`",
                );
            }
        }
        errors.finish()?;
    }

    // With `#[traced]` on the same function (either order: see `try_traced`), tell it to declare the
    // breaker's span fields, and record them from here.
    let mut traced_level = None;
    let mut traced_target = None;
    let mut traced = false;
    for attr in &mut item.attrs {
        if is_attr(attr, "traced") {
            traced = true;
            let parsed = match &attr.meta {
                Meta::List(list) => TracedArgs::parse(list.tokens.clone()).ok(),
                _ => None,
            };
            if let Some(parsed) = parsed {
                traced_level = parsed.level;
                traced_target = parsed.target;
            }
            mark_traced(attr, &args.name);
        }
    }

    let krate = crate_path(args.krate.as_ref());
    let private = quote!(#krate::__private);
    let receiver = match shape {
        Shape::Async => quote!(self),
        // `#[async_trait]` renamed `self` to `__self` inside the future.
        Shape::AsyncTrait => quote!(__self),
    };
    let ret_span = ret.span();
    // A path type not named `Result` may still be an alias of one: let the compiler decide, with
    // fusebox's message on the return type.
    let check_ret = match &ret {
        Type::Path(path)
            if path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident != "Result") =>
        {
            quote_spanned!(ret_span=> #private::returns_result::<#ret>();)
        }
        _ => TokenStream::new(),
    };
    let ret = item::erase_impl_trait(&ret).into_token_stream();
    let name = &args.name;

    let breaker = match &args.registry {
        None => quote!(__FUSEBOX_SITE.get()),
        Some(registry) => quote! {
            __FUSEBOX_SITE.get_in(|| -> &#private::Registry { &#registry })
        },
    };
    let mut classifier = quote!(#private::Classifier::new());
    for (method, predicate) in [
        ("record", &args.record),
        ("ignore", &args.ignore),
        ("result", &args.record_result),
    ] {
        if let Some(predicate) = predicate {
            let method = Ident::new(method, Span::call_site());
            classifier = quote!(#classifier.#method(#predicate));
        }
    }
    // Under `#[traced]` the steps record on the span it opened, handed over as
    // `__fusebox_span_handle` (see `try_traced`), never on whatever span is current.
    let (acquire, settle, rejected) = if traced {
        (
            quote!(acquire_traced(__fusebox_breaker, &__fusebox_span_handle)),
            quote!(settle_traced),
            quote!(rejected_traced(__fusebox_rejected, &__fusebox_span_handle)),
        )
    } else {
        (
            quote!(acquire(__fusebox_breaker)),
            quote!(settle),
            quote!(rejected(__fusebox_rejected)),
        )
    };

    let result = match &args.fallback {
        None => quote_spanned! {ret_span=>
            #private::no_fallback(__fusebox_result)
        },
        Some(fallback) => {
            let span = fallback.lit.span();
            let has_receiver = params.iter().any(|p| matches!(p, Param::Receiver));
            let path = &fallback.path;
            let path = match path.path.get_ident() {
                // `fallback = "empty_orders"` on a method: look it up on `Self`, as Resilience4j
                // looks up `fallbackMethod` on the target class.
                Some(ident) if has_receiver && path.qself.is_none() => {
                    quote_spanned!(span=> Self::#ident)
                }
                _ => path.to_token_stream(),
            };
            let mut call_args: Vec<TokenStream> = Vec::new();
            for param in &params {
                match param {
                    Param::Receiver => call_args.push(respan(receiver.clone(), span)),
                    Param::Named(ident) if fallback.args == FallbackArgs::All => {
                        call_args.push(Ident::new(&ident.to_string(), span).into_token_stream());
                    }
                    _ => {}
                }
            }
            call_args.push(quote_spanned!(span=> __fusebox_cause));
            let call = quote_spanned!(span=> #path(#(#call_args),*));
            let run = if traced {
                let tracing = quote!(#private::tracing);
                let level = level_tokens(traced_level.as_ref(), &tracing);
                let target = traced_target.map(|t| quote!(target: #t,));
                quote_spanned! {span=>
                    let __fusebox_fallback_span = #tracing::span!(#target #level, "fallback", circuit_breaker.name = #name);
                    let __fusebox_fallback = __fusebox_fallback_span.in_scope(|| #call);
                    #tracing::Instrument::instrument(
                        (&__fusebox_fallback).__fusebox_kind().resolve(__fusebox_fallback),
                        __fusebox_fallback_span,
                    )
                    .await
                }
            } else {
                quote_spanned! {span=>
                    let __fusebox_fallback = #call;
                    (&__fusebox_fallback).__fusebox_kind().resolve(__fusebox_fallback).await
                }
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
    };

    let wrap = |body: TokenStream| {
        let body = pinned_async(TokenStream::new(), &ret, ret_span, body);
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
                        #private::#settle(__fusebox_permit, __fusebox_done, &#classifier)
                    }
                    ::core::result::Result::Err(__fusebox_rejected) => #private::#rejected,
                };
                #result
            }
        }
    };

    match shape {
        Shape::Async => {
            let body = stmts(&item.block);
            *item.block = syn::parse2(wrap(body))?;
        }
        Shape::AsyncTrait => {
            let init = item::async_trait_ret_mut(&mut item.block).ok_or_else(|| {
                syn::Error::new(Span::call_site(), "unsupported #[async_trait] body")
            })?;
            let body = match &*init {
                Expr::Block(block) if block.label.is_none() && block.attrs.is_empty() => {
                    stmts(&block.block)
                }
                other => other.to_token_stream(),
            };
            *init = syn::parse2(wrap(body))?;
        }
    }
    Ok(item.into_token_stream())
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

/// Adds the hidden `__breaker = "<name>"` argument to a `#[traced]` attribute.
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

fn level_tokens(level: Option<&LitStr>, tracing: &TokenStream) -> TokenStream {
    let level = level.map_or_else(|| "info".to_owned(), LitStr::value);
    let level = LEVELS
        .iter()
        .find(|l| **l == level)
        .map_or("INFO".to_owned(), |l| l.to_ascii_uppercase());
    let level = Ident::new(&level, Span::call_site());
    quote!(#tracing::Level::#level)
}

fn try_traced(args_tokens: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let (args, mut item) = parse_both(TracedArgs::parse(args_tokens.clone()), item, "traced")?;
    let krate = crate_path(args.krate.as_ref());

    // Attribute macros expand outer-first, and the macro that expands last wraps the body last:
    // its code ends up outermost at run time. The span must enclose the breaker (and the
    // fallback), so when `#[circuit_breaker]` still waits below us, step aside: re-emit the item
    // with the breaker first and ourselves after it.
    if let Some(index) = item
        .attrs
        .iter()
        .position(|a| is_attr(a, "circuit_breaker"))
    {
        let breaker = item.attrs.remove(index);
        return Ok(quote! {
            #breaker
            #[#krate::traced(#args_tokens)]
            #item
        });
    }

    let shape = item::shape(&item).ok_or_else(|| {
        not_async_error(
            &item,
            "traced",
            " (for synchronous code, use `tracing::instrument`)",
        )
    })?;

    let mut errors = crate::args::Errors::default();
    let params = item::params(&item);
    for skipped in &args.skip {
        let known = params.iter().any(|p| match p {
            Param::Named(ident) => ident == skipped,
            Param::Receiver => skipped == "self",
            Param::Pattern(_) => false,
        });
        if !known {
            errors.push_spanned(
                skipped,
                format!(
                    "`skip({skipped})`: `{}` has no parameter named `{skipped}`",
                    item.sig.ident
                ),
            );
        }
    }
    errors.finish()?;

    let private = quote!(#krate::__private);
    let tracing = quote!(#private::tracing);
    let level = level_tokens(args.level.as_ref(), &tracing);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&item.sig.ident.unraw_string(), item.sig.ident.span()));
    let target = args.target.as_ref().map(|t| quote!(target: #t,));
    let empty = quote!(#tracing::field::Empty);
    let mut fields: Vec<TokenStream> = Vec::new();
    if let Some(kind) = &args.kind {
        fields.push(quote!(otel.kind = #kind));
    }
    if let Some(remote) = &args.remote_service {
        fields.push(quote!(peer.service = #remote));
    }
    if let Some(breaker) = &args.breaker {
        fields.push(quote!(circuit_breaker.name = #breaker));
        fields.push(quote!(circuit_breaker.state = #empty));
        fields.push(quote!(circuit_breaker.outcome = #empty));
    }
    if args.err || args.breaker.is_some() {
        fields.push(quote!(otel.status_code = #empty));
        fields.push(quote!(otel.status_description = #empty));
    }
    if args.err {
        fields.push(quote!(exception.message = #empty));
    }
    fields.extend(args.fields.iter().map(|f| f.tokens.clone()));
    let span = quote! {
        #tracing::span!(#target #level, #name, #(#fields),*)
    };
    // With a breaker inside, its steps record on this span through a handle moved into the
    // future (a clone: the span itself goes to the instrumentation).
    let handle = if args.breaker.is_some() {
        quote!(let __fusebox_span_handle = ::core::clone::Clone::clone(&__fusebox_span);)
    } else {
        TokenStream::new()
    };
    let instrument = |future: TokenStream| {
        if args.err {
            quote!(#private::instrument_err(#future, __fusebox_span))
        } else {
            quote!(#private::instrument(#future, __fusebox_span))
        }
    };

    match shape {
        Shape::Async => {
            let (ret, ret_span) = match item::return_type(&item, shape) {
                Some(ret) => (item::erase_impl_trait(&ret).into_token_stream(), ret.span()),
                None => (quote!(()), item.sig.ident.span()),
            };
            let block = stmts(&item.block);
            let future = if args.breaker.is_some() {
                // The body is `#[circuit_breaker]`'s code, which pins the type itself.
                quote!(async move { #block })
            } else {
                pinned_async(quote!(move), &ret, ret_span, block)
            };
            *item.block = if args.err {
                let instrumented = instrument(future);
                syn::parse2(quote! {
                    {
                        let __fusebox_span = #span;
                        #handle
                        #instrumented.await
                    }
                })?
            } else {
                // As `tracing::instrument` does: no instrumentation wrapper when the span is
                // disabled (no subscriber, or filtered out).
                syn::parse2(quote! {
                    {
                        let __fusebox_span = #span;
                        #handle
                        let __fusebox_future = #future;
                        if __fusebox_span.is_disabled() {
                            __fusebox_future.await
                        } else {
                            #tracing::Instrument::instrument(__fusebox_future, __fusebox_span).await
                        }
                    }
                })?
            };
        }
        Shape::AsyncTrait => {
            let future = item::async_trait_future_mut(&mut item.block).ok_or_else(|| {
                syn::Error::new(Span::call_site(), "unsupported #[async_trait] body")
            })?;
            let instrumented = instrument(future.to_token_stream());
            *future = syn::parse2(instrumented)?;
            let stmt: syn::Stmt = syn::parse2(quote!(let __fusebox_span = #span;))?;
            let last = item.block.stmts.len() - 1;
            item.block.stmts.insert(last, stmt);
            if args.breaker.is_some() {
                let stmt: syn::Stmt = syn::parse2(handle)?;
                item.block.stmts.insert(last + 1, stmt);
            }
        }
    }
    Ok(item.into_token_stream())
}

/// `Ident::unraw` to a `String`.
trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        use syn::ext::IdentExt;
        self.unraw().to_string()
    }
}
