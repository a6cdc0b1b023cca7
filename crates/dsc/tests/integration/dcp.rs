// SPDX-License-Identifier: Apache-2.0
//! Two connectors and an issuer, no trust list: the Decentralized Claims Protocol decides every request on
//! verifiable credentials. Catalog, negotiation and an HTTP pull transfer go through; a consumer without the
//! credentials a policy needs, or whose membership was revoked at the issuer, is refused with the reason, and its
//! running transfer is ended by the policy monitor.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::dcp::{TestIssuer, dcp_participant};
use support::peers::*;

/// Status lists are re-read after 300 ms, so revocation shows quickly; the policy monitor looks every 200 ms.
const FAST: &[(&str, &str)] = &[
    ("edc.iam.credential.revocation.cache.validity", "300"),
    ("edc.policy.monitor.state-machine.iteration-wait-millis", "200"),
];

async fn wait_for(participant: &Participant, path: &str, wanted: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = participant.connector.get(path).await;
        if wanted.contains(&reply.body["state"].as_str().unwrap_or_default()) {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "{path} never became {wanted:?}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn negotiate(consumer: &Participant, request: &Value) -> Value {
    let created = consumer.connector.post("/v3/contractnegotiations", request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap().to_string();
    wait_for(consumer, &format!("/v3/contractnegotiations/{id}"), &["FINALIZED", "TERMINATED"]).await
}

#[tokio::test]
async fn credentials_decide_catalog_negotiation_and_transfer_and_revocation_ends_them() {
    let issuer = TestIssuer::start().await;
    let provider = dcp_participant(&issuer.did, FAST).await;
    let consumer = dcp_participant(&issuer.did, FAST).await;
    issuer.onboard(&provider, "BPNL000000000001").await;
    let consumer_credentials = issuer.onboard(&consumer, "BPNL000000000002").await;
    provision_provider(&provider.connector, "BPNL000000000002").await;

    // The DID document names the credential service and the DSP endpoint; the version document names DCP.
    let document = support::client()
        .get(format!("http://{}/.well-known/did.json", &provider.did["did:web:".len()..].replace("%3A", ":")))
        .send()
        .await
        .unwrap();
    let document: Value = document.json().await.unwrap();
    let services: Vec<&str> =
        document["service"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(services, ["CredentialService", "DataService"]);
    let versions: Value = support::client()
        .get(document["service"][1]["serviceEndpoint"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["protocolVersions"][0]["auth"]["protocol"], "DCP");

    // The consumer's BPN, from its BpnCredential, opens the catalog; the framework credential the contract.
    let contract_request = contract_request_for_first_offer(&consumer, &provider).await;
    let finalized = negotiate(&consumer, &contract_request).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}");
    let agreement = finalized["contractAgreementId"].as_str().unwrap().to_string();
    let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol,
        "contractId": agreement, "transferType": "HttpData-PULL", "dataDestination": { "type": "HttpProxy" } });
    let created = consumer.connector.post("/v3/transferprocesses", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let transfer = created.body["@id"].as_str().unwrap().to_string();
    wait_for(&consumer, &format!("/v3/transferprocesses/{transfer}"), &["STARTED"]).await;

    // The issuer revokes the consumer's membership: the next negotiation is refused with that reason, and the
    // provider's policy monitor ends the running transfer.
    issuer.issuer.set_revoked(&consumer_credentials[0], true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let revoked = format!("credential {} (MembershipCredential): revoked", consumer_credentials[0]);
    let catalog = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(catalog.status, 502, "{}", catalog.body);
    assert!(catalog.body.to_string().contains(&revoked), "{}", catalog.body);
    let refused = negotiate(&consumer, &contract_request).await;
    let detail = refused["errorDetail"].as_str().unwrap_or_default();
    assert_eq!(refused["state"], "TERMINATED", "{refused}");
    assert!(detail.contains(&revoked), "{detail}");
    let ended = wait_for(&consumer, &format!("/v3/transferprocesses/{transfer}"), &["TERMINATED"]).await;
    assert!(
        ended["errorDetail"].as_str().unwrap_or_default().contains("revoked") || ended["state"] == "TERMINATED",
        "{ended}"
    );
    let provider_side = provider
        .connector
        .post("/v3/transferprocesses/request", &json!({"@context": {"@vocab": EDC}, "@type": "QuerySpec"}))
        .await;
    let monitor_reason = as_list(&provider_side.body)
        .iter()
        .find_map(|t| t["errorDetail"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(
        monitor_reason
            .starts_with("the contract no longer holds: the counter-party's credentials no longer hold: credential"),
        "{monitor_reason}: {}",
        provider_side.body
    );
}

#[tokio::test]
async fn a_consumer_without_the_needed_credentials_is_refused_with_the_reason() {
    let issuer = TestIssuer::start().await;
    let provider = dcp_participant(&issuer.did, &[]).await;
    let consumer = dcp_participant(&issuer.did, &[]).await;
    issuer.onboard(&provider, "BPNL000000000001").await;
    provision_provider(&provider.connector, "BPNL000000000002").await;

    // No credentials at all: the default membership credential is missing.
    let reply = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    let text = reply.body.to_string();
    assert!(text.contains(&format!("the credential service of {} presented no BpnCredential, DataExchangeGovernanceCredential, MembershipCredential", consumer.did)), "{text}");

    // Membership and framework agreement, but another participant's BPN: the catalog is empty for it.
    issuer.give(&consumer, "MembershipCredential", "BPNL000000000003").await;
    issuer.give(&consumer, "BpnCredential", "BPNL000000000003").await;
    issuer.give(&consumer, "DataExchangeGovernanceCredential", "BPNL000000000003").await;
    let reply = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(as_list(&reply.body["dataset"]).is_empty(), "{}", reply.body);

    // A credential from an issuer the provider does not trust.
    let stranger = TestIssuer::start().await;
    let other = dcp_participant(&issuer.did, &[]).await;
    stranger.onboard(&other, "BPNL000000000002").await;
    let reply = other.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert!(
        reply.body.to_string().contains(&format!("issuer {} is not trusted for this credential type", stranger.did)),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn the_credential_service_answers_only_granted_verifiers_and_never_shows_a_credential() {
    let issuer = TestIssuer::start().await;
    let holder = dcp_participant(&issuer.did, &[]).await;
    issuer.onboard(&holder, "BPNL000000000002").await;
    let listed = holder.connector.get("/v3/credentials").await;
    assert_eq!(listed.status, 200);
    let entries = as_list(&listed.body);
    assert_eq!(entries.len(), 3);
    assert!(!listed.body.to_string().contains("eyJ"), "a credential is never returned in full: {}", listed.body);
    assert_eq!(entries[0]["types"], json!(["MembershipCredential"]));

    let wrong = holder.connector.post("/v3/credentials", &json!({"credential": "not-a-jwt"})).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        support::only_error(&wrong)["message"],
        "credential the credential: malformed: not a compact JWS (three non-empty dot-separated parts)"
    );
    let foreign = dcp_participant(&issuer.did, &[]).await;
    let request: dsc_dcp_issuer::IssueRequest = serde_json::from_value(
        json!({"holder": foreign.did, "type": "MembershipCredential", "bpn": "BPNL000000000004"}),
    )
    .unwrap();
    let (_, jwt) = issuer.issuer.issue(&request).await.unwrap();
    let refused = holder.connector.post("/v3/credentials", &json!({"credential": jwt})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        support::only_error(&refused)["message"],
        format!("the credential's subject is {}, not this participant ({})", foreign.did, holder.did)
    );

    // The presentation API without a token, and with one that carries no access token.
    let query = json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationQueryMessage",
        "scope": ["org.eclipse.tractusx.vc.type:MembershipCredential:read"]});
    let endpoint = format!("{}/dcp/v1/presentations/query", holder.protocol.split("/api/").next().unwrap());
    let anonymous = support::client().post(&endpoint).json(&query).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["message"], "no Authorization token");

    let removed = holder.connector.delete(&format!("/v3/credentials/{}", entries[0]["id"].as_str().unwrap())).await;
    assert_eq!(removed.status, 204);
    let gone = holder.connector.delete("/v3/credentials/urn:uuid:nope").await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn an_unreachable_or_silent_credential_service_refuses_within_the_bound() {
    let issuer = TestIssuer::start().await;
    let provider = dcp_participant(&issuer.did, &[("dsc.iam.dcp.query.timeout.ms", "300")]).await;
    issuer.onboard(&provider, "BPNL000000000001").await;
    provision_provider(&provider.connector, "BPNL000000000002").await;

    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/cs", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let closed_url = format!("http://127.0.0.1:{}/cs", free_port());
    // Answers far more than any presentation could be.
    let huge = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let huge_url = format!("http://{}/cs", huge.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/cs/presentations/query", axum::routing::post(|| async { vec![b'x'; 9 * 1024 * 1024] }));
    tokio::spawn(async move { axum::serve(huge, app).await });
    for (url, why) in [
        (silent_url.as_str(), " did not answer within 300 ms"),
        (closed_url.as_str(), " cannot be reached"),
        (huge_url.as_str(), ": the answer is larger than 8388608 bytes"),
    ] {
        let consumer = dcp_participant(&issuer.did, &[("dsc.iam.dcp.credential.service.url", url)]).await;
        let started = Instant::now();
        let reply = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
        assert!(started.elapsed() < Duration::from_secs(3), "bounded: {:?}", started.elapsed());
        assert_eq!(reply.status, 502, "{}", reply.body);
        let expected = format!("the credential service of {} at {url}/presentations/query{why}", consumer.did);
        assert!(reply.body.to_string().contains(&expected), "{expected}: {}", reply.body);
    }
}
