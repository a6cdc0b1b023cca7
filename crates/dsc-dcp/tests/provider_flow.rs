// SPDX-License-Identifier: Apache-2.0
//! The provider side of one DSP request, put together from the crate's public API only, as the DSP binding will:
//! token → presentation query → response → presentations → status → claims. Proves the pieces fit and that a
//! revoked credential stops the flow.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use dsc_dcp::claims::{missing_types, participant_agent};
use dsc_dcp::credential::{CredentialVerifier, Profile, TrustedIssuers};
use dsc_dcp::issue::{CredentialDraft, CredentialIssuer};
use dsc_dcp::presentation::{PresentationBuilder, PresentationVerifier, dids_to_resolve};
use dsc_dcp::query::{PresentationQueryMessage, PresentationResponseMessage};
use dsc_dcp::scope::{ScopeAlias, requested_types, scopes_for};
use dsc_dcp::status::{StatusListCache, StatusListFetcher};
use dsc_dcp::token::{InMemoryJtiCache, TokenBuilder, TokenVerifier, issuer_of};
use dsc_dcp::{DcpError, SigningKey};
use dsc_domain::participant::claims;
use dsc_domain::{Clock, ManualClock};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Map, Value, json};

const NOW_MS: i64 = 1_767_225_600_000;
const LIST_URL: &str = "https://issuer.example/status/1";

fn party(name: &str) -> (SigningKey, Value) {
    let did = format!("did:web:{name}.example");
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&bytes.into()) {
            break key;
        }
    };
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let kid = format!("{did}#key-1");
    let key = SigningKey::es256_from_pem(&did, &kid, pem.as_bytes()).unwrap();
    let jwk: Value = serde_json::from_str(&p256::PublicKey::from(secret.verifying_key()).to_jwk_string()).unwrap();
    let document = json!({"id": did, "verificationMethod": [{"id": kid, "type": "JsonWebKey2020", "publicKeyJwk": jwk}],
        "authentication": [kid], "capabilityInvocation": [kid], "assertionMethod": [kid]});
    (key, document)
}

/// The issuer's revocation list with the given bits set, served as unsigned JSON (as the TCK does).
struct Issuer(Mutex<Vec<u64>>);

#[async_trait]
impl StatusListFetcher for Issuer {
    async fn fetch(&self, url: &str) -> Result<String, String> {
        assert_eq!(url, LIST_URL);
        let mut bits = vec![0u8; 16 * 1024];
        for index in self.0.lock().map(|set| set.clone()).unwrap_or_default() {
            bits[(index / 8) as usize] |= 0x80 >> (index % 8);
        }
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&bits).map_err(|e| e.to_string())?;
        let encoded =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(gzip.finish().map_err(|e| e.to_string())?);
        Ok(json!({"type": ["VerifiableCredential", "StatusList2021Credential"],
            "credentialSubject": {"statusPurpose": "revocation", "encodedList": format!("u{encoded}")}})
        .to_string())
    }
}

fn draft(id: &str, credential_type: &str, holder: &str, subject: Value, index: u64) -> CredentialDraft {
    CredentialDraft {
        id: id.into(),
        types: vec![credential_type.into()],
        holder: holder.into(),
        subject: subject.as_object().cloned().unwrap_or_else(Map::new),
        valid_from: NOW_MS / 1000 - 3600,
        valid_until: NOW_MS / 1000 + 3600,
        status: Some(json!({"type": "StatusList2021Entry", "statusPurpose": "revocation",
            "statusListIndex": index.to_string(), "statusListCredential": LIST_URL})),
        contexts: vec!["https://w3id.org/catenax/credentials/v1.0.0".into()],
    }
}

#[tokio::test]
async fn a_consumer_with_catena_x_credentials_becomes_a_participant_agent_until_revoked() {
    let clock = ManualClock::starting_at(NOW_MS);
    let (issuer_key, issuer_doc) = party("issuer");
    let (consumer_key, consumer_doc) = party("consumer");
    let (provider_key, provider_doc) = party("provider");
    let (consumer, provider) = (consumer_key.did().to_string(), provider_key.did().to_string());
    let dids: HashMap<String, Value> = [issuer_doc, consumer_doc, provider_doc]
        .into_iter()
        .map(|d| (d["id"].as_str().unwrap_or_default().to_string(), d))
        .collect();

    // The consumer's wallet holds three credentials from the issuer.
    let issuer = CredentialIssuer::new(issuer_key.clone());
    let wallet: Vec<String> = [
        draft("urn:uuid:m", "MembershipCredential", &consumer, json!({"holderIdentifier": "BPNL000000000001"}), 1),
        draft("urn:uuid:b", "BpnCredential", &consumer, json!({"bpn": "BPNL000000000001"}), 2),
        draft(
            "urn:uuid:d",
            "DataExchangeGovernanceCredential",
            &consumer,
            json!({"group": "UseCaseFramework", "contractVersion": "1.0"}),
            3,
        ),
    ]
    .iter()
    .map(|d| issuer.issue(Profile::Vc11Sl2021Jwt, d).unwrap())
    .collect();

    // Consumer → provider: a self-issued token carrying an access token for its credential service.
    let token =
        TokenBuilder::new(consumer_key.clone(), clock.clone()).build(&provider, Some("opaque-access-token")).unwrap();

    // Provider: verify the token, then ask for the credentials its policy needs.
    let tokens = TokenVerifier::new(&provider, clock.clone(), Arc::new(InMemoryJtiCache::default()))
        .with_relationship_check(true);
    assert_eq!(issuer_of(&token).ok().as_deref(), Some(consumer.as_str()));
    let verified = tokens.verify(&token, &dids).unwrap();
    let needed = ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"];
    let query = PresentationQueryMessage::for_scopes(scopes_for(ScopeAlias::TractusX, needed));
    let query_json = serde_json::to_string(&query).unwrap();

    // Consumer's credential service: reads the query, presents what was asked for.
    let received = PresentationQueryMessage::parse(&query_json).unwrap();
    let types = requested_types(received.scope.as_deref().unwrap_or_default()).unwrap();
    let vp = PresentationBuilder::new(consumer_key.clone(), clock.clone())
        .build(Profile::Vc11Sl2021Jwt, &provider, &wallet)
        .unwrap();
    let response = serde_json::to_string(&PresentationResponseMessage::with_jwts(vec![vp])).unwrap();

    // Provider: verify what came back against the token's DID, check revocation, build the agent.
    let trusted = TrustedIssuers::default().trust(issuer_key.did(), needed);
    let credentials = CredentialVerifier::new(trusted, clock.clone()).with_relationship_check(true);
    let presentations = PresentationVerifier::new(&provider, credentials, clock.clone()).with_relationship_check(true);
    let status_issuer = Arc::new(Issuer(Mutex::new(Vec::new())));
    let status = StatusListCache::new(status_issuer.clone(), clock.clone(), Duration::from_secs(900));
    let verify_all = async |response: &str| -> Result<dsc_domain::ParticipantAgent, DcpError> {
        let response = PresentationResponseMessage::parse(response)?;
        let mut all = Vec::new();
        for jwt in response.jwts()? {
            assert_eq!(dids_to_resolve(jwt)?, [consumer.clone(), issuer_key.did().to_string()]);
            all.extend(presentations.verify(jwt, &verified.did, &dids)?.credentials);
        }
        for credential in &all {
            status.check(credential).await?;
        }
        assert_eq!(missing_types(&types, &all), Vec::<String>::new());
        Ok(participant_agent(&verified.did, &all))
    };
    let agent = verify_all(&response).await.unwrap();
    assert_eq!(agent.id, consumer);
    assert_eq!(agent.claim_str(claims::MEMBERSHIP), Some("active"));
    assert_eq!(agent.claim_str(claims::BPN), Some("BPNL000000000001"));
    assert_eq!(agent.claim_strings(claims::FRAMEWORK_AGREEMENTS), ["DataExchangeGovernance:1.0"]);

    // The issuer revokes the BPN credential; once the cached list is stale the same response is refused.
    if let Ok(mut set) = status_issuer.0.lock() {
        set.push(2);
    }
    clock.advance(901_000);
    assert!(clock.now_seconds() < NOW_MS / 1000 + 3600, "the credentials themselves are still valid");
    let refused = verify_all(&response).await.err().map(|e| e.to_string());
    assert_eq!(refused.as_deref(), Some("the presentation expired"), "the presentation's 60 s are long over");
    let vp = PresentationBuilder::new(consumer_key, clock.clone())
        .build(Profile::Vc11Sl2021Jwt, &provider, &wallet)
        .unwrap();
    let response = serde_json::to_string(&PresentationResponseMessage::with_jwts(vec![vp])).unwrap();
    let refused = verify_all(&response).await.err().map(|e| e.to_string());
    assert_eq!(refused.as_deref(), Some("credential urn:uuid:b (BpnCredential): revoked"));
}
