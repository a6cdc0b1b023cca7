// SPDX-License-Identifier: Apache-2.0
//! Trace export: off unless an OTLP endpoint is configured. The keys are OpenTelemetry's own environment variables
//! read as settings (`OTEL_EXPORTER_OTLP_ENDPOINT` is `otel.exporter.otlp.endpoint`), so a deployment that sets
//! them for every other service sets them for the connector too.

use crate::loader::{ConfigError, RawConfig};

/// Where and how spans are exported.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceExport {
    /// The OTLP/HTTP base address (`http://collector:4318`); spans go to `<endpoint>/v1/traces`.
    pub endpoint: String,
    /// `service.name` of every span; the participant id when not set.
    pub service_name: String,
    /// The share of new traces recorded (0 to 1); a trace a peer started follows the peer's decision.
    pub sampler_ratio: f64,
}

impl TraceExport {
    /// The OTLP/HTTP traces URL.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint.trim_end_matches('/'))
    }
}

/// `None` when no endpoint is configured (the default).
pub(crate) fn read(raw: &RawConfig, participant_id: &str) -> Result<Option<TraceExport>, ConfigError> {
    let Some(endpoint) = raw.get("otel.exporter.otlp.endpoint").filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let sampler_ratio = match raw.get("otel.traces.sampler.arg") {
        None => 1.0,
        Some(text) => {
            text.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r)).ok_or_else(|| ConfigError::Invalid {
                key: "otel.traces.sampler.arg".into(),
                value: text.to_string(),
                origin: raw.source("otel.traces.sampler.arg"),
                expected: "a ratio from 0 to 1 (1 records every trace)".into(),
            })?
        }
    };
    let service_name = raw.get("otel.service.name").unwrap_or(participant_id).to_string();
    Ok(Some(TraceExport { endpoint: endpoint.to_string(), service_name, sampler_ratio }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(entries: &[(&str, &str)]) -> RawConfig {
        let env = entries.iter().map(|(k, v)| (crate::env_name(k), v.to_string()));
        RawConfig::load(None, env).unwrap()
    }

    #[test]
    fn export_is_off_without_an_endpoint() {
        assert_eq!(read(&raw(&[]), "did:web:a").unwrap(), None);
    }

    #[test]
    fn the_opentelemetry_environment_variables_configure_export() {
        let export = read(
            &raw(&[("otel.exporter.otlp.endpoint", "http://collector:4318/"), ("otel.traces.sampler.arg", "0.25")]),
            "did:web:a",
        )
        .unwrap()
        .unwrap();
        assert_eq!(export.traces_url(), "http://collector:4318/v1/traces");
        assert_eq!(export.service_name, "did:web:a");
        assert_eq!(export.sampler_ratio, 0.25);
    }

    #[test]
    fn a_sampler_ratio_outside_zero_to_one_is_refused() {
        let error =
            read(&raw(&[("otel.exporter.otlp.endpoint", "http://c:4318"), ("otel.traces.sampler.arg", "2")]), "a")
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value '2' for setting 'otel.traces.sampler.arg' (from environment variable OTEL_TRACES_SAMPLER_ARG): expected a ratio from 0 to 1 (1 records every trace)"
        );
    }
}
