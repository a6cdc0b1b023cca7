// SPDX-License-Identifier: Apache-2.0
//! Span export over OTLP/HTTP (protobuf) when `otel.exporter.otlp.endpoint` is set: the OpenTelemetry SDK with
//! a batch processor on a thread of its own, the W3C propagator that `dsc_telemetry` reads and writes headers with,
//! and the `tracing` layer that turns the connector's spans into OpenTelemetry spans.

use dsc_config::TraceExport;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

/// The exporting provider; [`Traces::shutdown`] sends what is still buffered.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Flushes and stops the exporter. Blocks: call it outside the async runtime, after the connector stopped.
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("dsc: the last spans may not have been exported: {error}");
        }
    }
}

/// Builds the exporter and installs the W3C propagator; the returned provider feeds the `tracing` layer.
pub fn start(export: &TraceExport) -> Result<Traces, String> {
    // The blocking client runs on the batch processor's own thread, never on the connector's runtime.
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(export.traces_url())
        .with_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the OTLP exporter for {}: {e}", export.traces_url()))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(export.sampler_ratio))))
        .with_resource(
            Resource::builder()
                .with_service_name(export.service_name.clone())
                .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        )
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(Traces { provider })
}

impl Traces {
    /// The layer that hands the connector's spans to this provider.
    pub fn layer<S>(&self) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("dsc"))
    }
}
