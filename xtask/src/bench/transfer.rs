// SPDX-License-Identifier: Apache-2.0
//! Transfer and built-in OAuth server benchmarks.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

/// Transfer request → EDR available at the consumer (p50/p99), and the public API proxy's throughput against
/// calling the backend directly.
pub(super) fn transfer_bench(
    label: &str,
    binary: &Path,
    databases: Option<(&str, &str)>,
    sequential: usize,
    requests: usize,
) -> Result<(), String> {
    let backend_port = backend()?;
    let (consumer, provider, request) =
        negotiation_pair(binary, databases, &format!("http://127.0.0.1:{backend_port}/parts"), &Identity::TrustList)?;
    let mut connection = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let wait =
        |connection: &mut Connection, path: &str, field: &str, wanted: &str| -> Result<serde_json::Value, String> {
            let started = Instant::now();
            loop {
                let (status, body) = connection.request("GET", path, None).map_err(|e| e.to_string())?;
                let body = json(&body);
                if status == 200 && (wanted.is_empty() || body[field] == wanted) {
                    return Ok(body);
                }
                if started.elapsed() > Duration::from_secs(30) {
                    return Err(format!("{path}: {body}"));
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        };
    let (_, created) =
        connection.request("POST", "/management/v3/contractnegotiations", Some(&request)).map_err(|e| e.to_string())?;
    let negotiation = json(&created)["@id"].as_str().unwrap_or_default().to_string();
    let finalized =
        wait(&mut connection, &format!("/management/v3/contractnegotiations/{negotiation}"), "state", "FINALIZED")?;
    let agreement = finalized["contractAgreementId"].as_str().unwrap_or_default().to_string();
    let provider_address = json(&request)["counterPartyAddress"].as_str().unwrap_or_default().to_string();
    let transfer_request = serde_json::json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider_address,
        "contractId": agreement, "transferType": "HttpData-PULL",
    })
    .to_string();
    let mut latencies = Vec::new();
    let mut edr = serde_json::Value::Null;
    for _ in 0..sequential {
        let started = Instant::now();
        let (status, created) = connection
            .request("POST", "/management/v3/transferprocesses", Some(&transfer_request))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("transfer: {status} {created}"));
        }
        let id = json(&created)["@id"].as_str().unwrap_or_default().to_string();
        edr = wait(&mut connection, &format!("/management/v3/edrs/{id}/dataaddress"), "", "")?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    let token = edr["authorization"].as_str().unwrap_or_default().to_string();
    let direct =
        throughput_with(backend_port, requests, "Accept: */*", |_| ("GET".into(), "/parts/lot/7".into(), None))?;
    let proxied = throughput_with(provider.public, requests, &format!("Authorization: {token}"), |_| {
        ("GET".into(), "/public/lot/7".into(), None)
    })?;
    println!(
        "{label:<11} transfer request -> EDR at the consumer: p50 {:.1} ms, p99 {:.1} ms ({sequential} sequential; goal p50 < 20 ms) | public API proxy {proxied:.0} req/s vs backend direct {direct:.0} req/s ({:.2}x)",
        percentile(0.5),
        percentile(0.99),
        proxied / direct
    );
    Ok(())
}

/// The built-in OAuth server: registration latency (RFC 7591, p50/p99) and client_credentials token throughput,
/// the latter as a ratio to the health endpoint's throughput in the same run.
pub(super) fn oauth_bench(binary: &Path, requests: usize) -> Result<(), String> {
    use base64::Engine;
    let oauth = free_port()?;
    let extra = [("DSC_OAUTH_SERVER_ENABLED", "true".to_string()), ("WEB_HTTP_OAUTH_PORT", oauth.to_string())];
    let (running, _) = start_with(binary, None, free_port()?, &extra)?;
    let initial = "bench-initial-access-token";
    let mut admin = Connection::open(running.management).map_err(|e| e.to_string())?;
    let secret = format!(
        r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"@id":"dsc-oauth-initial-access-token","value":"{initial}"}}"#
    );
    let (status, body) = admin.request("PUT", "/management/v3/secrets", Some(&secret)).map_err(|e| e.to_string())?;
    if status != 204 {
        return Err(format!("setting the initial access token: {status} {body}"));
    }
    let mut connection = Connection::open(oauth).map_err(|e| e.to_string())?;
    let registration = r#"{"client_name":"bench","grant_types":["client_credentials"]}"#;
    let mut latencies = Vec::new();
    let mut client = serde_json::Value::Null;
    for _ in 0..50 {
        let started = Instant::now();
        let (status, body) = connection
            .request_with("POST", "/oauth/register", Some(registration), &format!("Authorization: Bearer {initial}"))
            .map_err(|e| e.to_string())?;
        if status != 201 {
            return Err(format!("registration: {status} {body}"));
        }
        latencies.push(started.elapsed());
        client = json(&body);
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        client["client_id"].as_str().unwrap_or_default(),
        client["client_secret"].as_str().unwrap_or_default()
    ));
    let health = throughput(running.health, requests, |_| ("GET".into(), "/api/check/liveness".into(), None))?;
    let tokens = throughput_with(oauth, requests, &format!("Authorization: Basic {credentials}"), |_| {
        ("POST".into(), "/oauth/token".into(), Some("grant_type=client_credentials".into()))
    })?;
    println!(
        "OAuth       registration p50 {:.1} ms, p99 {:.1} ms (50 sequential) | client_credentials tokens {tokens:.0}/s ({:.2}x the health endpoint's {health:.0} req/s)",
        percentile(0.5),
        percentile(0.99),
        tokens / health
    );
    Ok(())
}
