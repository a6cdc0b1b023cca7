// SPDX-License-Identifier: Apache-2.0
//! DCP against the Eclipse stack, no mock identity anywhere: Eclipse EDC 0.14.0 with its DCP modules and Tractus-X's
//! tx-dcp, whose DID, keys and credentials live in an Eclipse Identity Hub 0.15.1 (credential service and STS). Both
//! directions: catalog, negotiation to FINALIZED, HttpData-PULL transfer to STARTED with data read; a membership
//! revoked at the issuer refuses the next request on both sides; and a `dsc` connector whose wallet is the Identity
//! Hub negotiates with another `dsc`.
//!
//! The Identity Hub 0.15.1 speaks only the `org.eclipse.edc.vc.type` scope form, and the EDC peer asks for the
//! membership credential by default (tx-dcp default scopes), so the `dsc` side here uses that form and that default.
//! Needs `scripts/harness.sh up identityhub edc-dcp` (skipped otherwise, unless TEST_REQUIRE_EDC_DCP is set).

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::dcp::{TestIssuer, dcp_participant, dcp_participant_on};
use support::edc::{EDC, EdcPeer, backend, fetch, offer_openly};
use support::ih::IdentityHub;
use support::peers::{Participant, as_list, free_port};

/// What a `dsc` connector needs to meet EDC and the Identity Hub: their scope form, the membership as default.
const EDC_COMPATIBLE: &[(&str, &str)] = &[
    ("dsc.iam.dcp.scope.alias", "org.eclipse.edc.vc.type"),
    ("dsc.iam.dcp.default.credentials", "MembershipCredential"),
    ("edc.iam.credential.revocation.cache.validity", "300"),
];

async fn wait_ours(participant: &Participant, path: &str, wanted: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = participant.connector.get(path).await;
        if wanted.iter().any(|w| reply.body["state"] == *w) {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "{path} never became {wanted:?}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn open_offer(provider: &str, offer: &Value, target: &str, address: &str) -> Value {
    json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }], "@type": "ContractRequest",
        "counterPartyAddress": address, "counterPartyId": provider, "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": offer["@id"], "@type": "Offer", "assigner": provider, "target": target,
                    "permission": [{ "action": "use" }] } })
}

#[tokio::test]
async fn our_consumer_and_an_edc_provider_with_an_identity_hub() {
    let Some(hub) = IdentityHub::start().await else { return };
    let issuer = TestIssuer::start().await;
    let wallet = hub.create_participant("edc-provider").await;
    let (_, jwt) = issuer.issue(&wallet.did, "MembershipCredential", "BPNL000000000001").await;
    hub.store_credential(&wallet, &jwt).await;
    let Some(edc) = EdcPeer::start_dcp(&wallet, &issuer.did).await else { return };
    edc.offer("edc-parts", &backend().await).await;
    let consumer = dcp_participant(&issuer.did, EDC_COMPATIBLE).await;
    let membership = issuer.give(&consumer, "MembershipCredential", "BPNL000000000002").await;

    let catalog_request = json!({ "@context": { "@vocab": EDC }, "@type": "CatalogRequest", "counterPartyAddress": edc.protocol_address(),
        "counterPartyId": edc.participant_id, "protocol": "dataspace-protocol-http:2025-1" });
    let catalog = consumer.connector.post("/v3/catalog/request", &catalog_request).await;
    assert_eq!(catalog.status, 200, "{}\n{}", catalog.body, edc.log_tail());
    assert_eq!(catalog.body["participantId"], wallet.did.as_str());
    let dataset = as_list(&catalog.body["dataset"]).into_iter().next().unwrap_or_else(|| panic!("{}", catalog.body));
    let offer = as_list(&dataset["hasPolicy"]).into_iter().next().unwrap();
    let request = open_offer(&edc.participant_id, &offer, "edc-parts", &edc.protocol_address());
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap().to_string();
    let finalized = wait_ours(&consumer, &format!("/v3/contractnegotiations/{id}"), &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}\n{}", edc.log_tail());

    let transfer_request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": edc.protocol_address(),
        "contractId": finalized["contractAgreementId"], "transferType": "HttpData-PULL" });
    let created = consumer.connector.post("/v3/transferprocesses", &transfer_request).await;
    let transfer = created.body["@id"].as_str().unwrap().to_string();
    wait_ours(&consumer, &format!("/v3/transferprocesses/{transfer}"), &["STARTED"]).await;
    let edr = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress")).await;
    let endpoint = edr.body["endpoint"].as_str().unwrap_or_else(|| panic!("no endpoint: {}", edr.body)).to_string();
    let (status, body) = fetch(&endpoint, edr.body["authorization"].as_str().unwrap_or_default()).await;
    assert_eq!((status, body["serial"].as_str()), (200, Some("SN-1")), "data through EDC's data plane: {body}");

    // Our membership revoked at the issuer: EDC refuses the next negotiation, and says why in its log.
    issuer.issuer.set_revoked(&membership, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap().to_string();
    let refused = wait_ours(&consumer, &format!("/v3/contractnegotiations/{id}"), &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(refused["state"], "TERMINATED", "{refused}");
    assert!(refused["errorDetail"].as_str().unwrap_or_default().contains("401"), "{refused}");
    assert!(edc.log_tail().contains("Credential status is 'revocation'"), "{}", edc.log_tail());
}

#[tokio::test]
async fn an_edc_consumer_with_an_identity_hub_and_our_provider() {
    let Some(hub) = IdentityHub::start().await else { return };
    let issuer = TestIssuer::start().await;
    let wallet = hub.create_participant("edc-consumer").await;
    let (membership, jwt) = issuer.issue(&wallet.did, "MembershipCredential", "BPNL000000000002").await;
    hub.store_credential(&wallet, &jwt).await;
    let Some(edc) = EdcPeer::start_dcp(&wallet, &issuer.did).await else { return };
    let provider = dcp_participant(&issuer.did, EDC_COMPATIBLE).await;
    issuer.give(&provider, "MembershipCredential", "BPNL000000000001").await;
    offer_openly(
        &provider.connector,
        "parts",
        json!({ "type": "HttpData", "baseUrl": backend().await, "proxyPath": "true" }),
    )
    .await;
    // Two more offers behind BPN policies: the consumer's BPN comes from the membership credential its wallet presents.
    for (asset, bpn) in [("for-the-consumer", "BPNL000000000002"), ("for-someone-else", "BPNL000000000009")] {
        let body = json!({ "@context": { "@vocab": EDC }, "@id": asset, "properties": { "name": asset },
            "dataAddress": { "type": "HttpData", "baseUrl": "http://127.0.0.1:9/unused" } });
        assert_eq!(provider.connector.post("/v3/assets", &body).await.status, 200);
        let policy = json!({ "@context": { "@vocab": EDC }, "@id": format!("bpn-{asset}"), "policy": {
            "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use", "constraint": [{
                "leftOperand": "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber", "operator": "eq", "rightOperand": bpn }] }] } });
        assert_eq!(provider.connector.post("/v3/policydefinitions", &policy).await.status, 200);
        let definition = json!({ "@context": { "@vocab": EDC }, "@id": format!("cd-{asset}"), "accessPolicyId": format!("bpn-{asset}"),
            "contractPolicyId": "open", "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": asset }] });
        assert_eq!(provider.connector.post("/v3/contractdefinitions", &definition).await.status, 200);
    }

    let catalog = edc
        .post(
            "/v3/catalog/request",
            &json!({ "@context": { "@vocab": EDC }, "@type": "CatalogRequest", "counterPartyAddress": provider.protocol,
                     "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1" }),
        )
        .await;
    assert_eq!(catalog.status, 200, "{}\n{}", catalog.body, edc.log_tail());
    let datasets = as_list(&catalog.body["dataset"]);
    let mut offered: Vec<&str> = datasets.iter().filter_map(|d| d["@id"].as_str()).collect();
    offered.sort_unstable();
    assert_eq!(offered, ["for-the-consumer", "parts"], "decided on the BPN of EDC's membership credential");
    let dataset = datasets.iter().find(|d| d["@id"] == "parts").unwrap();
    let offer = as_list(&dataset["hasPolicy"]).into_iter().next().unwrap();
    let request = open_offer(&provider.did, &offer, "parts", &provider.protocol);
    let negotiation = edc.post("/v3/contractnegotiations", &request).await;
    let id = negotiation.body["@id"].as_str().unwrap().to_string();
    let finalized = edc.wait_state(&format!("/v3/contractnegotiations/{id}"), "FINALIZED").await;

    let transfer_request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "counterPartyAddress": provider.protocol, "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1",
        "contractId": finalized["contractAgreementId"], "transferType": "HttpData-PULL", "dataDestination": { "type": "HttpProxy" } });
    let created = edc.post("/v3/transferprocesses", &transfer_request).await;
    let transfer = created.body["@id"].as_str().unwrap().to_string();
    edc.wait_state(&format!("/v3/transferprocesses/{transfer}"), "STARTED").await;
    let edr = edc.get(&format!("/v3/edrs/{transfer}/dataaddress")).await;
    let endpoint =
        edr.body["endpoint"].as_str().unwrap_or_else(|| panic!("EDC found no endpoint: {}", edr.body)).to_string();
    let (status, body) =
        fetch(&format!("{endpoint}/lot/3"), edr.body["authorization"].as_str().unwrap_or_default()).await;
    assert_eq!((status, body["path"].as_str()), (200, Some("lot/3")), "{body}");

    // The EDC consumer's membership revoked: our provider refuses its next request with the reason.
    issuer.issuer.set_revoked(&membership, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let negotiation = edc.post("/v3/contractnegotiations", &request).await;
    let id = negotiation.body["@id"].as_str().unwrap().to_string();
    let refused = edc.wait_state(&format!("/v3/contractnegotiations/{id}"), "TERMINATED").await;
    let reason = format!("credential {membership} (MembershipCredential): revoked");
    assert!(refused.to_string().contains(&reason) || edc.log_tail().contains(&reason), "{refused}\n{}", edc.log_tail());
}

#[tokio::test]
async fn a_dsc_connector_whose_wallet_is_the_identity_hub_negotiates_with_another_dsc() {
    let Some(hub) = IdentityHub::start().await else { return };
    let issuer = TestIssuer::start().await;
    let wallet = hub.create_participant("dsc-consumer").await;
    let (_, jwt) = issuer.issue(&wallet.did, "MembershipCredential", "BPNL000000000002").await;
    hub.store_credential(&wallet, &jwt).await;
    let provider = dcp_participant(&issuer.did, EDC_COMPATIBLE).await;
    issuer.give(&provider, "MembershipCredential", "BPNL000000000001").await;
    offer_openly(
        &provider.connector,
        "parts",
        json!({ "type": "HttpData", "baseUrl": backend().await, "proxyPath": "true" }),
    )
    .await;

    let token_url = format!("{}/token", wallet.sts);
    let mut settings = EDC_COMPATIBLE.to_vec();
    settings.extend([
        ("edc.participant.id", wallet.did.as_str()),
        ("edc.iam.sts.oauth.token.url", token_url.as_str()),
        ("edc.iam.sts.oauth.client.id", wallet.did.as_str()),
        ("edc.iam.sts.oauth.client.secret.alias", "ih-client-secret"),
    ]);
    let consumer = dcp_participant_on(free_port(), &issuer.did, &settings).await;
    let secret = json!({"@context": {"@vocab": EDC}, "@id": "ih-client-secret", "value": wallet.client_secret});
    assert_eq!(consumer.connector.post("/v3/secrets", &secret).await.status, 200);

    let request = support::peers::contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap().to_string();
    let finalized = wait_ours(&consumer, &format!("/v3/contractnegotiations/{id}"), &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}\n{}", hub.log_tail());
}
