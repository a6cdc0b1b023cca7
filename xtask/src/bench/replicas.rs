// SPDX-License-Identifier: Apache-2.0
//! Provider replicas: 1, 2 and 3 `dsc` processes of one provider on one PostgreSQL database (with the database
//! vault), a consumer asking them round-robin. Prints negotiations/s (600 concurrent) and transfer request → EDR p50
//! for each count, the scaling factor against one replica measured in the same run, and each replica's RSS. On one
//! 2-core machine the replicas share the cores with the consumer and PostgreSQL, so the factor shows the overhead of
//! sharing work through the database more than the gain a cluster of machines would see.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

const CONCURRENT: usize = 600;
const TRANSFERS: usize = 30;
/// A fixed vault key: the benchmark's databases are dropped afterwards.
const BENCH_VAULT_KEY: &str = "YmVuY2htYXJrLXZhdWx0LWtleS0zMi1ieXRlcy0hISE=";

pub(super) fn replicas_bench(binary: &Path, admin_url: &str) -> Result<(), String> {
    let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin_url.to_string());
    let mut single = None;
    for count in 1..=3 {
        let names = [
            format!("dsc_bench_replicas_c_{}_{count}", std::process::id()),
            format!("dsc_bench_replicas_p_{}_{count}", std::process::id()),
        ];
        for name in &names {
            psql(admin_url, &format!("CREATE DATABASE {name}"))?;
        }
        let result = measure(binary, (&format!("{base}/{}", names[0]), &format!("{base}/{}", names[1])), count);
        for name in &names {
            let _ = psql(admin_url, &format!("DROP DATABASE {name} WITH (FORCE)"));
        }
        let (rate, edr_p50, rss) = result?;
        let (one_rate, one_p50) = *single.get_or_insert((rate, edr_p50));
        let rss: Vec<String> = rss.iter().map(|kib| format!("{:.0}", *kib as f64 / 1024.0)).collect();
        println!(
            "replicas {count}  {rate:.0} negotiations/s ({CONCURRENT} concurrent; {:.2}x one replica) | transfer -> EDR p50 {edr_p50:.1} ms ({:.2}x) | RSS per replica {} MiB",
            rate / one_rate,
            edr_p50 / one_p50,
            rss.join(" / ")
        );
    }
    Ok(())
}

fn psql(admin_url: &str, statement: &str) -> Result<(), String> {
    let status = std::process::Command::new("psql").args([admin_url, "-q", "-c", statement]).status();
    if status.is_ok_and(|s| s.success()) { Ok(()) } else { Err(format!("psql: {statement} failed")) }
}

/// (negotiations/s, transfer → EDR p50 ms, RSS KiB per replica after the load).
fn measure(
    binary: &Path,
    (consumer_db, provider_db): (&str, &str),
    count: usize,
) -> Result<(f64, f64, Vec<u64>), String> {
    let (consumer_port, first_port) = (free_port()?, free_port()?);
    let shared = [("DSC_VAULT_TYPE", "database".to_string()), ("DSC_VAULT_KEY", BENCH_VAULT_KEY.to_string())];
    let (consumer, first, request) = negotiation_pair_on(
        binary,
        Some((consumer_db, provider_db)),
        "http://127.0.0.1:9/unused",
        &Identity::TrustList,
        (consumer_port, first_port),
        &shared,
    )?;
    let did = |port: u16| format!("did:web:127.0.0.1%3A{port}");
    let address = |port: u16| format!("http://127.0.0.1:{port}/api/v1/dsp/2025-1");
    let mut replicas = vec![first];
    let mut addresses = vec![address(first_port)];
    for _ in 1..count {
        let port = free_port()?;
        let mut settings = vec![
            ("EDC_PARTICIPANT_ID", did(first_port)),
            ("EDC_HOSTNAME", "127.0.0.1".to_string()),
            ("EDC_IAM_DID_WEB_USE_HTTPS", "false".to_string()),
            (
                "DSC_IAM_TRUST_FILE",
                format!(
                    "{{data}}/trust.toml\n[[participant]]\ndid = \"{}\"\nbpn = \"BPNL000000000002\"\n",
                    did(consumer_port)
                ),
            ),
        ];
        settings.extend(shared.iter().cloned());
        replicas.push(start_with(binary, Some(provider_db), port, &settings)?.0);
        addresses.push(address(port));
    }
    let requests: Vec<String> = addresses.iter().map(|a| request.replace(&address(first_port), a)).collect();

    let started = Instant::now();
    throughput(consumer.management, CONCURRENT, |i| {
        ("POST".into(), "/management/v3/contractnegotiations".into(), Some(requests[i % requests.len()].clone()))
    })?;
    let mut connection = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let finalized = |connection: &mut Connection, offset: usize| -> Result<Option<serde_json::Value>, String> {
        let query = format!(
            r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"offset":{offset},"limit":1,"filterExpression":[{{"operandLeft":"state","operator":"=","operandRight":"FINALIZED"}}]}}"#
        );
        let (_, found) = connection
            .request("POST", "/management/v3/contractnegotiations/request", Some(&query))
            .map_err(|e| e.to_string())?;
        Ok(json(&found).as_array().and_then(|found| found.first().cloned()))
    };
    while finalized(&mut connection, CONCURRENT - 1)?.is_none() {
        if started.elapsed() > Duration::from_secs(180) {
            return Err(format!("{count} replicas: fewer than {CONCURRENT} negotiations finalized in 180 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rate = CONCURRENT as f64 / started.elapsed().as_secs_f64();

    let agreement = finalized(&mut connection, 0)?.and_then(|n| n["contractAgreementId"].as_str().map(str::to_string));
    let agreement = agreement.ok_or("no agreement")?;
    let mut latencies = Vec::new();
    for index in 0..TRANSFERS {
        let transfer = serde_json::json!({
            "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "TransferRequest",
            "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": addresses[index % addresses.len()],
            "contractId": agreement, "transferType": "HttpData-PULL",
        })
        .to_string();
        let started = Instant::now();
        let (status, created) = connection
            .request("POST", "/management/v3/transferprocesses", Some(&transfer))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("transfer: {status} {created}"));
        }
        let id = json(&created)["@id"].as_str().unwrap_or_default().to_string();
        loop {
            let (status, _) = connection
                .request("GET", &format!("/management/v3/edrs/{id}/dataaddress"), None)
                .map_err(|e| e.to_string())?;
            if status == 200 {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("{count} replicas: no EDR for transfer {id} within 30 s"));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let p50 = latencies[latencies.len() / 2].as_secs_f64() * 1e3;
    let rss = replicas.iter().filter_map(|r| rss_kib(r.child.id())).collect();
    drop(consumer);
    Ok((rate, p50, rss))
}
