// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL to a consumer we did not write: Eclipse EDC 0.14.0 on DCP (tx-dcp, wallet Identity Hub 0.15.1)
//! negotiates a topic of our provider, decided on its membership credential, and a real Kafka client reads the topic
//! with nothing but the EDR EDC received. Needs the Kafka harness and `scripts/harness.sh up identityhub edc-dcp`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::kafka::*;
use crate::support::dcp::{TestIssuer, dcp_participant};
use crate::support::edc::{EdcPeer, offer_openly};
use crate::support::ih::IdentityHub;

/// A field of EDC's copy of the EDR, whichever way EDC compacted its name.
fn field(edr: &Value, name: &str) -> Value {
    for key in [name.to_string(), format!("{EDC}{name}"), format!("edc:{name}")] {
        if let Some(value) = edr.get(&key) {
            return value.clone();
        }
    }
    Value::Null
}

#[tokio::test]
async fn an_edc_consumer_on_dcp_reads_a_topic_of_our_provider() {
    let Some(h) = harness() else { return };
    let Some(hub) = IdentityHub::start().await else { return };
    let issuer = TestIssuer::start().await;
    let wallet = hub.create_participant("edc-kafka-consumer").await;
    let (_, jwt) = issuer.issue(&wallet.did, "MembershipCredential", "BPNL000000000002").await;
    hub.store_credential(&wallet, &jwt).await;
    let Some(edc) = EdcPeer::start_dcp(&wallet, &issuer.did).await else { return };

    let (audience, parameter) = match &h.resource {
        Some(resource) => (resource.clone(), "resource"),
        None => (h.audience.clone(), "none"),
    };
    let settings = [
        ("dsc.iam.dcp.scope.alias", "org.eclipse.edc.vc.type"),
        ("dsc.iam.dcp.default.credentials", "MembershipCredential"),
        ("dsc.kafka.admin.bootstrap.servers", h.admin_bootstrap.as_str()),
        ("dsc.kafka.admin.username", h.admin_user.as_str()),
        ("dsc.kafka.oauth.issuer", h.issuer.as_str()),
        ("dsc.kafka.oauth.initial.access.token.alias", "kafka-registration"),
        ("dsc.kafka.oauth.audience", audience.as_str()),
        ("dsc.kafka.oauth.audience.parameter", parameter),
        ("dsc.kafka.oauth.principal.claim", h.principal_claim.as_str()),
    ];
    let provider = dcp_participant(&issuer.did, &settings).await;
    issuer.give(&provider, "MembershipCredential", "BPNL000000000001").await;
    for (id, value) in
        [("dsc-kafka-admin-password", &h.admin_password), ("kafka-registration", &h.initial_access_token)]
    {
        let secret = json!({ "@context": { "@vocab": EDC }, "@id": id, "value": value });
        assert_eq!(provider.connector.post("/v3/secrets", &secret).await.status, 200);
    }
    let topic = unique("edc-dcp");
    h.create_topic(&topic).await;
    let feed = h.feed(&[&topic], Duration::from_millis(100));
    let address = json!({ "type": "KafkaBroker", "topic": topic, "kafka.bootstrap.servers": h.oauth_bootstrap,
        "kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanism": "OAUTHBEARER", "kafka.poll.duration": "PT0.5S" });
    offer_openly(&provider.connector, "telemetry", address).await;

    let catalog = edc
        .post(
            "/v3/catalog/request",
            &json!({ "@context": { "@vocab": EDC }, "@type": "CatalogRequest", "counterPartyAddress": provider.protocol,
                     "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1" }),
        )
        .await;
    assert_eq!(catalog.status, 200, "{}\n{}", catalog.body, edc.log_tail());
    let dataset = crate::support::peers::as_list(&catalog.body["dataset"]).into_iter().next().unwrap();
    let offer = crate::support::peers::as_list(&dataset["hasPolicy"]).into_iter().next().unwrap();
    let request = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }], "@type": "ContractRequest",
        "counterPartyAddress": provider.protocol, "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": offer["@id"], "@type": "Offer", "assigner": provider.did, "target": "telemetry",
                    "permission": [{ "action": "use" }] } });
    let negotiation = edc.post("/v3/contractnegotiations", &request).await;
    let id = negotiation.body["@id"].as_str().unwrap().to_string();
    let finalized = edc.wait_state(&format!("/v3/contractnegotiations/{id}"), "FINALIZED").await;
    let transfer_request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "counterPartyAddress": provider.protocol, "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1",
        "contractId": finalized["contractAgreementId"], "transferType": "KafkaBroker-PULL" });
    let created = edc.post("/v3/transferprocesses", &transfer_request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let transfer = created.body["@id"].as_str().unwrap().to_string();
    edc.wait_state(&format!("/v3/transferprocesses/{transfer}"), "STARTED").await;
    let stored = edc.get(&format!("/v3/edrs/{transfer}/dataaddress")).await;
    assert_eq!(stored.status, 200, "EDC keeps our Kafka EDR: {}", stored.body);

    // The EDR as EDC hands it to its user: what a Kafka client needs, under the names Tractus-X uses.
    let mut edr = json!({});
    for name in
        ["endpoint", "topic", "kafka.security.protocol", "kafka.sasl.mechanism", "kafka.group.prefix", "authorization"]
    {
        let value = field(&stored.body, name);
        assert!(value.is_string(), "EDC's EDR has no {name}: {}", stored.body);
        edr[name] = value;
    }
    let token = edr["authorization"].as_str().unwrap().to_string();
    let group = format!("{}reader", edr["kafka.group.prefix"].as_str().unwrap());
    // librdkafka takes the token's expiry as epoch milliseconds.
    let lifetime_ms = claims(&token)["exp"].as_i64().unwrap() * 1000;
    let kafka_reader = reader(&edr, TokenSource::Fixed { token, lifetime_ms }, &group);
    let outcome = blocking(move || kafka_reader.poll(3, Duration::from_secs(30))).await;
    assert!(matches!(outcome, Outcome::Records(n) if n >= 3), "records read with the EDR EDC received: {outcome:?}");
    feed.abort();
}
