//! W3C trace context in message headers: taken from the current span when a message is sent,
//! and made the parent of the receiving span, so one frame's work is one trace across processes.

use std::collections::HashMap;

use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (Kafka) and field name of the W3C trace context.
pub const TRACEPARENT: &str = "traceparent";

/// The `traceparent` of the current span, or `None` when spans are not exported.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier.remove(TRACEPARENT)
}

/// The span a `traceparent` value names, if it is well-formed.
pub fn remote_span(traceparent: &str) -> Option<SpanContext> {
    let carrier: HashMap<String, String> = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let span = context.span().span_context().clone();
    span.is_valid().then_some(span)
}

/// Makes the sender's span the parent of `span`. A missing or malformed value leaves `span`
/// the root of a new trace: trace context is a help, never a reason to refuse a message.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(remote) = traceparent.and_then(remote_span) else {
        return;
    };
    let parent = opentelemetry::Context::new().with_remote_span_context(remote);
    if let Err(e) = span.set_parent(parent) {
        tracing::debug!(error = %e, "trace context not applied");
    }
}
