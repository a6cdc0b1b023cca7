// SPDX-License-Identifier: Apache-2.0
//! The holder side of DCP, embedded in the connector: a secure token service that signs the self-issued ID token
//! of every outgoing protocol request (with an access token letting exactly that verifier read exactly the needed
//! scopes), and the credential service that answers presentation queries from those verifiers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use dsc_dcp::access::{AccessTokenBuilder, AccessTokenVerifier};
use dsc_dcp::credential::Profile;
use dsc_dcp::presentation::PresentationBuilder;
use dsc_dcp::query::{PresentationQueryMessage, PresentationResponseMessage};
use dsc_dcp::scope::{Scope, ScopeAlias, scopes_for};
use dsc_dcp::token::{InMemoryJtiCache, TokenBuilder, TokenVerifier, issuer_of};
use dsc_dcp::{DcpError, SigningKey};
use dsc_domain::Clock;
use dsc_identity::{DidResolver, IdentityError, RequestSigner};
use serde_json::Value;

use crate::bearer;
use crate::store::CredentialStore;

/// Why a presentation query was refused: the HTTP status and a message safe to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRefusal {
    pub status: u16,
    pub message: String,
}

impl QueryRefusal {
    fn new(status: u16, message: impl Into<String>) -> Self {
        QueryRefusal { status, message: message.into() }
    }
}

/// What the holder needs to know about itself.
pub struct HolderSettings {
    pub key: SigningKey,
    /// This participant's DID document, for checking the access tokens it issued.
    pub own_document: Value,
    pub strict_relationships: bool,
    /// Issuers whose credentials the Storage API accepts (the verifier's trusted issuers).
    pub accepted_issuers: Vec<String>,
}

pub struct Holder {
    did: String,
    own_documents: HashMap<String, Value>,
    tokens: TokenBuilder,
    access: AccessTokenBuilder,
    presentations: PresentationBuilder,
    token_verifier: TokenVerifier,
    access_verifier: AccessTokenVerifier,
    resolver: Arc<dyn DidResolver>,
    store: Arc<dyn CredentialStore>,
    accepted_issuers: Vec<String>,
    /// Verifies issuers' tokens on the Storage API: they carry no access token.
    issuer_tokens: TokenVerifier,
    clock: Arc<dyn Clock>,
}

impl Holder {
    pub fn new(
        settings: HolderSettings,
        store: Arc<dyn CredentialStore>,
        resolver: Arc<dyn DidResolver>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let did = settings.key.did().to_string();
        let replay = Arc::new(InMemoryJtiCache::default());
        let token_verifier = TokenVerifier::new(&did, clock.clone(), replay.clone())
            .with_relationship_check(settings.strict_relationships);
        let issuer_tokens = TokenVerifier::new(&did, clock.clone(), replay)
            .with_relationship_check(settings.strict_relationships)
            .requiring_access_token(false);
        Holder {
            own_documents: HashMap::from([(did.clone(), settings.own_document)]),
            tokens: TokenBuilder::new(settings.key.clone(), clock.clone()),
            access: AccessTokenBuilder::new(settings.key.clone(), clock.clone()),
            presentations: PresentationBuilder::new(settings.key.clone(), clock.clone()),
            access_verifier: AccessTokenVerifier::new(&did, clock.clone()),
            token_verifier,
            resolver,
            store,
            accepted_issuers: settings.accepted_issuers,
            issuer_tokens,
            clock,
            did,
        }
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// The secure token service's answer to a client-credentials request (DCP STS, as EDC's remote STS client and
    /// the DCP TCK call it): a self-issued token for `audience` whose access token grants exactly `scopes`.
    pub fn token_for_scopes(
        &self,
        audience: &str,
        scopes: &str,
        access_token: Option<&str>,
    ) -> Result<String, DcpError> {
        let scopes: Vec<String> = scopes.split_whitespace().map(str::to_string).collect();
        for scope in &scopes {
            Scope::parse(scope)?;
        }
        if !audience.starts_with("did:") {
            return Err(DcpError::InvalidInput(format!("audience '{audience}' is not a DID")));
        }
        if let Some(token) = access_token {
            return self.tokens.build(audience, Some(token));
        }
        if scopes.is_empty() {
            return self.tokens.build(audience, None);
        }
        let access = self.access.build(audience, &scopes)?;
        self.tokens.build(audience, Some(&access))
    }

    /// Stores the credentials of a DCP `CredentialMessage` an issuer sends to the Storage API (`POST /credentials`),
    /// authenticated by the issuer's self-issued token; returns how many were stored.
    pub async fn store_issued(&self, authorization: Option<&str>, body: &[u8]) -> Result<usize, QueryRefusal> {
        let token = bearer(authorization).map_err(|e| QueryRefusal::new(401, e.to_string()))?;
        let issuer = issuer_of(token).map_err(|e| QueryRefusal::new(401, e.to_string()))?;
        let document = self.resolver.resolve(&issuer).await.map_err(|e| QueryRefusal::new(401, e.to_string()))?;
        let documents = HashMap::from([(issuer.clone(), document)]);
        self.issuer_tokens.verify(token, &documents).map_err(|e| QueryRefusal::new(401, e.to_string()))?;
        if !self.accepted_issuers.contains(&issuer) {
            return Err(QueryRefusal::new(403, format!("{issuer} is not a trusted issuer")));
        }
        let message: Value =
            serde_json::from_slice(body).map_err(|e| QueryRefusal::new(400, format!("not JSON: {e}")))?;
        let kind = message.get("type").or_else(|| message.get("@type")).and_then(Value::as_str);
        if kind != Some("CredentialMessage") {
            return Err(QueryRefusal::new(400, "type must be CredentialMessage"));
        }
        match message.get("status").and_then(Value::as_str) {
            Some("ISSUED") => {}
            Some("REJECTED") => return Ok(0),
            _ => return Err(QueryRefusal::new(400, "status must be ISSUED or REJECTED")),
        }
        let entries = message
            .get("credentials")
            .and_then(Value::as_array)
            .filter(|entries| !entries.is_empty())
            .ok_or(QueryRefusal::new(400, "credentials must be a non-empty array"))?;
        let now = self.clock.now_millis();
        let mut credentials = Vec::new();
        for entry in entries {
            let payload = entry
                .get("payload")
                .and_then(Value::as_str)
                .ok_or(QueryRefusal::new(400, "every credential needs a payload (a VC JWT)"))?;
            let credential =
                crate::StoredCredential::from_jwt(payload, now).map_err(|e| QueryRefusal::new(400, e.to_string()))?;
            if credential.holder != self.did {
                return Err(QueryRefusal::new(400, format!("credential {} is not about {}", credential.id, self.did)));
            }
            if credential.issuer != issuer {
                return Err(QueryRefusal::new(400, format!("credential {} was not issued by {issuer}", credential.id)));
            }
            credentials.push(credential);
        }
        for credential in &credentials {
            self.store.put_credential(credential).await.map_err(|e| QueryRefusal::new(500, e.to_string()))?;
            tracing::info!(credential = %credential.id, types = ?credential.types, %issuer, "stored an issued credential");
        }
        Ok(credentials.len())
    }

    /// Answers `POST /presentations/query`: the verifier's self-issued token (with our access token inside) in
    /// `authorization`, the query in `body`.
    pub async fn answer_query(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<PresentationResponseMessage, QueryRefusal> {
        let unauthorized = |e: DcpError| QueryRefusal::new(401, e.to_string());
        let token = bearer(authorization).map_err(|e| QueryRefusal::new(401, e.to_string()))?;
        let verifier_did = issuer_of(token).map_err(unauthorized)?;
        let document = self.resolver.resolve(&verifier_did).await.map_err(|e| QueryRefusal::new(401, e.to_string()))?;
        let documents = HashMap::from([(verifier_did.clone(), document)]);
        let verified = self.token_verifier.verify(token, &documents).map_err(unauthorized)?;
        let access_token =
            verified.access_token.as_deref().ok_or(QueryRefusal::new(401, "the token has no 'token' claim"))?;
        let grant = self
            .access_verifier
            .verify(access_token, &verified.did, &self.own_documents)
            .map_err(|e| QueryRefusal::new(403, e.to_string()))?;
        let text = std::str::from_utf8(body).map_err(|_| QueryRefusal::new(400, "the query is not UTF-8 text"))?;
        let query = PresentationQueryMessage::parse(text).map_err(|e| QueryRefusal::new(400, e.to_string()))?;
        let Some(requested) = query.scope else {
            return Err(QueryRefusal::new(
                400,
                "presentationDefinition queries are not supported by this credential service; query by scope",
            ));
        };
        let requested: Vec<Scope> = requested
            .iter()
            .map(|s| Scope::parse(s))
            .collect::<Result<_, _>>()
            .map_err(|e| QueryRefusal::new(400, e.to_string()))?;
        let granted: Vec<Scope> = grant.scopes.iter().filter_map(|s| Scope::parse(s).ok()).collect();
        // Only what was both asked for and granted; anything else is left out, not an error (DCP 1.0.1).
        let permitted: BTreeSet<&str> = requested
            .iter()
            .map(|s| s.credential_type.as_str())
            .filter(|t| requested.iter().any(|s| s.credential_type == *t && s.grants_read_of(t)))
            .filter(|t| granted.iter().any(|g| g.grants_read_of(t)))
            .collect();
        let now = self.clock.now_seconds();
        let stored = self.store.credentials().await.map_err(|e| QueryRefusal::new(500, e.to_string()))?;
        let mut by_profile: BTreeMap<&str, (Profile, Vec<String>)> = BTreeMap::new();
        for credential in &stored {
            let wanted = credential.types.iter().any(|t| permitted.contains(t.as_str()));
            let valid = credential.valid_until.is_none_or(|until| until >= now) && credential.holder == self.did;
            if let (true, true, Some(profile)) = (wanted, valid, credential.profile()) {
                by_profile.entry(profile.as_str()).or_insert((profile, Vec::new())).1.push(credential.jwt.clone());
            }
        }
        let mut presentations = Vec::new();
        for (profile, jwts) in by_profile.into_values() {
            presentations.push(
                self.presentations
                    .build(profile, &verified.did, &jwts)
                    .map_err(|e| QueryRefusal::new(500, e.to_string()))?,
            );
        }
        tracing::debug!(verifier = %verified.did, scopes = ?permitted, presentations = presentations.len(), "answered a presentation query");
        Ok(PresentationResponseMessage::with_jwts(presentations))
    }
}

/// The scopes a request lets its verifier read: the default credentials plus those of the request's policy.
#[derive(Debug, Clone)]
pub struct RequestScopes {
    pub alias: ScopeAlias,
    pub default_credentials: Vec<String>,
}

impl RequestScopes {
    pub fn for_types(&self, credential_types: &BTreeSet<String>) -> Vec<String> {
        let types =
            self.default_credentials.iter().map(String::as_str).chain(credential_types.iter().map(String::as_str));
        scopes_for(self.alias, types)
    }
}

/// Signs outgoing protocol requests with DCP self-issued tokens from the participant's token source, addressing
/// a counter-party named by BPN through the BPN-DID directory when one is configured.
pub struct DcpRequestSigner {
    pub tokens: Arc<dyn crate::sts::TokenSource>,
    pub scopes: RequestScopes,
    pub directory: Option<Arc<crate::bdrs::BdrsClient>>,
}

#[async_trait::async_trait]
impl RequestSigner for DcpRequestSigner {
    async fn authorization(
        &self,
        audience_id: &str,
        _audience_address: &str,
        credential_types: &BTreeSet<String>,
    ) -> Result<String, IdentityError> {
        let audience = match (&self.directory, audience_id.starts_with("did:")) {
            (_, true) => audience_id.to_string(),
            (Some(directory), false) => {
                directory.did_of(audience_id).await.map_err(|e| IdentityError::Credentials(e.to_string()))?
            }
            (None, false) => {
                return Err(IdentityError::Credentials(format!(
                    "counter-party id '{audience_id}': DCP addresses the verifier by its DID; name the DID, or configure the BPN-DID directory (tx.edc.iam.iatp.bdrs.server.url) to name it by BPN"
                )));
            }
        };
        let token = self
            .tokens
            .token(&audience, &self.scopes.for_types(credential_types), None)
            .await
            .map_err(IdentityError::Credentials)?;
        Ok(format!("Bearer {token}"))
    }
}
