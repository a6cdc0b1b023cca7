// SPDX-License-Identifier: Apache-2.0
//! Pull transfers between real `dsc` processes and a small HTTP backend, once with the provider's embedded data
//! plane and once with a standalone `dsc dataplane` that registers itself with the provider: negotiate → transfer → EDR → data through the
//! provider's public API; suspend → 403 at once; the consumer may not resume what the provider suspended; resume →
//! a new EDR works and the old token stays refused; terminate → 403; a contract whose end date passes → the policy
//! monitor ends the transfer and access stops.

use crate::support;

use std::time::{Duration, Instant};

use axum::extract::Path;
use serde_json::{Value, json};
use support::process::{Node, free_port, post};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
const KEY: &str = "shared-signaling-key";

async fn backend() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
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

async fn until(url: &str, token: &str, status: u16, node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while fetch(url, token).await != status {
        assert!(Instant::now() < deadline, "{url} never answered {status}\n{}", node.log_tail());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Offers two assets: `parts` under an open contract, `expiring` under one that ends 3 s after signing.
async fn provision(provider: &Node, base_url: &str) {
    let open = json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set", "permission": [{ "action": "use" }] } });
    let expiring = json!({ "@context": { "@vocab": EDC }, "@id": "expiring", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set", "permission": [{ "action": "use", "constraint": [{ "leftOperand": format!("{EDC}inForceDate"),
            "operator": "lteq", "rightOperand": "contractAgreement+3s" }] }] } });
    for policy in [open, expiring] {
        assert_eq!(post(provider.management_url("/v3/policydefinitions"), &policy).await.status, 200);
    }
    for (asset, contract) in [("parts", "open"), ("expiring", "expiring")] {
        let body = json!({ "@context": { "@vocab": EDC }, "@id": asset, "properties": {},
            "dataAddress": { "type": "HttpData", "baseUrl": base_url, "proxyPath": "true" } });
        assert_eq!(post(provider.management_url("/v3/assets"), &body).await.status, 200);
        let definition = json!({ "@context": { "@vocab": EDC }, "@id": format!("cd-{asset}"), "accessPolicyId": "open",
            "contractPolicyId": contract,
            "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": asset }] });
        assert_eq!(post(provider.management_url("/v3/contractdefinitions"), &definition).await.status, 200);
    }
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Negotiates for `asset` and starts an HTTP pull transfer; returns the consumer's transfer id.
async fn transfer_for(consumer: &Node, provider: &Node, asset: &str) -> String {
    let catalog = post(
        consumer.management_url("/v3/catalog/request"),
        &json!({ "@context": { "@vocab": EDC }, "counterPartyAddress": provider.protocol_address(),
                 "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1" }),
    )
    .await;
    let dataset = as_list(&catalog.body["dataset"])
        .into_iter()
        .find(|d| d["@id"] == asset)
        .unwrap_or_else(|| panic!("{asset} not offered: {}", catalog.body));
    assert!(
        as_list(&dataset["distribution"]).iter().any(|d| d["format"] == "HttpData-PULL"),
        "the distribution comes from the data plane: {dataset}"
    );
    let mut offer = as_list(&dataset["hasPolicy"]).into_iter().next().unwrap_or_else(|| panic!("no offer"));
    offer["assigner"] = json!(provider.did);
    offer["target"] = json!(asset);
    let request = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }],
        "counterPartyAddress": provider.protocol_address(), "counterPartyId": provider.did,
        "protocol": "dataspace-protocol-http:2025-1", "policy": offer });
    let negotiation = post(consumer.management_url("/v3/contractnegotiations"), &request).await;
    let id = negotiation.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_state(consumer, &format!("/v3/contractnegotiations/{id}"), "FINALIZED").await;
    let transfer_request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol_address(),
        "contractId": finalized["contractAgreementId"], "transferType": "HttpData-PULL" });
    let created = post(consumer.management_url("/v3/transferprocesses"), &transfer_request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let transfer = created.body["@id"].as_str().unwrap_or_default().to_string();
    wait_state(consumer, &format!("/v3/transferprocesses/{transfer}"), "STARTED").await;
    transfer
}

async fn edr(consumer: &Node, transfer: &str) -> (String, String) {
    let reply = get(consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let text = |name: &str| reply.body[name].as_str().unwrap_or_default().to_string();
    (text("endpoint"), text("authorization"))
}

async fn scenario(standalone: bool) {
    let dir = tempfile::tempdir().unwrap();
    let ports = || (free_port(), free_port(), free_port(), free_port());
    let (consumer_ports, provider_ports) = (ports(), ports());
    let (dp_control, dp_public) = (free_port(), free_port());
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer =
        Node::with_ports(dir.path(), "consumer", &[(provider_did, "BPNL000000000001".into())], "", consumer_ports);
    // The standalone data plane registers itself with the provider's control API at start.
    let provider_extra = if standalone {
        format!("\"dsc.dataplane.embedded\" = \"false\"\n\"dsc.signaling.auth.key\" = \"{KEY}\"\n")
    } else {
        String::new()
    };
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did, "BPNL000000000002".into())],
        &provider_extra,
        provider_ports,
    );
    let mut data_plane =
        Node::data_plane(dir.path(), "dataplane", &provider, dp_control, dp_public, KEY, Some(provider_ports.3));
    consumer.start().await;
    provider.start().await;
    if standalone {
        data_plane.start().await;
    }
    provision(&provider, &backend().await).await;

    let transfer = transfer_for(&consumer, &provider, "parts").await;
    let (endpoint, token) = edr(&consumer, &transfer).await;
    if standalone {
        assert_eq!(endpoint, format!("http://127.0.0.1:{dp_public}/public"), "the EDR names the standalone data plane");
    }
    let data = format!("{endpoint}/lot/9");
    assert_eq!(fetch(&data, &token).await, 200);

    // The provider suspends; access stops at once.
    let query = json!({ "@context": { "@vocab": EDC }, "filterExpression": [] });
    let on_provider = post(provider.management_url("/v3/transferprocesses/request"), &query).await;
    let provider_id = on_provider.body[0]["@id"].as_str().unwrap_or_default().to_string();
    let suspend = json!({ "@context": { "@vocab": EDC }, "reason": "maintenance" });
    let reply = post(provider.management_url(&format!("/v3/transferprocesses/{provider_id}/suspend")), &suspend).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    until(&data, &token, 403, &provider).await;
    wait_state(&consumer, &format!("/v3/transferprocesses/{transfer}"), "SUSPENDED").await;
    let refused = post(consumer.management_url(&format!("/v3/transferprocesses/{transfer}/resume")), &json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    // The provider resumes: a new EDR works, the old token stays refused.
    let resumed =
        post(provider.management_url(&format!("/v3/transferprocesses/{provider_id}/resume")), &json!({})).await;
    assert_eq!(resumed.status, 204, "{}", resumed.body);
    wait_state(&consumer, &format!("/v3/transferprocesses/{transfer}"), "STARTED").await;
    let (_, new_token) = edr(&consumer, &transfer).await;
    assert_eq!(fetch(&data, &new_token).await, 200);
    assert_eq!(fetch(&data, &token).await, 403);

    // The consumer terminates: access stops.
    let terminate = json!({ "@context": { "@vocab": EDC }, "reason": "done" });
    let reply = post(consumer.management_url(&format!("/v3/transferprocesses/{transfer}/terminate")), &terminate).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    until(&data, &new_token, 403, &provider).await;

    // A contract ending 3 s after signing: the policy monitor ends the transfer and access stops.
    let expiring = transfer_for(&consumer, &provider, "expiring").await;
    let (endpoint, token) = edr(&consumer, &expiring).await;
    assert_eq!(fetch(&format!("{endpoint}/x"), &token).await, 200);
    until(&format!("{endpoint}/x"), &token, 403, &provider).await;
    let ended = wait_state(&consumer, &format!("/v3/transferprocesses/{expiring}"), "TERMINATED").await;
    assert!(ended["errorDetail"].as_str().is_some_and(|d| d.contains("the contract no longer holds")), "{ended}");
}

#[tokio::test]
async fn pull_transfers_with_the_embedded_data_plane() {
    scenario(false).await;
}

#[tokio::test]
async fn pull_transfers_with_a_standalone_data_plane() {
    scenario(true).await;
}

/// Two control-plane replicas on one PostgreSQL: a standalone data plane registers with replica A only, yet a
/// transfer that replica B handles uses it (B reads the registrations when it has no data plane for the type), and
/// A, restarted, still knows it.
#[tokio::test]
async fn a_data_plane_registered_with_one_replica_serves_every_replica_and_survives_a_restart() {
    let Some(database) = support::fresh_postgres_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let ports = || (free_port(), free_port(), free_port(), free_port());
    let (consumer_ports, provider_ports) = (ports(), ports());
    let (dp_control, dp_public) = (free_port(), free_port());
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer =
        Node::with_ports(dir.path(), "consumer", &[(provider_did, "BPNL000000000001".into())], "", consumer_ports);
    let shared = format!(
        "\"dsc.dataplane.embedded\" = \"false\"\n\"dsc.signaling.auth.key\" = \"{KEY}\"\n\
         \"edc.datasource.default.url\" = \"{database}\"\n\"dsc.vault.type\" = \"database\"\n\"dsc.vault.key\" = \"{}\"\n",
        dsc_vault::VaultKey::generate().to_base64()
    );
    let mut a = Node::with_ports(
        dir.path(),
        "provider-a",
        &[(consumer_did, "BPNL000000000002".into())],
        &shared,
        provider_ports,
    );
    consumer.start().await;
    a.start().await;
    let mut b = Node::replica_of(dir.path(), "provider-b", &a, &shared);
    b.start().await;
    let mut data_plane =
        Node::data_plane(dir.path(), "dataplane", &a, dp_control, dp_public, KEY, Some(provider_ports.3));
    data_plane.start().await;
    provision(&a, &backend().await).await;

    // Negotiated through A (its catalog shows the data plane's transfer type), transferred through B.
    let through_a = transfer_for(&consumer, &a, "parts").await;
    let agreement =
        get(consumer.management_url(&format!("/v3/transferprocesses/{through_a}"))).await.body["contractId"].clone();
    let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": b.protocol_address(),
        "contractId": agreement, "transferType": "HttpData-PULL" });
    let created = post(consumer.management_url("/v3/transferprocesses"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let through_b = created.body["@id"].as_str().unwrap_or_default().to_string();
    wait_state(&consumer, &format!("/v3/transferprocesses/{through_b}"), "STARTED").await;
    let (endpoint, token) = edr(&consumer, &through_b).await;
    assert_eq!(endpoint, format!("http://127.0.0.1:{dp_public}/public"));
    assert_eq!(fetch(&format!("{endpoint}/lot/1"), &token).await, 200);

    // A restarts and still selects the data plane, without it registering again.
    a.crash();
    a.start().await;
    let again = transfer_for(&consumer, &a, "parts").await;
    let (_, token) = edr(&consumer, &again).await;
    assert_eq!(fetch(&format!("{endpoint}/lot/2"), &token).await, 200);
}
