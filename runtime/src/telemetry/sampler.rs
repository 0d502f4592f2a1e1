//! The sampler: the configured OpenTelemetry sampler plus B3's debug and deferred decisions.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

use super::config::SamplerKind;
use super::propagation::{B3_DEFERRED, is_debug};

/// Builds the SDK sampler for a [`SamplerKind`].
pub(crate) fn sdk_sampler(kind: SamplerKind) -> (Sampler, Sampler) {
    let parent_based = |root: Sampler| (Sampler::ParentBased(Box::new(root.clone())), root);
    match kind {
        SamplerKind::AlwaysOn => (Sampler::AlwaysOn, Sampler::AlwaysOn),
        SamplerKind::AlwaysOff => (Sampler::AlwaysOff, Sampler::AlwaysOff),
        SamplerKind::TraceIdRatio(r) => {
            (Sampler::TraceIdRatioBased(r), Sampler::TraceIdRatioBased(r))
        }
        SamplerKind::ParentBasedAlwaysOn => parent_based(Sampler::AlwaysOn),
        SamplerKind::ParentBasedAlwaysOff => parent_based(Sampler::AlwaysOff),
        SamplerKind::ParentBasedTraceIdRatio(r) => parent_based(Sampler::TraceIdRatioBased(r)),
    }
}

/// Delegates to the configured sampler, except for B3's flags:
/// * debug forces sampling of every span of a debug trace (B3: debug "implies an accept
///   decision", and Zipkin gets `debug` "for each span in the trace"), whether the flag came with
///   a remote parent (and its bit is inherited by local children) or alone (the trace-state mark
///   of a local root, see [`is_debug`]);
/// * deferred (ids sent without a decision) lets the root sampler decide as if this were a new
///   trace.
///
/// A deny or accept decision sent without ids reaches the configured sampler as a remote parent
/// with invalid ids and the decision in its flags; the SDK's parent-based samplers honour it.
#[derive(Clone, Debug)]
pub(crate) struct FuseboxSampler {
    inner: Sampler,
    root: Sampler,
}

impl FuseboxSampler {
    pub(crate) fn new(kind: SamplerKind) -> Self {
        let (inner, root) = sdk_sampler(kind);
        Self { inner, root }
    }
}

impl ShouldSample for FuseboxSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        if let Some(parent) = parent_context.filter(|cx| cx.has_active_span()) {
            let span = parent.span();
            let sc = span.span_context();
            if is_debug(sc) {
                return SamplingResult {
                    decision: SamplingDecision::RecordAndSample,
                    attributes: Vec::new(),
                    trace_state: sc.trace_state().clone(),
                };
            }
            if sc.is_valid() && sc.is_remote() {
                let flags = sc.trace_flags();
                if flags & B3_DEFERRED == B3_DEFERRED && !sc.is_sampled() {
                    let mut result = self
                        .root
                        .should_sample(None, trace_id, name, span_kind, attributes, links);
                    result.trace_state = sc.trace_state().clone();
                    return result;
                }
            }
        }
        self.inner
            .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}
