// SPDX-License-Identifier: Apache-2.0
//! The holder's credential service on its own: which credentials a verifier gets for which grant, and the exact
//! refusals of bad queries, tokens and access tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dsc_dcp::SigningKey;
use dsc_dcp::credential::{CredentialDraft, CredentialIssuer, Profile};
use dsc_dcp::presentation::PresentationVerifier;
use dsc_dcp::token::TokenBuilder;
use dsc_dcp_service::holder::QueryRefusal;
use dsc_dcp_service::{CredentialStore, Holder, HolderSettings, StoredCredential};
use dsc_domain::clock::{Clock, SystemClock};
use dsc_identity::{DidResolver, IdentityError};
use dsc_store::StoreError;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

struct Party {
    did: String,
    key: SigningKey,
    document: Value,
}

fn party(name: &str) -> Party {
    let did = format!("did:web:{name}.example");
    let secret = loop {
        if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&rand::random::<[u8; 32]>().into()) {
            break key;
        }
    };
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let kid = format!("{did}#key-1");
    let key = SigningKey::es256_from_pem(&did, &kid, pem.as_bytes()).unwrap();
    let jwk: Value = serde_json::from_str(&p256::PublicKey::from(secret.verifying_key()).to_jwk_string()).unwrap();
    let document = json!({"id": did, "verificationMethod": [{"id": kid, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}]});
    Party { did, key, document }
}

struct Documents(HashMap<String, Value>);

#[async_trait]
impl DidResolver for Documents {
    async fn resolve(&self, did: &str) -> Result<Value, IdentityError> {
        self.0.get(did).cloned().ok_or_else(|| IdentityError::Resolution(did.into(), "unknown".into()))
    }
}

#[derive(Default)]
struct Memory(Mutex<Vec<StoredCredential>>);

#[async_trait]
impl CredentialStore for Memory {
    async fn put_credential(&self, credential: &StoredCredential) -> Result<(), StoreError> {
        let mut all = self.0.lock().unwrap();
        all.retain(|c| c.id != credential.id);
        all.push(credential.clone());
        Ok(())
    }
    async fn credentials(&self) -> Result<Vec<StoredCredential>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }
    async fn delete_credential(&self, id: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().retain(|c| c.id != id);
        Ok(())
    }
}

struct World {
    holder: Holder,
    holder_party: Party,
    verifier: Party,
    stranger: Party,
    issuer: Party,
    clock: Arc<dyn Clock>,
}

async fn world() -> World {
    let (holder_party, verifier, stranger, issuer) =
        (party("holder"), party("verifier"), party("stranger"), party("issuer"));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let documents: HashMap<String, Value> =
        [&holder_party, &verifier, &stranger, &issuer].iter().map(|p| (p.did.clone(), p.document.clone())).collect();
    let store = Arc::new(Memory::default());
    let now = clock.now_seconds();
    for (id, kind) in [("urn:uuid:m", "MembershipCredential"), ("urn:uuid:b", "BpnCredential")] {
        let draft = CredentialDraft {
            id: id.into(),
            types: vec![kind.into()],
            holder: holder_party.did.clone(),
            subject: serde_json::Map::new(),
            valid_from: now - 60,
            valid_until: now + 3600,
            status: None,
            contexts: vec![],
        };
        let jwt = CredentialIssuer::new(issuer.key.clone()).issue(Profile::Vc11Sl2021Jwt, &draft).unwrap();
        store.put_credential(&StoredCredential::from_jwt(&jwt, 0).unwrap()).await.unwrap();
    }
    let holder = Holder::new(
        HolderSettings {
            key: holder_party.key.clone(),
            own_document: holder_party.document.clone(),
            strict_relationships: false,
            accepted_issuers: vec![issuer.did.clone()],
        },
        store,
        Arc::new(Documents(documents)),
        clock.clone(),
    );
    World { holder, holder_party, verifier, stranger, issuer, clock }
}

fn query(scopes: &[&str]) -> Vec<u8> {
    json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationQueryMessage", "scope": scopes})
        .to_string()
        .into_bytes()
}

const MEMBERSHIP: &str = "org.eclipse.tractusx.vc.type:MembershipCredential:read";
const BPN: &str = "org.eclipse.tractusx.vc.type:BpnCredential:read";

impl World {
    /// The verifier's token carrying the holder's access token as the holder's STS would mint it for `scopes`.
    fn verifier_token(&self, who: &Party, granted_to: &str, scopes: &str) -> String {
        let holder_token = self.holder.token_for_scopes(granted_to, scopes, None).unwrap();
        let payload = holder_token.split('.').nth(1).unwrap();
        use base64::Engine;
        let claims: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let access = claims["token"].as_str().unwrap();
        let token =
            TokenBuilder::new(who.key.clone(), self.clock.clone()).build(&self.holder_party.did, Some(access)).unwrap();
        format!("Bearer {token}")
    }

    fn presented_types(&self, answer: &dsc_dcp::query::PresentationResponseMessage) -> Vec<String> {
        let documents: HashMap<String, Value> =
            [&self.holder_party, &self.issuer].iter().map(|p| (p.did.clone(), p.document.clone())).collect();
        let trusted = dsc_dcp::credential::TrustedIssuers::default().trust_all_types(&self.issuer.did);
        let verifier = PresentationVerifier::new(
            &self.verifier.did,
            dsc_dcp::credential::CredentialVerifier::new(trusted, self.clock.clone()),
            self.clock.clone(),
        );
        let mut types: Vec<String> = answer
            .jwts()
            .unwrap()
            .iter()
            .flat_map(|jwt| verifier.verify(jwt, &self.holder_party.did, &documents).unwrap().credentials)
            .flat_map(|c| c.specific_types().map(str::to_string).collect::<Vec<_>>())
            .collect();
        types.sort();
        types
    }
}

#[tokio::test]
async fn a_verifier_gets_what_it_asked_for_and_was_granted_and_nothing_else() {
    let w = world().await;
    let both = w.verifier_token(&w.verifier, &w.verifier.did, &format!("{MEMBERSHIP} {BPN}"));
    let answer = w.holder.answer_query(Some(&both), &query(&[MEMBERSHIP])).await.unwrap();
    assert_eq!(w.presented_types(&answer), ["MembershipCredential"]);

    // Asked for more than granted: only the granted part (DCP 1.0.1).
    let membership_only = w.verifier_token(&w.verifier, &w.verifier.did, MEMBERSHIP);
    let answer = w.holder.answer_query(Some(&membership_only), &query(&[MEMBERSHIP, BPN])).await.unwrap();
    assert_eq!(w.presented_types(&answer), ["MembershipCredential"]);

    // Granted, but not held: an empty answer.
    let other =
        w.verifier_token(&w.verifier, &w.verifier.did, "org.eclipse.tractusx.vc.type:DismantlerCredential:read");
    let answer = w
        .holder
        .answer_query(Some(&other), &query(&["org.eclipse.tractusx.vc.type:DismantlerCredential:read"]))
        .await
        .unwrap();
    assert!(answer.presentation.is_empty());
}

#[tokio::test]
async fn bad_queries_tokens_and_access_tokens_are_refused_with_the_reason() {
    let w = world().await;
    let refused = |status: u16, message: &str| Err::<(), _>(QueryRefusal { status, message: message.to_string() });
    let ask = |authorization: Option<String>, body: Vec<u8>| {
        let holder = &w.holder;
        async move { holder.answer_query(authorization.as_deref(), &body).await.map(|_| ()) }
    };
    assert_eq!(ask(None, query(&[MEMBERSHIP])).await, refused(401, "no Authorization token"));
    let token = w.verifier_token(&w.verifier, &w.verifier.did, MEMBERSHIP);
    assert_eq!(
        ask(Some(token.trim_start_matches("Bearer ").to_string()), query(&[MEMBERSHIP])).await,
        refused(
            401,
            "the token is not a well-formed JWT: the Authorization header must have the form 'Bearer <token>'"
        )
    );
    // The access token was granted to the verifier; a stranger presenting it is refused.
    let stolen = w.verifier_token(&w.stranger, &w.verifier.did, MEMBERSHIP);
    assert_eq!(
        ask(Some(stolen), query(&[MEMBERSHIP])).await,
        refused(403, &format!("the access token was granted to {}, not to {}", w.verifier.did, w.stranger.did))
    );
    // The same token twice: replay.
    let once = w.verifier_token(&w.verifier, &w.verifier.did, MEMBERSHIP);
    assert!(ask(Some(once.clone()), query(&[MEMBERSHIP])).await.is_ok());
    let again = ask(Some(once), query(&[MEMBERSHIP])).await.unwrap_err();
    assert!(again.message.starts_with("the token id ") && again.message.ends_with(" was already used"), "{again:?}");

    let fresh = || w.verifier_token(&w.verifier, &w.verifier.did, MEMBERSHIP);
    let both = json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationQueryMessage",
        "scope": [MEMBERSHIP], "presentationDefinition": {"id": "x"}});
    assert_eq!(
        ask(Some(fresh()), both.to_string().into_bytes()).await,
        refused(400, "invalid presentation query: scope and presentationDefinition are mutually exclusive")
    );
    assert_eq!(
        ask(Some(fresh()), query(&[])).await,
        refused(400, "invalid presentation query: scope must not be empty")
    );
    assert_eq!(
        ask(Some(fresh()), query(&["MembershipCredential"])).await,
        refused(400, "invalid scope 'MembershipCredential': expected <alias>:<CredentialType>:<operation>")
    );
    let definition = json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationQueryMessage",
        "presentationDefinition": {"id": "x"}});
    assert_eq!(
        ask(Some(fresh()), definition.to_string().into_bytes()).await,
        refused(400, "presentationDefinition queries are not supported by this credential service; query by scope")
    );
    assert_eq!(
        ask(Some(fresh()), b"{".to_vec()).await,
        refused(400, "malformed presentation query: EOF while parsing an object at line 1 column 1")
    );
}
