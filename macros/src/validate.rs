//! Validation: parsed arguments and the function's syntax -> the model, or every misuse found.
//!
//! What a macro can judge by syntax is checked here, with an error on the offending token; what
//! only the compiler can judge (that a path type is a `Result` alias, that a fallback exists and
//! fits) is left to checks the expansion writes into the code.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::{ItemFn, LitStr, Meta, Type};

use crate::args::{BreakerArgs, FallbackArgs, TracedArgs};
use crate::errors::Errors;
use crate::item::{self, Param, Shape};
use crate::model::{
    BreakerFirst, BreakerOptions, GuardedFn, ResultType, SpanAround, SpanOptions, Traced, TracedFn,
};

/// Validates a `#[circuit_breaker]` function.
pub(crate) fn guarded_fn(args: BreakerArgs, item: ItemFn) -> syn::Result<GuardedFn> {
    let shape = async_shape(
        &item,
        "circuit_breaker",
        " (for synchronous code, use `CircuitBreaker::try_acquire`)",
    )?;
    let ret = result_type(&item, shape)?;
    let params = item::params(&item);
    if args
        .fallback
        .as_ref()
        .is_some_and(|f| f.args == FallbackArgs::All)
    {
        named_params(&params)?;
    }
    let span = span_around(&item);
    let BreakerArgs {
        name,
        fallback,
        record,
        ignore,
        record_result,
        registry,
        krate,
    } = args;
    Ok(GuardedFn {
        item,
        shape,
        ret,
        params,
        breaker: BreakerOptions {
            name,
            registry,
            record,
            ignore,
            record_result,
        },
        fallback,
        span,
        krate,
    })
}

/// Validates a `#[traced]` function; `tokens` are its arguments as written.
pub(crate) fn traced_fn(
    args: TracedArgs,
    tokens: TokenStream,
    mut item: ItemFn,
) -> syn::Result<Traced> {
    // Attribute macros expand outer-first, and the macro that expands last wraps the body last:
    // its code ends up outermost at run time. The span must enclose the breaker (and the
    // fallback), so a `#[circuit_breaker]` still waiting below goes first.
    if let Some(index) = item
        .attrs
        .iter()
        .position(|a| item::is_attr(a, "circuit_breaker"))
    {
        let breaker = item.attrs.remove(index);
        return Ok(Traced::BreakerFirst(BreakerFirst {
            item,
            breaker,
            args: tokens,
            krate: args.krate,
        }));
    }
    let shape = async_shape(
        &item,
        "traced",
        " (for synchronous code, use `tracing::instrument`)",
    )?;
    known_skips(&args, &item)?;
    let ret = item::return_type(&item, shape);
    let krate = args.krate.clone();
    let span = span_options(args, &item, ret.as_ref());
    Ok(Traced::Span(TracedFn {
        item,
        shape,
        ret,
        span,
        krate,
    }))
}

/// The span a `#[traced]` function opens: its options, named after the function by default.
fn span_options(args: TracedArgs, item: &ItemFn, ret: Option<&Type>) -> SpanOptions {
    let TracedArgs {
        name,
        kind,
        remote_service,
        fields,
        err,
        level,
        target,
        breaker,
        krate: _,
        skip: _,
        skip_all: _,
    } = args;
    // An `Err` describes the span unless `err` or the breaker inside does; a return type that
    // is certainly not a `Result` (`()`, `u64`, `Option<T>`...) cannot fail.
    let describe_errors =
        !err && breaker.is_none() && ret.is_some_and(|ty| item::certainly_not_result(ty).is_none());
    let ident = &item.sig.ident;
    SpanOptions {
        name: name.unwrap_or_else(|| LitStr::new(&ident.unraw().to_string(), ident.span())),
        kind,
        remote_service,
        fields,
        err,
        describe_errors,
        level,
        target,
        breaker,
    }
}

/// The function's shape; an error on `fn` for a synchronous function.
fn async_shape(item: &ItemFn, attr: &str, hint: &str) -> syn::Result<Shape> {
    item::shape(item).ok_or_else(|| {
        syn::Error::new(
            item.sig.fn_token.span,
            format!(
                "`#[{attr}]` applies to an `async fn`; make `{}` async{hint}",
                item.sig.ident
            ),
        )
    })
}

/// The return type of a guarded function, which must be a `Result` (or may be an alias of one).
fn result_type(item: &ItemFn, shape: Shape) -> syn::Result<ResultType> {
    let Some(ty) = item::return_type(item, shape) else {
        return Err(syn::Error::new(
            item::return_span(item),
            format!(
                "`#[circuit_breaker]` needs a function that returns a `Result<T, E>`, so that failures \
                 can be recorded; `{}` returns `()`",
                item.sig.ident
            ),
        ));
    };
    if let Some(expected) = item::certainly_not_result(&ty) {
        return Err(syn::Error::new_spanned(
            &ty,
            format!(
                "`#[circuit_breaker]` needs a function that returns {expected}, so that failures can be recorded"
            ),
        ));
    }
    let maybe_alias = matches!(
        &ty,
        Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident != "Result")
    );
    Ok(ResultType { ty, maybe_alias })
}

/// A fallback receives the function's arguments by name: every parameter must have one.
fn named_params(params: &[Param]) -> syn::Result<()> {
    let mut errors = Errors::default();
    for param in params {
        if let Param::Pattern(pat) = param {
            errors.push_spanned(
                pat,
                "the fallback receives the function's arguments by name: bind this parameter to a \
                 name and destructure it in the body, or use `fallback_args = \"cause\"`",
            );
        }
    }
    errors.finish()
}

/// What a `#[traced]` attribute on a guarded function says about the fallback's span. Its errors
/// are `#[traced]`'s to report, when it expands.
fn span_around(item: &ItemFn) -> Option<SpanAround> {
    let mut around = None;
    for attr in item.attrs.iter().filter(|a| item::is_attr(a, "traced")) {
        let around = around.get_or_insert(SpanAround {
            level: None,
            target: None,
        });
        let parsed = match &attr.meta {
            Meta::List(list) => TracedArgs::parse(list.tokens.clone()).ok(),
            _ => None,
        };
        if let Some(parsed) = parsed {
            around.level = parsed.level;
            around.target = parsed.target;
        }
    }
    around
}

/// Every name in `skip(...)` is a parameter.
fn known_skips(args: &TracedArgs, item: &ItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let params = item::params(item);
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
    errors.finish()
}
