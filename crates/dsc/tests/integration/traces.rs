// SPDX-License-Identifier: Apache-2.0
//! Traces across connectors, received by a real OTLP receiver (Jaeger v2 of the harness, `TEST_OTLP_ENDPOINT`):
//! a negotiation started with a caller's `traceparent` is one trace over both `dsc` processes, from the
//! Management API request through the consumer's state machine steps, the DSP requests and the provider's steps,
//! and the JSON log lines of both name that trace.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::process::{Node, contract_request, free_port, provision};

/// The receiver's OTLP address and the Jaeger query API, or `None` with a notice when the harness has no Jaeger
/// (`TEST_REQUIRE_JAEGER=1` makes that a failure).
fn jaeger() -> Option<(String, String)> {
    match (std::env::var("TEST_OTLP_ENDPOINT"), std::env::var("TEST_JAEGER_QUERY_URL")) {
        (Ok(otlp), Ok(query)) => Some((otlp, query)),
        _ => {
            if std::env::var("TEST_REQUIRE_JAEGER").is_ok_and(|v| v == "1") {
                panic!("TEST_REQUIRE_JAEGER=1 but TEST_OTLP_ENDPOINT or TEST_JAEGER_QUERY_URL is not set");
            }
            eprintln!("notice: no Jaeger (TEST_OTLP_ENDPOINT); trace test not run here (scripts/test.sh runs it)");
            None
        }
    }
}

struct Span {
    id: String,
    name: String,
    service: String,
    parent: Option<String>,
}

/// The spans Jaeger holds for `trace_id`, once it holds at least `until` says.
async fn trace_spans(query: &str, trace_id: &str, until: impl Fn(&[Span]) -> bool) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = support::send(reqwest::Method::GET, &format!("{query}/api/traces/{trace_id}"), None, None).await;
        let spans = spans_of(&reply.body);
        if until(&spans) {
            return spans;
        }
        assert!(
            Instant::now() < deadline,
            "Jaeger has not received the whole trace {trace_id}: {:?}",
            spans.iter().map(|s| format!("{} {}", s.service, s.name)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn spans_of(body: &Value) -> Vec<Span> {
    let Some(trace) = body["data"].get(0) else { return Vec::new() };
    let services = &trace["processes"];
    trace["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|span| Span {
            id: span["spanID"].as_str().unwrap_or_default().to_string(),
            name: span["operationName"].as_str().unwrap_or_default().to_string(),
            service: services[span["processID"].as_str().unwrap_or_default()]["serviceName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            parent: span["references"]
                .as_array()
                .and_then(|references| references.iter().find(|r| r["refType"] == "CHILD_OF"))
                .and_then(|reference| reference["spanID"].as_str())
                .map(str::to_string),
        })
        .collect()
}

#[tokio::test]
async fn a_negotiation_is_one_trace_across_both_connectors_and_their_logs() {
    let Some((otlp, query)) = jaeger() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Service names of this run only: Jaeger keeps every earlier run's traces.
    let run = format!("{:x}", std::process::id() as u64 * 1_000 + u64::from(free_port()));
    let (consumer_service, provider_service) = (format!("consumer-{run}"), format!("provider-{run}"));
    let traced = |service: &str| {
        format!(
            "\"otel.exporter.otlp.endpoint\" = \"{otlp}\"\n\"otel.service.name\" = \"{service}\"\n\"dsc.log.format\" = \"json\"\n"
        )
    };
    let (mut consumer, mut provider) =
        Node::trusting_pair(dir.path(), &traced(&consumer_service), &traced(&provider_service));
    // Per-process lines are at debug (info carries no line per negotiation); those are the ones inside the spans.
    consumer.start_logging("info,dsc_controlplane=debug").await;
    provider.start_logging("info,dsc_controlplane=debug").await;
    provision(&provider, "BPNL000000000002").await;

    // The caller's trace: an operator's tool that traces its own calls sends one.
    let trace_id = format!("{:032x}", u128::from(free_port()) << 64 | u128::from(std::process::id()) << 16 | 0xabc);
    let caller_span = "00f067aa0ba902b7";
    let request = contract_request(&consumer, &provider).await;
    let created = support::client()
        .post(consumer.management_url("/v3/contractnegotiations"))
        .header("X-Api-Key", support::API_KEY)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    let id = created["@id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = support::send(
            reqwest::Method::GET,
            &consumer.management_url(&format!("/v3/contractnegotiations/{id}/state")),
            Some(support::API_KEY),
            None,
        )
        .await;
        if reply.body["state"] == "FINALIZED" {
            break;
        }
        assert!(Instant::now() < deadline, "not FINALIZED: {}\n{}", reply.body, consumer.log_tail());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let finished = |spans: &[Span]| {
        let has = |service: &str, name: &str| spans.iter().any(|s| s.service == service && s.name == name);
        has(&consumer_service, "negotiation VERIFYING") && has(&provider_service, "negotiation FINALIZING")
    };
    let spans = trace_spans(&query, &trace_id, finished).await;
    let named = |service: &str, name: &str| {
        spans.iter().find(|s| s.service == service && s.name == name).unwrap_or_else(|| {
            panic!(
                "no span '{name}' of {service} in {:?}",
                spans.iter().map(|s| format!("{} {}", s.service, s.name)).collect::<Vec<_>>()
            )
        })
    };
    // The Management API request continues the caller's span; the first step continues the request.
    let management = named(&consumer_service, "POST /management/v3/contractnegotiations");
    assert_eq!(management.parent.as_deref(), Some(caller_span));
    let requesting = named(&consumer_service, "negotiation REQUESTING");
    assert_eq!(requesting.parent.as_deref(), Some(management.id.as_str()));
    // The DSP request leaves the consumer as a client span, and the provider's handling is its child.
    let sent = named(&consumer_service, "DSP ContractRequestMessage");
    assert_eq!(sent.parent.as_deref(), Some(requesting.id.as_str()));
    let received = named(&provider_service, "POST /api/v1/dsp/2025-1/negotiations/request");
    assert_eq!(received.parent.as_deref(), Some(sent.id.as_str()));
    // The provider's own steps, long after that request, are in the same trace, and so is its answer.
    let agreeing = named(&provider_service, "negotiation AGREEING");
    let agreement = named(&provider_service, "DSP ContractAgreementMessage");
    assert_eq!(agreement.parent.as_deref(), Some(agreeing.id.as_str()));
    let agreed = named(&consumer_service, "POST /api/v1/dsp/2025-1/negotiations/{id}/agreement");
    assert_eq!(agreed.parent.as_deref(), Some(agreement.id.as_str()));

    // The log lines written inside those spans name the trace.
    for node in [&consumer, &provider] {
        let log = std::fs::read_to_string(&node.log).unwrap_or_default();
        assert!(
            log.lines().any(|line| line.contains(&format!("\"trace_id\":\"{trace_id}\""))),
            "no log line of {} names trace {trace_id}:\n{}",
            node.did,
            node.log_tail()
        );
    }
}
