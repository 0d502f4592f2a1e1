//! Attribute macros of [fusebox](https://docs.rs/fusebox): [`macro@circuit_breaker`],
//! [`macro@retry`], [`macro@rate_limiter`], [`macro@time_limiter`], [`macro@bulkhead`] and
//! [`macro@traced`].
//!
//! Use them through the `fusebox` crate (`fusebox::circuit_breaker`, `fusebox::traced`): the code
//! they generate calls `::fusebox::__private`, a hidden module of the facade.
//!
//! Both macros keep the function's signature and rewrite its body only, so callers, rustdoc and
//! IDEs see the function as written. Misuse is a compile error on the offending token, never a
//! panic; the function is still emitted, so that other errors and IDE features stay useful.
//!
//! Each macro is a pipeline, as in thiserror and serde_derive: **parse** (`args/` turns the
//! attribute's tokens into typed arguments; `item.rs` reads the function's syntax), **validate**
//! (`validate.rs` checks both together and builds the **model**, `model.rs`: everything known
//! about the annotated function), **expand** (`expand/` generates code from the model alone). All
//! of it works on `proc_macro2` and is unit-tested on tokens.

mod args;
mod errors;
mod expand;
mod item;
mod model;
mod suggest;
#[cfg(test)]
mod tests;
mod validate;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

/// Guards an `async fn` with a named circuit breaker, like Resilience4j's `@CircuitBreaker`.
///
/// ```ignore
/// use fusebox::{circuit_breaker, Failure};
///
/// impl UserService {
///     #[circuit_breaker(name = "orders", fallback = "empty_orders")]
///     async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> {
///         self.order_client.orders(user_id).await
///     }
///
///     async fn empty_orders(&self, user_id: &str, cause: Failure<ClientError>)
///         -> Result<Vec<Order>, ClientError>
///     {
///         tracing::warn!(%user_id, "orders unavailable: {cause:?}");
///         Ok(Vec::new())
///     }
/// }
/// ```
///
/// Each call takes a permit from the breaker, runs the body, classifies the result, and records
/// it with the measured duration, under the breaker's configured `timeout` (if any; the body's
/// future is dropped when it expires). The breaker is configured by name in the registry (in
/// code or in `fusebox.toml` / Spring's `application.yml`); the attribute only names it.
///
/// The function must be an `async fn` (free, inherent or trait method, in a trait with a default
/// body, or under `#[async_trait]`) returning a `Result<T, E>` (or an alias of one). Its
/// signature does not change. A panic in the body is recorded as a failure and resumes; a call
/// dropped before it finishes (cancelled) gives its permit back.
///
/// # Options
///
/// ## `name = "..."` (required)
///
/// The breaker's name in the registry. The handle is resolved once per call site (a `static`
/// inside the function), on the first call; there is no registry lookup per call. Register a
/// custom config before that first call if it is not in a config file. The cached handle sees
/// `CircuitBreaker::reconfigure` and `Registry::reload_from_file` (they change the breaker in
/// place), but not a later `Registry::replace` or `remove` of that name, which make a new
/// breaker.
///
/// ```ignore
/// #[circuit_breaker(name = "orders")]
/// async fn get_orders(user_id: &str) -> Result<Vec<Order>, ClientError> { ... }
/// ```
///
/// ## `fallback = "..."`
///
/// The function to call when the guarded call does not produce a value: the breaker rejected it
/// (not permitted), it returned an `Err` (whether recorded as a failure, ignored, or counted as a
/// success by `record`), or it timed out. As in Resilience4j, an `Ok` value recorded as a
/// failure by `record_result` is returned as is, without the fallback.
///
/// The fallback takes the same parameters as the function, followed by the cause,
/// `fusebox::Failure<E>` (`NotPermitted`, `Failed(E)` or `Timeout`), and returns the function's
/// return type. It may be an `async fn` or a plain `fn`. On a method (a function with a `self`
/// receiver) a bare name is looked up on `Self`, and the receiver is passed first; otherwise the
/// string is a path (`"Self::empty"`, `"fallbacks::empty_orders"`).
///
/// ```ignore
/// #[circuit_breaker(name = "orders", fallback = "empty_orders")]
/// async fn get_orders(user_id: &str) -> Result<Vec<Order>, ClientError> { ... }
///
/// fn empty_orders(user_id: &str, cause: Failure<ClientError>) -> Result<Vec<Order>, ClientError> {
///     Ok(Vec::new())
/// }
/// ```
///
/// A fallback that does not exist or does not fit is a compile error on the `"empty_orders"`
/// literal. Arguments are not cloned: the body borrows them, and they are moved into the
/// fallback afterwards. If the body consumes an argument (`Ok(vec![user])` with `user: String`),
/// the borrow checker reports "use of moved value" at the literal and at the use in the body;
/// borrow it in the body, or clone it there. Parameters must be plain names (a destructuring
/// pattern has nothing to pass on) unless `fallback_args = "cause"`. The body's future
/// borrows the arguments, so a `Send` future needs `Sync` argument types.
///
/// ## `fallback_args = "all" | "cause"`
///
/// `"all"` (default): the fallback takes the function's parameters, then the cause. `"cause"`:
/// it takes only the cause (after the receiver, for methods), like Resilience4j's
/// single-exception fallback.
///
/// ```ignore
/// #[circuit_breaker(name = "orders", fallback = "no_orders", fallback_args = "cause")]
/// async fn get_orders(&self, user_id: &str, page: u32) -> Result<Vec<Order>, ClientError> { ... }
///
/// fn no_orders(&self, cause: Failure<ClientError>) -> Result<Vec<Order>, ClientError> { Ok(vec![]) }
/// ```
///
/// ## Without a fallback
///
/// The function returns its own error `E` when the call fails; when the breaker rejects the
/// call or times it out, it returns `E::from(fusebox::BreakerError)`. So `E` must implement
/// `From<fusebox::BreakerError>` (a dedicated trait, `FromBreakerError`, is implemented for all
/// of those, and its compile error says what to implement). `Box<dyn Error + Send + Sync>` and
/// `anyhow::Error` already do. We chose this over requiring `From<Failure<E>>` so that the
/// body's own errors come back unchanged, without wrapping.
///
/// ```ignore
/// impl From<fusebox::BreakerError> for ClientError {
///     fn from(e: fusebox::BreakerError) -> Self { ClientError::Unavailable(e.to_string()) }
/// }
/// ```
///
/// ## `record = <fn(&E) -> bool>`, `ignore = <fn(&E) -> bool>`, `record_result = <fn(&T) -> bool>`
///
/// Outcome predicates, with Resilience4j's rules: an `Err` is a failure, unless `ignore` matches
/// it (nothing is recorded; ignore wins) or `record` is set and does not match it (it counts as
/// a success); an `Ok` is a success unless `record_result` matches it (recorded as a failure,
/// still returned as `Ok`, e.g. an HTTP 503 carried in `Ok`). Each is a path to a function or a
/// closure that captures nothing (a string literal path is accepted too).
///
/// ```ignore
/// #[circuit_breaker(
///     name = "orders",
///     record = ClientError::is_transient,
///     ignore = |e: &ClientError| matches!(e, ClientError::NotFound),
///     record_result = |r: &Response| r.status() == 503,
/// )]
/// async fn get_orders(user_id: &str) -> Result<Response, ClientError> { ... }
/// ```
///
/// ## `registry = <expr>`
///
/// Another registry than `Registry::global()`: an expression that derefs to a
/// `fusebox::Registry` (a `static LazyLock<Registry>`, a `&'static Registry`...). It is
/// evaluated on the first call only, since the breaker handle is cached per call site: the first
/// registry seen wins for that site.
///
/// ```ignore
/// static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry::from_file("breakers.toml").unwrap());
///
/// #[circuit_breaker(name = "orders", registry = REGISTRY)]
/// async fn get_orders(user_id: &str) -> Result<Vec<Order>, ClientError> { ... }
/// ```
///
/// ## `order = <integer>`
///
/// Where the breaker's layer goes among the function's other resilience attributes (see
/// [`macro@retry`], "Several attributes on one function"): a lower value is outer, as Spring's
/// `circuitBreakerAspectOrder`. Default: `i32::MAX - 4`, inside `#[retry]`.
///
/// ## `crate = "..."`
///
/// The path of the `fusebox` crate, when it is reached through a re-export
/// (`crate = "my_platform::fusebox"`). Default: `::fusebox`.
///
/// # With `#[traced]`
///
/// Both attributes may be stacked in either order; the span always encloses the breaker and the
/// fallback. The span then carries `circuit_breaker.name`, `circuit_breaker.state` (seen at
/// acquisition) and `circuit_breaker.outcome` (`success`, `failure`, `ignored`,
/// `not_permitted`, `timeout`), is marked as an error for failures, rejections and timeouts,
/// described by the rejection, the timeout or the body's error (its `Display`, when its type has
/// one: Zipkin's `error` tag shows the error's message, as with Spring's observations; the
/// arguments are not recorded), and a fallback runs in a child span named `fallback`. (The attributes recognise each other
/// by their last path segment, `circuit_breaker`, `retry`, `rate_limiter`, `time_limiter`,
/// `bulkhead` and `traced`; do not rename them on import.)
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    circuit_breaker_tokens(args.into(), item.into()).into()
}

/// Retries an `async fn` with a named retry, like Resilience4j's `@Retry`.
///
/// ```ignore
/// use fusebox::{retry, Failure};
///
/// #[retry(name = "orders", fallback = "cached_orders")]
/// async fn get_orders(client: &OrderClient, user_id: &str) -> Result<Vec<Order>, ClientError> {
///     client.orders(user_id).await
/// }
///
/// fn cached_orders(client: &OrderClient, user_id: &str, cause: Failure<ClientError>)
///     -> Result<Vec<Order>, ClientError>
/// {
///     Ok(Vec::new())
/// }
/// ```
///
/// Each call runs the body; when it fails with an error the retry's config retries (or its
/// result predicate rejects the value), the retry waits as its interval function says (tokio's
/// timer) and runs the body again, up to `max_attempts` attempts in all, with Resilience4j's
/// events and counters. The retry is configured by name in the registry (`retry.configs` /
/// `retry.instances` in `fusebox.toml`, or `resilience4j.retry` in `application.yml`, or
/// `Registry::retry_with_config` in code): the attribute only names it. Its error predicates
/// (`RetryConfigBuilder::retry_on_error::<E>` and `ignore_error`) see the function's error type
/// `E`, or, for a breaker inside the retry, `fusebox::CallNotPermitted` and
/// `fusebox::TimeoutError` (ignore `CallNotPermitted` to stop retrying into an open breaker).
///
/// **The body runs once per attempt.** It is re-evaluated as a fresh non-`move` `async` block on
/// each attempt, borrowing the arguments (so `&mut` arguments and `&mut self` work, and nothing
/// is cloned). A body that consumes a by-value argument (`Ok(vec![user])` with `user: String`)
/// cannot run twice: the compiler reports "value moved here, in previous iteration of loop" on
/// that argument; borrow it, or clone it in the body. `T` and `E` must be `'static` (the
/// config's predicates are typed by them).
///
/// The function must be an `async fn` returning a `Result<T, E>`, as for
/// [`macro@circuit_breaker`]. A panic in an attempt unwinds through the retry (nothing more is
/// counted, as a Java `Error` in Resilience4j); a call dropped during an attempt or a wait
/// (cancelled) stops retrying.
///
/// # Options
///
/// `name = "..."` (required), `fallback = "..."`, `fallback_args = "all" | "cause"`,
/// `registry = <expr>` and `crate = "..."` are those of [`macro@circuit_breaker`]; the handle
/// is resolved once per call site. The fallback is called when the last attempt failed, or a
/// non-retried error ended the call, with the cause `Failure<E>`: `Failed(E)`, `NotPermitted` /
/// `Timeout` from a breaker inside the retry, or `MaxRetriesExceeded` (the result predicate still
/// rejected the last value and `fail_after_max_attempts` is on). Without a fallback the error is
/// returned, the breaker's reasons and `MaxRetriesExceeded` through `E: From<BreakerError>`.
///
/// # Several attributes on one function
///
/// `#[retry]`, `#[circuit_breaker]`, `#[rate_limiter]`, `#[time_limiter]`, `#[bulkhead]` (and
/// `#[traced]`) may be stacked in any source order; they nest in Resilience4j's default aspect order,
/// `Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(fn)))))`, and each applies its own
/// fallback at its own layer, as Spring does: a breaker's fallback answers each attempt, so the
/// retry sees its result (a breaker fallback that returns `Ok` ends the retry). `order = N` on an
/// attribute places it as Spring's `*AspectOrder` properties do: a lower value is outer; the
/// defaults are Spring's (`retry` `i32::MAX - 5`, `circuit_breaker` `i32::MAX - 4`; the rate
/// limiter, time limiter and bulkhead follow with `- 3`, `- 2`, `- 1`). So
/// `#[circuit_breaker(name = "b", order = 1)]` puts the breaker around the retry. The nesting is
/// compiled: the `*AspectOrder` keys of a Spring file do not change it (see README).
///
/// Under `#[traced]`, every attempt is a child span `retry attempt` of the function's span, with
/// `retry.name` and `retry.attempt` (1, 2, ...), marked as an error when the attempt failed; a
/// breaker inside the retry records its fields on the attempt's span; the function's span gets
/// `retry.name` and `retry.attempts`.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    retry_tokens(args.into(), item.into()).into()
}

/// Limits the rate of calls of an `async fn` with a named rate limiter, like Resilience4j's
/// `@RateLimiter`.
///
/// ```ignore
/// use fusebox::{rate_limiter, Failure};
///
/// #[rate_limiter(name = "orders", fallback = "busy")]
/// async fn get_orders(client: &OrderClient, user_id: &str) -> Result<Vec<Order>, ClientError> {
///     client.orders(user_id).await
/// }
///
/// fn busy(client: &OrderClient, user_id: &str, cause: Failure<ClientError>)
///     -> Result<Vec<Order>, ClientError>
/// {
///     Ok(Vec::new())
/// }
/// ```
///
/// Each call acquires a permit (Resilience4j's `AtomicRateLimiter`: `limit_for_period` permits
/// per `limit_refresh_period`), waiting for one up to the limiter's `timeout_duration` (on its
/// sleeper, tokio's timer by default), then runs the body. A call refused a permit never runs:
/// the fallback gets `Failure::RequestNotPermitted` (without a fallback the function returns
/// `E::from(BreakerError::RequestNotPermitted(..))`). After the body, a result that the config's
/// `drain_permissions_on_result` predicate matches drains the limiter (the predicate is typed by
/// the function's `Result<T, E>`; around another layer, that layer's reasons are offered to it
/// as a `Result<T, Failure<E>>`), so `T` and `E` must be `'static`. A call dropped while it waits
/// keeps its reservation, as Resilience4j's interrupted caller does; a panic in the body unwinds
/// through (the permit was spent). The limiter is configured by name (`[rate_limiter.instances]`
/// in `fusebox.toml`, `resilience4j.ratelimiter` in `application.yml`, or
/// `Registry::rate_limiter_with_config`); its properties on the attribute are an error saying so.
///
/// # Options
///
/// `name = "..."` (required), `fallback = "..."`, `fallback_args = "all" | "cause"`,
/// `registry = <expr>`, `order = <integer>` (default `i32::MAX - 3`, Spring's
/// `rateLimiterAspectOrder`: inside `#[circuit_breaker]`, outside `#[time_limiter]`) and
/// `crate = "..."` are those of [`macro@circuit_breaker`]; the handle is resolved once per call
/// site.
///
/// `permits = N` (default 1): the permits each call takes. **A deviation:** Resilience4j 2.4's
/// `@RateLimiter(permits = N)` is ignored by its Spring Boot 3 aspect (every call takes 1); here
/// it is honoured, since a weight written on the attribute that did nothing would be a silent
/// default. `permits = 0` and values above `i32::MAX` are compile errors.
///
/// # With `#[traced]`
///
/// The span (or, inside `#[retry]`, the attempt's span) carries `rate_limiter.name` and
/// `rate_limiter.outcome` (`permitted` or `not_permitted`); a refused call marks it as an error
/// described by the rejection; a fallback runs in a child span `fallback`.
#[proc_macro_attribute]
pub fn rate_limiter(args: TokenStream, item: TokenStream) -> TokenStream {
    rate_limiter_tokens(args.into(), item.into()).into()
}

/// Bounds the concurrent calls of an `async fn` with a named bulkhead, like Resilience4j's
/// `@Bulkhead`.
///
/// ```ignore
/// use fusebox::{bulkhead, Failure};
///
/// #[bulkhead(name = "inventory", fallback = "busy")]
/// async fn stock(client: &InventoryClient, sku: &str) -> Result<u32, ClientError> {
///     client.stock(sku).await
/// }
///
/// fn busy(client: &InventoryClient, sku: &str, cause: Failure<ClientError>)
///     -> Result<u32, ClientError>
/// {
///     Ok(0)
/// }
/// ```
///
/// Each call takes a slot of the bulkhead (Resilience4j's semaphore `Bulkhead`: at most
/// `max_concurrent_calls` at once), waiting for one up to its `max_wait_duration` (0 by default:
/// a full bulkhead refuses at once), and holds it across the body's await. A refused call never
/// runs: the fallback gets `Failure::BulkheadFull` (without a fallback the function returns
/// `E::from(BreakerError::BulkheadFull(..))`). The slot is given back, and CALL_FINISHED
/// published, however the call ends: it completes, the caller drops its future (cancellation),
/// or the body panics. A call dropped while it waits for a slot takes none. The bulkhead is
/// configured by name (`[bulkhead.instances]` in `fusebox.toml`, `resilience4j.bulkhead` in
/// `application.yml`, or `Registry::bulkhead_with_config`); its properties on the attribute are
/// an error saying so.
///
/// # Options
///
/// `name = "..."` (required), `fallback = "..."`, `fallback_args = "all" | "cause"`,
/// `registry = <expr>`, `order = <integer>` (default `i32::MAX - 1`, Spring's
/// `bulkheadAspectOrder`: the innermost of the five) and `crate = "..."` are those of
/// [`macro@circuit_breaker`]; the handle is resolved once per call site.
///
/// `type = "SEMAPHORE"` (Resilience4j's `Bulkhead.Type`, and its default) may be written;
/// `type = "THREADPOOL"` is a compile error: Resilience4j's thread-pool bulkhead runs blocking
/// calls on a bounded pool of threads, while an async call holds no thread as it waits, so it is
/// not provided (see `fusebox::bulkhead`).
///
/// # With `#[traced]`
///
/// The span (or, inside `#[retry]`, the attempt's span) carries `bulkhead.name` and
/// `bulkhead.outcome` (`permitted` or `not_permitted`); a refused call marks it as an error
/// described by the rejection; a fallback runs in a child span `fallback`.
#[proc_macro_attribute]
pub fn bulkhead(args: TokenStream, item: TokenStream) -> TokenStream {
    bulkhead_tokens(args.into(), item.into()).into()
}

/// Limits the duration of an `async fn` with a named time limiter, like Resilience4j's
/// `@TimeLimiter`.
///
/// ```ignore
/// use fusebox::{time_limiter, Failure};
///
/// #[time_limiter(name = "orders", fallback = "late")]
/// async fn get_orders(client: &OrderClient, user_id: &str) -> Result<Vec<Order>, ClientError> {
///     client.orders(user_id).await
/// }
///
/// fn late(client: &OrderClient, user_id: &str, cause: Failure<ClientError>)
///     -> Result<Vec<Order>, ClientError>
/// {
///     Ok(Vec::new())
/// }
/// ```
///
/// The body's future is awaited for at most the limiter's `timeout_duration` (1 s by default, as
/// Resilience4j's; tokio's timer, the mechanism of the breaker's `timeout`); when the limit
/// expires first the future is dropped and the fallback gets `Failure::Timeout` (without a
/// fallback, `E::from(BreakerError::Timeout(..))`). The limiter counts and publishes SUCCESS,
/// ERROR and TIMEOUT as `TimeLimiter::call` does; a panic in the body is an ERROR and unwinds
/// through; a call dropped by its caller (cancelled) counts nothing. The limiter is configured
/// by name (`[time_limiter.instances]`, `resilience4j.timelimiter`, or
/// `Registry::time_limiter_with_config`); its properties on the attribute are an error saying so.
///
/// Resilience4j's `@TimeLimiter` applies to methods returning a `CompletionStage` only: an
/// `async fn` is Rust's counterpart, so the attribute needs one. The body is awaited in place (it
/// borrows the arguments), so on timeout it is always dropped, whatever
/// `cancel_running_future` says: nothing could poll it afterwards (see
/// `fusebox::time_limiter`; `TimeLimiter::call_spawned` is the form that can leave it running).
///
/// # Options
///
/// `name = "..."` (required), `fallback = "..."`, `fallback_args = "all" | "cause"`,
/// `registry = <expr>`, `order = <integer>` (default `i32::MAX - 2`, Spring's
/// `timeLimiterAspectOrder`: the innermost of the four) and `crate = "..."` are those of
/// [`macro@circuit_breaker`]; the handle is resolved once per call site.
///
/// # With `#[traced]`
///
/// The span (or, inside `#[retry]`, the attempt's span) carries `time_limiter.name` and
/// `time_limiter.outcome` (`success`, `failure`, `timeout`), marked as an error for failures and
/// timeouts; a fallback runs in a child span `fallback`.
#[proc_macro_attribute]
pub fn time_limiter(args: TokenStream, item: TokenStream) -> TokenStream {
    time_limiter_tokens(args.into(), item.into()).into()
}

/// Opens a `tracing` span, a child of the current span, around an `async fn` (Sleuth's and
/// Micrometer's `@NewSpan`). With the fusebox telemetry pipeline, or any
/// `tracing-opentelemetry` layer, it becomes an OpenTelemetry span and reaches Zipkin.
///
/// ```ignore
/// #[traced(kind = "client", remote_service = "order-service", fields(user.id = %user_id), err)]
/// async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> { ... }
/// ```
///
/// **Safe by default:** unlike `#[tracing::instrument]`, no argument is recorded unless it is
/// listed in `fields(...)`, so a password or a token never reaches a trace by accident.
///
/// The span is created when the function's future first runs and is entered each time it is
/// polled. With no subscriber installed, the cost is `tracing`'s disabled fast path.
///
/// A function that returns `Err(e)` marks its span as an error described by `e`'s `Display`
/// (`otel.status_code`, and `otel.status_description`, which the Zipkin exporter turns into the
/// `error` tag), when the error type is `Display`; the message is formatted for failed calls
/// only, and only when the span is enabled.
///
/// # Options
///
/// ## `name = "..."`
///
/// The span name; default: the function's name.
///
/// ```ignore
/// #[traced(name = "get-orders")]
/// ```
///
/// ## `kind = "client" | "server" | "producer" | "consumer" | "internal"`
///
/// The OpenTelemetry span kind (recorded as `otel.kind`). Default: internal.
///
/// ## `remote_service = "..."`
///
/// The service on the other end of a `client`/`producer` span, recorded as `peer.service`. The
/// fusebox Zipkin exporter turns it into the span's remote endpoint, so Zipkin's dependency
/// graph links the two services.
///
/// ```ignore
/// #[traced(kind = "client", remote_service = "order-service")]
/// ```
///
/// ## `fields(key = expr, ...)`
///
/// Span fields, with `tracing::span!`'s syntax: `key = expr`, `key = %expr` (`Display`),
/// `key = ?expr` (`Debug`), a bare `arg` / `%arg` / `?arg` to record an argument under its own
/// name, dotted or string keys (`user.id`, `"http.method"`). The expressions are evaluated when
/// the span is created and may use the arguments.
///
/// ```ignore
/// #[traced(fields(user.id = %user_id, page, "http.method" = "GET"))]
/// async fn get_orders(&self, user_id: &str, page: u32) -> Result<Vec<Order>, ClientError> { ... }
/// ```
///
/// ## `skip(arg, ...)`, `skip_all`
///
/// Accepted for familiarity with `#[instrument]` (a name in `skip` must be a parameter); since
/// nothing is recorded unless listed in `fields`, they change nothing.
///
/// ## `err`
///
/// When the function returns an `Err`, mark the span as an error: `otel.status_code = "error"`,
/// `otel.status_description` (which the Zipkin exporter turns into the `error` tag) and
/// `exception.message`, all set to the error's `Display`. Requires a `Result` whose error is
/// `Display`. With `#[circuit_breaker]`, this marks whatever `Err` the function returns, an
/// error the breaker ignores included; without `err`, the breaker's outcome decides.
///
/// ## `level = "trace" | "debug" | "info" | "warn" | "error"`
///
/// The span's level. Default: `info`.
///
/// ## `target = "..."`
///
/// The span's target. Default: the module path.
///
/// ## `crate = "..."`
///
/// The path of the `fusebox` crate, when it is reached through a re-export. Default: `::fusebox`.
///
/// # With `#[circuit_breaker]`
///
/// See [`macro@circuit_breaker`]: in either order, the span encloses the breaker, carries
/// `circuit_breaker.name`, `.state` and `.outcome`, and a fallback gets a child span `fallback`.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    traced_tokens(args.into(), item.into()).into()
}

/// `#[circuit_breaker(args)] item`: parse, validate, expand (with the function's other
/// resilience attributes).
pub(crate) fn circuit_breaker_tokens(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let args = args::BreakerArgs::parse(args).map(validate::LayerArgs::CircuitBreaker);
    guarded_tokens(args, item, "circuit_breaker")
}

/// `#[bulkhead(args)] item`: parse, validate, expand (with the function's other resilience
/// attributes).
pub(crate) fn bulkhead_tokens(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let args =
        args::NamedArgs::parse_at(&args::BULKHEAD, args, None).map(validate::LayerArgs::Bulkhead);
    guarded_tokens(args, item, "bulkhead")
}

/// `#[rate_limiter(args)] item`: parse, validate, expand (with the function's other resilience
/// attributes).
pub(crate) fn rate_limiter_tokens(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let args = args::NamedArgs::parse_at(&args::RATE_LIMITER, args, None)
        .map(validate::LayerArgs::RateLimiter);
    guarded_tokens(args, item, "rate_limiter")
}

/// `#[time_limiter(args)] item`: parse, validate, expand (with the function's other resilience
/// attributes).
pub(crate) fn time_limiter_tokens(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let args = args::NamedArgs::parse_at(&args::TIME_LIMITER, args, None)
        .map(validate::LayerArgs::TimeLimiter);
    guarded_tokens(args, item, "time_limiter")
}

/// `#[retry(args)] item`: parse, validate, expand (with the function's other resilience
/// attributes).
pub(crate) fn retry_tokens(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let args = args::NamedArgs::parse_at(&args::RETRY, args, None).map(validate::LayerArgs::Retry);
    guarded_tokens(args, item, "retry")
}

/// The pipeline of the resilience attributes.
fn guarded_tokens(
    args: syn::Result<validate::LayerArgs>,
    item: TokenStream2,
    attr: &str,
) -> TokenStream2 {
    // With its own arguments parsed, the attribute reports the other resilience attributes'
    // errors too: they are taken off the emitted item, so that each error is reported once.
    let strip_layers = args.is_ok();
    let expanded = parse(args, item.clone(), attr)
        .and_then(|(args, item)| validate::guarded_fn(args, item))
        .and_then(expand::guarded);
    expanded.unwrap_or_else(|error| {
        let item = if strip_layers {
            without_layers(item)
        } else {
            item
        };
        with_errors(item, error)
    })
}

/// The function without its resilience attributes (unchanged if it is no function).
fn without_layers(item: TokenStream2) -> TokenStream2 {
    match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(mut func) => {
            func.attrs.retain(|a| {
                !validate::LAYER_ATTRS
                    .iter()
                    .any(|name| item::is_attr(a, name))
            });
            quote!(#func)
        }
        Err(_) => item,
    }
}

/// `#[traced(args)] item`: parse, validate, expand.
pub(crate) fn traced_tokens(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let expanded = parse(
        args::TracedArgs::parse(args.clone()),
        item.clone(),
        "traced",
    )
    .and_then(|(parsed, item)| validate::traced_fn(parsed, args, item))
    .and_then(expand::traced);
    expanded.unwrap_or_else(|error| with_errors(item, error))
}

/// The parse step: the parsed arguments and the function, or the errors of both.
fn parse<A>(args: syn::Result<A>, item: TokenStream2, attr: &str) -> syn::Result<(A, syn::ItemFn)> {
    match (args, item::parse(item, attr)) {
        (Ok(args), Ok(item)) => Ok((args, item)),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            Err(a)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
    }
}

/// On error, the user's item unchanged plus the errors: the item keeps compiling (IDEs and other
/// errors stay useful) and the user sees every mistake at once.
fn with_errors(item: TokenStream2, error: syn::Error) -> TokenStream2 {
    let error = error.to_compile_error();
    quote!(#item #error)
}
