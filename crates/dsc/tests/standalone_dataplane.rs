// SPDX-License-Identifier: Apache-2.0
//! The same pull transfer as `transfer.rs`, with three real processes: a consumer, a provider control plane
//! without an embedded data plane, and a standalone `dsc dataplane` it signals. Data flows through the standalone
//! data plane's public API; terminate cuts it off.

mod support;

use std::time::{Duration, Instant};

use axum::extract::Path;
use serde_json::{Value, json};
use support::process::{Node, contract_request, free_port, post};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
const KEY: &str = "shared-signaling-key";

async fn backend() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let app = axum::Router::new().route(
        "/parts/{*rest}",
        axum::routing::get(|Path(rest): Path<String>| async move { axum::Json(json!({ "path": rest })) }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/parts")
}

async fn get(url: String) -> support::Reply {
    support::send(reqwest::Method::GET, &url, Some(support::API_KEY), None).await
}

async fn wait_state(node: &Node, path: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = get(node.management_url(path)).await;
        if reply.body["state"] == wanted {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "{path} never became {wanted}: {}\n{}", reply.body, node.log_tail());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn fetch(url: &str, token: &str) -> u16 {
    support::client().get(url).header("Authorization", token).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test]
async fn a_pull_transfer_through_a_standalone_data_plane() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ports = || (free_port(), free_port(), free_port(), free_port());
    let (consumer_ports, provider_ports) = (ports(), ports());
    let (dp_control, dp_public) = (free_port(), free_port());
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer =
        Node::with_ports(dir.path(), "consumer", &[(provider_did, "BPNL000000000001".into())], "", consumer_ports);
    let provider_extra = format!(
        "\"dsc.dataplane.embedded\" = \"false\"\n\"dsc.dataplane.remote.url\" = \"http://127.0.0.1:{dp_control}/control\"\n\
         \"dsc.signaling.auth.key\" = \"{KEY}\"\n"
    );
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did, "BPNL000000000002".into())],
        &provider_extra,
        provider_ports,
    );
    let mut data_plane = Node::data_plane(dir.path(), "dataplane", &provider, dp_control, dp_public, KEY);
    consumer.start().await;
    provider.start().await;
    data_plane.start().await;

    let base_url = backend().await;
    let asset = json!({ "@context": { "@vocab": EDC }, "@id": "asset-1", "properties": {},
        "dataAddress": { "type": "HttpData", "baseUrl": base_url, "proxyPath": "true" } });
    assert_eq!(post(provider.management_url("/v3/assets"), &asset).await.status, 200);
    let open = json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set", "permission": [{ "action": "use" }] } });
    assert_eq!(post(provider.management_url("/v3/policydefinitions"), &open).await.status, 200);
    let definition = json!({ "@context": { "@vocab": EDC }, "@id": "cd-1", "accessPolicyId": "open", "contractPolicyId": "open",
        "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": "asset-1" }] });
    assert_eq!(post(provider.management_url("/v3/contractdefinitions"), &definition).await.status, 200);

    let request = contract_request(&consumer, &provider).await;
    let negotiation = post(consumer.management_url("/v3/contractnegotiations"), &request).await;
    let negotiation_id = negotiation.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_state(&consumer, &format!("/v3/contractnegotiations/{negotiation_id}"), "FINALIZED").await;
    let transfer_request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol_address(),
        "contractId": finalized["contractAgreementId"], "transferType": "HttpData-PULL" });
    let created = post(consumer.management_url("/v3/transferprocesses"), &transfer_request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let transfer = created.body["@id"].as_str().unwrap_or_default().to_string();
    wait_state(&consumer, &format!("/v3/transferprocesses/{transfer}"), "STARTED").await;

    let edr = get(consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress"))).await;
    assert_eq!(edr.status, 200, "{}", edr.body);
    let endpoint = edr.body["endpoint"].as_str().unwrap_or_default().to_string();
    assert_eq!(endpoint, format!("http://127.0.0.1:{dp_public}/public"), "the EDR points at the standalone data plane");
    let token = edr.body["authorization"].as_str().unwrap_or_default().to_string();
    assert_eq!(fetch(&format!("{endpoint}/lot/9"), &token).await, 200, "{}", data_plane.log_tail());

    let terminate = json!({ "@context": { "@vocab": EDC }, "reason": "done" });
    let reply = post(consumer.management_url(&format!("/v3/transferprocesses/{transfer}/terminate")), &terminate).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let deadline = Instant::now() + Duration::from_secs(15);
    while fetch(&format!("{endpoint}/lot/9"), &token).await != 403 {
        assert!(Instant::now() < deadline, "access was not cut off\n{}", provider.log_tail());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
