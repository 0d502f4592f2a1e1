//! The model of an annotated function: what validation established, and all that expansion reads.
//!
//! `validate.rs` builds these from the parsed arguments and the function's syntax, and reports
//! every misuse; `expand/` turns them into code without checking anything more.

use proc_macro2::TokenStream;
use syn::{Attribute, Expr, ItemFn, LitStr, Path, Type};

use crate::args::{Fallback, Field};
use crate::item::{Param, Shape};

/// A function under `#[circuit_breaker]`, `#[retry]`, `#[rate_limiter]`, `#[time_limiter]`,
/// `#[bulkhead]` (its resilience attributes).
pub(crate) struct GuardedFn {
    /// The function as written, without its resilience attributes; expansion rewrites its body
    /// only.
    pub(crate) item: ItemFn,
    /// How its future is written.
    pub(crate) shape: Shape,
    /// What it returns: a `Result`, or a path that may be an alias of one.
    pub(crate) ret: ResultType,
    /// Its parameters, as a fallback receives them.
    pub(crate) params: Vec<Param>,
    /// One layer per resilience attribute, outermost first (Resilience4j's aspect order, or the
    /// attributes' `order = ...`).
    pub(crate) layers: Vec<Layer>,
    /// `#[traced]` on the same function, which opens the span that the layers' steps record on.
    pub(crate) span: Option<SpanAround>,
    /// `crate = "..."`: where the generated code finds fusebox.
    pub(crate) krate: Option<Path>,
    /// The paths of the resilience attributes taken off the function (all but the one being
    /// expanded), as written: the expansion refers to each, so that rustc resolves them (an
    /// unimported attribute is an error) and counts the user's imports of them as used.
    pub(crate) taken: Vec<Path>,
}

impl GuardedFn {
    /// Whether the function is a method with a `self` receiver.
    pub(crate) fn has_receiver(&self) -> bool {
        self.params.iter().any(|p| matches!(p, Param::Receiver))
    }
}

/// One resilience attribute's layer around the body.
pub(crate) struct Layer {
    /// What the layer does.
    pub(crate) kind: LayerKind,
    /// `fallback = "..."`: called at this layer instead of failing it.
    pub(crate) fallback: Option<Fallback>,
}

/// The resilience patterns a layer can apply (each with its default order in
/// `validate::LayerArgs::default_order`).
pub(crate) enum LayerKind {
    /// `#[circuit_breaker]`.
    CircuitBreaker(Box<BreakerOptions>),
    /// `#[retry]`.
    Retry(RetryOptions),
    /// `#[rate_limiter]`.
    RateLimiter(RateLimiterOptions),
    /// `#[time_limiter]`.
    TimeLimiter(TimeLimiterOptions),
    /// `#[bulkhead]`.
    Bulkhead(BulkheadOptions),
}

impl Layer {
    /// The name of the layer's instance in the registry.
    pub(crate) fn name(&self) -> &LitStr {
        match &self.kind {
            LayerKind::CircuitBreaker(b) => &b.name,
            LayerKind::Retry(r) => &r.name,
            LayerKind::RateLimiter(r) => &r.name,
            LayerKind::TimeLimiter(t) => &t.name,
            LayerKind::Bulkhead(b) => &b.name,
        }
    }
}

/// Which rate limiter, and how many permits a call takes.
pub(crate) struct RateLimiterOptions {
    /// `name = "..."`, the rate limiter's name in the registry.
    pub(crate) name: LitStr,
    /// `registry = <expr>`; the global registry otherwise.
    pub(crate) registry: Option<Expr>,
    /// `permits = N`; 1 by default.
    pub(crate) permits: u32,
}

/// Which bulkhead.
pub(crate) struct BulkheadOptions {
    /// `name = "..."`, the bulkhead's name in the registry.
    pub(crate) name: LitStr,
    /// `registry = <expr>`; the global registry otherwise.
    pub(crate) registry: Option<Expr>,
}

/// Which time limiter.
pub(crate) struct TimeLimiterOptions {
    /// `name = "..."`, the time limiter's name in the registry.
    pub(crate) name: LitStr,
    /// `registry = <expr>`; the global registry otherwise.
    pub(crate) registry: Option<Expr>,
}

/// Which retry.
pub(crate) struct RetryOptions {
    /// `name = "..."`, the retry's name in the registry.
    pub(crate) name: LitStr,
    /// `registry = <expr>`; the global registry otherwise.
    pub(crate) registry: Option<Expr>,
}

/// The return type of a guarded function.
pub(crate) struct ResultType {
    /// As written (or as `#[async_trait]` wrote it in the body).
    pub(crate) ty: Type,
    /// A path not named `Result`: only the compiler can tell whether it is an alias of one.
    pub(crate) maybe_alias: bool,
}

/// Which breaker, and how its outcomes are classified.
pub(crate) struct BreakerOptions {
    /// `name = "..."`, the breaker's name in the registry.
    pub(crate) name: LitStr,
    /// `registry = <expr>`; the global registry otherwise.
    pub(crate) registry: Option<Expr>,
    /// `record = <fn(&E) -> bool>`.
    pub(crate) record: Option<Expr>,
    /// `ignore = <fn(&E) -> bool>`.
    pub(crate) ignore: Option<Expr>,
    /// `record_result = <fn(&T) -> bool>`.
    pub(crate) record_result: Option<Expr>,
}

/// What a guarded function's `#[traced]` attribute says about the span the fallback runs in.
pub(crate) struct SpanAround {
    /// Its `level = "..."`.
    pub(crate) level: Option<LitStr>,
    /// Its `target = "..."`.
    pub(crate) target: Option<LitStr>,
}

/// A function under `#[traced]`, in one of its two expansions.
pub(crate) enum Traced {
    /// The span around the function's future.
    Span(TracedFn),
    /// A resilience attribute is still to expand below `#[traced]`: it must expand first, so that
    /// the span ends up around the layers and their fallbacks.
    BreakerFirst(BreakerFirst),
}

/// A function under `#[traced]` whose span this expansion opens.
pub(crate) struct TracedFn {
    /// The function as written; expansion rewrites its body only.
    pub(crate) item: ItemFn,
    /// How its future is written.
    pub(crate) shape: Shape,
    /// The type its body produces; `None` for `()`.
    pub(crate) ret: Option<Type>,
    /// The span it opens.
    pub(crate) span: SpanOptions,
    /// `crate = "..."`: where the generated code finds fusebox.
    pub(crate) krate: Option<Path>,
}

/// The span `#[traced]` opens.
pub(crate) struct SpanOptions {
    /// `name = "..."`, or the function's name.
    pub(crate) name: LitStr,
    /// `kind = "..."`, recorded as `otel.kind`.
    pub(crate) kind: Option<LitStr>,
    /// `remote_service = "..."`, recorded as `peer.service`.
    pub(crate) remote_service: Option<LitStr>,
    /// `fields(...)`, passed to `span!` as written.
    pub(crate) fields: Vec<Field>,
    /// `err`: mark the span with an `Err`'s `Display`.
    pub(crate) err: bool,
    /// Without `err` nor a layer inside, whether the function may return an `Err` that then
    /// describes the span (its return type may be a `Result`).
    pub(crate) describe_errors: bool,
    /// `level = "..."`.
    pub(crate) level: Option<LitStr>,
    /// `target = "..."`.
    pub(crate) target: Option<LitStr>,
    /// The breaker's name, when `#[circuit_breaker]` on the same function expanded first: the span
    /// declares the breaker's fields, and its steps record on it.
    pub(crate) breaker: Option<LitStr>,
    /// The retry's name, when `#[retry]` on the same function expanded first: the span declares
    /// the retry's fields, and it records on it.
    pub(crate) retry: Option<LitStr>,
    /// The rate limiter's name, when it records on this span.
    pub(crate) rate_limiter: Option<LitStr>,
    /// The time limiter's name, when it records on this span.
    pub(crate) time_limiter: Option<LitStr>,
    /// The bulkhead's name, when it records on this span.
    pub(crate) bulkhead: Option<LitStr>,
}

impl SpanOptions {
    /// Whether a resilience layer records on this span (through `__fusebox_span_handle`).
    pub(crate) fn has_layers(&self) -> bool {
        self.breaker.is_some()
            || self.retry.is_some()
            || self.rate_limiter.is_some()
            || self.time_limiter.is_some()
            || self.bulkhead.is_some()
    }
}

/// A `#[traced]` function with a resilience attribute below its attribute.
pub(crate) struct BreakerFirst {
    /// The function, without the `#[circuit_breaker]` attribute.
    pub(crate) item: ItemFn,
    /// The resilience attribute (`#[circuit_breaker]`, `#[retry]`).
    pub(crate) breaker: Attribute,
    /// `#[traced]`'s arguments as written, for the attribute emitted after the breaker's.
    pub(crate) args: TokenStream,
    /// `crate = "..."`: where the `traced` attribute is found.
    pub(crate) krate: Option<Path>,
}
