//! Log–trace correlation: Spring Sleuth's `[service,traceId,spanId]` on every log line.
//!
//! `tracing`'s fmt layer does not know OpenTelemetry ids, so [`SleuthFormat`] wraps any
//! [`FormatEvent`] and writes the prefix first, reading the ids of the event's span (or its
//! nearest ancestor that has an OpenTelemetry span) through `tracing_opentelemetry::get_otel_context`.
//! Outside any span the prefix is `[service,,]`, as in Spring.
//!
//! ```text
//! [user-service,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] 2026-11-25T10:00:00Z  INFO get_user: loading user
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TraceContextExt;
use tracing::dispatcher::WeakDispatch;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// A [`FormatEvent`] that prefixes each line with `[service,traceId,spanId]`.
#[derive(Clone, Debug)]
pub struct SleuthFormat<F> {
    service: Arc<str>,
    inner: F,
    dispatch: Arc<OnceLock<WeakDispatch>>,
}

impl<F> SleuthFormat<F> {
    /// Wraps `inner` for `service`. Call [`SleuthFormat::attach`] once the subscriber it lives in
    /// is turned into a [`tracing::Dispatch`] (without it, the ids stay empty).
    pub fn new(service: &str, inner: F) -> Self {
        Self {
            service: Arc::from(service),
            inner,
            dispatch: Arc::new(OnceLock::new()),
        }
    }

    /// Tells the formatter which dispatcher holds the OpenTelemetry layer. A weak reference,
    /// so there is no cycle.
    pub fn attach(&self, dispatch: &tracing::Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    /// A handle sharing the attachment slot, to attach after the formatter moved into a layer.
    pub(crate) fn attachment(&self) -> Arc<OnceLock<WeakDispatch>> {
        Arc::clone(&self.dispatch)
    }
}

impl<S, N, F> FormatEvent<S, N> for SleuthFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut ids = None;
        if let (Some(scope), Some(dispatch)) = (
            ctx.event_scope(),
            self.dispatch.get().and_then(WeakDispatch::upgrade),
        ) {
            for span in scope {
                if let Some(cx) = tracing_opentelemetry::get_otel_context(&span.id(), &dispatch) {
                    let otel = cx.span();
                    let sc = otel.span_context();
                    if sc.is_valid() {
                        ids = Some((sc.trace_id(), sc.span_id()));
                        break;
                    }
                }
            }
        }
        match ids {
            Some((trace, span)) => write!(writer, "[{},{trace},{span}] ", self.service)?,
            None => write!(writer, "[{},,] ", self.service)?,
        }
        self.inner.format_event(ctx, writer, event)
    }
}
