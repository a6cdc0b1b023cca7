// SPDX-License-Identifier: Apache-2.0
//! DCP with the parts a Catena-X operator keeps elsewhere: credentials in an external wallet reached through its
//! secure token service with OAuth client credentials (here a second `dsc` playing the wallet: its STS API and
//! credential service), and counter-parties named by BPN through a BPN-DID directory (a stand-in speaking the
//! directory format and authentication BDRS documents; no real BDRS server is available here).

use crate::support;

use std::io::Write;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use support::dcp::{TestIssuer, dcp_participant, dcp_participant_on};
use support::peers::*;

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

#[tokio::test]
async fn a_connector_whose_credentials_live_in_an_external_wallet_negotiates_and_transfers() {
    let issuer = TestIssuer::start().await;
    let provider = dcp_participant(&issuer.did, &[]).await;
    issuer.onboard(&provider, "BPNL000000000001").await;
    provision_provider(&provider.connector, "BPNL000000000002").await;

    // The wallet: holds the consumer's DID, key and credentials, and serves its STS to the consumer's connector.
    let wallet_port = free_port();
    let wallet =
        dcp_participant_on(wallet_port, &issuer.did, &[("dsc.iam.sts.client.secret.alias", "sts-client-secret")]).await;
    issuer.onboard(&wallet, "BPNL000000000002").await;
    let secret = json!({"@context": {"@vocab": EDC}, "@id": "sts-client-secret", "value": "wallet-client-secret"});
    assert_eq!(wallet.connector.post("/v3/secrets", &secret).await.status, 200);

    // The consumer's connector: the wallet's DID, no key or credentials of its own.
    let token_url = format!("{}/sts/token", wallet.connector.management);
    let consumer = dcp_participant_on(
        free_port(),
        &issuer.did,
        &[
            ("edc.participant.id", wallet.did.as_str()),
            ("edc.iam.sts.oauth.token.url", token_url.as_str()),
            ("edc.iam.sts.oauth.client.id", wallet.did.as_str()),
            ("edc.iam.sts.oauth.client.secret.alias", "wallet-secret"),
        ],
    )
    .await;
    let secret = json!({"@context": {"@vocab": EDC}, "@id": "wallet-secret", "value": "wallet-client-secret"});
    assert_eq!(consumer.connector.post("/v3/secrets", &secret).await.status, 200);
    assert_eq!(consumer.connector.get("/v3/credentials").await.status, 404, "credentials are the wallet's to manage");

    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap().to_string();
    let finalized = wait_for(&consumer, &format!("/v3/contractnegotiations/{id}"), &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}");
    let transfer = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol,
        "contractId": finalized["contractAgreementId"], "transferType": "HttpData-PULL", "dataDestination": { "type": "HttpProxy" } });
    let created = consumer.connector.post("/v3/transferprocesses", &transfer).await;
    let transfer_id = created.body["@id"].as_str().unwrap().to_string();
    wait_for(&consumer, &format!("/v3/transferprocesses/{transfer_id}"), &["STARTED"]).await;

    // A wrong client secret at the wallet: the reason names the STS and the client.
    let wrong = json!({"@context": {"@vocab": EDC}, "@id": "wallet-secret", "value": "not-the-secret"});
    assert_eq!(consumer.connector.put("/v3/secrets", &wrong).await.status, 204);
    let reply = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    let text = reply.body.to_string();
    assert!(
        text.contains(&format!(
            "the STS at {token_url} refused client '{}' (HTTP 401): unknown client or wrong secret",
            wallet.did
        )),
        "{text}"
    );
}

/// A BPN-DID directory as BDRS documents it: `GET /bpn-directory` with a membership presentation as bearer,
/// answering a gzip JSON object BPN → DID.
async fn directory(entries: Value, holder: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/directory", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/api/directory/bpn-directory",
        axum::routing::get(move |headers: HeaderMap| {
            let (entries, holder) = (entries.clone(), holder.clone());
            async move {
                let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let Some(presentation) = bearer.strip_prefix("Bearer ") else {
                    return (StatusCode::UNAUTHORIZED, HeaderMap::new(), Vec::new());
                };
                // The holder's presentation of a membership credential (signatures are the real BDRS's business).
                let payload = presentation.split('.').nth(1).unwrap_or_default();
                use base64::Engine;
                let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .unwrap_or_default();
                let credentials = claims["vp"]["verifiableCredential"].as_array().cloned().unwrap_or_default();
                if claims["iss"] != holder.as_str() || credentials.is_empty() {
                    return (StatusCode::FORBIDDEN, HeaderMap::new(), Vec::new());
                }
                let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gzip.write_all(entries.to_string().as_bytes()).unwrap();
                let mut headers = HeaderMap::new();
                headers.insert("content-encoding", "gzip".parse().unwrap());
                (StatusCode::OK, headers, gzip.finish().unwrap())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn counter_parties_named_by_bpn_are_found_through_the_directory() {
    let issuer = TestIssuer::start().await;
    let provider = dcp_participant(&issuer.did, &[]).await;
    issuer.onboard(&provider, "BPNL000000000001").await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    let consumer_port = free_port();
    let consumer_did = did(consumer_port);
    let bdrs =
        directory(json!({"BPNL000000000001": provider.did, "BPNL000000000002": consumer_did}), consumer_did.clone())
            .await;
    let consumer =
        dcp_participant_on(consumer_port, &issuer.did, &[("tx.edc.iam.iatp.bdrs.server.url", bdrs.as_str())]).await;

    // Without a membership credential there is nothing to present to the directory.
    let by_bpn = |mut body: Value| {
        body["counterPartyId"] = json!("BPNL000000000001");
        body
    };
    let reply = consumer.connector.post("/v3/catalog/request", &by_bpn(catalog_request(&provider))).await;
    assert!(
        reply.body.to_string().contains(&format!(
            "this participant holds no MembershipCredential to present to the BPN-DID directory at {bdrs}"
        )),
        "{}",
        reply.body
    );

    issuer.onboard(&consumer, "BPNL000000000002").await;
    let reply = consumer.connector.post("/v3/catalog/request", &by_bpn(catalog_request(&provider))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["participantId"], provider.did.as_str());

    let mut request = contract_request_for_first_offer(&consumer, &provider).await;
    request["counterPartyId"] = json!("BPNL000000000001");
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap().to_string();
    let finalized = wait_for(&consumer, &format!("/v3/contractnegotiations/{id}"), &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}");
    assert_eq!(finalized["counterPartyId"], provider.did.as_str(), "kept under the DID the messages carry");

    request["counterPartyId"] = json!("BPNL000000000009");
    let unknown = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(
        support::only_error(&unknown)["message"],
        format!("BPN 'BPNL000000000009' is not in the BPN-DID directory at {bdrs} (2 entries)")
    );
}
