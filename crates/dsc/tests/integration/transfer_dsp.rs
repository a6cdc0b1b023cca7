// SPDX-License-Identifier: Apache-2.0
//! The provider's DSP transfer endpoints with hand-written messages, signed as the consumer: malformed and
//! out-of-order messages get the exact DSP error, and a repeated request names the same process.

use crate::support;

use serde_json::{Value, json};
use support::peers::*;

const DSP_CTX: &str = "https://w3id.org/dspace/2025/1/context.jsonld";

fn request(consumer_pid: &str, agreement: &str, format: &str) -> Value {
    json!({ "@context": [DSP_CTX], "@type": "TransferRequestMessage", "consumerPid": consumer_pid,
            "agreementId": agreement, "format": format, "callbackAddress": "http://127.0.0.1:1/api/v1/dsp/2025-1" })
}

fn assert_transfer_error(reply: &support::Reply, status: u16, reason: &str) {
    assert_dsp_error(reply, "TransferError", status, reason);
}

#[tokio::test]
async fn transfer_messages_are_checked_and_requests_are_idempotent() {
    let (consumer, provider) = trusting_pair().await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    let offer = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &offer).await;
    let negotiation = created.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_for_state(&consumer, &negotiation, &["FINALIZED"]).await;
    let agreement = finalized["contractAgreementId"].as_str().unwrap_or_default().to_string();

    let peer = RawPeer::of(&consumer).await;
    let base = provider.protocol.clone();
    let send = |path: &str, body: Value| {
        let url = format!("{base}{path}");
        let (peer, audience) = (&peer, provider.did.clone());
        async move { peer.send(&audience, reqwest::Method::POST, &url, Some(body)).await }
    };

    let mut no_agreement = request("c-1", &agreement, "HttpData-PULL");
    no_agreement.as_object_mut().map(|o| o.remove("agreementId"));
    assert_transfer_error(&send("/transfers/request", no_agreement).await, 400, "agreementId is missing");
    assert_transfer_error(
        &send("/transfers/request", request("c-1", "no-such", "HttpData-PULL")).await,
        400,
        "agreement 'no-such' is unknown",
    );
    let mut with_address = request("c-1", &agreement, "HttpData-PULL");
    with_address["dataAddress"] =
        json!({ "@type": "DataAddress", "endpointType": "HttpData", "endpoint": "http://sink" });
    assert_transfer_error(
        &send("/transfers/request", with_address).await,
        400,
        "a pull transfer request carries no dataAddress",
    );
    assert_transfer_error(
        &send("/transfers/request", json!({ "@context": [DSP_CTX], "@type": "TransferStartMessage" })).await,
        400,
        "expected a TransferRequestMessage",
    );

    let first = send("/transfers/request", request("c-2", &agreement, "HttpData-PULL")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["@type"], "TransferProcess");
    assert_eq!(first.body["consumerPid"], "c-2");
    let provider_pid = first.body["providerPid"].as_str().unwrap_or_default().to_string();
    let again = send("/transfers/request", request("c-2", &agreement, "HttpData-PULL")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["providerPid"], provider_pid.as_str(), "a repeated request names the same process");

    let unknown = json!({ "@context": [DSP_CTX], "@type": "TransferSuspensionMessage", "consumerPid": "c-2", "providerPid": "nope" });
    assert_transfer_error(&send("/transfers/nope/suspension", unknown).await, 404, "nope");
    let mismatch = json!({ "@context": [DSP_CTX], "@type": "TransferCompletionMessage", "consumerPid": "c-2", "providerPid": "other" });
    assert_transfer_error(
        &send(&format!("/transfers/{provider_pid}/completion"), mismatch).await,
        400,
        &format!("the path names process '{provider_pid}' but the message 'other'"),
    );
    let got = peer.send(&provider.did, reqwest::Method::GET, &format!("{base}/transfers/{provider_pid}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["providerPid"], provider_pid.as_str());
}
