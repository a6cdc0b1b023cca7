// SPDX-License-Identifier: Apache-2.0
//! Distributed traces across connectors, and log lines a flood cannot multiply ([`LogLimiter`]): the W3C Trace Context (`traceparent`) read from inbound requests, written
//! on outbound ones, and kept on negotiations and transfers so that the state machine's later steps continue the
//! trace of the request that started them (as EDC keeps a trace context on every stateful entity).
//!
//! Every crate records spans with `tracing`. Whether they leave the process is the binary's decision: it installs
//! the OpenTelemetry layer and the W3C propagator only when OTLP export is configured. Until then the global
//! propagator is OpenTelemetry's no-op one, so every function here reads no header, writes none and returns
//! `None`: tracing that is off costs nothing on the wire or in the database.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::global;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

mod limit;
pub use limit::LogLimiter;

/// The W3C Trace Context header, and the key a kept context is stored under.
pub const TRACEPARENT: &str = "traceparent";

/// The span of one inbound HTTP request to `route` (a route template such as `/v3/assets/{id}`: span names must
/// not hold ids), continuing the caller's trace when `headers` name one. Its `trace_id` field puts the trace id into
/// every log line written while the request is handled.
pub fn request_span(method: &str, route: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.response.status_code = Empty,
        otel.status_code = Empty,
        trace_id = Empty,
    );
    continue_from_headers(&span, headers);
    span
}

/// Records the answer's status on a [`request_span`]; a server error marks the span failed.
pub fn record_response(span: &tracing::Span, status: http::StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}

/// The span of one outbound request to another connector or a data plane (`what` names it, e.g.
/// `DSP POST negotiations/request`); [`inject`] it into the request's headers.
pub fn client_span(what: &str) -> tracing::Span {
    let span = tracing::info_span!("outbound", otel.name = %what, otel.kind = "client", trace_id = Empty);
    // Its parent is the current span, so nothing to adopt; the id is recorded for the log lines written inside.
    record_trace_id(&span);
    span
}

/// The span of one state machine step on a kept process, continuing the trace that `trace_context` names (what
/// [`current_traceparent`] returned when the process began).
pub fn step_span(kind: &str, state: &str, id: &str, trace_context: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        "step",
        otel.name = %format_args!("{kind} {state}"),
        process.id = %id,
        trace_id = Empty,
    );
    continue_from(&span, trace_context);
    span
}

/// Writes `span`'s trace context into `headers`.
pub fn inject(span: &tracing::Span, headers: &mut http::HeaderMap) {
    let context = span.context();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut HeaderInjector(headers)));
}

/// The current span's trace context as a `traceparent` value, to keep on a process that outlives the request that
/// started it; `None` when tracing is off.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut carrier));
    carrier.remove(TRACEPARENT)
}

/// Makes `span` a child of the remote span named in `headers`, if any.
fn continue_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)));
    adopt(span, parent);
}

/// Makes `span` a child of the kept `traceparent`, if any.
fn continue_from(span: &tracing::Span, traceparent: Option<&str>) {
    let parent = match traceparent {
        Some(value) => {
            let carrier = HashMap::from([(TRACEPARENT.to_string(), value.to_string())]);
            global::get_text_map_propagator(|propagator| propagator.extract(&carrier))
        }
        None => Context::new(),
    };
    adopt(span, parent);
}

fn adopt(span: &tracing::Span, parent: Context) {
    if parent.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer is installed: then there is no trace to continue.
        let _ = span.set_parent(parent);
    }
    // The parent must be set before this: reading the context starts the span with whatever parent it has.
    record_trace_id(span);
}

fn record_trace_id(span: &tracing::Span) {
    let context = span.context();
    let own = context.span().span_context().clone();
    if own.is_valid() {
        span.record("trace_id", tracing::field::display(own.trace_id()));
    }
}

#[cfg(test)]
mod tests;
