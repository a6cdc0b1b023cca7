// SPDX-License-Identifier: Apache-2.0
//! A secret scan: two `dsc` processes on DCP run catalog, negotiation, an HTTP pull transfer with data and a token
//! refresh while logging at trace level; then every secret and credential that passed through (verifiable
//! credentials, the EDR's access and refresh tokens, the Management API key, the vault keys) is searched for in both
//! logs and both databases. Any hit fails, naming the secret and where it was found; no JWT of any kind may appear in
//! a log. Credentials are allowed in the holder's own credential table only: that is where they are kept.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::dcp::TestIssuer;
use support::process::{Node, post, provision_with};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

async fn get(url: String) -> support::Reply {
    support::send(reqwest::Method::GET, &url, Some(support::API_KEY), None).await
}

async fn state(node: &Node, path: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = get(node.management_url(path)).await;
        if reply.body["state"] == wanted {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "{path} never became {wanted}: {}\n{}", reply.body, node.log_tail());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn no_secret_or_credential_reaches_a_log_or_a_database() {
    let issuer = TestIssuer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Two-second access tokens, so that reading the EDR after a pause refreshes it.
    let mut provider = Node::on_dcp(dir.path(), "provider", &issuer.did, "\"tx.edc.dataplane.token.expiry\" = 2\n");
    let mut consumer = Node::on_dcp(dir.path(), "consumer", &issuer.did, "");
    provider.start_logging("trace").await;
    consumer.start_logging("trace").await;

    let mut credentials = Vec::new();
    for (node, bpn) in [(&provider, "BPNL000000000001"), (&consumer, "BPNL000000000002")] {
        for kind in ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"] {
            let (_, jwt) = issuer.issue(&node.did, kind, bpn).await;
            let stored = post(node.management_url("/v3/credentials"), &json!({ "credential": jwt })).await;
            assert_eq!(stored.status, 201, "{}", stored.body);
            credentials.push(jwt);
        }
    }
    provision_with(
        &provider,
        "BPNL000000000002",
        json!({ "type": "HttpData", "baseUrl": support::edc::backend().await }),
    )
    .await;

    let catalog = post(
        consumer.management_url("/v3/catalog/request"),
        &json!({ "@context": { "@vocab": EDC }, "@type": "CatalogRequest", "counterPartyAddress": provider.protocol_address(),
                 "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1" }),
    )
    .await;
    assert_eq!(catalog.status, 200, "{}\n{}", catalog.body, provider.log_tail());
    let dataset = support::peers::as_list(&catalog.body["dataset"]).into_iter().next().unwrap();
    let mut offer = support::peers::as_list(&dataset["hasPolicy"]).into_iter().next().unwrap();
    offer["assigner"] = json!(provider.did);
    offer["target"] = json!("asset-1");
    let request = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }], "@type": "ContractRequest",
        "counterPartyAddress": provider.protocol_address(), "counterPartyId": provider.did,
        "protocol": "dataspace-protocol-http:2025-1", "policy": offer });
    let created = post(consumer.management_url("/v3/contractnegotiations"), &request).await;
    let negotiation = created.body["@id"].as_str().unwrap().to_string();
    let finalized = state(&consumer, &format!("/v3/contractnegotiations/{negotiation}"), "FINALIZED").await;
    let transfer = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol_address(),
        "contractId": finalized["contractAgreementId"], "transferType": "HttpData-PULL" });
    let created = post(consumer.management_url("/v3/transferprocesses"), &transfer).await;
    let transfer = created.body["@id"].as_str().unwrap().to_string();
    state(&consumer, &format!("/v3/transferprocesses/{transfer}"), "STARTED").await;

    // The EDR, its data, and again after the access token expired (a refresh with the consumer's DCP token).
    let mut secrets: Vec<(String, String)> = Vec::new();
    for round in 0..2 {
        if round == 1 {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        let edr = get(consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress?auto_refresh=true"))).await;
        assert_eq!(edr.status, 200, "{}", edr.body);
        let token = edr.body["authorization"].as_str().unwrap().to_string();
        let data = support::client()
            .get(edr.body["endpoint"].as_str().unwrap())
            .header("Authorization", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(data.status(), 200, "round {round}");
        for (key, value) in edr.body.as_object().unwrap() {
            if key == "authorization" || key.ends_with("refreshToken") {
                secrets.push((format!("the EDR's {key} (round {round})"), value.as_str().unwrap().to_string()));
            }
        }
    }
    assert!(secrets.len() >= 4, "access and refresh tokens, twice: {secrets:?}");
    secrets.push(("the Management API key".into(), support::API_KEY.into()));
    for node in [&provider, &consumer] {
        let data = node.config.parent().unwrap();
        let key = std::fs::read_to_string(data.join("vault.key")).unwrap();
        secrets.push((format!("the vault key of {}", data.display()), key.trim().to_string()));
    }
    provider.crash();
    consumer.crash();

    let credentials: Vec<(String, String)> =
        credentials.into_iter().enumerate().map(|(index, jwt)| (format!("credential {index}"), jwt)).collect();
    let dirs = [provider.config.parent().unwrap(), consumer.config.parent().unwrap()];
    let (hits, _) = support::secrets::scan(&dirs, &secrets, &credentials);
    // The scan finds what is there: the consumer's DID is logged, as it should be.
    let (canary, _) = support::secrets::scan(&dirs, &[("the consumer's DID".into(), consumer.did.clone())], &[]);
    assert!(!canary.is_empty(), "the scan found not even the DID");
    let log_size: u64 =
        [&provider, &consumer].iter().map(|n| std::fs::metadata(&n.log).map(|m| m.len()).unwrap_or(0)).sum();
    println!(
        "secret scan: {} secrets and {} credentials looked for in {log_size} bytes of trace logs and both databases",
        secrets.len(),
        credentials.len()
    );
    assert!(hits.is_empty(), "secrets found:\n{}", hits.join("\n"));
}
