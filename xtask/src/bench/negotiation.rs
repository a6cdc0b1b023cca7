// SPDX-License-Identifier: Apache-2.0
//! Negotiation benchmarks: a provider/consumer pair and contract negotiation latency.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

/// How the pair proves who its participants are.
pub(super) enum Identity<'a> {
    /// Each lists the other with its BPN (`dsc.iam.trust.file`).
    TrustList,
    /// Verifiable credentials from this issuer (DCP).
    Dcp(&'a Issuer),
}

/// A consumer and a provider that know each other (through a trust list or credentials), the provider offering
/// `asset-1` (data at `base_url`); returns them and the consumer's contract request body.
pub(super) fn negotiation_pair(
    binary: &Path,
    databases: Option<(&str, &str)>,
    base_url: &str,
    identity: &Identity,
) -> Result<(Running, Running, String), String> {
    let (consumer_port, provider_port) = (free_port()?, free_port()?);
    negotiation_pair_on(binary, databases, base_url, identity, (consumer_port, provider_port), &[])
}

/// [`negotiation_pair`] on the given protocol ports (consumer, provider), with more settings for the provider.
pub(super) fn negotiation_pair_on(
    binary: &Path,
    databases: Option<(&str, &str)>,
    base_url: &str,
    identity: &Identity,
    (consumer_port, provider_port): (u16, u16),
    provider_extra: &[(&'static str, String)],
) -> Result<(Running, Running, String), String> {
    let did = |port: u16| format!("did:web:127.0.0.1%3A{port}");
    let participant = |own: u16, other: u16, bpn: &str| -> Vec<(&'static str, String)> {
        let mut settings = vec![
            ("EDC_PARTICIPANT_ID", did(own)),
            ("EDC_HOSTNAME", "127.0.0.1".into()),
            ("EDC_IAM_DID_WEB_USE_HTTPS", "false".into()),
        ];
        match identity {
            Identity::TrustList => settings.push((
                "DSC_IAM_TRUST_FILE",
                format!("{{data}}/trust.toml\n[[participant]]\ndid = \"{}\"\nbpn = \"{bpn}\"\n", did(other)),
            )),
            Identity::Dcp(issuer) => settings.push(("DSC_IAM_DCP_TRUSTED_ISSUERS", issuer.did.clone())),
        }
        settings
    };
    let (consumer, _) = start_with(
        binary,
        databases.map(|d| d.0),
        consumer_port,
        &participant(consumer_port, provider_port, "BPNL000000000001"),
    )?;
    let mut provider_settings = participant(provider_port, consumer_port, "BPNL000000000002");
    provider_settings.extend(provider_extra.iter().cloned());
    let (provider, _) = start_with(binary, databases.map(|d| d.1), provider_port, &provider_settings)?;
    if let Identity::Dcp(issuer) = identity {
        issuer.onboard(&did(consumer_port), "BPNL000000000002", consumer.management)?;
        issuer.onboard(&did(provider_port), "BPNL000000000001", provider.management)?;
    }
    let mut admin = Connection::open(provider.management).map_err(|e| e.to_string())?;
    let edc = "https://w3id.org/edc/v0.0.1/ns/";
    for (path, body) in [
        (
            "/management/v3/assets",
            format!(
                r#"{{"@context":{{"@vocab":"{edc}"}},"@id":"asset-1","properties":{{}},"dataAddress":{{"type":"HttpData","baseUrl":"{base_url}","proxyPath":"true"}}}}"#
            ),
        ),
        (
            "/management/v3/policydefinitions",
            format!(
                r#"{{"@context":{{"@vocab":"{edc}"}},"@id":"bpn","policy":{{"@context":"http://www.w3.org/ns/odrl.jsonld","@type":"Set","permission":[{{"action":"use","constraint":[{{"leftOperand":"https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber","operator":"eq","rightOperand":"BPNL000000000002"}}]}}]}}}}"#
            ),
        ),
        (
            "/management/v3/contractdefinitions",
            format!(
                r#"{{"@context":{{"@vocab":"{edc}"}},"@id":"cd-1","accessPolicyId":"bpn","contractPolicyId":"bpn","assetsSelector":[{{"operandLeft":"{edc}id","operator":"=","operandRight":"asset-1"}}]}}"#
            ),
        ),
    ] {
        let (status, answer) = admin.request("POST", path, Some(&body)).map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("provisioning {path}: {status} {answer}"));
        }
    }
    let address = format!("http://127.0.0.1:{provider_port}/api/v1/dsp/2025-1");
    let mut client = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let catalog_request = format!(
        r#"{{"@context":{{"@vocab":"{edc}"}},"counterPartyAddress":"{address}","counterPartyId":"{}","protocol":"dataspace-protocol-http:2025-1"}}"#,
        did(provider_port)
    );
    let (status, catalog) =
        client.request("POST", "/management/v3/catalog/request", Some(&catalog_request)).map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("catalog: {status} {catalog}"));
    }
    let catalog = json(&catalog);
    let dataset =
        if catalog["dataset"].is_array() { catalog["dataset"][0].clone() } else { catalog["dataset"].clone() };
    let mut offer =
        if dataset["hasPolicy"].is_array() { dataset["hasPolicy"][0].clone() } else { dataset["hasPolicy"].clone() };
    offer["assigner"] = serde_json::Value::String(did(provider_port));
    offer["target"] = serde_json::Value::String("asset-1".into());
    let request = serde_json::json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": edc }],
        "counterPartyAddress": address, "counterPartyId": did(provider_port),
        "protocol": "dataspace-protocol-http:2025-1", "policy": offer,
    });
    Ok((consumer, provider, request.to_string()))
}

/// Negotiation latency and throughput: (p50 ms, negotiations/s).
pub(super) fn negotiation_bench(
    label: &str,
    binary: &Path,
    databases: Option<(&str, &str)>,
    sequential: usize,
    concurrent: usize,
    identity: &Identity,
) -> Result<(f64, f64), String> {
    let (consumer, provider, request) = negotiation_pair(binary, databases, "http://127.0.0.1:9/unused", identity)?;
    let mut connection = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let mut latencies = Vec::new();
    for _ in 0..sequential {
        let started = Instant::now();
        let (status, created) = connection
            .request("POST", "/management/v3/contractnegotiations", Some(&request))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("negotiation: {status} {created}"));
        }
        let id = json(&created)["@id"].as_str().unwrap_or_default().to_string();
        loop {
            let (_, state) = connection
                .request("GET", &format!("/management/v3/contractnegotiations/{id}/state"), None)
                .map_err(|e| e.to_string())?;
            match json(&state)["state"].as_str() {
                Some("FINALIZED") => break,
                Some("TERMINATED") => return Err(format!("negotiation {id} terminated")),
                _ if started.elapsed() > Duration::from_secs(30) => return Err(format!("negotiation {id} stuck")),
                _ => std::thread::sleep(Duration::from_micros(500)),
            }
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;

    let started = Instant::now();
    throughput(consumer.management, concurrent, |_| {
        ("POST".into(), "/management/v3/contractnegotiations".into(), Some(request.clone()))
    })?;
    // "Are there `wanted` finalized negotiations?" asked as one element at offset wanted-1, so polling costs the
    // connector next to nothing and does not slow down what is measured.
    let wanted = sequential + concurrent;
    let query = format!(
        r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"offset":{},"limit":1,"filterExpression":[{{"operandLeft":"state","operator":"=","operandRight":"FINALIZED"}}]}}"#,
        wanted - 1
    );
    loop {
        let (_, finished) = connection
            .request("POST", "/management/v3/contractnegotiations/request", Some(&query))
            .map_err(|e| e.to_string())?;
        if json(&finished).as_array().is_some_and(|found| !found.is_empty()) {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!("fewer than {wanted} negotiations finalized in 120 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rate = concurrent as f64 / started.elapsed().as_secs_f64();
    let mib = |running: &Running| rss_kib(running.child.id()).map(|kib| kib as f64 / 1024.0).unwrap_or(f64::NAN);
    println!(
        "{label:<11} negotiation request -> FINALIZED seen by the consumer: p50 {:.1} ms, p99 {:.1} ms ({sequential} sequential) | {rate:.0} negotiations/s ({concurrent} concurrent) | RSS after: consumer {:.1} MiB, provider {:.1} MiB",
        percentile(0.5),
        percentile(0.99),
        mib(&consumer),
        mib(&provider)
    );
    Ok((percentile(0.5), rate))
}
