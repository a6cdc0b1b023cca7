// SPDX-License-Identifier: Apache-2.0
//! Catalog at scale: 10,000 assets, 1,000 policies and 1,000 then 3,000 contract definitions on one provider;
//! catalog request latency (p50, p99) through the consumer's Management API and the Dataspace Protocol, for a
//! consumer that passes every access policy and one that passes few, and the growth from 1,000 to 3,000
//! definitions (linear means about 3x or less).

use std::path::Path;
use std::time::Instant;

use super::*;

const ASSETS: usize = 10_000;
const POLICIES: usize = 1_000;
const DEFINITIONS: usize = 3_000;
/// Definitions that select by a property rather than by id: each is one database query per catalog request.
const BY_PROPERTY_EVERY: usize = 300;
const REQUESTS: usize = 40;
const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

fn post(connection: &mut Connection, path: &str, body: &str) -> Result<(), String> {
    let (status, answer) = connection.request("POST", path, Some(body)).map_err(|e| e.to_string())?;
    if status == 200 { Ok(()) } else { Err(format!("{path}: {status} {answer}")) }
}

fn put(connection: &mut Connection, path: &str, body: &str) -> Result<(), String> {
    let (status, answer) = connection.request("PUT", path, Some(body)).map_err(|e| e.to_string())?;
    if status == 204 || status == 200 { Ok(()) } else { Err(format!("{path}: {status} {answer}")) }
}

/// Policy `p-<i>`: a BPN constraint the consumer (BPNL000000000002 at the provider) passes when `grants`.
fn policy(index: usize, grants: bool) -> String {
    let bpn = if grants { "BPNL000000000002" } else { "BPNL000000000099" };
    format!(
        r#"{{"@context":{{"@vocab":"{EDC}"}},"@id":"p-{index}","policy":{{"@context":"http://www.w3.org/ns/odrl.jsonld","@type":"Set","permission":[{{"action":"use","constraint":[{{"leftOperand":"https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber","operator":"eq","rightOperand":"{bpn}"}}]}}]}}}}"#
    )
}

/// Definition `scale-cd-<j>`: most name three assets by id, one in [`BY_PROPERTY_EVERY`] selects a production line.
fn definition(index: usize) -> String {
    let selector = if index.is_multiple_of(BY_PROPERTY_EVERY) {
        format!(r#"{{"operandLeft":"line","operator":"=","operandRight":"L{}"}}"#, (index / BY_PROPERTY_EVERY) % 10)
    } else {
        let ids: Vec<String> = (0..3).map(|k| format!("\"a-{:05}\"", (index * 3 + k) % ASSETS)).collect();
        format!(r#"{{"operandLeft":"{EDC}id","operator":"in","operandRight":[{}]}}"#, ids.join(","))
    };
    let policy = index % POLICIES;
    format!(
        r#"{{"@context":{{"@vocab":"{EDC}"}},"@id":"scale-cd-{index}","accessPolicyId":"p-{policy}","contractPolicyId":"p-{policy}","assetsSelector":[{selector}]}}"#
    )
}

/// Catalog requests one after the other: (p50 ms, p99 ms, datasets in the first page).
fn catalog_latency(consumer: &Running, provider_port: u16, limit: usize) -> Result<(f64, f64, usize), String> {
    let mut connection = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let request = format!(
        r#"{{"@context":{{"@vocab":"{EDC}"}},"counterPartyAddress":"http://127.0.0.1:{provider_port}/api/v1/dsp/2025-1","counterPartyId":"did:web:127.0.0.1%3A{provider_port}","protocol":"dataspace-protocol-http:2025-1","querySpec":{{"offset":0,"limit":{limit}}}}}"#
    );
    let mut latencies = Vec::new();
    let mut datasets = 0;
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let (status, catalog) =
            connection.request("POST", "/management/v3/catalog/request", Some(&request)).map_err(|e| e.to_string())?;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
        if status != 200 {
            return Err(format!("catalog: {status} {catalog}"));
        }
        let catalog = json(&catalog);
        datasets = match &catalog["dataset"] {
            serde_json::Value::Array(items) => items.len(),
            serde_json::Value::Null => 0,
            _ => 1,
        };
    }
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Ok((percentile(0.5), percentile(0.99), datasets))
}

pub(super) fn catalog_bench(binary: &Path) -> Result<(), String> {
    let provider_port = free_port()?;
    let consumer_port = free_port()?;
    let (consumer, provider, _) = negotiation_pair_on(
        binary,
        None,
        "http://127.0.0.1:9/unused",
        &Identity::TrustList,
        (consumer_port, provider_port),
        &[],
    )?;
    let mut admin = Connection::open(provider.management).map_err(|e| e.to_string())?;
    let started = Instant::now();
    for index in 0..ASSETS {
        let body = format!(
            r#"{{"@context":{{"@vocab":"{EDC}"}},"@id":"a-{index:05}","properties":{{"line":"L{}","name":"part {index}"}},"dataAddress":{{"type":"HttpData","baseUrl":"http://127.0.0.1:9/{index}"}}}}"#,
            index % 10
        );
        post(&mut admin, "/management/v3/assets", &body)?;
    }
    for index in 0..POLICIES {
        post(&mut admin, "/management/v3/policydefinitions", &policy(index, true))?;
    }
    for index in 0..POLICIES {
        post(&mut admin, "/management/v3/contractdefinitions", &definition(index))?;
    }
    println!(
        "catalog     provisioned {ASSETS} assets, {POLICIES} policies, {POLICIES} contract definitions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let at_1000 = catalog_latency(&consumer, provider_port, 50)?;
    for index in POLICIES..DEFINITIONS {
        post(&mut admin, "/management/v3/contractdefinitions", &definition(index))?;
    }
    let all = catalog_latency(&consumer, provider_port, 50)?;
    let large_page = catalog_latency(&consumer, provider_port, 1_000)?;
    // The consumer now passes one access policy in a hundred.
    for index in (0..POLICIES).filter(|i| !i.is_multiple_of(100)) {
        put(&mut admin, &format!("/management/v3/policydefinitions/p-{index}"), &policy(index, false))?;
    }
    let few = catalog_latency(&consumer, provider_port, 50)?;
    println!(
        "catalog     {DEFINITIONS} definitions, sees all: p50 {:.1} ms, p99 {:.1} ms (page of {}); page of {}: p50 {:.1} ms (goal p50 < 50 ms)",
        all.0, all.1, all.2, large_page.2, large_page.0
    );
    println!(
        "catalog     {DEFINITIONS} definitions, sees few: p50 {:.1} ms, p99 {:.1} ms ({} datasets)",
        few.0, few.1, few.2
    );
    println!(
        "catalog     1,000 → 3,000 definitions: p50 {:.1} → {:.1} ms = {:.2}x for 3x the definitions (linear: ≤ 3x)",
        at_1000.0,
        all.0,
        all.0 / at_1000.0
    );
    drop(provider);
    Ok(())
}
