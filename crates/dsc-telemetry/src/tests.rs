// SPDX-License-Identifier: Apache-2.0
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt;

use super::*;

const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN: &str = "00f067aa0ba902b7";

/// Log lines written while a test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `body` with tracing on (as the binary sets it up, with an in-memory exporter and JSON logs) and returns
/// the finished spans and the log text.
fn traced(body: impl FnOnce()) -> (Vec<SpanData>, String) {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(tracing_subscriber::fmt::layer().json().with_writer(move || writer.clone()));
    tracing::subscriber::with_default(subscriber, body);
    let spans = exporter.get_finished_spans().unwrap_or_default();
    let text = logs.0.lock().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default();
    (spans, text)
}

fn inbound(traceparent: Option<&str>) -> tracing::Span {
    let mut headers = http::HeaderMap::new();
    if let Some(value) = traceparent {
        headers.insert(TRACEPARENT, http::HeaderValue::from_str(value).unwrap());
    }
    request_span("POST", "/api/dsp/negotiations/request", &headers)
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name} in {spans:?}"))
}

#[test]
fn a_request_span_continues_the_callers_trace_and_logs_its_id() {
    let header = format!("00-{REMOTE_TRACE}-{REMOTE_SPAN}-01");
    let (spans, logs) = traced(|| {
        let span = inbound(Some(&header));
        span.in_scope(|| tracing::info!("handling"));
        record_response(&span, http::StatusCode::CREATED);
    });
    let request = named(&spans, "POST /api/dsp/negotiations/request");
    assert_eq!(request.span_context.trace_id().to_string(), REMOTE_TRACE);
    assert_eq!(request.parent_span_id.to_string(), REMOTE_SPAN);
    assert_eq!(request.span_kind, opentelemetry::trace::SpanKind::Server);
    assert!(logs.contains(&format!("\"trace_id\":\"{REMOTE_TRACE}\"")), "the log line names the trace: {logs}");
}

#[test]
fn a_malformed_traceparent_starts_a_trace_of_its_own() {
    let (spans, _) = traced(|| {
        let _span = inbound(Some("00-not-a-trace-01"));
    });
    let request = named(&spans, "POST /api/dsp/negotiations/request");
    assert!(request.span_context.is_valid());
    assert_ne!(request.span_context.trace_id().to_string(), REMOTE_TRACE);
    assert_eq!(request.parent_span_id, opentelemetry::trace::SpanId::INVALID);
}

#[test]
fn an_outbound_request_carries_the_client_spans_context() {
    let mut headers = http::HeaderMap::new();
    let header = format!("00-{REMOTE_TRACE}-{REMOTE_SPAN}-01");
    let (spans, _) = traced(|| {
        let request = inbound(Some(&header));
        request.in_scope(|| {
            let client = client_span("DSP POST negotiations/request");
            inject(&client, &mut headers);
        });
    });
    let client = named(&spans, "DSP POST negotiations/request");
    let sent = headers.get(TRACEPARENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(sent, format!("00-{REMOTE_TRACE}-{}-01", client.span_context.span_id()));
    assert_eq!(client.span_kind, opentelemetry::trace::SpanKind::Client);
}

#[test]
fn a_kept_context_makes_later_steps_children_of_the_request_that_began_the_process() {
    let mut kept = None;
    let (spans, _) = traced(|| {
        let request = inbound(None);
        kept = request.in_scope(current_traceparent);
        drop(request);
        let _step = step_span("negotiation", "REQUESTING", "n-1", kept.as_deref());
    });
    let request = named(&spans, "POST /api/dsp/negotiations/request");
    let step = named(&spans, "negotiation REQUESTING");
    assert_eq!(step.span_context.trace_id(), request.span_context.trace_id());
    assert_eq!(step.parent_span_id, request.span_context.span_id());
    assert_eq!(kept, Some(format!("00-{}-{}-01", request.span_context.trace_id(), request.span_context.span_id())));
}
