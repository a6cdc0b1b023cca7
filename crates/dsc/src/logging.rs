// SPDX-License-Identifier: Apache-2.0
//! Structured logs via `tracing`: human-readable by default, JSON lines on request; spans exported over OTLP when
//! configured. Every line written inside a request or a state machine step carries that span's `trace_id`.

use dsc_config::{LogFormat, TraceExport};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::telemetry::Traces;

/// Installs the global subscriber. `RUST_LOG`, when set, wins over the configured level. Returns the span exporter
/// when `export` is set; an exporter that cannot be built is an error (the operator asked for traces).
pub fn init(format: LogFormat, level: &str, export: Option<&TraceExport>) -> Result<Option<Traces>, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let traces = export.map(crate::telemetry::start).transpose()?;
    let spans = traces.as_ref().map(|traces| traces.layer());
    let registry = tracing_subscriber::registry().with(filter).with(spans);
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // A second call (tests) keeps the first subscriber; that is fine.
    let _ = match format {
        // The current span only (it carries the trace id), not the list of every span around it again.
        LogFormat::Json => registry.with(lines.json().flatten_event(true).with_span_list(false)).try_init(),
        LogFormat::Text => registry.with(lines).try_init(),
    };
    Ok(traces)
}
