// SPDX-License-Identifier: Apache-2.0
//! Tracing that is off (no propagator, no OpenTelemetry layer: the binary's default) reads, writes and keeps
//! nothing. A process of its own, since the propagator is global.

use dsc_telemetry::{TRACEPARENT, client_span, current_traceparent, inject, request_span, step_span};

#[test]
fn without_a_propagator_no_header_is_written_and_no_context_is_kept() {
    let mut headers = http::HeaderMap::new();
    headers
        .insert(TRACEPARENT, http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    let span = request_span("POST", "/api/dsp/catalog/request", &headers);
    let _entered = span.enter();
    assert_eq!(current_traceparent(), None);
    let mut headers = http::HeaderMap::new();
    inject(&client_span("DSP POST catalog/request"), &mut headers);
    assert!(headers.is_empty(), "{headers:?}");
    let _step =
        step_span("transfer", "STARTING", "t-1", Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}
