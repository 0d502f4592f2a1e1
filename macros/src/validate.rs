//! Validation: parsed arguments and the function's syntax -> the model, or every misuse found.
//!
//! What a macro can judge by syntax is checked here, with an error on the offending token; what
//! only the compiler can judge (that a path type is a `Result` alias, that a fallback exists and
//! fits) is left to checks the expansion writes into the code.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, LitStr, Meta, Path, Type};

use crate::args::{
    BULKHEAD, BreakerArgs, Fallback, FallbackArgs, Kind, NamedArgs, Order, RATE_LIMITER, RETRY,
    TIME_LIMITER, TracedArgs,
};
use crate::errors::Errors;
use crate::item::{self, Param, Shape};
use crate::model::{
    BreakerFirst, BreakerOptions, BulkheadOptions, GuardedFn, Layer, LayerKind, RateLimiterOptions,
    ResultType, RetryOptions, SpanAround, SpanOptions, TimeLimiterOptions, Traced, TracedFn,
};

/// The arguments of the resilience attribute being expanded (a short-lived value of the macro:
/// the size difference of the variants does not matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum LayerArgs {
    /// `#[circuit_breaker(...)]`.
    CircuitBreaker(BreakerArgs),
    /// `#[retry(...)]`.
    Retry(NamedArgs),
    /// `#[rate_limiter(...)]`.
    RateLimiter(NamedArgs),
    /// `#[time_limiter(...)]`.
    TimeLimiter(NamedArgs),
    /// `#[bulkhead(...)]`.
    Bulkhead(NamedArgs),
}

/// The resilience attributes, by the last segment of their path. The first of them to expand
/// takes the others off the function and expands them all at once, in order.
pub(crate) const LAYER_ATTRS: &[&str] = &[
    "circuit_breaker",
    "retry",
    "rate_limiter",
    "time_limiter",
    "bulkhead",
];

/// Spring's `Ordered.LOWEST_PRECEDENCE` (`Integer.MAX_VALUE`).
const LOWEST_PRECEDENCE: i32 = i32::MAX;

impl LayerArgs {
    /// Parses the arguments of the attribute `attr` (one of [`LAYER_ATTRS`]), as `written`.
    fn parse(attr: &str, tokens: TokenStream, written: &Attribute) -> syn::Result<Self> {
        let named = |kind: &'static Kind| NamedArgs::parse_at(kind, tokens.clone(), Some(written));
        match attr {
            "retry" => named(&RETRY).map(LayerArgs::Retry),
            "rate_limiter" => named(&RATE_LIMITER).map(LayerArgs::RateLimiter),
            "time_limiter" => named(&TIME_LIMITER).map(LayerArgs::TimeLimiter),
            "bulkhead" => named(&BULKHEAD).map(LayerArgs::Bulkhead),
            _ => BreakerArgs::parse_at(tokens, Some(written)).map(LayerArgs::CircuitBreaker),
        }
    }

    /// The attribute's name.
    fn attr(&self) -> &'static str {
        match self {
            LayerArgs::CircuitBreaker(_) => "circuit_breaker",
            LayerArgs::Retry(_) => "retry",
            LayerArgs::RateLimiter(_) => "rate_limiter",
            LayerArgs::TimeLimiter(_) => "time_limiter",
            LayerArgs::Bulkhead(_) => "bulkhead",
        }
    }

    /// The arguments of a layer that names its entry only.
    fn named(&self) -> Option<&NamedArgs> {
        match self {
            LayerArgs::CircuitBreaker(_) => None,
            LayerArgs::Retry(a)
            | LayerArgs::RateLimiter(a)
            | LayerArgs::TimeLimiter(a)
            | LayerArgs::Bulkhead(a) => Some(a),
        }
    }

    /// Resilience4j's default aspect order (Spring's `*AspectOrder` defaults, C.7): a lower value
    /// is outer, giving Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(fn))))). The
    /// bulkhead takes `- 1` when it comes.
    fn default_order(&self) -> i32 {
        match self {
            LayerArgs::Retry(_) => LOWEST_PRECEDENCE - 5,
            LayerArgs::CircuitBreaker(_) => LOWEST_PRECEDENCE - 4,
            LayerArgs::RateLimiter(_) => LOWEST_PRECEDENCE - 3,
            LayerArgs::TimeLimiter(_) => LOWEST_PRECEDENCE - 2,
            LayerArgs::Bulkhead(_) => LOWEST_PRECEDENCE - 1,
        }
    }

    /// `order = ...` if written.
    fn order(&self) -> Option<Order> {
        match self {
            LayerArgs::CircuitBreaker(a) => a.order,
            _ => self.named().and_then(|a| a.order),
        }
    }

    fn fallback(&self) -> Option<&Fallback> {
        match self {
            LayerArgs::CircuitBreaker(a) => a.fallback.as_ref(),
            _ => self.named().and_then(|a| a.fallback.as_ref()),
        }
    }

    fn krate(&mut self) -> Option<Path> {
        match self {
            LayerArgs::CircuitBreaker(a) => a.krate.take(),
            LayerArgs::Retry(a)
            | LayerArgs::RateLimiter(a)
            | LayerArgs::TimeLimiter(a)
            | LayerArgs::Bulkhead(a) => a.krate.take(),
        }
    }

    /// The layer, once its order has placed it.
    fn into_layer(self) -> Layer {
        match self {
            LayerArgs::CircuitBreaker(args) => {
                let BreakerArgs {
                    name,
                    fallback,
                    record,
                    ignore,
                    record_result,
                    registry,
                    order: _,
                    krate: _,
                } = args;
                Layer {
                    kind: LayerKind::CircuitBreaker(Box::new(BreakerOptions {
                        name,
                        registry,
                        record,
                        ignore,
                        record_result,
                    })),
                    fallback,
                }
            }
            LayerArgs::Retry(NamedArgs {
                name,
                fallback,
                registry,
                permits: _,
                order: _,
                krate: _,
            }) => Layer {
                kind: LayerKind::Retry(RetryOptions { name, registry }),
                fallback,
            },
            LayerArgs::RateLimiter(NamedArgs {
                name,
                fallback,
                registry,
                permits,
                order: _,
                krate: _,
            }) => Layer {
                kind: LayerKind::RateLimiter(RateLimiterOptions {
                    name,
                    registry,
                    permits: permits.unwrap_or(1),
                }),
                fallback,
            },
            LayerArgs::TimeLimiter(NamedArgs {
                name,
                fallback,
                registry,
                permits: _,
                order: _,
                krate: _,
            }) => Layer {
                kind: LayerKind::TimeLimiter(TimeLimiterOptions { name, registry }),
                fallback,
            },
            LayerArgs::Bulkhead(NamedArgs {
                name,
                fallback,
                registry,
                permits: _,
                order: _,
                krate: _,
            }) => Layer {
                kind: LayerKind::Bulkhead(BulkheadOptions { name, registry }),
                fallback,
            },
        }
    }
}

/// Validates a function under resilience attributes: `first` is the one being expanded, the
/// others still on the function are taken off it and expanded with it.
pub(crate) fn guarded_fn(first: LayerArgs, mut item: ItemFn) -> syn::Result<GuardedFn> {
    let attr = first.attr();
    let hint = match first {
        LayerArgs::CircuitBreaker(_) => {
            " (for synchronous code, use `CircuitBreaker::try_acquire`)"
        }
        LayerArgs::Retry(_) => {
            " (each attempt runs the body's future anew; the waits between attempts are on tokio's timer)"
        }
        LayerArgs::RateLimiter(_) => {
            " (for synchronous code, use `RateLimiter::reserve_permission`)"
        }
        LayerArgs::TimeLimiter(_) => {
            " (a time limit needs a future to drop when it expires, as Resilience4j's `@TimeLimiter` needs a `CompletionStage`)"
        }
        LayerArgs::Bulkhead(_) => " (for synchronous code, use `Bulkhead::try_acquire_permission`)",
    };
    let mut errors = Errors::default();
    let mut all = vec![(first, None::<Attribute>)];
    let mut taken = Vec::new();
    let mut index = 0;
    while index < item.attrs.len() {
        let Some(name) = LAYER_ATTRS
            .iter()
            .find(|name| item::is_attr(&item.attrs[index], name))
        else {
            index += 1;
            continue;
        };
        let other = item.attrs.remove(index);
        taken.push(other.path().clone());
        let tokens = match &other.meta {
            Meta::List(list) => Ok(list.tokens.clone()),
            Meta::Path(_) => Ok(TokenStream::new()),
            Meta::NameValue(nv) => Err(syn::Error::new_spanned(
                nv.eq_token,
                format!("expected `#[{name}(name = \"...\")]`"),
            )),
        };
        match tokens.and_then(|tokens| LayerArgs::parse(name, tokens, &other)) {
            Ok(args) => {
                if all.iter().any(|(a, _)| a.attr() == args.attr()) {
                    errors.push_spanned(
                        &other,
                        format!(
                            "`#[{name}]` is on `{}` twice; a function has at most one `#[{name}]` \
                             layer (remove one, or guard two functions)",
                            item.sig.ident
                        ),
                    );
                } else {
                    all.push((args, Some(other)));
                }
            }
            Err(error) => errors.push(error),
        }
    }
    // The function's own shape, after the other attributes' errors (all are reported at once).
    let shaped = async_shape(&item, attr, hint)
        .and_then(|shape| Ok((shape, result_type(&item, shape, attr)?)));
    let (shape, ret) = match shaped {
        Ok(shaped) => shaped,
        Err(error) => return Err(errors.finish_with(error)),
    };
    // The retry's predicates and the rate limiter's drain predicate are typed by `T` and `E`.
    let typed_predicates = all.iter().find_map(|(a, _)| match a {
        LayerArgs::Retry(_) => Some(("retry", "the retry's predicates are")),
        LayerArgs::RateLimiter(_) => Some((
            "rate_limiter",
            "the rate limiter's `drain_permissions_on_result` predicate is",
        )),
        _ => None,
    });
    if let Some((attr, predicates)) = typed_predicates
        && let Some(borrowed) = borrowed_part(&ret.ty)
    {
        errors.push_spanned(
            &borrowed,
            format!(
                "`#[{attr}]` needs a result and an error type that own their data (`'static`): \
                 `{}` borrows, but {predicates} typed by these types; return an \
                 owned value (`String`, `Arc<T>`, a clone...)",
                borrowed.to_string().replace("& ", "&")
            ),
        );
    }
    let mut ordered: Vec<(i32, LayerArgs, Option<Attribute>)> = Vec::new();
    for (args, attr) in all {
        let order = args.order();
        let value = order.map_or_else(|| args.default_order(), |o| o.value);
        if let Some((_, same, _)) = ordered.iter().find(|(v, _, _)| *v == value) {
            let span = order.map_or_else(
                || attr.as_ref().map_or_else(Span::call_site, |a| a.span()),
                |o| o.span,
            );
            errors.push(syn::Error::new(
                span,
                format!(
                    "`#[{}]` and `#[{}]` have the same order {value}; give them different \
                     `order = ...` values (a lower order is outer)",
                    args.attr(),
                    same.attr()
                ),
            ));
            continue;
        }
        ordered.push((value, args, attr));
    }
    ordered.sort_by_key(|(value, _, _)| *value);
    let params = item::params(&item);
    if ordered
        .iter()
        .any(|(_, a, _)| a.fallback().is_some_and(|f| f.args == FallbackArgs::All))
        && let Err(error) = named_params(&params)
    {
        errors.push(error);
    }
    errors.finish()?;
    let krate = ordered.iter_mut().find_map(|(_, args, _)| args.krate());
    let span = span_around(&item);
    Ok(GuardedFn {
        item,
        shape,
        ret,
        params,
        layers: ordered
            .into_iter()
            .map(|(_, args, _)| args.into_layer())
            .collect(),
        span,
        krate,
        taken,
    })
}

/// Validates a `#[traced]` function; `tokens` are its arguments as written.
pub(crate) fn traced_fn(
    args: TracedArgs,
    tokens: TokenStream,
    mut item: ItemFn,
) -> syn::Result<Traced> {
    // Attribute macros expand outer-first, and the macro that expands last wraps the body last:
    // its code ends up outermost at run time. The span must enclose the layers (and their
    // fallbacks), so a resilience attribute still waiting below goes first (it expands the
    // others with it).
    if let Some(index) = item
        .attrs
        .iter()
        .position(|a| LAYER_ATTRS.iter().any(|name| item::is_attr(a, name)))
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
        retry,
        rate_limiter,
        time_limiter,
        bulkhead,
        krate: _,
        skip: _,
        skip_all: _,
    } = args;
    // An `Err` describes the span unless `err` or a layer inside does; a return type that is
    // certainly not a `Result` (`()`, `u64`, `Option<T>`...) cannot fail.
    let describe_errors = !err
        && breaker.is_none()
        && retry.is_none()
        && rate_limiter.is_none()
        && time_limiter.is_none()
        && bulkhead.is_none()
        && ret.is_some_and(|ty| item::certainly_not_result(ty).is_none());
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
        retry,
        rate_limiter,
        time_limiter,
        bulkhead,
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
fn result_type(item: &ItemFn, shape: Shape, attr: &str) -> syn::Result<ResultType> {
    let Some(ty) = item::return_type(item, shape) else {
        return Err(syn::Error::new(
            item::return_span(item),
            format!(
                "`#[{attr}]` needs a function that returns a `Result<T, E>`, so that failures \
                 can be recorded; `{}` returns `()`",
                item.sig.ident
            ),
        ));
    };
    if let Some(expected) = item::certainly_not_result(&ty) {
        return Err(syn::Error::new_spanned(
            &ty,
            format!(
                "`#[{attr}]` needs a function that returns {expected}, so that failures can be recorded"
            ),
        ));
    }
    let maybe_alias = matches!(
        &ty,
        Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident != "Result")
    );
    Ok(ResultType { ty, maybe_alias })
}

/// The first part of `ty` that certainly borrows: a reference or a lifetime other than
/// `'static` (what the syntax shows; a type parameter's lifetime is the compiler's to check).
fn borrowed_part(ty: &Type) -> Option<TokenStream> {
    struct Finder(Option<TokenStream>);
    impl syn::visit_mut::VisitMut for Finder {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            let is_static = r.lifetime.as_ref().is_some_and(|l| l.ident == "static");
            if self.0.is_none() && !is_static {
                self.0 = Some(r.to_token_stream());
            }
        }
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if self.0.is_none() && l.ident != "static" {
                self.0 = Some(l.to_token_stream());
            }
        }
    }
    // (Visiting a copy: the crate enables syn's `visit-mut` only.)
    let mut finder = Finder(None);
    syn::visit_mut::VisitMut::visit_type_mut(&mut finder, &mut ty.clone());
    finder.0
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
